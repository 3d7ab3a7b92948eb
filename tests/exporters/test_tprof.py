# SPDX-License-Identifier: MIT
"""The native ``.tprof`` file: lossless round trips, lazy timelines, versions, errors."""

from __future__ import annotations

import itertools
import json
import os
import struct
import tracemalloc
import zlib
from array import array
from pathlib import Path

import pytest

from threadprof import _core, tprof
from threadprof.exporters import exporter_for_path, get_exporter
from threadprof.model import (
    EncodedChunk,
    Function,
    Node,
    SlowStep,
    Snapshot,
    TaskProfile,
    Timeline,
    build_tree,
    replace,
)
from threadprof.readers import ProfileFormatError, read_profile


def materialize(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with every timeline replaced by its events, comparable with ``==``."""
    threads = []
    for t in snapshot.threads:
        tl = t.timeline
        if tl is not None:
            events = list(tl)
            assert tl.events == len(events)
            # a tuple stands in for the Timeline: equal when events and counts are
            tl = (tl.events, tl.dropped, events)  # type: ignore[assignment]
        threads.append(replace(t, timeline=tl))
    return replace(snapshot, threads=threads)


def round_trip(snapshot: Snapshot, tmp_path, name: str = "x.tprof") -> Snapshot:
    path = tmp_path / name
    get_exporter("tprof").write(snapshot, path)
    back = tprof.read(path)
    assert isinstance(back, Snapshot)
    return back


def assert_same(a: Snapshot, b: Snapshot) -> None:
    ma, mb = materialize(a), materialize(b)
    for field in Snapshot.__slots__:
        assert getattr(ma, field) == getattr(mb, field), field
    for ta, tb in zip(ma.threads, mb.threads, strict=True):
        assert ta.nodes == tb.nodes  # every Node field, children lists included
    assert ma == mb


@pytest.mark.parametrize("fixture", ["tree_snap", "timeline_snap", "weird_snap"])
def test_round_trip_is_lossless(fixture, request, tmp_path):
    snap = request.getfixturevalue(fixture)
    snap = replace(
        snap,
        engine="monitoring",
        pid=4242,
        start_time=1767225600.123456,
        python_version="3.12.1",
        argv=["app.py", "--x", "ünï", "\udcff"],
        warnings=["a warning", "two\nlines"],
    )
    snap.threads[0].warnings.append("resynchronised 3 times")
    snap = replace(snap, coroutines="whole", slow_step=100_000_000)
    last = len(snap.threads[0].nodes) - 1
    snap.threads[0].slow_steps.append(SlowStep(5, 2**62, 1, last, -3))
    snap.threads[0].slow_steps.append(SlowStep(7, 9, 1, 1, 9, task=12))
    back = round_trip(snap, tmp_path)
    assert_same(snap, back)
    assert back.threads[0].warnings == ["resynchronised 3 times"]
    assert back.threads[0].slow_steps == [
        SlowStep(5, 2**62, 1, last, -3),
        SlowStep(7, 9, 1, 1, 9, task=12),
    ]
    assert (back.coroutines, back.slow_step) == ("whole", 100_000_000)
    assert back.argv[-1] == "\udcff"  # a lone surrogate survives


def test_every_node_field_survives(make_builder, tmp_path):
    builder = make_builder(unit=1e-9)  # the longest times a profile may hold
    C = builder.call
    builder.thread(
        "t",
        [C("a", 3, 100, [C("b", 2, 40, cpu=7, wall_self=-5, cpu_self=2**62)], cpu=90)],
        ident=2**64 - 1,  # an unsigned pthread_t
        native_id=0,
        first_seen=-10,
    )
    snap = builder.build(duration=2**63 - 1)
    snap.threads[0].nodes[2].prim_calls = 1  # not what build_tree derives: kept as is
    back = round_trip(snap, tmp_path)
    assert_same(snap, back)
    assert back.threads[0].nodes[2].prim_calls == 1


def test_children_order_is_kept(builder, tmp_path):
    C = builder.call
    t = builder.thread("t", [C("a", 1, 10, [C("b", 1, 2), C("c", 1, 3), C("d", 1, 4)])])
    t.nodes[1].children.reverse()  # not id order: a KIDS section keeps it
    back = round_trip(builder.build(), tmp_path)
    assert back.threads[0].nodes[1].children == [4, 3, 2]
    assert_same(builder.build(), back)


def test_empty_snapshot(tmp_path):
    snap = Snapshot(clock="cpu", unit=1e-6, functions=[], threads=[], cpu_mode="none")
    assert_same(snap, round_trip(snap, tmp_path))


def test_surrogates_and_odd_text_in_names(builder, tmp_path):
    fid = builder.func("f\udce9", "dir\udcff/x.py", 3, qualname="Q\x00\u2028")
    C = builder.call
    t = builder.thread("t\udc80", [C(fid, 1, 5)])
    builder.timeline(t, [("call", fid, 0), ("ret", fid, 5)])
    snap = builder.build()
    assert_same(snap, round_trip(snap, tmp_path))


def test_timeline_is_rechunked_and_exact(builder, tmp_path):
    f = builder.func("f")
    g = builder.cfunc("<built-in function g>")
    t = builder.thread("t", [builder.call("f", 1, 10)])
    n = 3 * tprof.CHUNK_EVENTS + 17
    events = []
    for i in range(n // 2):
        events.append(("call", f if i % 3 else g, 1000 + 7 * i))
        events.append(("ret", f if i % 3 else g, 1000 + 7 * i + (i % 5)))
    builder.timeline(t, events, chunk=5000, dropped=12)
    snap = builder.build()
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(snap, path)
    back = tprof.read(path)
    chunks = [len(funcs) for funcs, _ in back.threads[0].timeline.chunks()]
    assert chunks[:-1] == [tprof.CHUNK_EVENTS] * (len(chunks) - 1)
    assert sum(chunks) == len(events) == back.threads[0].timeline.events
    assert back.threads[0].timeline.dropped == 12
    assert_same(snap, back)


def test_times_beyond_64_bit_differences(builder, tmp_path):
    f = builder.func("f")
    t = builder.thread("t", [builder.call("f", 1, 10)])
    lo, hi = -(2**63), 2**63 - 1
    builder.timeline(t, [("call", f, lo), ("ret", f, hi), ("call", f, lo), ("ret", f, 0)])
    snap = builder.build()
    assert_same(snap, round_trip(snap, tmp_path))


def _varint(value: int) -> bytes:
    """The LEB128 varint of ``value``'s zigzag encoding (as 64-bit)."""
    u = ((value << 1) ^ (value >> 63)) & (2**64 - 1)
    out = bytearray()
    while u >= 0x80:
        out.append(u & 0x7F | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def _reference_payload(funcs: list[int], times: list[int]) -> bytes:
    """An EVTS payload built in Python from the layout tprof.py documents
    (format 2.0): varints of the times' differences modulo 2**64, then of the
    function codes."""
    diffs = []
    for prev, t in zip([0, *times], times, strict=False):
        d = (t - prev) % 2**64
        diffs.append(d - 2**64 if d >= 2**63 else d)
    body = b"".join(map(_varint, diffs)) + b"".join(map(_varint, funcs))
    return bytes([tprof.EVTS_VARINTS]) + bytes(7) + body


def _shuffled_payload(funcs: list[int], times: list[int]) -> bytes:
    """An EVTS payload of format 1.x: differences (or plain times where one
    leaves 64 bits), shuffled."""
    deltas = times[:1] + [b - a for a, b in itertools.pairwise(times)]
    if all(-(2**63) <= d < 2**63 for d in deltas):
        return _raw_payload(1, deltas, funcs)
    return _raw_payload(0, times, funcs)


def _raw_payload(mode: int, values: list[int], funcs: list[int]) -> bytes:
    def shuffled(items: list[int], width: int) -> bytes:
        raw = [(v % 2 ** (8 * width)).to_bytes(width, "little") for v in items]
        return bytes(item[i] for i in range(width) for item in raw)

    return bytes([mode]) + bytes(7) + shuffled(values, 8) + shuffled(funcs, 4)


def _events_payloads(path) -> list[bytes]:
    """The uncompressed payloads of a file's EVTS sections, in order."""
    data = path.read_bytes()
    out = []
    for offset, _count in _meta(data)["threads"][0]["timeline"]["chunks"]:
        head = tprof.SECTION.unpack_from(data, offset)
        stored = data[offset + tprof.SECTION.size : offset + tprof.SECTION.size + head[5]]
        out.append(zlib.decompress(stored) if head[1] == tprof.ENC_ZLIB else stored)
    return out


@pytest.mark.parametrize("span", ["small", "beyond 64 bits"])
def test_timeline_sections_are_the_documented_layout(builder, tmp_path, span):
    """The C core's encoder writes exactly the layout tprof.py describes (so
    files of earlier versions and of this one read alike)."""
    f, g = builder.func("f"), builder.func("g")
    t = builder.thread("t", [builder.call("f", 1, 10)])
    n = tprof.CHUNK_EVENTS + 300
    times = [5_000 + 13 * i + (i % 7) * 1000 for i in range(n)]
    if span != "small":
        times[tprof.CHUNK_EVENTS + 5] = -(2**63)  # a difference beyond 64 bits
    codes = [(f, ~f, g, ~g)[i % 4] for i in range(n)]
    builder.timeline(
        t,
        [
            ("call" if c >= 0 else "ret", c if c >= 0 else ~c, tm)
            for c, tm in zip(codes, times, strict=True)
        ],
    )
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(builder.build(), path)
    size = tprof.CHUNK_EVENTS
    assert _events_payloads(path) == [
        _reference_payload(codes[:size], times[:size]),
        _reference_payload(codes[size:], times[size:]),
    ]
    assert list(tprof.read(path).threads[0].timeline) == list(zip(codes, times, strict=True))


def test_encoded_chunks_are_copied_as_they_are(builder, tmp_path):
    """A timeline whose pieces are still encoded (the C core's spilled chunks)
    is written with each such piece as a section of its own, byte for byte,
    and the chunks between them regrouped and encoded; a piece encoded over
    more functions than the file has, or in another layout, is re-encoded."""
    f, g = builder.func("f"), builder.func("g")
    builder.thread("t", [builder.call("f", 1, 10)])
    snap = builder.build()
    nfuncs = len(snap.functions)

    def raw(n, start):
        funcs = array("i", [(f, ~f, g, ~g)[i % 4] for i in range(n)])
        times = array("q", [start + 3 * i for i in range(n)])
        return funcs, times

    first, second = raw(1000, 10), raw(700, 50_000)
    enc1 = EncodedChunk(1000, _core._encode_events(*first, nfuncs), nfuncs)
    enc2 = EncodedChunk(700, _core._encode_events(*second, nfuncs), nfuncs)
    between = [raw(5, 20_000), raw(tprof.CHUNK_EVENTS, 30_000)]
    wide = EncodedChunk(3, _core._encode_events(*raw(3, 90_000), nfuncs + 5), nfuncs + 5)
    pieces = [enc1, *between, enc2, wide, raw(2, 95_000)]
    assert [isinstance(p, EncodedChunk) for p in pieces] == [1, 0, 0, 1, 1, 0]
    events = 1000 + 5 + tprof.CHUNK_EVENTS + 700 + 3 + 2
    timeline = Timeline.of_pieces(lambda: iter(pieces), events)
    snap = replace(snap, threads=[replace(snap.threads[0], timeline=timeline)])
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(snap, path)
    payloads = _events_payloads(path)
    merged = [array("i"), array("q")]
    for funcs, times in between:
        merged[0].extend(funcs)
        merged[1].extend(times)
    size = tprof.CHUNK_EVENTS
    rest = [array("i", merged[0][size:]), array("q", merged[1][size:])]
    assert payloads == [
        enc1.payload,
        _core._encode_events(merged[0][:size], merged[1][:size], nfuncs),
        _core._encode_events(*rest, nfuncs),
        enc2.payload,
        _core._encode_events(
            *[a + b for a, b in zip(wide.decode(), raw(2, 95_000), strict=True)], nfuncs
        ),
    ]
    back = list(tprof.read(path).threads[0].timeline)
    assert back == list(timeline) and len(back) == events


def test_an_encoded_chunk_decodes_to_its_events_and_codes():
    funcs = array("i", [0, 1, ~1, ~0])
    times = array("q", [5, 9, 9, 12])
    chunk = EncodedChunk(4, _core._encode_events(funcs, times, 2), 2)
    assert chunk.decode() == (funcs, times)
    assert chunk.codes() == funcs
    with pytest.raises(ValueError, match="functions"):
        EncodedChunk(4, chunk.payload, 1).codes()


class _Failing:
    def fail(self, reason: str):
        raise ProfileFormatError("x.tprof", reason)


@pytest.mark.parametrize("encode", [_reference_payload, _shuffled_payload])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: bytes([7]) + p[1:], "has an unknown encoding"),
        (lambda p: bytes([3]) + p[1:], "has an unknown encoding"),
        (lambda p: p[:1] + b"\x01" + p[2:], "has an unknown encoding"),
        (lambda p: p[:-1], "has the wrong size"),
        (lambda p: p + bytes(12), "has the wrong size"),
        (lambda p: _raw_payload(1, [2**62, 2**62], [0, 0]), "has impossible times"),
    ],
)
def test_a_corrupt_timeline_payload_is_refused_with_its_reason(encode, change, message):
    good = encode([0, ~1], [10, 12])
    assert tprof._decode_events(_Failing(), 99, 2, good, 2) == (
        array("i", [0, ~1]),
        array("q", [10, 12]),
    )
    with pytest.raises(ProfileFormatError, match=f"the timeline section at offset 99 {message}"):
        tprof._decode_events(_Failing(), 99, 2, change(good), 2)


