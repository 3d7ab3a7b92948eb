# SPDX-License-Identifier: MIT
"""Every thread, with exact per-thread call counts."""

from __future__ import annotations

import _thread
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from shared import FREE_THREADED

import threadprof


def task(n):
    return sum(range(n))


def calls_in(thread, name):
    """Calls of the Python function `name` recorded in one thread."""
    snap_funcs = calls_in.functions
    return sum(
        n.calls
        for n in thread.nodes[1:]
        if snap_funcs[n.func].kind == "python" and snap_funcs[n.func].name == name
    )


def counts_by_thread(snap, name):
    calls_in.functions = snap.functions
    return {t.name: calls_in(t, name) for t in snap.threads}


def test_eight_threads_two_before_and_six_during(engine):
    go = threading.Event()

    def early(count):
        go.wait()
        for _ in range(count):
            task(10)

    def late(count):
        for _ in range(count):
            task(10)

    early_threads = [
        threading.Thread(target=early, args=(3 + i,), name=f"early-{i}") for i in range(2)
    ]
    for t in early_threads:
        t.start()
    with threadprof.profile(engine=engine) as p:
        go.set()
        late_threads = [
            threading.Thread(target=late, args=(10 + i,), name=f"late-{i}") for i in range(6)
        ]
        for t in late_threads:
            t.start()
        for t in early_threads + late_threads:
            t.join()
    counts = counts_by_thread(p.snapshot(), "task")
    expected = {f"early-{i}": 3 + i for i in range(2)}
    expected.update({f"late-{i}": 10 + i for i in range(6)})
    for name, count in expected.items():
        assert counts[name] == count, name
    assert counts["MainThread"] == 0


def test_threads_ending_before_stop_keep_their_data_and_metadata(engine):
    def worker():
        for _ in range(7):
            task(5)

    with threadprof.profile(engine=engine) as p:
        t = threading.Thread(target=worker, name="short-lived")
        t.start()
        t.join()
        native_id = t.native_id
        ident = t.ident
    snap = p.snapshot()
    th = snap.thread("short-lived")
    assert th.ident == ident
    assert th.native_id == native_id
    assert calls_in_thread(snap, th, "task") == 7
    assert 0 <= th.first_seen <= th.last_seen <= snap.duration
    assert th.wall_time == th.last_seen - th.first_seen
    assert 0 <= th.cpu_time


def calls_in_thread(snap, th, name):
    calls_in.functions = snap.functions
    return calls_in(th, name)


