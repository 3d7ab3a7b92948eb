# SPDX-License-Identifier: MIT
"""threadprof.contention on hand-built snapshots: exact waits, holds and
blockers from lock calls whose times are given (ticks of 1 ms)."""

from __future__ import annotations

import pytest

from threadprof.cells import View
from threadprof.contention import Blocker, analyse
from threadprof.contentionview import contention_json, contention_lines
from threadprof.model import LOCK_ACQUIRE as A
from threadprof.model import LOCK_RELEASE as R
from threadprof.model import LockOps

THREADING = "/usr/lib/python3.13/threading.py"
QUEUE = "/usr/lib/python3.13/queue.py"
ACQ = "<method 'acquire' of '_thread.lock' objects>"
REL = "<method 'release' of '_thread.lock' objects>"
RACQ = "<method 'acquire' of '_thread.RLock' objects>"
RREL = "<method 'release' of '_thread.RLock' objects>"
JOIN = "<method 'join' of '_thread._ThreadHandle' objects>"

LOCK, OTHER, COND, WAITER = 0x1000, 0x2000, 0x3000, 0x4000


@pytest.fixture
def b(builder):
    builder.func("worker", "app.py", 5)
    builder.func("other", "app.py", 50)
    for name in (ACQ, REL, RACQ, RREL, JOIN):
        builder.cfunc(name)
    for qualname in (
        "Condition.wait",
        "Condition.notify",
        "Condition._release_save",
        "Condition._acquire_restore",
        "Condition._is_owned",
        "Condition.__enter__",
        "Thread.join",
    ):
        builder.func(qualname, THREADING, qualname=qualname)
    builder.func("Queue.get", QUEUE, qualname="Queue.get")
    return builder


def worker_thread(b, name, *, ends=100, first=0):
    """A thread whose worker calls acquire (node 2) and release (node 3)."""
    C = b.call
    return b.thread(
        name, [C("worker", 1, ends - first, [C(ACQ, 1, 1), C(REL, 1, 1)])], first_seen=first
    )


def ops(*rows):
    return LockOps.of_rows(rows)


def test_two_threads_one_lock_exact_waits_holds_and_blocker(b):
    t0 = worker_thread(b, "w-0")
    t1 = worker_thread(b, "w-1")
    # w-0 holds from 1 to 10; w-1 asks at 2, gets it at 11 (waits 9, 8 of them
    # inside w-0's hold), holds it to 15
    t0.lock_ops = ops((0, 1, LOCK, 2, A), (10, 10, LOCK, 3, R))
    t1.lock_ops = ops((2, 11, LOCK, 2, A), (15, 15, LOCK, 3, R))
    (lock,) = analyse(b.build()).locks
    assert (lock.kind, lock.address, lock.site) == ("threading.Lock", LOCK, (0, 1))
    assert (lock.waits, lock.acquired, lock.wait_time, lock.max_wait) == (2, 2, 10, 9)
    assert (lock.holds, lock.hold_time, lock.max_hold) == (2, 9 + 4, 9)
    assert lock.by_waiter == {0: [1, 1], 1: [1, 9]}
    assert lock.by_holder == {0: [1, 9], 1: [1, 4]}
    assert lock.by_site == {(0, 1): [1, 1], (1, 1): [1, 9]}
    assert lock.blockers == [Blocker(1, 1, 0, 1, "held", 8)]


def test_an_acquire_that_ends_while_another_holds_failed(b):
    t0 = worker_thread(b, "w-0")
    t1 = worker_thread(b, "w-1")
    t0.lock_ops = ops((0, 1, LOCK, 2, A), (10, 10, LOCK, 3, R))
    t1.lock_ops = ops((2, 5, LOCK, 2, A))  # a timeout: no release follows
    (lock,) = analyse(b.build()).locks
    assert (lock.waits, lock.acquired, lock.holds) == (2, 1, 1)
    assert lock.by_holder == {0: [1, 9]}
    assert lock.blockers == [Blocker(1, 1, 0, 1, "held", 3)]