@pytest.mark.parametrize("encode", [_reference_payload, _shuffled_payload])
@pytest.mark.parametrize("funcs", [[0, 2], [0, -3], [2**31 - 1, 0]])
def test_a_timeline_payload_naming_unknown_functions_is_refused(encode, funcs):
    with pytest.raises(ProfileFormatError, match="names unknown functions"):
        tprof._decode_events(_Failing(), 99, 2, encode(funcs, [1, 2]), 2)


@pytest.mark.parametrize(
    "body",
    [
        b"\x80",  # a varint cut short
        b"\x02\x02\x00",  # two times, and one code of two
        b"\xff" * 10 + b"\x01\x00\x00\x00",  # a time of more than 64 bits
        b"\xff" * 11 + b"\x00\x00\x00",  # a varint of eleven bytes
        b"\x02\x02\x00\x00\x00",  # a byte left over
    ],
)
def test_a_corrupt_varint_payload_has_the_wrong_size(body):
    payload = bytes([tprof.EVTS_VARINTS]) + bytes(7) + body
    with pytest.raises(ProfileFormatError, match="has the wrong size"):
        tprof._decode_events(_Failing(), 99, 2, payload, 2)


def test_varints_carry_every_int64_time_and_code():
    lo, hi = -(2**63), 2**63 - 1
    times = [lo, hi, lo, 0, hi, hi, -1, 1]
    funcs = [0, ~0, 2**31 - 2, ~(2**31 - 2), 5, ~5, 0, ~0]
    payload = _core._encode_events(array("i", funcs), array("q", times), 2**31 - 1)
    assert payload == _reference_payload(funcs, times)
    assert tprof._decode_events(_Failing(), 0, 8, payload, 2**31 - 1) == (
        array("i", funcs),
        array("q", times),
    )
    # format 1.x, which the encoder still writes when asked
    shuffled = _core._encode_events(array("i", funcs), array("q", times), 2**31 - 1, True)
    assert shuffled == _shuffled_payload(funcs, times)


