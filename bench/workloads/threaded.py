# SPDX-License-Identifier: MIT
"""The mixed workload split over 4 threads (the same total amount of work)."""

from __future__ import annotations

import threading

from . import mixed

THREADS = 4


def run(scale: float = 1.0) -> int:
    results = [0] * THREADS

    def worker(k: int) -> None:
        results[k] = mixed.run(scale / THREADS)

    threads = [
        threading.Thread(target=worker, args=(k,), name=f"bench-{k}") for k in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(results)
