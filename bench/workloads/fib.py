# SPDX-License-Identifier: MIT
"""Call-heavy: a recursive fib, two profile events per call and nothing else."""

from __future__ import annotations

N = 20
REPEAT = 300


def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def run(scale: float = 1.0) -> int:
    total = 0
    for _ in range(max(1, round(REPEAT * scale))):
        total += fib(N)
    return total
