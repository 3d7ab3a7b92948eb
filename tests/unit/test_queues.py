# SPDX-License-Identifier: MIT
"""Queues of work on hand-built snapshots (ticks of 1 ms): a SimpleQueue's
gets and puts as a lock (threadprof.contention), the items put and taken
(threadprof.queues), and the time a pool's work waited with a worker free
(threadprof.pools)."""

from __future__ import annotations

import pytest

from threadprof.contention import Blocker, analyse
from threadprof.contentionview import pool_json, pool_lines
from threadprof.model import LOCK_ACQUIRE as A
from threadprof.model import LOCK_RELEASE as R
from threadprof.model import LockOps
from threadprof.pools import pools
from threadprof.queues import queue_traces

THREADING = "/usr/lib/python3.13/threading.py"
QUEUE = "/usr/lib/python3.13/queue.py"
FUTURES = "/usr/lib/python3.13/concurrent/futures/thread.py"
ACQ = "<method 'acquire' of '_thread.lock' objects>"
REL = "<method 'release' of '_thread.lock' objects>"
GET = "<method 'get' of '_queue.SimpleQueue' objects>"
GET_NOWAIT = "<method 'get_nowait' of '_queue.SimpleQueue' objects>"
PUT = "<method 'put' of '_queue.SimpleQueue' objects>"

SQ, MUTEX, WAITER1, WAITER2 = 0x1000, 0x2000, 0x3000, 0x4000


def ops(*rows):
    return LockOps.of_rows(rows)


def _submitter(b, tasks, stops):
    """The functions of an executor's run, and its main thread, which submits
    ``tasks`` and puts ``stops`` stop signals at its shutdown. Its nodes: 1
    main, 2 submit, 3 put, 4 shutdown, 5 put."""
    C = b.call
    b.func("main", "app.py", 1)
    for qualname in ("ThreadPoolExecutor.submit", "ThreadPoolExecutor.shutdown", "_worker"):
        b.func(qualname, FUTURES, qualname=qualname)
    b.func("_WorkItem.run", FUTURES, qualname="_WorkItem.run")
    for name in (GET, GET_NOWAIT, PUT):
        b.cfunc(name)
    return b.thread(
        "MainThread",
        [
            C("main", 1, 30, [
                C("ThreadPoolExecutor.submit", tasks, 1, [C(PUT, tasks, 1)]),
                C("ThreadPoolExecutor.shutdown", 1, 1, [C(PUT, stops, 1)]),
            ]),
        ],
    )  # fmt: skip


@pytest.fixture
def executor(builder):
    """A ThreadPoolExecutor's run: main submits 4 tasks (2 at 0 ms, 2 at 2
    ms) and shuts down at 20 ms; worker 0 starts at 1 ms, worker 1 at 3 ms."""
    b = builder
    C = b.call
    main = _submitter(b, 4, 2)
    main.lock_ops = ops(
        (0, 0, SQ, 3, R),
        (0, 0, SQ, 3, R),
        (2, 2, SQ, 3, R),
        (2, 2, SQ, 3, R),
        (20, 20, SQ, 5, R),  # the stop signals
        (20, 20, SQ, 5, R),
    )

    # nodes: 1 _worker, 2 get_nowait, 3 get, 4 _WorkItem.run
    def worker(name, first, wall):
        calls = [C(GET_NOWAIT, 3, 0), C(GET, 1, 7), C("_WorkItem.run", 2, 10)]
        return b.thread(name, [C("_worker", 1, wall, calls)], first_seen=first)

    w0 = worker("ThreadPoolExecutor-0_0", 1, 20)
    w1 = worker("ThreadPoolExecutor-0_1", 3, 18)
    # w0 takes the 1st item at 1 and the 4th at 11; w1 the 2nd at 3 and the
    # 3rd at 8; then each finds the queue empty and waits for a stop signal
    w0.lock_ops = ops((1, 1, SQ, 2, A), (11, 11, SQ, 2, A), (15, 15, SQ, 2, A), (15, 20, SQ, 3, A))
    w1.lock_ops = ops((3, 3, SQ, 2, A), (8, 8, SQ, 2, A), (13, 13, SQ, 2, A), (13, 20, SQ, 3, A))
    return b.build()


