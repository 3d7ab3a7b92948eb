# SPDX-License-Identifier: MIT
"""Queues of work on real threads, on both engines: a ThreadPoolExecutor's
SimpleQueue and a family of workers on a queue.Queue. Items are counted
exactly; the time work waited with a worker free only against the sleeps
that make it (at least as long)."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import threadprof
from threadprof.contention import analyse
from threadprof.pools import pools
from threadprof.queues import queue_traces

TASKS = 60


def test_an_executor_s_queue_holds_each_task_once(engine):
    def job(i):
        time.sleep(0.0005)
        return i

    with threadprof.profile(engine=engine) as p:
        ex = ThreadPoolExecutor(3, thread_name_prefix="exec")
        work_queue = ex._work_queue
        assert sum(ex.map(job, range(TASKS))) == sum(range(TASKS))
        ex.shutdown(wait=True)
    snap = p.snapshot()
    (pool,) = [s for s in pools(snap) if s.key == "exec_*"]
    trace = queue_traces(snap)[0, id(work_queue)]
    assert trace.kind == "queue.SimpleQueue"
    assert len(trace.puts) == len(trace.takes) == TASKS  # the stop signals are no work
    assert trace.puts == sorted(trace.puts)
    # each worker took the tasks it ran
    assert [trace.takers.get(i, 0) for i in pool.threads] == pool.tasks
    assert sum(pool.tasks) == TASKS
    (lock,) = [lock for lock in analyse(snap).locks if lock.address == id(work_queue)]
    assert lock.kind == "queue.SimpleQueue"
    # the tasks, and one stop signal for each worker
    assert lock.acquired == TASKS + len(pool.threads)
    assert pool.queued is not None and pool.underused is not None
    assert 0 <= pool.underused <= pool.queued


def test_a_worker_started_late_leaves_work_queued(engine):
    items = queue.Queue()
    work = 0.02  # seconds per item
    late = 0.05  # seconds before the second worker starts

    def consume():
        while items.get() is not None:
            time.sleep(work)

    first = threading.Thread(target=consume, name="eater-1")
    second = threading.Thread(target=consume, name="eater-2")
    with threadprof.profile(engine=engine) as p:
        for i in range(6):
            items.put(i)
        first.start()
        time.sleep(late)  # 6 items take eater-1 alone 0.12 s: work stays queued
        second.start()
        items.put(None)
        items.put(None)
        first.join()
        second.join()
    snap = p.snapshot()
    (pool,) = [s for s in pools(snap) if s.key == "eater-*"]
    trace = queue_traces(snap)[0, id(items.mutex)]
    assert trace.kind == "queue.Queue"
    assert len(trace.puts) == len(trace.takes) == 8
    assert sum(trace.takers[i] for i in pool.threads) == 8
    ticks = 1 / snap.unit
    assert pool.underused >= late * ticks
    assert pool.queued >= pool.underused
    assert pool.queued >= 2 * work * ticks  # eater-1 took one item at a time
