# SPDX-License-Identifier: MIT
"""The Python API: lifecycle errors, cProfile-shaped methods, snapshots."""

from __future__ import annotations

import concurrent.futures
import io
import pstats
import threading
import time
from contextlib import redirect_stdout

import pytest

import threadprof


def work(n=3):
    return [str(i) for i in range(n)]


def test_second_profiler_cannot_start():
    first = threadprof.start()
    try:
        with pytest.raises(threadprof.ProfilerError, match="already running"):
            threadprof.start()
        second = threadprof.Profile()
        with pytest.raises(ValueError):  # what cProfile raises, for its tests
            second.enable()
        assert threadprof.active() is first
    finally:
        threadprof.stop()
    assert threadprof.active() is None


def test_stop_without_start_and_stop_twice():
    with pytest.raises(threadprof.ProfilerError, match="not running"):
        threadprof.stop()
    threadprof.start()
    work()
    threadprof.stop()
    with pytest.raises(threadprof.ProfilerError, match="not running"):
        threadprof.stop()


def test_profile_enable_disable_twice_is_harmless_like_cprofile():
    prof = threadprof.Profile()
    prof.enable()
    prof.enable()
    work()
    prof.disable()
    prof.disable()
    assert not prof.enabled


def test_snapshot_with_nothing_recorded():
    prof = threadprof.Profile()
    with pytest.raises(threadprof.ProfilerError, match="nothing"):
        prof.snapshot()


def test_pstats_reads_a_profile_object_and_dump_stats(tmp_path):
    prof = threadprof.Profile()
    prof.runcall(work, 5)
    stats = pstats.Stats(prof)
    key = next(k for k in stats.stats if k[2] == "work")
    assert stats.stats[key][:2] == (1, 1)
    out = tmp_path / "out.prof"
    prof.dump_stats(str(out))
    loaded = pstats.Stats(str(out))
    assert loaded.stats[key][:2] == (1, 1)
    buf = io.StringIO()
    with redirect_stdout(buf):
        prof.print_stats("calls")
    assert "work" in buf.getvalue()


def test_run_and_runctx():
    prof = threadprof.Profile()
    prof.runctx("work(4); work(2)", {"work": work}, {})
    prof.create_stats()
    key = next(k for k in prof.stats if k[2] == "work")
    assert prof.stats[key][1] == 2


def test_context_manager_and_decorator():
    with threadprof.Profile() as prof:
        work()
    assert not prof.enabled
    prof.create_stats()
    assert any(k[2] == "work" for k in prof.stats)

    @threadprof.profile()
    def decorated():
        t = threading.Thread(target=work, name="inner")
        t.start()
        t.join()
        return 42

    assert decorated() == 42
    snap = decorated.snapshot
    assert snap.thread("inner")
    assert threadprof.active() is None


def test_decorated_function_never_fails_for_a_running_profiler():
    """Recursive, concurrent and already-profiled calls of a decorated function
    run and return; the running profiler profiles them."""

    @threadprof.profile()
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    assert fact(5) == 120
    assert (
        sum(
            n.calls
            for t in fact.snapshot.threads
            for n in t.nodes
            if n.func >= 0 and fact.snapshot.functions[n.func].name == "fact"
        )
        == 5
    )

    @threadprof.profile()
    def slow(i):
        time.sleep(0.01)
        return i

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(slow, range(40))) == list(range(40))
    assert threadprof.active() is None

    with threadprof.profile() as outer:
        assert slow(7) == 7
    snap = outer.snapshot()
    calls = [
        n.calls
        for t in snap.threads
        for n in t.nodes
        if n.func >= 0 and snap.functions[n.func].name == "slow"
    ]
    assert calls == [1]


def test_clear_while_running_forgets_earlier_calls():
    with threadprof.profile() as p:
        work()
        work()
        p.clear()
        work()
    snap = p.snapshot()
    stats = snap.function_stats()
    by_name = {snap.functions[f].name: s for f, s in stats.items()}
    assert by_name["work"].calls == 1


def test_filter_and_merge_threads():
    def worker():
        work(2)
        work(2)

    with threadprof.profile() as p:
        ts = [threading.Thread(target=worker, name=f"w-{i}") for i in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    snap = p.snapshot()
    only = snap.filter_threads("w-*")
    assert sorted(t.name for t in only.threads) == ["w-0", "w-1", "w-2"]
    merged = only.merged()
    work_nodes = [n for n in merged.nodes[1:] if snap.functions[n.func].name == "work"]
    assert sum(n.calls for n in work_nodes) == 6


def test_cpu_clock_and_wall_only_modes():
    for kw in ({"clock": "cpu"}, {"cpu": False}):
        with threadprof.profile(**kw) as p:
            work(1000)
        snap = p.snapshot()
        assert snap.clock == kw.get("clock", "wall")
        assert snap.cpu_mode == ("exact" if "clock" in kw else "none")


def test_bad_clock_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown clock"):
        threadprof.Profile(clock="sundial")


def test_timer_error_is_reported_at_stop_and_in_the_snapshot():
    state = {"n": 0}

    def timer():
        state["n"] += 1
        if state["n"] == 5:
            raise RuntimeError("broken clock")
        return state["n"]

    prof = threadprof.Profile(timer, 1.0)
    prof.enable()
    work()
    with pytest.raises(threadprof.ProfilerError, match="broken clock"):
        prof.disable()
    snap = prof.snapshot()
    assert any("timer failed" in w for w in snap.warnings)
