# SPDX-License-Identifier: MIT
"""The Chrome trace exporter: slices nest per thread, time never goes back,
metadata names the process and threads, and it streams."""

from __future__ import annotations

import json

from exporter_data import assert_bounded_memory, assert_streams
from shared import LEN

from threadprof.exporters import get_exporter
from threadprof.exporters.chrome import TASK_TID_BASE, micros


def export(snapshot) -> dict:
    return json.loads(get_exporter("chrome").to_bytes(snapshot).decode("utf-8"))


def slices_by_thread(doc: dict, pid: int = 4242) -> dict[int, list[tuple[str, float, float, int]]]:
    """Check nesting and time order per thread; return (name, begin, end, depth) slices."""
    out: dict[int, list[tuple[str, float, float, int]]] = {}
    stacks: dict[int, list[tuple[str, float]]] = {}
    last: dict[int, float] = {}
    for event in doc["traceEvents"]:
        if event["ph"] == "M":
            continue
        tid = event["tid"]
        assert event["pid"] == pid
        ts = event["ts"]
        assert ts >= last.get(tid, 0.0), "time went backwards"
        last[tid] = ts
        stack = stacks.setdefault(tid, [])
        if event["ph"] == "X":  # a task's step: complete in itself
            out.setdefault(tid, []).append((event["name"], ts, ts + event["dur"], len(stack)))
            continue
        if event["ph"] == "B":
            stack.append((event["name"], ts))
        else:
            assert event["ph"] == "E"
            assert stack, "an end without a begin"
            name, begin = stack.pop()
            out.setdefault(tid, []).append((name, begin, ts, len(stack)))
    assert all(not s for s in stacks.values()), "slices left open"
    return out


def test_document_shape(timeline_snap):
    doc = export(timeline_snap)
    assert doc["displayTimeUnit"] == "ns"
    assert doc["otherData"]["clock"] == "wall"
    assert doc["otherData"]["argv"] == ["app.py"]
    meta = [e for e in doc["traceEvents"] if e["ph"] == "M"]
    P = 4242  # the snapshot's pid
    assert meta == [
        {"ph": "M", "pid": P, "tid": 0, "name": "process_name", "args": {"name": "app.py"}},
        {"ph": "M", "pid": P, "tid": 4242, "name": "thread_name", "args": {"name": "MainThread"}},
        {"ph": "M", "pid": P, "tid": 4242, "name": "thread_sort_index", "args": {"sort_index": 0}},
        {"ph": "M", "pid": P, "tid": 4343, "name": "thread_name", "args": {"name": "worker-1"}},
        {"ph": "M", "pid": P, "tid": 4343, "name": "thread_sort_index", "args": {"sort_index": 1}},
    ]
    # the thread without a timeline is left out
    assert {e["tid"] for e in doc["traceEvents"] if e["ph"] != "M"} == {4242, 4343}


def test_slices_nest_and_time_goes_forward(timeline_snap):
    slices = slices_by_thread(export(timeline_snap))
    ms = 1000.0  # ts is in microseconds; a fixture tick is 1 ms
    fact, ping, main = "fact (app.py:30)", "ping (app.py:40)", "main (app.py:20)"
    helper = "helper (app.py:50)"
    len_ = "{" + LEN[1:-1] + "}"
    assert slices[4242] == [
        (len_, 13 * ms, 14 * ms, 3),
        (fact, 12 * ms, 15 * ms, 2),
        (fact, 10 * ms, 20 * ms, 1),
        (ping, 20 * ms, 20 * ms, 1),  # zero length, after the end at the same time
        (ping, 25 * ms, 31 * ms, 1),
        (main, 0 * ms, 40 * ms, 0),
    ]
    # the leading returns without calls are skipped; open frames close at the end
    assert slices[4343] == [
        (fact, 6 * ms, 9 * ms, 1),
        (helper, 5 * ms, 11 * ms, 0),
        (fact, 13 * ms, 13 * ms, 1),
        (helper, 12 * ms, 13 * ms, 0),
    ]


def test_exact_events(builder):
    t = builder.thread("T", [], native_id=7)
    builder.timeline(t, [("call", "f", 1), ("ret", "f", 2)])
    snap = builder.build(argv=["/usr/bin/app.py", "-x"])
    text = get_exporter("chrome").to_bytes(snap).decode()
    assert text.splitlines()[1:] == [
        '{"ph":"M","pid":0,"tid":0,"name":"process_name","args":{"name":"app.py -x"}},',
        '{"ph":"M","pid":0,"tid":7,"name":"thread_name","args":{"name":"T"}},',
        '{"ph":"M","pid":0,"tid":7,"name":"thread_sort_index","args":{"sort_index":0}},',
        '{"ph":"B","pid":0,"tid":7,"name":"f (app.py:10)","ts":1000},',
        '{"ph":"E","pid":0,"tid":7,"ts":2000}',
        "]}",
    ]


def test_nanosecond_timestamps_are_exact(make_builder):
    b = make_builder(unit=1e-9)
    t = b.thread("T", [])
    big = 123_456_789_012_345_678  # ns: more digits than a float holds
    b.timeline(t, [("call", "f", 1), ("ret", "f", big)])
    text = get_exporter("chrome").to_bytes(b.build()).decode()
    assert '"ts":0.001}' in text
    assert '"ts":123456789012345.678}' in text


def test_micros():
    assert [micros(v) for v in (0, 1, 10, 999, 1000, 1500, 1234567, -1500)] == [
        "0",
        "0.001",
        "0.01",
        "0.999",
        "1",
        "1.5",
        "1234.567",
        "-1.5",
    ]


def test_streams(make_builder):
    assert_streams("chrome", make_builder)


def test_memory_is_bounded(make_builder):
    assert_bounded_memory("chrome", make_builder)


def test_a_track_per_task(builder):
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 100, [C("fetch", 2, 60)])])
    builder.timeline(t, [("call", "run", 0), ("call", "fetch", 10), ("ret", "fetch", 70),
                         ("ret", "run", 100)])  # fmt: skip
    for i in range(2):
        task = builder.task(t, f"fetch-{i}", [C("fetch", 1, 30)], id=i + 1)
        task.step_spans = [(10 + 30 * i, 20 + 30 * i), (25 + 30 * i, 40 + 30 * i)]
    builder.task(t, "quiet", [C("fetch", 1, 0)], id=3)  # no spans: no track
    doc = export(builder.build(pid=4242))
    meta = {(e["tid"], e["name"]): e["args"] for e in doc["traceEvents"] if e["ph"] == "M"}
    base = TASK_TID_BASE
    assert meta[(base + 1, "thread_name")] == {"name": "task fetch-0 (MainThread)"}
    assert meta[(base + 2, "thread_sort_index")] == {"sort_index": 2}
    assert (base + 3, "thread_name") not in meta
    slices = slices_by_thread(doc)
    assert slices[base + 1] == [
        ("fetch (app.py:20)", 10_000.0, 20_000.0, 0),
        ("fetch (app.py:20)", 25_000.0, 40_000.0, 0),
    ]
    assert slices[base + 2] == [
        ("fetch (app.py:20)", 40_000.0, 50_000.0, 0),
        ("fetch (app.py:20)", 55_000.0, 70_000.0, 0),
    ]