def test_a_simple_queue_is_a_lock_whose_gets_wait_and_puts_wake(executor):
    (lock,) = analyse(executor).locks
    assert (lock.address, lock.kind, lock.site) == (SQ, "queue.SimpleQueue", (0, 1))
    # 8 gets: 4 took work, 2 found it empty, 2 took the stop signals
    assert (lock.waits, lock.acquired, lock.wait_time, lock.max_wait) == (8, 6, 12, 7)
    assert (lock.holds, lock.hold_time) == (0, 0)
    assert lock.by_waiter == {1: [4, 5], 2: [4, 7]}
    assert lock.blockers == [
        Blocker(2, 0, 0, 1, "woke", 7),
        Blocker(1, 0, 0, 1, "woke", 5),
    ]


def test_a_simple_queue_counts_its_work_not_its_stop_signals(executor):
    (trace,) = queue_traces(executor).values()
    assert trace.process == 0
    assert (trace.address, trace.kind) == (SQ, "queue.SimpleQueue")
    assert trace.puts == [0, 0, 2, 2]
    assert trace.takes == [1, 3, 8, 11]
    assert trace.takers == {1: 2, 2: 2}
    assert trace.waits == {1: [(15, 20)], 2: [(13, 20)]}


def test_an_executor_queued_work_while_its_second_worker_had_not_started(executor):
    (pool,) = pools(executor)
    assert (pool.key, pool.threads, pool.tasks) == ("ThreadPoolExecutor-0_*", [1, 2], [2, 2])
    # work queued from 0 to 11; fewer than 2 workers busy from 0 to 3
    assert (pool.queued, pool.underused) == (11, 3)
    (row,) = pool_json(executor, [pool])
    assert (row["queued"], row["underused"]) == (pytest.approx(0.011), pytest.approx(0.003))
    lines = pool_lines(executor, [pool], 80)
    assert lines[-1] == "    work queued 11.00ms, of it 3.000ms with fewer than all workers busy"


def test_a_worker_that_passes_a_stop_signal_on_took_it_whenever_its_get_returned(builder):
    """Since 3.9 an executor's shutdown puts one None, and each worker that
    takes it puts it back for the next. Here worker 0 took the 2nd item at
    about 5 ms but its get returned only at 12, after worker 1's get of the
    None (put at 10) returned at 11: the order the gets returned in is not
    the order they took their items in."""
    b = builder
    C = b.call
    main = _submitter(b, 2, 1)
    main.lock_ops = ops((0, 0, SQ, 3, R), (0, 0, SQ, 3, R), (10, 10, SQ, 5, R))

    # nodes: 1 _worker, 2 get, 3 _WorkItem.run, 4 put (the stop passed on)
    def worker(name, gets, runs):
        calls = [C(GET, gets, 0), C("_WorkItem.run", runs, 1), C(PUT, 1, 0)]
        return b.thread(name, [C("_worker", 1, 20, calls)], first_seen=1)

    w0 = worker("ThreadPoolExecutor-0_0", 3, 2)
    w1 = worker("ThreadPoolExecutor-0_1", 1, 0)
    w0.lock_ops = ops((1, 1, SQ, 2, A), (5, 12, SQ, 2, A), (20, 20, SQ, 2, A), (20, 20, SQ, 4, R))
    w1.lock_ops = ops((3, 11, SQ, 2, A), (11, 11, SQ, 4, R))
    snap = b.build()
    (trace,) = queue_traces(snap).values()
    assert trace.puts == [0, 0]
    assert trace.takes == [1, 12]
    assert trace.takers == {1: 2}
    assert trace.waits == {1: [(1, 1), (5, 12), (20, 20)], 2: [(3, 11)]}
    (pool,) = pools(snap)
    assert (pool.threads, pool.tasks) == ([1, 2], [2, 0])


