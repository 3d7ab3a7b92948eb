# SPDX-License-Identifier: MIT
"""One subtree of a call tree's columns made a tree of its own (``_core._subtree``):
how ``threadprof run`` keeps the program's frames and leaves out its launcher's."""

from __future__ import annotations

import random
from array import array

import pytest

from threadprof import _core

FIELDS = ("parent", "func", "calls", "wall", "wall_self", "cpu", "cpu_self")
K = len(FIELDS)


def flat(rows, k=K):
    out = array("q")
    for j in range(k):
        out.extend(row[j] for row in rows)
    return out


def rows_of(columns: bytes, k=K):
    values = array("q", columns)
    n = len(values) // k
    return [tuple(values[j * n + i] for j in range(k)) for i in range(n)]


def reference(rows, funcs):
    """The subtree, as the model-level code did it before it moved to C: the
    node of ``funcs`` nearest the root breadth first (children in index
    order), then its subtree depth first under a new root."""
    kids = [[] for _ in rows]
    for v, row in enumerate(rows[1:], 1):
        kids[row[0]].append(v)
    level, top = kids[0], None
    while level and top is None:
        top = next((v for v in level if rows[v][1] in funcs), None)
        level = [c for v in level for c in kids[v]]
    if top is None:
        return None
    t = rows[top]
    out = [(-1, -1, 0, t[3], 0, t[5], 0)]
    stack = [(top, 0)]
    while stack:
        v, parent = stack.pop()
        out.append((parent, *rows[v][1:]))
        new = len(out) - 1
        stack.extend((c, new) for c in reversed(kids[v]))
    return out


def random_rows(rng, n):
    rows = [(-1, -1, 0, 100, 0, 50, 0)]
    for v in range(1, n):
        parent = rng.randrange(max(0, v - 5), v) if rng.random() < 0.8 else rng.randrange(v)
        rows.append((parent, rng.randrange(8), rng.randrange(4), 10 * v, v, 3 * v, 2**40 + v))
    return rows


@pytest.mark.parametrize("seed", range(30))
def test_the_subtree_of_the_shallowest_call(seed):
    rng = random.Random(seed)
    rows = random_rows(rng, rng.randrange(1, 400))
    funcs = tuple(rng.sample(range(10), rng.randrange(1, 3)))
    got = _core._subtree(flat(rows), FIELDS, funcs)
    want = reference(rows, funcs)
    assert (None if got is None else rows_of(got)) == want


def test_breadth_first_not_lowest_index():
    # node 3 (func 7) is at depth 1, node 2 (func 7) at depth 2: 3 wins
    rows = [
        (-1, -1, 0, 0, 0, 0, 0),
        (0, 1, 1, 90, 10, 80, 5),
        (1, 7, 1, 80, 80, 75, 75),
        (0, 7, 2, 30, 20, 25, 15),
        (3, 4, 5, 10, 10, 10, 10),
    ]
    got = rows_of(_core._subtree(flat(rows), FIELDS, (7,)))
    assert got == [
        (-1, -1, 0, 30, 0, 25, 0),  # the new root: the call's inclusive times
        (0, 7, 2, 30, 20, 25, 15),
        (1, 4, 5, 10, 10, 10, 10),
    ]


def test_other_columns_and_orders():
    # any names in any order: only parent and func are needed, the root's wall
    # and cpu come from the node when they are named
    rows = [(0, -1, -1), (7, 0, 3), (8, 1, 3), (9, 2, 5)]
    names = ("calls", "parent", "func")
    got = _core._subtree(flat(rows, 3), names, (3,))
    assert rows_of(got, 3) == [(0, -1, -1), (7, 0, 3), (8, 1, 3), (9, 2, 5)]
    assert _core._subtree(flat(rows, 3), names, (5,)) == bytes(flat([(0, -1, -1), (9, 0, 5)], 3))
    assert _core._subtree(flat(rows, 3), names, (4,)) is None
    assert _core._subtree(flat(rows, 3), names, ()) is None
    # a tree of the root alone has nothing to keep
    assert _core._subtree(flat(rows[:1], 3), names, (3,)) is None


def test_bad_input_is_refused():
    good = flat([(-1, -1, 0, 0, 0, 0, 0), (0, 1, 1, 1, 1, 1, 1)])
    with pytest.raises(ValueError, match="parent must come before it"):
        _core._subtree(flat([(-1, -1, 0, 0, 0, 0, 0), (1, 1, 1, 1, 1, 1, 1)]), FIELDS, (1,))
    with pytest.raises(ValueError, match="'parent' and 'func'"):
        _core._subtree(good, ("parent", "calls"), (1,))
    with pytest.raises(ValueError, match="one 8-byte integer per node"):
        _core._subtree(good[:-1], FIELDS, (1,))
    with pytest.raises(ValueError, match="one 8-byte integer per node"):
        _core._subtree(b"", FIELDS, (1,))
    with pytest.raises(TypeError, match="names must be strings"):
        _core._subtree(good, ("parent", 3), (1,))
    with pytest.raises(TypeError, match="at most 64 ints"):
        _core._subtree(good, FIELDS, tuple(range(65)))
    with pytest.raises(TypeError):
        _core._subtree(good, FIELDS, ("x",))
    with pytest.raises(TypeError):
        _core._subtree(good, list(FIELDS), (1,))
