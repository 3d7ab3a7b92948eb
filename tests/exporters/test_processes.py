# SPDX-License-Identifier: MIT
"""A profile of a process tree (threadprof.merge.merge_processes): the merge
itself (functions matched, times moved onto the first process's origin,
timelines renumbered), ``.tprof`` keeping it losslessly, and every format
saying which process each thread ran in, read back as its users read it."""

from __future__ import annotations

import gzip
import json

import pytest
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as trace_pb2
from test_perfetto import read as read_perfetto

from threadprof import tprof
from threadprof.exporters import get_exporter
from threadprof.merge import merge_processes
from threadprof.model import Process, thread_function_stats
from threadprof.report import format_report, report_data

ROOT, CHILD, GRANDCHILD = 100, 101, 102


@pytest.fixture
def tree(make_builder):
    """Three processes, started 0, 5 and 9 ms apart (ticks of 1 ms): the
    root runs main and work, a child work and helper, a grandchild work;
    their function tables list them in other orders. A fourth one crashed."""
    root = make_builder()
    root.func("main", "app.py", 1)
    root.func("work", "app.py", 5)
    t = root.thread("MainThread", [root.call("main", 1, 30, [root.call("work", 2, 10)])])
    root.timeline(t, [("call", "main", 0), ("call", "work", 2), ("ret", "work", 12)])
    child = make_builder()
    child.func("helper", "lib.py", 3)
    child.func("work", "app.py", 5)
    t = child.thread(
        "MainThread", [child.call("work", 3, 8, [child.call("helper", 4, 4)])], native_id=CHILD
    )
    child.timeline(t, [("call", "work", 1), ("call", "helper", 2), ("ret", "helper", 6)])
    child.thread("worker-1", [child.call("helper", 1, 2)], first_seen=3)
    grand = make_builder()
    grand.func("work", "app.py", 5)
    grand.thread("MainThread", [grand.call("work", 5, 5)], native_id=GRANDCHILD)
    snaps = [
        root.build(pid=ROOT, start_time=1000.0, argv=["app.py", "run"]),
        child.build(pid=CHILD, start_time=1000.005),
        grand.build(pid=GRANDCHILD, start_time=1000.009),
    ]
    parts = [
        (Process(ROOT, 1, ["app.py", "run"], 0, 0, "exited 3"), snaps[0]),
        (Process(CHILD, ROOT, ["python", "-c", "child"], 0, 0, "killed by SIGTERM"), snaps[1]),
        (Process(GRANDCHILD, CHILD, ["python", "g.py"], 0, 0, "exited"), snaps[2]),
        (Process(103, ROOT, ["python", "crash.py"], 7, 7, "crashed"), None),
    ]
    return merge_processes(parts)


def name_calls(snap, thread):
    return {snap.functions[f].name: s.calls for f, s in thread_function_stats(thread).items()}


def test_merge(tree):
    assert [f.name for f in tree.functions] == ["main", "work", "helper"]
    assert [(p.pid, p.ppid, p.start, p.end, p.status, p.recorded) for p in tree.processes] == [
        (ROOT, 1, 0, 30, "exited 3", True),
        (CHILD, ROOT, 5, 13, "killed by SIGTERM", True),
        (GRANDCHILD, CHILD, 9, 14, "exited", True),
        (103, ROOT, 7, 7, "crashed", False),
    ]
    assert tree.pid == ROOT
    assert tree.duration == 30
    assert [(t.name, t.process, t.serial) for t in tree.threads] == [
        ("MainThread", 0, 0),
        ("MainThread", 1, 1),
        ("worker-1", 1, 2),
        ("MainThread", 2, 3),
    ]
    # times on the root's origin: the child's by 5 ticks, the grandchild's by 9
    assert [(t.first_seen, t.last_seen) for t in tree.threads] == [
        (0, 30),
        (5, 13),
        (8, 10),
        (9, 14),
    ]
    assert [name_calls(tree, t) for t in tree.threads] == [
        {"main": 1, "work": 2},
        {"work": 3, "helper": 4},
        {"helper": 1},
        {"work": 5},
    ]
    assert list(tree.threads[1].timeline) == [(1, 6), (2, 7), (~2, 11)]
    assert list(tree.threads[0].timeline) == [(0, 0), (1, 2), (~1, 12)]
    assert tree.function_stats()[1].calls == 10  # work, in every process


def test_tprof_keeps_the_processes(tree, tmp_path):
    path = tmp_path / "tree.tprof"
    get_exporter("tprof").write(tree, path)
    back = tprof.read(path)
    assert back.processes == tree.processes
    assert [t.process for t in back.threads] == [0, 1, 1, 2]
    assert [list(t.timeline) if t.timeline else None for t in back.threads] == [
        list(t.timeline) if t.timeline else None for t in tree.threads
    ]
    assert back.pid == ROOT


def test_tprof_refuses_a_thread_of_no_process(tree, tmp_path):
    tree.threads[0].process = 9
    with pytest.raises(ValueError, match="its process 9 is not in the list"):
        get_exporter("tprof").write(tree, tmp_path / "bad.tprof")


