# SPDX-License-Identifier: MIT
"""Faults the profiler must survive: leaks over many cycles, allocation
failures (test builds), timers that raise or stop the profiler."""

from __future__ import annotations

import gc
import threading

import pytest

import threadprof
from threadprof import _core

needs_hooks = pytest.mark.skipif(
    not _core.TEST_HOOKS,
    reason="needs the fault-injection hooks of a test build (tools/sanitize.sh builds one)",
)


def f():
    return 1


def test_a_thousand_cycles_leave_the_object_count_flat(engine):
    def cycle():
        p = threadprof.start(engine=engine)
        f()
        t = threading.Thread(target=f)
        t.start()
        t.join()
        p.snapshot()
        threadprof.stop()

    for _ in range(50):  # warm up caches, interned names, specialisation
        cycle()
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(1000):
        cycle()
    gc.collect()
    after = len(gc.get_objects())
    # a leak of even one object per cycle would show as 1000
    assert after - before < 50, (before, after)


@needs_hooks
def test_allocation_failure_while_recording_is_reported_not_fatal(engine):
    threadprof.start(engine=engine)
    _core._fail_alloc_after(0)  # the next core allocation fails

    def brand_new_function():  # a new call path needs a new node
        return 2

    brand_new_function()
    f()
    _core._fail_alloc_after(-1)
    snap = threadprof.stop()
    assert any("out of memory" in w for w in snap.warnings)
    assert snap.threads  # what was recorded is still there


@needs_hooks
def test_memory_error_during_a_snapshot_is_clean_and_recoverable(engine):
    with threadprof.profile(engine=engine) as p:
        f()
        _core._fail_snapshot_after(0)
        with pytest.raises(MemoryError):
            p.snapshot()
        f()
    snap = p.snapshot()
    main = snap.thread("MainThread")
    assert sum(n.calls for n in main.nodes[1:] if snap.functions[n.func].name == "f") == 2


@needs_hooks
def test_out_of_memory_in_a_snapshot_sheds_the_timelines_not_the_profile(engine):
    with threadprof.profile(engine=engine, timeline=True) as p:
        f()
        f()
    _core._fail_snapshot_after(0)  # the first snapshot attempt fails
    snap = p.snapshot()
    main = snap.thread("MainThread")
    assert sum(n.calls for n in main.nodes[1:] if snap.functions[n.func].name == "f") == 2
    assert main.timeline is None
    assert "the timelines are left out" in snap.warnings[-1]
    assert p.snapshot().thread("MainThread").timeline is not None  # only that once


@needs_hooks
def test_out_of_memory_in_a_snapshot_without_timelines_is_raised(engine):
    with threadprof.profile(engine=engine) as p:
        f()
    _core._fail_snapshot_after(0)
    with pytest.raises(MemoryError):
        p.snapshot()


def test_a_timer_that_stops_the_profiler(engine):
    state = {"n": 0, "prof": None}

    def timer():
        state["n"] += 1
        if state["n"] == 20:
            state["prof"].disable()
        return state["n"]

    prof = threadprof.Profile(timer, 1.0, engine=engine)
    state["prof"] = prof
    prof.enable()
    for _ in range(50):
        f()
    assert not prof.enabled
    prof.disable()  # harmless
    snap = prof.snapshot()
    calls = sum(
        n.calls for th in snap.threads for n in th.nodes[1:] if snap.functions[n.func].name == "f"
    )
    assert 0 < calls < 50
