# SPDX-License-Identifier: MIT
"""Generators and asyncio: generator pipelines (resumes and yields are profile
events too) and an ``asyncio.gather`` of many coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator

PIPELINE_REPEAT = 750
PIPELINE_SIZE = 500
COROUTINES = 200
COROUTINE_STEPS = 10
ASYNC_REPEAT = 45


def numbers(n: int) -> Iterator[int]:
    yield from range(n)


def squares(it: Iterable[int]) -> Iterator[int]:
    for x in it:
        yield x * x


def evens(it: Iterable[int]) -> Iterator[int]:
    for x in it:
        if x % 2 == 0:
            yield x


def chunks(it: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for x in it:
        chunk.append(x)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def pipeline(n: int) -> int:
    return sum(sum(c) for c in chunks(evens(squares(numbers(n))), 16))


async def step(k: int) -> int:
    await asyncio.sleep(0)
    return k * 2


async def worker(k: int) -> int:
    total = 0
    for i in range(COROUTINE_STEPS):
        total += await step(i + k)
    return total


async def main(n: int) -> int:
    results = await asyncio.gather(*(worker(k) for k in range(n)))
    return sum(results)


def run(scale: float = 1.0) -> int:
    total = 0
    for _ in range(max(1, round(PIPELINE_REPEAT * scale))):
        total += pipeline(PIPELINE_SIZE)
    for _ in range(max(1, round(ASYNC_REPEAT * scale))):
        total += asyncio.run(main(COROUTINES))
    return total