def test_chrome_has_a_process_per_pid(tree, tmp_path):
    path = tmp_path / "tree.trace.json"
    get_exporter("chrome").write(tree, path)
    events = json.loads(path.read_text())["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e.get("name") == "process_name"}
    # the crashed process too, a process that recorded nothing
    assert names == {
        ROOT: "app.py run",
        CHILD: "python -c child",
        GRANDCHILD: "python g.py",
        103: "python crash.py",
    }
    threads = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"}
    assert (CHILD, CHILD) in threads and (ROOT, tree.threads[0].native_id) in threads
    begins = [(e["pid"], e["name"].split(" ")[0], e["ts"]) for e in events if e["ph"] == "B"]
    # ticks of 1 ms: the child's calls 5 ms after its own start's
    assert (CHILD, "work", 6000) in begins and (ROOT, "work", 2000) in begins


def test_perfetto_has_a_process_track_per_pid(tree, tmp_path):
    path = tmp_path / "tree.perfetto-trace"
    get_exporter("perfetto").write(tree, path)
    trace = trace_pb2.Trace()
    trace.ParseFromString(path.read_bytes())
    tracks, slices = read_perfetto(trace)
    processes = {d.uuid: d.process.pid for d in tracks.values() if d.HasField("process")}
    assert sorted(processes.values()) == [ROOT, CHILD, GRANDCHILD, 103]
    threads = {
        d.uuid: (processes[d.parent_uuid], d.thread.pid, d.thread.tid)
        for d in tracks.values()
        if d.HasField("thread")
    }
    # a thread's track is below its process's, with its pid
    assert all(parent == pid for parent, pid, _ in threads.values())
    by_tid = {tid: uuid for uuid, (_, _, tid) in threads.items()}
    assert [(n, b, e) for n, b, e, _ in slices[by_tid[CHILD]]] == [
        ("helper (lib.py:3)", 7_000_000, 11_000_000),
        ("work (app.py:5)", 6_000_000, 11_000_000),  # open: closed at the last event
    ]


def test_pprof_labels_each_sample_with_its_process(tree, tmp_path, pprof_pb2):
    path = tmp_path / "tree.pb.gz"
    get_exporter("pprof").write(tree, path)
    prof = pprof_pb2.Profile()
    prof.ParseFromString(gzip.decompress(path.read_bytes()))
    strings = prof.string_table
    calls: dict[int, int] = {}
    for sample in prof.sample:
        labels = {strings[lb.key]: lb.num for lb in sample.label if lb.num}
        index = [strings[t.type] for t in prof.sample_type].index("calls")
        calls[labels["pid"]] = calls.get(labels["pid"], 0) + sample.value[index]
    assert calls == {ROOT: 3, CHILD: 8, GRANDCHILD: 5}


def test_text_formats_name_each_threads_process(tree, tmp_path):
    get_exporter("speedscope").write(tree, tmp_path / "t.speedscope.json")
    doc = json.loads((tmp_path / "t.speedscope.json").read_text())
    assert [p["name"] for p in doc["profiles"]] == [
        f"MainThread (pid {ROOT})",
        f"MainThread (pid {CHILD})",
        f"worker-1 (pid {CHILD})",
        f"MainThread (pid {GRANDCHILD})",
    ]
    get_exporter("collapsed").write(tree, tmp_path / "t.folded")
    roots = {line.split(";")[0] for line in (tmp_path / "t.folded").read_text().splitlines()}
    assert roots == {
        f"MainThread (pid {ROOT})",
        f"MainThread (pid {CHILD})",
        f"worker-1 (pid {CHILD})",
        f"MainThread (pid {GRANDCHILD})",
    }
    # pstats merges every thread of every process, as it merges threads
    get_exporter("pstats").write(tree, tmp_path / "t.prof")
    import pstats

    stats = pstats.Stats(str(tmp_path / "t.prof")).stats
    assert {k[2]: v[1] for k, v in stats.items()} == {"main": 1, "work": 10, "helper": 5}


def test_report_lists_the_processes(tree):
    text = format_report(tree, limit=0)
    lines = text.splitlines()
    assert lines[0].startswith("threadprof: 4 processes, 4 threads, 16 calls, 30.00ms")
    table = lines[2:7]
    assert table[0].split() == [
        "process",
        "parent",
        "status",
        "wall",
        "CPU",
        "threads",
        "calls",
        "command",
    ]
    assert table[1].split() == [
        "100",
        "1",
        "exited",
        "3",
        "30.00ms",
        "30.00ms",
        "1",
        "3",
        "app.py",
        "run",
    ]
    assert table[2].split()[:5] == ["101", "100", "killed", "by", "SIGTERM"]
    assert table[4].split() == ["103", "100", "crashed", "-", "-", "0", "0", "python", "crash.py"]
    assert f"worker-1 (pid {CHILD})" in text
    data = report_data(tree)
    assert [t["pid"] for t in data["threads"]] == [ROOT, CHILD, CHILD, GRANDCHILD]
    assert [(p["pid"], p["status"], p["start"]) for p in data["processes"]] == [
        (ROOT, "exited 3", 0.0),
        (CHILD, "killed by SIGTERM", pytest.approx(0.005)),
        (GRANDCHILD, "exited", pytest.approx(0.009)),
        (103, "crashed", pytest.approx(0.007)),
    ]


def test_html_data_names_each_threads_process(tree):
    from threadprof.exporters.html.data import embed_json
    from threadprof.exporters.html.data import report_data as html_data

    data = json.loads(embed_json(html_data(tree)))
    assert [(t["name"], t["pid"]) for t in data["threads"]] == [
        (f"MainThread (pid {ROOT})", ROOT),
        (f"MainThread (pid {CHILD})", CHILD),
        (f"worker-1 (pid {CHILD})", CHILD),
        (f"MainThread (pid {GRANDCHILD})", GRANDCHILD),
    ]
    assert [
        (p["pid"], p["ppid"], p["start"], p["end"], p["recorded"]) for p in data["processes"]
    ] == [
        (ROOT, 1, 0, 30, True),
        (CHILD, ROOT, 5, 13, True),
        (GRANDCHILD, CHILD, 9, 14, True),
        (103, ROOT, 7, 7, False),
    ]
    # the threads' lanes are on the first process's clock
    assert [(t["first"], t["last"]) for t in data["threads"]] == [
        (0, 30),
        (5, 13),
        (8, 10),
        (9, 14),
    ]
