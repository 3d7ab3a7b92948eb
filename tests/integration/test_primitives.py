# SPDX-License-Identifier: MIT
"""Each primitive of ``threading``, ``queue`` and ``concurrent.futures`` on
real threads, on both engines: a waiter blocks on it, a releaser releases it
after a sleep. The lock it is seen as, its kind, the waiter's calls to it
and who ended the wait are exact; the wait's time is asserted only against
the sleep (at least half of it: threads start at their own pace)."""

from __future__ import annotations

import queue
import sys
import threading
import time
from concurrent import futures

import pytest

import threadprof
from threadprof.contention import analyse
from threadprof.queues import queue_traces

SLEEP = 0.03  # seconds the releaser sleeps before it releases


def _condition():
    cond = threading.Condition()
    done = []

    def wait():
        with cond:
            while not done:
                cond.wait()

    def release():
        with cond:
            done.append(True)
            cond.notify()

    return wait, release


def _semaphore(bounded):
    sem = threading.BoundedSemaphore(1) if bounded else threading.Semaphore(0)
    if bounded:
        sem.acquire()  # before the profile: the waiter must wait for the release
    return sem.acquire, sem.release


def _queue(kind):
    q = kind()
    return q.get, lambda: q.put(1)


def _future():
    f = futures.Future()
    return f.result, lambda: f.set_result(1)


def _futures_wait():
    f = futures.Future()
    return lambda: futures.wait([f]), lambda: f.set_result(1)


def _event():
    e = threading.Event()
    return e.wait, e.set


# name: (make, kind, the waiter's calls to the lock, all calls to it, holds);
# a Condition-based wait is three calls (enter, the wait, the lock taken
# again) and the releaser's one, with three holds
PRIMITIVES = {
    "Condition": (_condition, "threading.Condition", 3, 4, 3),
    "Semaphore": (lambda: _semaphore(False), "threading.Semaphore", 3, 4, 3),
    "BoundedSemaphore": (lambda: _semaphore(True), "threading.BoundedSemaphore", 3, 4, 3),
    "Event": (_event, "threading.Event", 3, 4, 3),
    "Queue": (lambda: _queue(queue.Queue), "queue.Queue", 3, 4, 3),
    "LifoQueue": (lambda: _queue(queue.LifoQueue), "queue.Queue", 3, 4, 3),
    "PriorityQueue": (lambda: _queue(queue.PriorityQueue), "queue.Queue", 3, 4, 3),
    "SimpleQueue": (lambda: _queue(queue.SimpleQueue), "queue.SimpleQueue", 1, 1, 0),
    "Future.result": (_future, "concurrent.futures.Future", 3, 4, 3),
    # wait() waits in an Event of its own, which the future's set_result sets
    "futures.wait": (_futures_wait, "threading.Event", 3, 4, 3),
}


def _profile(engine, *threads):
    """Start ``threads`` in order, wait for them, profiled; the snapshot and
    the indices of the threads named waiter and releaser."""
    with threadprof.profile(engine=engine) as p:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    snap = p.snapshot()
    index = {t.name: i for i, t in enumerate(snap.threads)}
    return snap, index["waiter"], index["releaser"]


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_a_waiter_is_woken_by_the_releaser(engine, name):
    make, kind, mine, calls, holds = PRIMITIVES[name]
    wait, release = make()

    def late_release():
        time.sleep(SLEEP)
        release()

    snap, w, r = _profile(
        engine,
        threading.Thread(target=wait, name="waiter"),
        threading.Thread(target=late_release, name="releaser"),
    )
    long = SLEEP / 2 / snap.unit
    (lock,) = [lock for lock in analyse(snap).locks if lock.by_waiter.get(w, [0, 0])[1] >= long]
    assert lock.kind == kind
    assert lock.by_waiter[w][0] == mine
    assert (lock.waits, lock.acquired, lock.holds) == (calls, calls, holds)
    (woke,) = [b for b in lock.blockers if b.waiter == w and b.how == "woke"]
    assert woke.holder == r
    assert woke.weight >= long
    # woken, a waiter takes the lock back, and waits if the releaser still
    # holds it: a releaser preempted there, or without the GIL, is seen so
    held = [b for b in lock.blockers if b.waiter == w and b.how != "woke"]
    assert all((b.holder, b.how) == (r, "held") for b in held)
    if kind.startswith("queue."):
        (trace,) = [t for t in queue_traces(snap).values() if t.address == lock.address]
        assert (len(trace.puts), len(trace.takes), trace.takers) == (1, 1, {w: 1})


def test_a_join_waits_for_the_thread(engine):
    releaser = threading.Thread(target=time.sleep, args=(SLEEP,), name="releaser")
    waiter = threading.Thread(target=releaser.join, name="waiter")
    snap, w, r = _profile(engine, releaser, waiter)  # a thread is joined once started
    joins = [
        lock
        for lock in analyse(snap).locks
        if lock.kind == "threading.Thread"
        and lock.by_waiter.get(w, [0, 0])[1] >= SLEEP / 2 / snap.unit
    ]
    (join,) = joins
    assert join.by_waiter[w][0] == 1
    blockers = [(b.holder, b.how) for b in join.blockers if b.waiter == w]
    if sys.version_info < (3, 13):
        # a join waits for a lock the thread holds while it runs (and, for a
        # moment, main's own join of it may hold it too)
        assert blockers[0] == (r, "held")
        assert {how for _, how in blockers} == {"held"}
    else:  # in the thread's handle: nothing holds it
        assert blockers == []
