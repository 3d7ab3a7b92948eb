# SPDX-License-Identifier: MIT
"""How right is the CPU time of the default mode? A benchmark, not a test.

Functions that sleep, block on a lock, wait on a pipe (I/O) or spin for known
times run in several threads under ``threadprof.Profile()`` (wall clock with
the CPU time estimated between real reads of the thread CPU clock). For each
function the measured off-CPU time (wall - CPU) is compared with the truth:
the waiting time the function was made to do. The target of the overhead
issue: within 5 % of the truth, or within 50 us per call, whichever is larger.

    python bench/accuracy.py [--calls N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import threadprof

WAIT = 0.002  # seconds each waiting function waits per call
SPIN = 0.002  # seconds each spinning function computes per call


def spin(seconds: float = SPIN) -> int:
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


def sleeper() -> None:
    time.sleep(WAIT)


def lock_waiter(lock: threading.Lock) -> None:
    # the lock is held by a releaser thread; acquiring it waits about WAIT
    lock.acquire()
    lock.release()


def pipe_reader(fd: int) -> None:
    os.read(fd, 1)


class Truth:
    """Each thread measures its waiting functions itself: wall and thread CPU
    time around each call. Their difference is the real off-CPU time."""

    def __init__(self) -> None:
        self.off: dict[str, float] = {}
        self.lock = threading.Lock()

    def call(self, func, *args) -> None:  # type: ignore[no-untyped-def]
        w0, c0 = time.perf_counter(), time.thread_time()
        func(*args)
        off = (time.perf_counter() - w0) - (time.thread_time() - c0)
        with self.lock:
            self.off[func.__name__] = self.off.get(func.__name__, 0.0) + off


def spin_half() -> int:
    # its own loop, so that `spin`'s totals are only the spin thread's calls
    end = time.thread_time() + SPIN / 2
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


def mixed(fd: int) -> None:
    spin_half()
    os.read(fd, 1)
    spin_half()


def run(calls: int) -> dict:
    truth = Truth()
    lock = threading.Lock()
    # counts the holder's acquisitions: an Event could lose one (set twice
    # before the waiter clears it) and leave the waiter waiting forever
    handed = threading.Semaphore(0)
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()

    def sleep_thread() -> None:
        for _ in range(calls):
            truth.call(sleeper)

    def holder() -> None:
        # holds the lock WAIT seconds while lock_thread waits for it
        for _ in range(calls):
            lock.acquire()
            handed.release()
            time.sleep(WAIT)
            lock.release()
            time.sleep(WAIT / 4)

    def lock_thread() -> None:
        for _ in range(calls):
            handed.acquire()
            truth.call(lock_waiter, lock)

    def writer(fd: int) -> None:
        for _ in range(calls):
            time.sleep(WAIT)
            os.write(fd, b"x")

    def pipe_thread() -> None:
        for _ in range(calls):
            truth.call(pipe_reader, r1)

    def mixed_thread() -> None:
        for _ in range(calls):
            truth.call(mixed, r2)

    def spin_thread() -> None:
        for _ in range(calls):
            truth.call(spin)

    threads = [
        threading.Thread(target=sleep_thread, name="sleep"),
        threading.Thread(target=holder, name="holder"),
        threading.Thread(target=lock_thread, name="lock"),
        threading.Thread(target=writer, args=(w1,), name="writer1"),
        threading.Thread(target=writer, args=(w2,), name="writer2"),
        threading.Thread(target=pipe_thread, name="pipe"),
        threading.Thread(target=mixed_thread, name="mixed"),
        threading.Thread(target=spin_thread, name="spin"),
    ]
    prof = threadprof.Profile()
    prof.enable()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    prof.disable()
    snap = prof.snapshot()
    stats = snap.function_stats()
    by_name = {snap.functions[f].name: s for f, s in stats.items()}
    out = {}
    for name in ("sleeper", "lock_waiter", "pipe_reader", "mixed", "spin"):
        s = by_name[name]
        wall, cpu = s.wall * snap.unit, s.cpu * snap.unit
        real = truth.off[name]
        tolerance = max(0.05 * real, 50e-6 * s.calls)
        out[name] = {
            "calls": s.calls,
            "wall_s": wall,
            "cpu_s": cpu,
            "off_cpu_s": wall - cpu,
            "true_off_cpu_s": real,
            "error_s": (wall - cpu) - real,
            "tolerance_s": tolerance,
            "ok": abs((wall - cpu) - real) <= tolerance,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--json")
    args = ap.parse_args()
    res = run(args.calls)
    print(f"python {sys.version.split()[0]}, {args.calls} calls per function")
    print(
        f"{'function':<12} {'calls':>6} {'wall ms':>9} {'cpu ms':>9} {'off-CPU ms':>11}"
        f" {'true ms':>9} {'error ms':>9} {'allowed':>8}  target"
    )
    for name, r in res.items():
        print(
            f"{name:<12} {r['calls']:>6} {r['wall_s'] * 1e3:>9.2f} {r['cpu_s'] * 1e3:>9.2f}"
            f" {r['off_cpu_s'] * 1e3:>11.2f} {r['true_off_cpu_s'] * 1e3:>9.2f}"
            f" {r['error_s'] * 1e3:>9.3f} {r['tolerance_s'] * 1e3:>8.3f}"
            f"  {'met' if r['ok'] else 'MISSED'}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