def test_a_format_1_file_with_timelines_still_reads(tmp_path):
    old = Path(__file__).parent.parent / "data" / "corpus" / "tprof" / "seed-2.tprof"
    assert struct.unpack_from("<HH", old.read_bytes(), 8) == (1, 0)
    snap = tprof.read(old)
    events = [list(t.timeline) for t in snap.threads if t.timeline is not None]
    assert [len(e) for e in events] == [10, 6]
    for e in events:
        assert [t for _, t in e] == sorted(t for _, t in e)
    back = round_trip(snap, tmp_path)  # written as 2.0
    assert [list(t.timeline) for t in back.threads if t.timeline is not None] == events


def test_chunk_arrays_of_other_types_are_accepted(builder, tmp_path):
    f = builder.func("f")
    t = builder.thread("t", [builder.call("f", 1, 10)])

    def source():
        yield [f, ~f], [1, 2]  # lists
        yield array("l", [f]), array("l", [3])

    t.timeline = Timeline(source, 3, 0)
    back = round_trip(builder.build(), tmp_path)
    assert list(back.threads[0].timeline) == [(f, 1), (~f, 2), (f, 3)]


def test_real_profile_round_trip(tmp_path):
    import threading

    import threadprof

    def work():
        for i in range(200):
            json.dumps({"i": i})

    threadprof.start(timeline=True)
    threads = [threading.Thread(target=work, name=f"w{i}") for i in range(3)]
    for th in threads:
        th.start()
    work()
    for th in threads:
        th.join()
    snap = threadprof.stop()
    assert any(t.timeline is not None and t.timeline.events for t in snap.threads)
    assert_same(snap, round_trip(snap, tmp_path))


