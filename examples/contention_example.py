# SPDX-License-Identifier: MIT
"""A small program with the waits of a multi-threaded server: a cache under
one lock, a work queue and an event that starts the workers.

    python3 -m threadprof run examples/contention_example.py
"""

from __future__ import annotations

import queue
import threading
import time

cache_lock = threading.Lock()
cache: dict[int, int] = {}
jobs: queue.Queue[int | None] = queue.Queue()
go = threading.Event()


def lookup(key: int) -> int:
    cache_lock.acquire()  # (from 3.14 on, `with cache_lock:` is seen too)
    try:
        if key not in cache:
            time.sleep(0.002)  # a slow fill, done holding the lock
            cache[key] = key * key
        return cache[key]
    finally:
        cache_lock.release()


def worker() -> None:
    go.wait()
    while (job := jobs.get()) is not None:
        lookup(job % 20)


def feeder() -> None:
    for job in range(200):
        jobs.put(job)
        time.sleep(0.0002)
    for _ in range(4):
        jobs.put(None)


def main() -> None:
    threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    go.set()
    feeder()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