def test_an_rlock_nests_for_its_owner(b):
    C = b.call
    t0 = b.thread("w-0", [C("worker", 1, 100, [C(RACQ, 2, 2), C(RREL, 2, 2)])])
    t1 = b.thread("w-1", [C("worker", 1, 100, [C(RACQ, 1, 1), C(RREL, 1, 1)])])
    t0.lock_ops = ops(
        (0, 1, LOCK, 2, A), (2, 3, LOCK, 2, A), (5, 5, LOCK, 3, R), (8, 8, LOCK, 3, R)
    )
    t1.lock_ops = ops((4, 9, LOCK, 2, A), (12, 12, LOCK, 3, R))
    (lock,) = analyse(b.build()).locks
    assert lock.kind == "threading.RLock"
    assert (lock.waits, lock.acquired, lock.holds) == (3, 3, 2)
    assert lock.by_holder == {0: [1, 7], 1: [1, 3]}  # 1..8, 9..12
    assert lock.blockers == [Blocker(1, 1, 0, 1, "held", 4)]  # 4..8


def test_a_condition_wait_counts_to_the_condition_and_names_its_notifier(b):
    C = b.call
    # node 1 worker, 2 Condition.wait, 3 acquire (the waiter's), 4
    # _release_save, 5 release, 6 _acquire_restore, 7 acquire; 8 _is_owned, 9 acquire
    t0 = b.thread(
        "waiter",
        [
            C("worker", 1, 100, [
                C("Condition.wait", 1, 30, [
                    C(ACQ, 2, 20),
                    C("Condition._release_save", 1, 1, [C(REL, 1, 1)]),
                    C("Condition._acquire_restore", 1, 1, [C(ACQ, 1, 1)]),
                    C("Condition._is_owned", 1, 1, [C(ACQ, 1, 1)]),
                ]),
            ]),
        ],
    )  # fmt: skip
    # node 1 other, 2 Condition.notify, 3 release
    t1 = b.thread("notifier", [C("other", 1, 100, [C("Condition.notify", 1, 1, [C(REL, 1, 1)])])])
    t0.lock_ops = ops(
        (0, 0, COND, 9, A),  # Condition._is_owned's probe: left out
        (0, 0, WAITER, 3, A),  # the lock made for this wait, taken at once
        (1, 1, COND, 5, R),  # the condition's lock released
        (2, 20, WAITER, 3, A),  # the wait
        (21, 22, COND, 7, A),  # the condition's lock taken again
    )
    t1.lock_ops = ops((15, 15, WAITER, 3, R))
    (lock,) = analyse(b.build()).locks
    assert (lock.address, lock.kind, lock.site) == (COND, "threading.Condition", (0, 1))
    assert (lock.waits, lock.acquired, lock.wait_time, lock.max_wait) == (2, 2, 19, 18)
    assert lock.holds == 1  # from 22 until the thread was last seen
    assert lock.blockers == [Blocker(0, 1, 1, 1, "woke", 18)]


def test_a_queue_get_is_a_queue(b):
    C = b.call
    enter = C("Condition.__enter__", 1, 5, [C(ACQ, 1, 5)])
    t0 = b.thread("consumer", [C("worker", 1, 100, [C("Queue.get", 1, 10, [enter])])])
    t0.lock_ops = ops((0, 5, LOCK, 4, A))
    (lock,) = analyse(b.build()).locks
    assert (lock.kind, lock.site) == ("queue.Queue", (0, 1))