# -- streaming and laziness ---------------------------------------------------------


def _big_timeline(builder, events: int, chunk: int = 16384):
    f = builder.func("f")
    g = builder.func("g")
    t = builder.thread("t", [builder.call("f", 1, 10)])

    def source():
        for start in range(0, events, chunk):
            n = min(chunk, events - start)
            codes = array("i", [f, g, ~g, ~f] * (n // 4) + [f] * (n % 4))
            times = array("q", range(start * 3, (start + n) * 3, 3))
            yield codes, times

    t.timeline = Timeline(source, events, 0)
    return builder.build()


def test_writing_a_long_timeline_needs_bounded_memory(builder, tmp_path):
    snap = _big_timeline(builder, 1_000_000)  # 12 MB in memory
    tracemalloc.start()
    try:
        with open(tmp_path / "big.tprof", "wb") as f:
            tprof.write(snap, f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000  # a few chunks at a time
    assert os.path.getsize(tmp_path / "big.tprof") < 3_000_000  # under 3 bytes an event


def test_reading_a_long_timeline_is_lazy(builder, tmp_path):
    snap = _big_timeline(builder, 300_000)  # 3.6 MB in memory
    path = tmp_path / "big.tprof"
    get_exporter("tprof").write(snap, path)
    tracemalloc.start()
    try:
        back = tprof.read(path)
        assert sum(len(funcs) for funcs, _ in back.threads[0].timeline.chunks()) == 300_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_500_000


def _perfetto_peak(make_builder, events: int, tmp_path) -> int:
    path = tmp_path / f"{events}.tprof"
    get_exporter("tprof").write(_big_timeline(make_builder(), events), path)
    tracemalloc.start()
    try:
        get_exporter("perfetto").write(tprof.read(path), tmp_path / f"{events}.pftrace")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_converting_to_perfetto_does_not_grow_with_the_events(make_builder, tmp_path):
    small = _perfetto_peak(make_builder, 50_000, tmp_path)
    large = _perfetto_peak(make_builder, 150_000, tmp_path)
    assert large < small * 1.25


def test_read_holds_no_open_file(timeline_snap, tmp_path):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(timeline_snap, path)
    before = len(os.listdir("/proc/self/fd"))
    back = tprof.read(path)
    assert len(os.listdir("/proc/self/fd")) == before
    assert list(back.threads[0].timeline)  # reopens the file for each pass
    assert list(back.threads[0].timeline) == list(timeline_snap.threads[0].timeline)


def test_a_file_changed_after_reading_is_refused_when_its_timeline_is_read(
    timeline_snap, tmp_path
):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(timeline_snap, path)
    back = tprof.read(path)
    with open(path, "ab") as f:
        f.write(b"more")
    with pytest.raises(ProfileFormatError) as info:
        list(back.threads[0].timeline)
    assert (
        str(info.value) == f"cannot read {str(path)!r}: the file has changed since it was opened"
    )


def test_a_corrupt_timeline_section_fails_cleanly_when_read(timeline_snap, tmp_path):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(timeline_snap, path)
    data = bytearray(path.read_bytes())
    meta = _meta(bytes(data))
    offset = meta["threads"][0]["timeline"]["chunks"][0][0]
    data[offset + tprof.SECTION.size + 1] ^= 0x40
    path.write_bytes(bytes(data))
    back = tprof.read(path)  # the timelines are not read yet
    with pytest.raises(ProfileFormatError) as info:
        list(back.threads[0].timeline)
    assert f"checksum mismatch in the timeline section at offset {offset}" in str(info.value)


# -- versions, foreign and broken files --------------------------------------------------


def _meta(data: bytes) -> dict:
    meta_offset, _, _ = tprof.FOOTER.unpack(data[-tprof.FOOTER.size :])
    head = tprof.SECTION.unpack_from(data, meta_offset)
    stored = data[meta_offset + tprof.SECTION.size : meta_offset + tprof.SECTION.size + head[5]]
    payload = zlib.decompress(stored) if head[1] == tprof.ENC_ZLIB else stored
    return json.loads(payload)


def _rebuild(data: bytes, meta: dict, minor: int, extra_section: bytes = b"") -> bytes:
    """The file ``data`` with another minor version, an extra section before the
    metadata, and the metadata ``meta``."""
    meta_offset, _, _ = tprof.FOOTER.unpack(data[-tprof.FOOTER.size :])
    body = bytearray(data[:meta_offset])
    struct.pack_into("<H", body, 10, minor)
    body += extra_section
    payload = json.dumps(meta).encode()
    new_meta_offset = len(body)
    body += tprof.SECTION.pack(
        tprof.TAG_META, 0, tprof.NO_THREAD, 0, zlib.crc32(payload), len(payload), len(payload)
    )
    body += payload
    body += tprof.FOOTER.pack(new_meta_offset, len(body) + tprof.FOOTER.size, tprof.END_MAGIC)
    return bytes(body)


def test_a_newer_minor_version_with_unknown_parts_is_read(timeline_snap, tmp_path):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(timeline_snap, path)
    data = path.read_bytes()
    meta = _meta(data)
    meta["new_key"] = {"anything": [1, 2]}
    meta["threads"][0]["new_thread_key"] = 1
    extra = tprof.SECTION.pack(b"XTRA", 0, 0, 0, zlib.crc32(b"abc"), 3, 3) + b"abc"
    path.write_bytes(_rebuild(data, meta, minor=7, extra_section=extra))
    assert_same(timeline_snap, tprof.read(path))


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ("x", "'slow_steps' is not a list"),
        ([[1, 2, 3]], "a slow step is not a list of 5 or 6 integers"),
        ([[1, 2, 1, 1, 2**63]], "a slow step is not a list of 5 or 6 integers"),
        ([[1, 2, 1, 1, 0, 3, 4]], "a slow step is not a list of 5 or 6 integers"),
        ([[1, 2, 0, 1, 0]], "a slow step names no node of its tree"),
        ([[1, 2, 1, 10**6, 0]], "a slow step names no node of its tree"),
        ([[1, -2, 1, 1, 0]], "a slow step names no node of its tree"),
    ],
)
def test_corrupt_slow_steps_are_refused(tree_snap, tmp_path, steps, reason):
    def change(meta):
        meta["threads"][0]["slow_steps"] = steps

    assert reason in _refused(tree_snap, tmp_path, change, minor=1)


def _refused(snapshot, tmp_path, change, minor: int) -> str:
    """Why ``snapshot`` written, its metadata changed by ``change(meta)``, is refused."""
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(snapshot, path)
    data = path.read_bytes()
    meta = _meta(data)
    change(meta)
    path.write_bytes(_rebuild(data, meta, minor=minor))
    with pytest.raises(ProfileFormatError) as info:
        tprof.read(path)
    return str(info.value)


def test_a_file_without_the_2_1_keys_reads_with_their_defaults(tree_snap, tmp_path):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(replace(tree_snap, coroutines="whole", slow_step=7), path)
    data = path.read_bytes()
    meta = _meta(data)
    del meta["coroutines"], meta["slow_step"]
    path.write_bytes(_rebuild(data, meta, minor=0))
    back = tprof.read(path)
    assert (back.coroutines, back.slow_step) == ("", 0)
    assert all(t.slow_steps == [] for t in back.threads)


def test_a_newer_major_version_is_refused(tree_snap, tmp_path):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(tree_snap, path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<HH", data, 8, 3, 1)
    path.write_bytes(bytes(data))
    with pytest.raises(ProfileFormatError) as info:
        tprof.read(path)
    assert str(info.value) == (
        f"cannot read {str(path)!r}: written by a newer threadprof (format 3.1); "
        "this version reads formats up to 2.x: upgrade threadprof"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\x89TPR", "truncated: only 4 bytes"),
        (b"\x89TPROF\n\n" + bytes(100), "corrupt header (damaged by a text-mode transfer?)"),
        (b'{"traceEvents": []}', "not a threadprof (.tprof) or pstats profile: JSON text"),
        (b"\x1f\x8b\x08\x00", "not a threadprof (.tprof) or pstats profile: a gzip file"),
        (b"main;f 10\n", "not a threadprof (.tprof) or pstats profile: text"),
    ],
)
def test_foreign_and_short_files(content, reason, tmp_path):
    path = tmp_path / "in.tprof"
    path.write_bytes(content)
    with pytest.raises(ProfileFormatError) as info:
        read_profile(path)
    message = str(info.value)
    assert message.startswith(f"cannot read {str(path)!r}: {reason}")
    assert "\n" not in message


def test_an_interrupted_write_is_refused(timeline_snap, tmp_path):
    path = tmp_path / "x.tprof"
    data = get_exporter("tprof").to_bytes(timeline_snap)
    path.write_bytes(data[: len(data) - 5])
    with pytest.raises(ProfileFormatError) as info:
        tprof.read(path)
    assert "no end marker (was the write interrupted?)" in str(info.value)


def test_every_truncation_is_a_clean_error(tree_snap, tmp_path):
    data = get_exporter("tprof").to_bytes(tree_snap)
    path = tmp_path / "x.tprof"
    for size in range(len(data)):
        path.write_bytes(data[:size])
        with pytest.raises(ProfileFormatError):
            read_profile(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(ProfileFormatError) as info:
        read_profile(tmp_path / "nope.tprof")
    assert (
        str(info.value)
        == f"cannot read {str(tmp_path / 'nope.tprof')!r}: No such file or directory"
    )


# -- the writer refuses snapshots it could not read back ---------------------------------


def test_writer_refuses_function_ids_out_of_order(builder):
    builder.func("f")
    snap = builder.build()
    snap.functions[0] = Function(5, "python", "f", "f", "app.py", 1)
    with pytest.raises(ValueError, match="function ids must be 0, 1, 2"):
        get_exporter("tprof").to_bytes(snap)


def test_writer_refuses_a_node_before_its_parent(builder):
    f = builder.func("f")
    snap = builder.build()
    nodes = build_tree([Node(0, -1, -1), Node(1, 0, f)])
    nodes[1].parent = 2
    nodes.append(Node(2, 0, f))
    snap.threads.append(replace(_thread(builder), nodes=nodes))
    with pytest.raises(ValueError, match="node 1 has parent 2"):
        get_exporter("tprof").to_bytes(snap)


def _thread(builder):
    return builder.thread("t", [])


def test_registry_and_extension():
    assert exporter_for_path("run.tprof").name == "tprof"
    assert exporter_for_path("RUN.TPROF").name == "tprof"
    assert get_exporter("tprof").needs_timeline is False
    assert get_exporter("perfetto").needs_timeline is True


def test_a_timeline_section_is_never_read_twice(timeline_snap, tmp_path):
    # a crafted index that names one section again and again would make a
    # small file decode without end: refused, at once or while reading
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(timeline_snap, path)
    data = path.read_bytes()
    meta = _meta(data)
    tl = meta["threads"][0]["timeline"]
    first = tl["chunks"][0]
    tl["chunks"] = [first] * 1000
    tl["events"] = first[1] * 1000
    path.write_bytes(_rebuild(data, meta, minor=0))
    with pytest.raises(ProfileFormatError, match="thread 0's timeline: a bad chunk entry"):
        tprof.read(path)
    tl["chunks"] = [first, [first[0] + tprof.SECTION.size, first[1]]]
    tl["events"] = first[1] * 2
    path.write_bytes(_rebuild(data, meta, minor=0))
    back = tprof.read(path)
    with pytest.raises(ProfileFormatError, match="thread 0's timeline sections overlap"):
        list(back.threads[0].timeline)


def test_a_tree_that_decompresses_too_far_is_refused(builder, tmp_path, monkeypatch):
    """Zero-filled nodes compress a thousandfold: a small file must not make
    the reader build millions of them. (The limits are lowered here so that the
    test builds thousands.)"""
    from threadprof import tprof as fmt
    from threadprof.fileformat import ProfileFormatError
    from threadprof.model import Node, build_tree

    builder.thread("t", [builder.call("f", 1, 1)])
    snap = builder.build()
    nodes = [Node(0, -1, -1)] + [Node(i, 0, 0) for i in range(1, 10_000)]
    snap.threads[0].nodes = build_tree(nodes)
    path = tmp_path / "zeros.tprof"
    with open(path, "wb") as f:
        fmt.write(snap, f)
    assert len(fmt.read(path).threads[0].nodes) == 10_000  # within the real limits
    monkeypatch.setattr(fmt, "EAGER_SLACK", 0)
    monkeypatch.setattr(fmt, "EAGER_RATIO", 20)
    with pytest.raises(ProfileFormatError, match="which no real profile does"):
        fmt.read(path)


def task_snap(builder):
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 1000, [C("main", 1, 900)])], ident=5)
    builder.task(t, "Task-1", [C("main", 1, 900, cpu=10)], id=1, steps=2, await_time=890)
    builder.task(
        t,
        "fetch-0",
        [C("fetch", 1, 100, [C("sleep", 2, 97, cpu=0)], cpu=3)],
        id=2,
        creator=1,
        loop=3,
        steps=3,
        await_time=97,
        first_seen=40,
        prefix=["run"],
    )
    builder.thread("idle", [C("wait", 1, 10)])
    return replace(builder.build(), coroutines="whole")


