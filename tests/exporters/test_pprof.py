# SPDX-License-Identifier: MIT
"""The pprof exporter, decoded with the protobuf package and a .proto of pprof's
profile format compiled at test time with grpc_tools.protoc (the ``pprof_pb2``
fixture)."""

from __future__ import annotations

import gzip

from threadprof.exporters import get_exporter

MS = 1_000_000  # nanoseconds in a tick of the fixtures' 1 ms unit


def decode(pprof_pb2, data: bytes):
    assert data[:2] == b"\x1f\x8b"  # gzip, as pprof wants on disk
    profile = pprof_pb2.Profile()
    profile.ParseFromString(gzip.decompress(data))
    return profile


def samples(profile) -> list[tuple[str, int, tuple[str, ...], tuple[int, ...]]]:
    """(thread, thread_id, stack from the root, values) per sample, checking the references."""
    strings = list(profile.string_table)
    assert strings[0] == ""
    functions = {f.id: f for f in profile.function}
    locations = {loc.id: loc for loc in profile.location}
    assert 0 not in functions and 0 not in locations
    assert len(functions) == len(profile.function) and len(locations) == len(profile.location)
    out = []
    for sample in profile.sample:
        assert len(sample.value) == len(profile.sample_type)
        names = []
        for lid in sample.location_id:
            (line,) = locations[lid].line
            names.append(strings[functions[line.function_id].name])
        labels = {strings[label.key]: label for label in sample.label}
        assert set(labels) == {"thread", "thread_id"}
        thread = strings[labels["thread"].str]
        out.append((thread, labels["thread_id"].num, tuple(reversed(names)), tuple(sample.value)))
    return out


def test_header(pprof_pb2, tree_snap):
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(tree_snap))
    s = list(profile.string_table)
    types = [(s[t.type], s[t.unit]) for t in profile.sample_type]
    assert types == [("wall", "nanoseconds"), ("cpu", "nanoseconds"), ("calls", "count")]
    assert s[profile.default_sample_type] == "wall"
    assert (s[profile.period_type.type], s[profile.period_type.unit]) == ("wall", "nanoseconds")
    assert profile.period == 1
    assert profile.duration_nanos == 100 * MS
    comments = [s[c] for c in profile.comment]
    assert comments[0].startswith("threadprof ")
    assert comments[1:] == ["clock: wall, CPU time: exact", "command: app.py"]


def test_one_sample_per_node_with_its_self_values(pprof_pb2, tree_snap):
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(tree_snap))
    expected = []
    names = {f.id: f.qualname if f.kind == "python" else f.display for f in tree_snap.functions}
    for thread in tree_snap.threads:
        for node, _depth in thread.walk():
            stack = tuple(names[f] for f in thread.path(node.id))
            values = (node.wall_self * MS, node.cpu_self * MS, node.calls)
            expected.append((thread.name, thread.native_id, stack, values))
    assert samples(profile) == expected
    assert len(expected) == 10 + 5  # every node of both threads
    # spot checks against the hand-written tree
    assert ("MainThread", 4242, ("main",), (18 * MS, 25 * MS, 1)) in expected
    assert ("worker-1", 4343, ("run",), (5 * MS, 5 * MS, 0)) in expected


def test_totals_per_function_match_the_snapshot(pprof_pb2, tree_snap):
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(tree_snap))
    flat: dict[str, list[int]] = {}
    for _thread, _tid, stack, values in samples(profile):
        row = flat.setdefault(stack[-1], [0, 0, 0])
        for i, v in enumerate(values):
            row[i] += v
    expected: dict[str, list[int]] = {}
    for fid, fs in tree_snap.function_stats().items():
        func = tree_snap.functions[fid]
        name = func.qualname if func.kind == "python" else func.display
        row = expected.setdefault(name, [0, 0, 0])
        row[0] += fs.wall_self * MS
        row[1] += fs.cpu_self * MS
        row[2] += fs.calls
    assert flat == expected
    assert flat["fact"] == [59 * MS, 38 * MS, 7]


def test_functions_and_locations(pprof_pb2, tree_snap):
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(tree_snap))
    s = list(profile.string_table)
    functions = [
        (f.id, s[f.name], s[f.system_name], s[f.filename], f.start_line) for f in profile.function
    ]
    # the two helper functions share a (name, file, line): one pprof Function
    assert functions == [
        (1, "main", "main", "app.py", 10),
        (2, "fact", "fact", "app.py", 20),
        (3, "ping", "ping", "app.py", 30),
        (4, "pong", "pong", "app.py", 40),
        (5, "helper", "helper", "app.py", 50),
        (6, "run", "run", "app.py", 60),
        (7, "{built-in function len}", "<built-in function len>", "", 0),
    ]
    locations = [
        (loc.id, [(ln.function_id, ln.line) for ln in loc.line]) for loc in profile.location
    ]
    assert locations == [(i, [(i, line)]) for i, *_, line in functions]
    assert all(loc.mapping_id == 0 for loc in profile.location)


def test_qualname_and_name(pprof_pb2, builder):
    builder.func("method", "mod.py", 3, qualname="Cls.method")
    builder.thread("T", [builder.call("method", 1, 2)])
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(builder.build()))
    s = list(profile.string_table)
    ((name, system_name),) = [(s[f.name], s[f.system_name]) for f in profile.function]
    assert (name, system_name) == ("Cls.method", "method")


def test_cpu_clock_is_the_default_type(pprof_pb2, make_builder):
    b = make_builder(clock="cpu")
    b.thread("T", [b.call("main", 1, 10, cpu=4)])
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(b.build(start_time=1.5)))
    s = list(profile.string_table)
    assert s[profile.default_sample_type] == "cpu"
    assert s[profile.period_type.type] == "cpu"
    assert profile.time_nanos == 1_500_000_000
    assert samples(profile) == [("T", 2001, ("main",), (10 * MS, 4 * MS, 1))]


def test_gzip_is_deterministic(tree_snap):
    data = get_exporter("pprof").to_bytes(tree_snap)
    assert data[4:8] == b"\0\0\0\0"  # no modification time in the gzip header
    assert data == get_exporter("pprof").to_bytes(tree_snap)


def test_empty_snapshot(pprof_pb2, builder):
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(builder.build()))
    assert list(profile.sample) == []
    assert len(profile.sample_type) == 3


def test_field_numbers_match_the_proto(pprof_pb2):
    from threadprof.exporters import pprof as ours

    fields = pprof_pb2.Profile.DESCRIPTOR.fields_by_name
    for name, number in {
        "sample_type": ours._SAMPLE_TYPE,
        "sample": ours._SAMPLE,
        "location": ours._LOCATION,
        "function": ours._FUNCTION,
        "string_table": ours._STRING_TABLE,
        "time_nanos": ours._TIME_NANOS,
        "duration_nanos": ours._DURATION_NANOS,
        "period_type": ours._PERIOD_TYPE,
        "period": ours._PERIOD,
        "comment": ours._COMMENT,
        "default_sample_type": ours._DEFAULT_SAMPLE_TYPE,
    }.items():
        assert fields[name].number == number, name
    assert pprof_pb2.Sample.DESCRIPTOR.fields_by_name["label"].number == ours._LABEL