def test_two_hundred_short_lived_threads(engine):
    with threadprof.profile(engine=engine) as p:
        threads = [threading.Thread(target=task, args=(3,), name=f"tiny-{i}") for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    snap = p.snapshot()
    counts = counts_by_thread(snap, "task")
    assert sorted(k for k in counts if k.startswith("tiny-")) == sorted(
        f"tiny-{i}" for i in range(200)
    )
    assert all(counts[f"tiny-{i}"] == 1 for i in range(200))
    serials = [t.serial for t in snap.threads]
    assert len(serials) == len(set(serials))


def test_thread_pool_executor_workers(engine):
    with (
        threadprof.profile(engine=engine) as p,
        ThreadPoolExecutor(4, thread_name_prefix="pool") as ex,
    ):
        list(ex.map(task, range(50)))
    snap = p.snapshot()
    workers = snap.select_threads("pool_*")
    assert 1 <= len(workers) <= 4
    assert sum(calls_in_thread(snap, t, "task") for t in workers) == 50
    assert calls_in_thread(snap, snap.thread("MainThread"), "task") == 0


def test_threads_already_running_show_their_running_frames_with_zero_calls(engine):
    entered = threading.Event()
    go = threading.Event()
    done = threading.Event()

    def waiting():
        entered.set()
        go.wait()
        task(4)
        done.set()

    t = threading.Thread(target=waiting, name="was-running")
    t.start()
    entered.wait()  # Thread.start() returns before run() calls the target
    with threadprof.profile(engine=engine) as p:
        go.set()
        done.wait()
        t.join()
    snap = p.snapshot()
    th = snap.thread("was-running")
    names = {snap.functions[n.func].name: n for n in th.nodes[1:]}
    assert names["waiting"].calls == 0  # it was running before start
    assert calls_in_thread(snap, th, "task") == 1
    # the task call sits below the frame that was already running
    task_node = next(n for n in th.nodes[1:] if snap.functions[n.func].name == "task")
    assert snap.functions[th.nodes[task_node.parent].func].name == "waiting"


def test_profile_class_sees_threads_started_after_enable(engine):
    prof = threadprof.Profile(engine=engine)
    prof.enable()
    threads = [threading.Thread(target=task, args=(2,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    prof.disable()
    prof.create_stats()
    key = next(k for k in prof.stats if k[2] == "task")
    assert prof.stats[key][1] == 3


@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_snapshot_while_running_adds_up(clock, engine):
    stop = threading.Event()
    started = threading.Barrier(3)

    def spin():
        started.wait()
        while not stop.is_set():
            task(50)

    with threadprof.profile(clock=clock, engine=engine) as p:
        threads = [threading.Thread(target=spin) for _ in range(2)]
        for t in threads:
            t.start()
        started.wait()
        for _ in range(5):
            snap = p.snapshot()
            for th in snap.threads:
                # Without the GIL the other threads run on while we read: their
                # completed calls are in, their open ones not (docs/design.md),
                # so a parent still running may hold less than its children.
                exact = not FREE_THREADED or th.ident == threading.get_ident()
                for node in th.nodes[1:]:
                    kids = sum(th.nodes[c].wall for c in node.children)
                    assert node.wall_self >= 0
                    if exact:
                        assert node.wall_self + kids == node.wall
                    if clock == "cpu" and exact:
                        ckids = sum(th.nodes[c].cpu for c in node.children)
                        assert node.cpu_self + ckids == node.cpu
        stop.set()
        for t in threads:
            t.join()
    # once stopped, every thread's tree adds up exactly
    for th in p.snapshot().threads:
        for node in th.nodes[1:]:
            assert node.wall_self + sum(th.nodes[c].wall for c in node.children) == node.wall


def test_frames_open_at_stop_are_closed_at_stop_time(engine):
    def outer():
        snap_holder.append(threadprof.stop())

    snap_holder: list = []
    threadprof.start(engine=engine)
    outer()
    snap = snap_holder[0]
    main = snap.thread("MainThread")
    node = next(n for n in main.nodes[1:] if snap.functions[n.func].name == "outer")
    assert node.calls == 1
    assert node.wall > 0
    assert main.last_seen >= main.first_seen


# -- threads started after profiling began, from their first Python call ----


def _by_function(snap, thread):
    """{function name: calls} of one thread."""
    out: dict[str, int] = {}
    for n in thread.nodes[1:]:
        name = snap.functions[n.func].name
        out[name] = out.get(name, 0) + n.calls
    return out


def _bare(done):
    task(10)
    done.release()


def _start_both_kinds():
    """A threading thread and a bare _thread thread, both run to their end."""
    t = threading.Thread(target=task, args=(10,), name="by-threading")
    t.start()
    t.join()
    done = _thread.allocate_lock()
    done.acquire()
    _thread.start_new_thread(_bare, (done,))
    assert done.acquire(timeout=10)
    deadline = time.monotonic() + 10
    while _thread._count() and time.monotonic() < deadline:
        time.sleep(0.001)  # released: now let the thread end
    assert _thread._count() == 0


def _profile_both_kinds(engine):
    p = threadprof.Profile(engine=engine)
    p.enable()
    _start_both_kinds()
    p.disable()
    snap = p.snapshot()
    [bare] = [t for t in snap.threads if t.name not in ("MainThread", "by-threading")]
    return snap, snap.thread("by-threading"), bare


def test_threads_started_later_are_seen_from_their_first_python_call(engine):
    # the legacy engine used to miss bare _thread threads entirely and see
    # threading threads only once _bootstrap_inner had set their profile hook
    snap, by_threading, bare = _profile_both_kinds(engine)
    root = by_threading.nodes[by_threading.nodes[0].children[0]]
    assert snap.functions[root.func].name == "_bootstrap" and root.calls == 1
    assert _by_function(snap, by_threading)["_bootstrap_inner"] == 1
    assert _by_function(snap, bare) == {
        "_bare": 1,
        "task": 1,
        "<built-in method builtins.sum>": 1,
        "<method 'release' of '_thread.lock' objects>": 1,
    }
    assert snap.warnings == []


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the monitoring engine needs 3.12")
def test_legacy_engine_sees_new_threads_exactly_as_the_monitoring_engine():
    legacy = _profile_both_kinds("legacy")
    monitoring = _profile_both_kinds("monitoring")
    for a, b in zip(legacy[1:], monitoring[1:], strict=True):
        assert _by_function(legacy[0], a) == _by_function(monitoring[0], b)


@pytest.mark.parametrize("alive_at_stop", [False, True])
def test_a_thread_out_of_the_legacy_engines_reach_is_warned_about(alive_at_stop):
    early_start = _thread.start_new_thread  # taken before profiling begins
    ran, leave = threading.Event(), threading.Event()

    def unseen():
        task(10)
        ran.set()
        leave.wait(10)

    p = threadprof.Profile(engine="legacy")
    p.enable()
    early_start(unseen, ())
    assert ran.wait(10)
    if not alive_at_stop:
        leave.set()
        while _thread._count():
            time.sleep(0.001)
    p.disable()
    leave.set()
    snap = p.snapshot()
    assert not any(_by_function(snap, t).get("unseen") for t in snap.threads)
    # _thread raises an audit event for each thread it starts on 3.12+; on
    # 3.11 only a thread still running Python code at stop can be known
    expected = []
    if sys.version_info >= (3, 12):
        expected.append("1 thread(s) were started through a reference to _thread.")
    if alive_at_stop and not FREE_THREADED:
        # without the GIL another thread's state cannot be read safely
        expected.append("1 running thread(s) had no threadprof hook")
    assert len(snap.warnings) == len(expected)
    for warning, start in zip(snap.warnings, expected, strict=True):
        assert warning.startswith(start)


def test_thread_starters_are_put_back_and_keep_their_errors(engine):
    originals = {(m, n): getattr(m, n) for m in (_thread, threading) for n in dir(m)}
    originals = {k: f for k, f in originals.items() if "start_" in k[1]}
    with threadprof.profile(engine=engine):
        with pytest.raises(TypeError, match="first arg must be callable"):
            _thread.start_new_thread(1, ())
        with pytest.raises(TypeError, match="2nd arg must be a tuple"):
            _thread.start_new_thread(task, 1)
    assert {k: getattr(*k) for k in originals} == originals


def test_a_starter_replaced_while_profiling_is_left_alone_and_warned_about(monkeypatch):
    p = threadprof.Profile(engine="legacy")
    p.enable()
    theirs = lambda *a, **kw: None  # noqa: E731 - another tool's replacement
    monkeypatch.setattr(_thread, "start_new_thread", theirs)
    p.disable()
    assert _thread.start_new_thread is theirs
    assert any("thread-start function was replaced" in w for w in p.snapshot().warnings)
