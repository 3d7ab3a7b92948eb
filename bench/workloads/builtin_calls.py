# SPDX-License-Identifier: MIT
"""Built-in-heavy: tight loops over ``len``, ``isinstance``, ``list.append`` and
``dict.get``; almost every profile event is a C call or a C return."""

from __future__ import annotations

REPEAT = 22500
DATA = [i if i % 3 else str(i) for i in range(200)]
TABLE = {i: i * 2 for i in range(0, 200, 2)}


def run(scale: float = 1.0) -> int:
    total = 0
    data = DATA
    table = TABLE
    for _ in range(max(1, round(REPEAT * scale))):
        out: list[int] = []
        for x in data:
            if isinstance(x, int):
                out.append(table.get(x, -1))
            else:
                out.append(len(x))
        total += len(out)
    return total
