# SPDX-License-Identifier: MIT
"""asyncio programs under threadprof's default counting (``coroutines=
"whole"``): exact call counts per coroutine, await times that match what the
program itself measured, cancellation, exceptions, work sent to threads, and
two event loops in two threads.

Await times are compared with the elapsed time the program measures around
its own awaits (``time.perf_counter``), not with the requested sleeps, which a
loaded machine overshoots.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import threadprof


def stats_by_name(snap, threads=None):
    stats = snap.function_stats(threads)
    return {snap.functions[fid].name: s for fid, s in stats.items()}


def seconds(snap, ticks):
    return ticks * snap.unit


def test_coroutines_count_once_and_their_awaits_are_their_time(engine):
    measured = []
    waits = []

    async def wait():
        t0 = time.perf_counter()
        await asyncio.sleep(0.02)
        waits.append(time.perf_counter() - t0)

    async def fetch(i):
        t0 = time.perf_counter()
        await wait()
        sum(range(2000))
        await wait()
        measured.append(time.perf_counter() - t0)

    async def main():
        await asyncio.gather(*(fetch(i) for i in range(10)))

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    by = stats_by_name(snap)
    assert (by["fetch"].calls, by["main"].calls, by["sleep"].calls) == (10, 1, 20)
    # fetch's wall time is its ten runs, awaits included, as they measured them
    assert seconds(snap, by["fetch"].wall) == pytest.approx(sum(measured), rel=0.05)
    # the waits are the sleeps' own time, off the CPU; the work between two
    # waits is not (a loaded machine can make it take as long as a wait)
    assert seconds(snap, by["sleep"].wall_self) == pytest.approx(sum(waits), rel=0.05)
    assert by["sleep"].cpu_self < by["sleep"].wall_self / 10
    assert by["fetch"].wall_self < by["fetch"].wall / 10


def test_per_resume_counting_is_cprofiles(engine):
    async def fetch():
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    async def main():
        await asyncio.gather(*(fetch() for _ in range(5)))

    p = threadprof.Profile(engine=engine)  # coroutines="resume", as cProfile
    p.runcall(asyncio.run, main())
    by = stats_by_name(p.snapshot())
    assert by["fetch"].calls == 15  # a start and two resumes each


def test_cancellation_ends_the_call_and_keeps_its_wait(engine):
    async def waiter(started):
        started.set()
        await asyncio.sleep(3600)

    async def main():
        started = asyncio.Event()
        task = asyncio.create_task(waiter(started))
        await started.wait()
        t0 = time.perf_counter()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.perf_counter() - t0

    with threadprof.profile(engine=engine) as p:
        waited = asyncio.run(main())
    snap = p.snapshot()
    by = stats_by_name(snap)
    assert by["waiter"].calls == 1
    # the cancelled sleep waited until the cancellation, and that wait is its
    # own; waiter's own time is not the wait
    assert seconds(snap, by["waiter"].wall) >= waited * 0.95
    sleeps = [s for fid, s in snap.function_stats().items() if snap.functions[fid].name == "sleep"]
    assert sum(s.calls for s in sleeps) == 2
    assert seconds(snap, by["waiter"].wall_self) < waited / 10


def test_an_exception_ends_a_call_once(engine):
    async def failing(i):
        await asyncio.sleep(0)
        raise ValueError(i)

    async def main():
        results = await asyncio.gather(*(failing(i) for i in range(4)), return_exceptions=True)
        assert all(isinstance(r, ValueError) for r in results)

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    by = stats_by_name(p.snapshot())
    assert by["failing"].calls == 4


def blocking(seconds_):
    time.sleep(seconds_)
    return seconds_


def test_to_thread_and_run_in_executor(engine):
    measured = {}

    async def via_to_thread():
        t0 = time.perf_counter()
        await asyncio.to_thread(blocking, 0.05)
        measured["to_thread"] = time.perf_counter() - t0

    async def via_executor():
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        await loop.run_in_executor(None, blocking, 0.05)
        measured["executor"] = time.perf_counter() - t0

    async def main():
        await asyncio.gather(via_to_thread(), via_executor())

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    main_thread = snap.thread("MainThread")
    by = stats_by_name(snap, [main_thread])
    # the awaiting coroutines: one call each, waiting as long as they measured
    for name, key in (("via_to_thread", "to_thread"), ("via_executor", "executor")):
        assert by[name].calls == 1
        assert seconds(snap, by[name].wall) == pytest.approx(measured[key], rel=0.05)
    # the work ran in the executor's threads, twice
    workers = [t for t in snap.threads if t is not main_thread]
    assert stats_by_name(snap, workers)["blocking"].calls == 2
    assert "blocking" not in by


def test_two_event_loops_in_two_threads_are_kept_apart(engine):
    def loop_thread(n, name):
        async def tick(i):
            await asyncio.sleep(0)
            return i

        async def main():
            await asyncio.gather(*(tick(i) for i in range(n)))

        asyncio.run(main())

    with threadprof.profile(engine=engine, slow_step=0) as p:
        threads = [
            threading.Thread(target=loop_thread, args=(n, f"loop-{n}"), name=f"loop-{n}")
            for n in (3, 7)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    snap = p.snapshot()
    for n in (3, 7):
        (thread,) = snap.select_threads(f"loop-{n}")
        assert stats_by_name(snap, [thread])["tick"].calls == n