def test_a_worker_s_get_nowait_followed_by_a_get_found_nothing_whenever_it_returned(builder):
    """From 3.12 an executor's worker tries get_nowait first and blocks in get
    only if that found the queue empty. Here worker 1's get_nowait took the
    one task at about 4.5 ms but returned at 6; worker 0's found the queue
    empty and returned at 5, before it."""
    b = builder
    C = b.call
    main = _submitter(b, 1, 1)
    main.lock_ops = ops((0, 0, SQ, 3, R), (20, 20, SQ, 5, R))

    # nodes: 1 _worker, 2 get_nowait, 3 get, 4 _WorkItem.run, 5 put
    def worker(name, nowaits, runs):
        calls = [C(GET_NOWAIT, nowaits, 0), C(GET, 1, 10), C("_WorkItem.run", runs, 1)]
        return b.thread(name, [C("_worker", 1, 20, [*calls, C(PUT, 1, 0)])], first_seen=1)

    w0 = worker("ThreadPoolExecutor-0_0", 1, 0)
    w1 = worker("ThreadPoolExecutor-0_1", 2, 1)
    # each then waits for the stop signal and passes it on
    w0.lock_ops = ops((5, 5, SQ, 2, A), (5, 20, SQ, 3, A), (20, 20, SQ, 5, R))
    w1.lock_ops = ops((4, 6, SQ, 2, A), (8, 8, SQ, 2, A), (8, 21, SQ, 3, A), (21, 21, SQ, 5, R))
    snap = b.build()
    (trace,) = queue_traces(snap).values()
    assert (trace.puts, trace.takes, trace.takers) == ([0], [6], {2: 1})
    assert trace.waits == {1: [(5, 20)], 2: [(8, 21)]}
    (pool,) = pools(snap)
    assert (pool.threads, pool.tasks) == ([1, 2], [0, 1])


@pytest.fixture
def family(builder):
    """worker-1 and worker-2 (from 5 ms) take 4 items from a queue.Queue that
    main puts at 1, 2, 3 and 4 ms; then each waits for more."""
    b = builder
    C = b.call
    b.func("main", "app.py", 1)
    b.func("consume", "app.py", 20)
    for qualname in ("Queue.put", "Queue.get"):
        b.func(qualname, QUEUE, qualname=qualname)
    for qualname in (
        "Condition.notify",
        "Condition._is_owned",
        "Condition.wait",
        "Condition._release_save",
    ):
        b.func(qualname, THREADING, qualname=qualname)
    b.cfunc(ACQ)
    b.cfunc(REL)

    def probe(calls):
        return C(
            "Condition.notify", calls, 0, [C("Condition._is_owned", calls, 0, [C(ACQ, calls, 0)])]
        )

    # nodes: 1 main, 2 Queue.put, 3 notify, 4 _is_owned, 5 acquire
    main = b.thread("MainThread", [C("main", 1, 30, [C("Queue.put", 4, 0, [probe(4)])])])
    main.lock_ops = ops(*[(t, t, MUTEX, 5, A) for t in (1, 2, 3, 4)])

    # nodes: 1 consume, 2 Queue.get, 3 notify, 4 _is_owned, 5 acquire (the
    # probe), 6 Condition.wait, 7 acquire (the waiter's), 8 _release_save, 9 release
    def worker(name, first):
        wait = C(
            "Condition.wait",
            1,
            21,
            [C(ACQ, 2, 21), C("Condition._release_save", 1, 0, [C(REL, 1, 0)])],
        )
        get = C("Queue.get", 3, 21, [probe(2), wait])
        return b.thread(name, [C("consume", 1, 30 - first, [get])], first_seen=first)

    w1 = worker("worker-1", 0)
    w2 = worker("worker-2", 5)
    # worker-1 takes at 1 and 8, worker-2 at 5 and 7; they wait from 9 and 12
    w1.lock_ops = ops(
        (1, 1, MUTEX, 5, A),
        (8, 8, MUTEX, 5, A),
        (9, 9, WAITER1, 7, A),  # the lock made for the wait
        (9, 9, MUTEX, 9, R),  # the queue's lock released
        (9, 30, WAITER1, 7, A),  # the wait
    )
    w2.lock_ops = ops(
        (5, 5, MUTEX, 5, A),
        (7, 7, MUTEX, 5, A),
        (12, 12, WAITER2, 7, A),
        (12, 12, MUTEX, 9, R),
        (12, 25, WAITER2, 7, A),
    )
    return b.build()


