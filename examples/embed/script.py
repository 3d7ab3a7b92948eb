# SPDX-License-Identifier: MIT
"""The Python side of examples/embed: four threading threads, and the callback
that the host's own pthreads call. Each thread's call counts are fixed:
worker-N calls ``work`` 10 + N times; each host thread calls ``callback`` 50
times."""

import threading

_threads: list[threading.Thread] = []


def work(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def worker(count: int) -> None:
    for _ in range(count):
        work(200)


def callback() -> int:
    return work(50)


def start_threads() -> None:
    for i in range(4):
        t = threading.Thread(target=worker, args=(10 + i,), name=f"worker-{i}")
        t.start()
        _threads.append(t)


def join_threads() -> None:
    for t in _threads:
        t.join()
