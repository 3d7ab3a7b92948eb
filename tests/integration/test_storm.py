# SPDX-License-Identifier: MIT
"""Thread storm: 100 threads that each start and join 100 short threads (10,000
threads in all) while the main thread starts and stops the profiler over and
over. Runs under tools/sanitize.sh (ASan + UBSan), where any invalid access or
undefined behaviour in the start/stop and thread-exit paths aborts the run."""

from __future__ import annotations

import os
import threading

import threadprof

# tools/tsan.sh runs a smaller storm: ThreadSanitizer makes each thread costly
SPAWNERS = int(os.environ.get("THREADPROF_STORM_SPAWNERS", "100"))
CHILDREN = 100


def leaf(i: int) -> int:
    return i * 2


def spawner(results: list[int], index: int) -> None:
    done = 0
    for i in range(CHILDREN):
        t = threading.Thread(target=leaf, args=(i,))
        t.start()
        t.join()
        done += 1
    results[index] = done


def test_thread_storm_while_the_profiler_starts_and_stops(engine):
    results = [0] * SPAWNERS
    spawners = [threading.Thread(target=spawner, args=(results, i)) for i in range(SPAWNERS)]
    for t in spawners:
        t.start()
    cycles = 0
    snapshots_with_threads = 0
    while any(t.is_alive() for t in spawners) or cycles < 10:
        threadprof.start(engine=engine)
        leaf(cycles)
        snap = threadprof.stop()
        cycles += 1
        snapshots_with_threads += bool(snap.threads)
        for th in snap.threads:  # every thread's tree is well formed
            for node in th.nodes[1:]:
                assert 0 <= node.func < len(snap.functions)
    for t in spawners:
        t.join()
    assert threadprof.active() is None
    assert results == [CHILDREN] * SPAWNERS  # every thread ran to its end
    assert snapshots_with_threads == cycles  # the main thread is in every snapshot