def test_a_queue_is_read_from_its_notifies_and_its_waits(family):
    (trace,) = queue_traces(family).values()
    assert (trace.address, trace.kind) == (MUTEX, "queue.Queue")
    assert trace.puts == [1, 2, 3, 4]
    assert trace.takes == [1, 5, 7, 8]
    assert trace.takers == {1: 2, 2: 2}
    assert trace.waits == {1: [(9, 30)], 2: [(12, 25)]}


def test_a_family_queued_work_while_a_worker_was_free(family):
    (pool,) = pools(family)
    assert pool.key == "worker-*"
    # work queued from 2 to 8; worker-2 had not started until 5
    assert (pool.queued, pool.underused) == (6, 3)


def test_a_take_with_nothing_put_is_not_counted(family):
    family.threads[0].lock_ops = ops((1, 1, MUTEX, 5, A))  # main put one item only
    (trace,) = queue_traces(family).values()
    assert (trace.puts, trace.takes) == ([1], [1])
    (pool,) = pools(family)
    assert (pool.queued, pool.underused) == (0, 0)


def test_work_still_queued_when_the_profile_ended_counts_to_its_end(family):
    family.threads[1].lock_ops = ops((1, 1, MUTEX, 5, A))  # worker-1 takes one, then runs
    family.threads[2].lock_ops = ops()  # worker-2 takes none
    (pool,) = pools(family)
    # items from 2 on, to the last thread's end at 30; worker-1 busy from 0,
    # worker-2 from 5 to its end at 30
    assert (pool.queued, pool.underused) == (28, 3)


def test_without_lock_calls_or_with_some_dropped_the_queue_is_not_known(family):
    for t in family.threads:
        t.lock_ops = ops()
    (pool,) = pools(family)
    assert (pool.queued, pool.underused) == (None, None)
    assert pool_lines(family, [pool], 80)[-1].startswith("  worker-*")
    (row,) = pool_json(family, [pool])
    assert (row["queued"], row["underused"]) == (None, None)


def test_lock_calls_past_the_budget_leave_the_queue_unknown(family):
    family.threads[1].warnings.append(
        "12 lock calls past the memory budget for lock calls (16 MiB) were not recorded"
    )
    (pool,) = pools(family)
    assert (pool.queued, pool.underused) == (None, None)


def test_a_queue_is_an_address_in_one_process(executor):
    # main in another process (a forked child has its parent's addresses)
    executor.threads[0].process = 1
    traces = queue_traces(executor)
    assert sorted(traces) == [(0, SQ), (1, SQ)]
    assert (traces[1, SQ].puts, traces[1, SQ].takes) == ([0, 0, 2, 2], [])
    assert (traces[0, SQ].puts, traces[0, SQ].takes) == ([], [])
    (lock,) = analyse(executor).locks  # the workers' gets; main's puts wait for none
    assert (lock.waits, lock.acquired, lock.blockers) == (8, 2, [])
    (pool,) = pools(executor)
    assert (pool.queued, pool.underused) == (0, 0)


def test_the_html_page_has_each_pool_with_its_queued_work(executor):
    from threadprof.exporters.html.data import report_data

    (pool,) = report_data(executor)["contention"]["pools"]
    assert pool == {
        "key": "ThreadPoolExecutor-0_*",
        "workers": 2,
        "wall": 38,
        "busy": pool["busy"],
        "blocked": pool["blocked"],
        "idle": pool["idle"],
        "tasks": [2, 2.0, 2],
        "queued": 11,
        "underused": 3,
    }
    assert pool["busy"] + pool["blocked"] + pool["idle"] == 38


def test_workers_one_after_another_are_a_pool_of_one(family):
    w1, w2 = family.threads[1], family.threads[2]
    w2.first_seen, w2.last_seen = 31, 40  # worker-2 runs after worker-1 ended
    w1.lock_ops = ops(
        *[(t, t, MUTEX, 5, A) for t in (1, 5, 7, 8)],  # worker-1 takes all four
        (9, 9, WAITER1, 7, A),
        (9, 9, MUTEX, 9, R),
        (9, 30, WAITER1, 7, A),
    )
    w2.lock_ops = ops()
    (pool,) = pools(family)
    # work queued from 2 to 8, while the one worker alive at a time was busy
    assert (pool.queued, pool.underused) == (6, 0)
