# SPDX-License-Identifier: MIT
"""The pprof exporter, decoded with the protobuf package and a .proto of pprof's
profile format compiled at test time with grpc_tools.protoc (the ``pprof_pb2``
fixture)."""

from __future__ import annotations

import gzip

import pytest

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
        assert set(labels) - {"pid"} == {"thread", "thread_id"}
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
    # system names differ from names, so that pprof's demangler keeps them
    assert functions == [
        (1, "main", "app.py:main", "app.py", 10),
        (2, "fact", "app.py:fact", "app.py", 20),
        (3, "ping", "app.py:ping", "app.py", 30),
        (4, "pong", "app.py:pong", "app.py", 40),
        (5, "helper", "app.py:helper", "app.py", 50),
        (6, "run", "app.py:run", "app.py", 60),
        (7, "{built-in function len}", "~:{built-in function len}", "", 0),
    ]
    locations = [
        (loc.id, [(ln.function_id, ln.line) for ln in loc.line]) for loc in profile.location
    ]
    assert locations == [(i, [(i, line)]) for i, *_, line in functions]
    # one mapping, the program, with everything resolved
    assert all(loc.mapping_id == 1 for loc in profile.location)
    (mapping,) = profile.mapping
    assert (mapping.id, s[mapping.filename]) == (1, "app.py")
    assert mapping.has_functions and mapping.has_filenames and mapping.has_line_numbers


def test_qualname_and_name(pprof_pb2, builder):
    builder.func("method", "mod.py", 3, qualname="Cls.method")
    builder.thread("T", [builder.call("method", 1, 2)])
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(builder.build()))
    s = list(profile.string_table)
    ((name, system_name),) = [(s[f.name], s[f.system_name]) for f in profile.function]
    assert (name, system_name) == ("Cls.method", "mod.py:Cls.method")


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
        "mapping": ours._MAPPING,
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


def types_of(profile) -> tuple[list[tuple[str, str]], str, tuple[str, str]]:
    s = list(profile.string_table)
    return (
        [(s[t.type], s[t.unit]) for t in profile.sample_type],
        s[profile.default_sample_type],
        (s[profile.period_type.type], s[profile.period_type.unit]),
    )


def test_cpu_and_wall_profiles_for_pyroscope(pprof_pb2, tree_snap):
    """sample_types="cpu" has no wall sample type (Pyroscope files a profile
    with one as wall-clock); "wall" is the other half. Values per stack are
    the snapshot's, the calls count kept."""
    exporter = get_exporter("pprof")
    full = samples(decode(pprof_pb2, exporter.to_bytes(tree_snap)))
    cpu = decode(pprof_pb2, exporter.to_bytes(tree_snap, options={"sample_types": "cpu"}))
    assert types_of(cpu) == (
        [("cpu", "nanoseconds"), ("calls", "count")],
        "cpu",
        ("cpu", "nanoseconds"),
    )
    assert samples(cpu) == [(t, tid, st, (v[1], v[2])) for t, tid, st, v in full]
    wall = decode(pprof_pb2, exporter.to_bytes(tree_snap, options={"sample_types": "wall"}))
    assert types_of(wall) == (
        [("wall", "nanoseconds"), ("calls", "count")],
        "wall",
        ("wall", "nanoseconds"),
    )
    assert samples(wall) == [(t, tid, st, (v[0], v[2])) for t, tid, st, v in full]


def test_unknown_options_are_refused(tree_snap):
    from threadprof.exporters import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="no option 'separate_threads'"):
        get_exporter("pprof").to_bytes(tree_snap, options={"separate_threads": True})
    with pytest.raises(ValueError, match="unknown sample types 'both'"):
        get_exporter("pprof").to_bytes(tree_snap, options={"sample_types": "both"})
    with pytest.raises(ValueError, match="at least 1"):
        get_exporter("pprof").to_bytes(tree_snap, options={"max_samples": 0})


def test_pid_label(pprof_pb2, builder):
    builder.thread("T", [builder.call("main", 1, 10)])
    profile = decode(pprof_pb2, get_exporter("pprof").to_bytes(builder.build(pid=4321)))
    s = list(profile.string_table)
    ((sample),) = profile.sample
    labels = {s[label.key]: label.num for label in sample.label if not label.str}
    assert labels == {"thread_id": 2001, "pid": 4321}