def test_a_lock_held_by_a_thread_that_ended_was_released_with_it(b):
    t0 = worker_thread(b, "joined", ends=50)
    t1 = worker_thread(b, "joiner")
    t0.lock_ops = ops((0, 1, LOCK, 2, A))  # its own lock: CPython releases it as it ends
    t1.lock_ops = ops((5, 60, LOCK, 2, A), (61, 61, LOCK, 3, R))
    (lock,) = analyse(b.build()).locks
    assert (lock.waits, lock.acquired, lock.holds) == (2, 2, 2)
    assert lock.by_holder == {0: [1, 49], 1: [1, 1]}
    assert lock.blockers == [Blocker(1, 1, 0, 1, "held", 45)]


def test_a_thread_handle_join_is_a_wait_without_a_hold(b):
    C = b.call
    t0 = b.thread("main", [C("worker", 1, 100, [C("Thread.join", 1, 30, [C(JOIN, 1, 30)])])])
    t0.lock_ops = ops((0, 30, OTHER, 3, A))
    (lock,) = analyse(b.build()).locks
    assert (lock.kind, lock.waits, lock.wait_time, lock.holds) == ("threading.Thread", 1, 30, 0)


def test_locks_are_listed_by_wait_and_shown_in_the_report(b):
    t0 = worker_thread(b, "w-0")
    t1 = worker_thread(b, "w-1")
    t0.lock_ops = ops((0, 1, LOCK, 2, A), (10, 10, LOCK, 3, R), (20, 21, OTHER, 2, A))
    t1.lock_ops = ops((2, 11, LOCK, 2, A), (15, 15, LOCK, 3, R), (30, 31, OTHER, 3, R))
    snap = b.build()
    contention = analyse(snap)
    assert [lock.address for lock in contention.locks] == [LOCK, OTHER]
    text = "\n".join(contention_lines(snap, contention, 100, View()))
    assert "Locks that made threads wait: 2, 11.00ms in all, all:" in text
    assert "2 x threading.Lock in worker (app.py:5)" in text
    on = "  on threading.Lock in worker (app.py:5):\n"
    assert on + "    8.000ms  w-1: worker (app.py:5)\n" in text
    assert text.endswith("\n               held by w-0: worker (app.py:5)")
    assert max(len(line) for line in text.splitlines()) <= 100
    data = contention_json(snap, contention)
    assert [d["wait"] for d in data] == pytest.approx([0.010, 0.001])
    worker = {"name": "worker", "qualname": "worker", "file": "app.py", "line": 5}
    assert data[0]["blockers"] == [
        {
            "waiter": {"thread": "w-1", "ident": t1.ident, "pid": 0, "function": worker},
            "holder": {"thread": "w-0", "ident": t0.ident, "pid": 0, "function": worker},
            "how": "held",
            "wait": pytest.approx(0.008),
        }
    ]
    assert data[0]["by_holder"][0]["thread"] == "w-0"


def test_no_lock_calls_no_section(b):
    worker_thread(b, "w-0")
    snap = b.build()
    assert analyse(snap).locks == []
    assert contention_lines(snap, analyse(snap), 100, View()) == []


def test_an_address_reused_by_another_primitive_is_another_lock(b):
    C = b.call
    b.func("Event.wait", THREADING, qualname="Event.wait")
    # node 1 worker, 2 acquire, 3 release, 4 Event.wait, 5 acquire
    t0 = b.thread(
        "w-0",
        [C("worker", 1, 100, [C(ACQ, 1, 1), C(REL, 1, 1), C("Event.wait", 1, 9, [C(ACQ, 1, 9)])])],
    )
    t1 = worker_thread(b, "w-1")
    t0.lock_ops = ops((0, 1, LOCK, 2, A), (2, 2, LOCK, 3, R), (10, 19, LOCK, 5, A))
    t1.lock_ops = ops((0, 0, OTHER, 2, A))
    lives = sorted(
        ((lock.kind, lock.waits, lock.holds) for lock in analyse(b.build()).locks),
        key=str,
    )
    assert lives == [("threading.Event", 1, 1), ("threading.Lock", 1, 1), ("threading.Lock", 1, 1)]
