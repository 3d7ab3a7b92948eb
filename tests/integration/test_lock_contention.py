# SPDX-License-Identifier: MIT
"""Contention on real threads, on both engines: which lock made which thread
wait, and who held it or woke it. Counts are exact; times are asserted only
against the sleeps that make them (at least as long)."""

from __future__ import annotations

import queue
import sys
import threading
import time

import pytest
from shared import profile_threads

import threadprof
from threadprof.contention import analyse

ROUNDS = 3
HOLD = 0.002  # seconds a worker sleeps holding a lock


def site_name(snap, lock_or_site):
    thread, node = lock_or_site
    t = snap.threads[thread]
    return snap.functions[t.path(node)[-1]].qualname if node else None


def by_address(contention, *objects):
    found = {lock.address: lock for lock in contention.locks}
    return [found[id(obj)] for obj in objects]


def test_eight_threads_on_three_named_locks(engine):
    locks = {"alpha": threading.Lock(), "beta": threading.RLock(), "gamma": threading.Lock()}
    # threads 0-7 all use alpha; the even ones beta (twice, nested); 0-3 gamma
    uses = {
        i: ["alpha"] + (["beta"] if i % 2 == 0 else []) + (["gamma"] if i < 4 else [])
        for i in range(8)
    }
    # the users of a lock all ask for it at once, every round: some wait
    together = {name: threading.Barrier(sum(name in u for u in uses.values())) for name in locks}

    def contend(i):
        for _ in range(ROUNDS):
            for name in uses[i]:
                lock = locks[name]
                together[name].wait()
                lock.acquire()
                if name == "beta":
                    lock.acquire()  # an RLock's owner nests
                    lock.release()
                time.sleep(HOLD)
                lock.release()

    threads = [threading.Thread(target=contend, args=(i,), name=f"c-{i}") for i in range(8)]
    snap = profile_threads(threads, engine)
    index = {t.name: i for i, t in enumerate(snap.threads)}
    alpha, beta, gamma = by_address(analyse(snap), *locks.values())
    assert (alpha.kind, beta.kind, gamma.kind) == (
        "threading.Lock",
        "threading.RLock",
        "threading.Lock",
    )
    for lock, name in ((alpha, "alpha"), (beta, "beta"), (gamma, "gamma")):
        users = {index[f"c-{i}"] for i in range(8) if name in uses[i]}
        nested = 2 if name == "beta" else 1
        assert (
            site_name(snap, lock.site)
            == "test_eight_threads_on_three_named_locks.<locals>.contend"
        )
        assert lock.waits == lock.acquired == len(users) * ROUNDS * nested
        assert lock.holds == len(users) * ROUNDS
        assert set(lock.by_waiter) == set(lock.by_holder) == users
        assert all(count == ROUNDS for count, _ in lock.by_holder.values())
        assert lock.hold_time >= lock.holds * HOLD / snap.unit
        assert lock.max_hold >= HOLD / snap.unit
        # every wait behind another thread's hold names it, and no more than waited
        assert lock.blockers, name
        for b in lock.blockers:
            assert b.how == "held" and b.waiter != b.holder
            assert {b.waiter, b.holder} <= users
        assert sum(b.weight for b in lock.blockers) <= lock.wait_time
    # eight threads taking alpha for 2 ms each, three times: most of the time
    # some wait, and what they waited for was alpha's holders
    assert alpha.wait_time >= 8 * ROUNDS * HOLD / snap.unit
    assert sum(b.weight for b in alpha.blockers) >= 0.5 * alpha.wait_time


@pytest.mark.skipif(
    sys.version_info < (3, 14), reason="`with` calls __enter__ through CALL from 3.14"
)
def test_a_with_statement_acquires(engine):
    lock = threading.Lock()

    def hold():
        for _ in range(ROUNDS):
            with lock:
                time.sleep(HOLD)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    (stats,) = by_address(analyse(profile_threads(threads, engine)), lock)
    assert (stats.waits, stats.acquired, stats.holds) == (2 * ROUNDS, 2 * ROUNDS, 2 * ROUNDS)


def test_a_queue_consumer_is_woken_by_its_producer(engine):
    q: queue.Queue[int | None] = queue.Queue()
    items = 4
    gap = 0.02

    def produce():
        for i in range(items):
            time.sleep(gap)
            q.put(i)
        q.put(None)

    def consume():
        while q.get() is not None:
            pass

    threads = [
        threading.Thread(target=consume, name="consumer"),
        threading.Thread(target=produce, name="producer"),
    ]
    snap = profile_threads(threads, engine)
    index = {t.name: i for i, t in enumerate(snap.threads)}
    (stats,) = by_address(analyse(snap), q.mutex)
    assert stats.kind == "queue.Queue"
    assert site_name(snap, stats.site) in (
        "test_a_queue_consumer_is_woken_by_its_producer.<locals>.consume",
        "test_a_queue_consumer_is_woken_by_its_producer.<locals>.produce",
    )
    consumer, producer = index["consumer"], index["producer"]
    _, waited = stats.by_waiter[consumer]
    assert waited >= 0.8 * items * gap / snap.unit
    woke = [b for b in stats.blockers if b.how == "woke"]
    assert woke and all((b.waiter, b.holder) == (consumer, producer) for b in woke)
    assert site_name(snap, (producer, woke[0].holder_site)).endswith("produce")
    assert sum(b.weight for b in woke) >= 0.8 * items * gap / snap.unit


def test_an_event_waiter_is_woken_by_the_setter(engine):
    event = threading.Event()
    delay = 0.05

    def wait():
        event.wait()

    waiter = threading.Thread(target=wait, name="waiter")
    with threadprof.profile(engine=engine) as p:
        waiter.start()
        time.sleep(delay)
        event.set()
        waiter.join()
    snap = p.snapshot()
    index = {t.name: i for i, t in enumerate(snap.threads)}
    (stats,) = by_address(analyse(snap), event._cond._lock)
    assert stats.kind == "threading.Event"
    (b,) = [b for b in stats.blockers if b.how == "woke"]
    assert (b.waiter, b.holder) == (index["waiter"], index["MainThread"])
    assert b.weight >= 0.8 * delay / snap.unit


def test_past_the_budget_lock_calls_are_counted_and_the_thread_says_so(engine):
    """Lock calls are recorded up to 16 MiB in all (524,272 of them in one
    thread: whole segments of 32 bytes a call); the rest are counted."""
    lock = threading.Lock()
    calls = 300_000  # 600,000 lock calls

    def churn():
        for _ in range(calls):
            lock.acquire()
            lock.release()

    snap = profile_threads([threading.Thread(target=churn, name="churn")], engine)
    (t,) = [t for t in snap.threads if t.name == "churn"]
    kept = len(t.lock_ops)
    assert kept == 524_272
    (warning,) = [w for w in t.warnings if "memory budget for lock calls" in w]
    dropped = int(warning.split(" ", 1)[0].replace(",", ""))
    # every call past the budget counted: the loop's, and the thread's own
    # few at its start and end (Thread._bootstrap's events and locks)
    assert 2 * calls <= kept + dropped <= 2 * calls + 20
    assert f"counts its first {kept:,} only" in warning