def pool_snapshot(builder, workers: int):
    """A main thread and ``workers`` threads named worker-N, each with the same
    two stacks and one stack of its own."""
    b = builder
    C = b.call
    b.thread("MainThread", [C("main", 1, 100, [C("start", workers, 10)])])
    for i in range(workers):
        b.thread(
            f"worker-{i}",
            [C("run", 1, 50, [C("work", 2, 30 + i, [C(f"step{i}", 1, 1 + i)]), C("idle", 1, 5)])],
        )
    return b.build(pid=99)


def totals(profile) -> dict[str, list[int]]:
    """Self values per function name."""
    out: dict[str, list[int]] = {}
    for _t, _tid, stack, values in samples_any(profile):
        row = out.setdefault(stack[-1], [0] * len(values))
        for i, v in enumerate(values):
            row[i] += v
    return out


def samples_any(profile):
    """(thread label, threads label, stack from the root, values) per sample."""
    s = list(profile.string_table)
    functions = {f.id: s[f.name] for f in profile.function}
    locations = {loc.id: functions[loc.line[0].function_id] for loc in profile.location}
    out = []
    for sample in profile.sample:
        labels = {
            s[label.key]: (s[label.str] if label.str else label.num) for label in sample.label
        }
        stack = tuple(locations[lid] for lid in reversed(sample.location_id))
        out.append((labels["thread"], labels.get("threads"), stack, tuple(sample.value)))
    return out


def test_a_sample_budget_groups_threads_then_merges_then_folds(pprof_pb2, builder):
    """Each step of the aggregation only if the one before is not enough; the
    totals per function (and the grand total) stay exact at every step."""
    snap = pool_snapshot(builder, 6)
    exporter = get_exporter("pprof")
    exact = decode(pprof_pb2, exporter.to_bytes(snap))
    nodes = len(exact.sample)
    assert nodes == 2 + 6 * 4
    # a budget that the nodes fit: the profile is the same
    assert exporter.to_bytes(snap, options={"max_samples": nodes}) == exporter.to_bytes(snap)

    # thread groups: MainThread's 2 stacks, worker-*'s 3 shared + 6 own
    grouped = decode(pprof_pb2, exporter.to_bytes(snap, options={"max_samples": 11}))
    got = samples_any(grouped)
    assert len(got) == 11
    assert {(t, n) for t, n, *_ in got} == {("MainThread", 1), ("worker-*", 6)}
    idle = [v for t, _n, st, v in got if (t, st) == ("worker-*", ("run", "idle"))]
    assert idle == [(6 * 5 * MS, 6 * 5 * MS, 6)]
    assert totals(grouped) == totals(exact)
    s = list(grouped.string_table)
    assert any("threads grouped by name" in s[c] for c in grouped.comment)

    # all threads merged: 2 + 3 + 6 stacks do not fit 10, merged they are 11: folded
    folded = decode(pprof_pb2, exporter.to_bytes(snap, options={"max_samples": 10}))
    got = samples_any(folded)
    assert len(got) <= 10
    assert {(t, n) for t, n, *_ in got} == {("all threads", 7)}
    flat = totals(folded)
    assert "[functions folded]" in flat
    grand = [sum(col) for col in zip(*totals(exact).values(), strict=True)]
    assert [sum(col) for col in zip(*flat.values(), strict=True)] == grand
    # the heaviest stacks are kept whole
    assert ("all threads", 7, ("main",), (90 * MS, 90 * MS, 1)) in got

    # a budget of one: everything folded into one sample, the totals kept
    (one,) = samples_any(decode(pprof_pb2, exporter.to_bytes(snap, options={"max_samples": 1})))
    assert one[2] == ("[functions folded]",)
    assert list(one[3]) == grand


def test_the_cli_offers_every_sample_type():
    from threadprof.cli.common import FORMAT_FLAGS
    from threadprof.exporters.pprof import SAMPLE_TYPES

    (flag,) = [f for f in FORMAT_FLAGS if f[0] == "--sample-types"]
    assert flag[1:3] == ("pprof", "sample_types")
    assert flag[3]["choices"] == tuple(SAMPLE_TYPES)
