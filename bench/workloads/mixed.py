# SPDX-License-Identifier: MIT
"""A realistic mix: json dumps/loads, regular expressions, sorting with key
functions, string formatting and small classes with methods."""

from __future__ import annotations

import json
import math
import re

REPEAT = 1350  # about 1 s unprofiled: its events are sparse, so it needs the length

WORD_RE = re.compile(r"[A-Za-z]+")
NUM_RE = re.compile(r"(\d+)\.(\d+)")

TEXT = " ".join(
    f"item{i} costs {i * 3 % 97}.{i % 10} euros in shop {'abcdefgh'[i % 8]}" for i in range(60)
)


class Vector:
    __slots__ = ("x", "y")

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def __add__(self, other: Vector) -> Vector:
        return Vector(self.x + other.x, self.y + other.y)

    def scale(self, k: float) -> Vector:
        return Vector(self.x * k, self.y * k)

    def norm(self) -> float:
        return math.hypot(self.x, self.y)


class Order:
    def __init__(self, ident: int, customer: str, amount: float) -> None:
        self.ident = ident
        self.customer = customer
        self.amount = amount

    def total(self, tax: float) -> float:
        return round(self.amount * (1 + tax), 2)

    def describe(self) -> str:
        return f"#{self.ident:05d} {self.customer:<8} {self.amount:>9.2f}"

    def to_dict(self) -> dict[str, object]:
        return {"id": self.ident, "customer": self.customer, "amount": self.amount}


def make_orders(n: int) -> list[Order]:
    names = ["ada", "bob", "cyd", "dee", "eve", "fay", "gus", "hal"]
    return [Order(i, names[i * 7 % len(names)], (i * 37 % 1000) / 7) for i in range(n)]


def one_round(seed: int) -> int:
    orders = make_orders(80 + seed % 5)
    # json round trip
    doc = json.dumps({"orders": [o.to_dict() for o in orders], "seed": seed}, sort_keys=True)
    back = json.loads(doc)
    # sorting with key functions
    by_amount = sorted(orders, key=lambda o: (o.amount, o.ident))
    by_name = sorted(back["orders"], key=lambda d: d["customer"])
    # regular expressions
    words = WORD_RE.findall(TEXT)
    prices = [int(a) + int(b) / 10 for a, b in NUM_RE.findall(TEXT)]
    cleaned = NUM_RE.sub(lambda m: m.group(1), TEXT)
    # string formatting
    lines = [o.describe() for o in by_amount[:40]]
    report = "\n".join(lines) + "{:.3f}".format(sum(o.total(0.2) for o in orders))  # noqa: UP032
    # small classes
    acc = Vector(0.0, 0.0)
    for i, p in enumerate(prices):
        acc = acc + Vector(p, i).scale(0.5)
    return len(doc) + len(by_name) + len(words) + len(cleaned) + len(report) + int(acc.norm())


def run(scale: float = 1.0) -> int:
    total = 0
    for i in range(max(1, round(REPEAT * scale))):
        total += one_round(i)
    return total