def test_tasks_round_trip(builder, tmp_path):
    snap = task_snap(builder)
    back = round_trip(snap, tmp_path)
    assert_same(snap, back)
    (main, fetch), idle = back.threads[0].tasks, back.threads[1].tasks
    assert idle == []
    assert isinstance(fetch, TaskProfile)
    assert (fetch.id, fetch.name, fetch.creator, fetch.loop, fetch.steps) == (
        2,
        "fetch-0",
        1,
        3,
        3,
    )
    assert (fetch.serial, fetch.ident, fetch.first_seen, fetch.await_time) == (1, 5, 40, 97)
    assert fetch.nodes == snap.threads[0].tasks[1].nodes
    assert [back.functions[f].name for f in fetch.prefix] == ["run"]
    assert (main.wall_time, main.cpu_time) == (900, 10)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.update(tasks="x"), "'tasks' is not a list"),
        (lambda t: t.update(tasks=[1]), "task 0: not an object"),
        (lambda t: t["tasks"][1].pop("creator"), "task 1: 'creator' is missing"),
        (lambda t: t["tasks"][0].update(name=3), "task 0: 'name'"),
        (lambda t: t["tasks"][1].update(nodes=t["nodes"] + 1), "corrupt"),
        (lambda t: t["tasks"][1].update(prefix=[10**6]), "task 1: its prefix names no function"),
        (lambda t: t["tasks"][1].pop("prefix"), "task 1: 'prefix' is missing"),
    ],
)
def test_corrupt_tasks_are_refused(builder, tmp_path, edit, reason):
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(task_snap(builder), path)
    data = path.read_bytes()
    meta = _meta(data)
    edit(meta["threads"][0])
    path.write_bytes(_rebuild(data, meta, minor=2))
    with pytest.raises(ProfileFormatError) as info:
        tprof.read(path)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("processes", "thread_process", "reason"),
    [
        ("x", None, "'processes' is not a list"),
        ([[1, 0, [], 0, 5, "exited"]], None, "a process is not [pid, ppid, argv"),
        ([[1, 0, "argv", 0, 5, "exited", True]], None, "a process is not [pid, ppid, argv"),
        ([[1, 0, [], 0, 2**64, "exited", True]], None, "a process is not [pid, ppid, argv"),
        ([[1, 0, [], 0, 5, "exited", 1]], None, "a process is not [pid, ppid, argv"),
        ([[1, 0, [], 0, 5, "exited", True]], 1, "its process is not in the list"),
        ([[1, 0, [], 0, 5, "exited", True]], -1, "'process'"),
        (None, 2, "its process is not in the list"),
    ],
)
def test_corrupt_processes_are_refused(tree_snap, tmp_path, processes, thread_process, reason):
    def change(meta):
        if processes is not None:
            meta["processes"] = processes
        if thread_process is not None:
            meta["threads"][0]["process"] = thread_process

    assert reason in _refused(tree_snap, tmp_path, change, minor=3)


def test_a_file_without_processes_is_one_process(tree_snap, tmp_path):
    back = round_trip(tree_snap, tmp_path)
    assert back.processes == []
    assert {t.process for t in back.threads} == {0}
    assert back.pid_of(back.threads[0]) == back.pid
