# SPDX-License-Identifier: MIT
"""A thread's raw call tree split into the thread's tree and a tree per
asyncio task (``_core._split_tasks``), checked by hand and against a
reference written in Python."""

from __future__ import annotations

import random
from array import array

import pytest

from threadprof import _core

K = 7  # parent, func, calls, wall, wall_self, cpu, cpu_self


def flat(rows):
    out = array("q")
    for j in range(K):
        out.extend(row[j] for row in rows)
    return out


def rows_of(columns: bytes):
    values = array("q", columns)
    n = len(values) // K
    return [tuple(values[j * n + i] for j in range(K)) for i in range(n)]


def pairs(task_nodes):
    return array("q", [x for pair in task_nodes for x in pair])


def merged_by_path(rows):
    """A forest's rows merged by path of functions from the root, in order
    of first use depth first; and each row's merged id."""
    kids = [[] for _ in rows]
    for v, row in enumerate(rows[1:], 1):
        kids[row[0]].append(v)
    out = [[-1, -1, 0, *rows[0][3:]]]
    out[0][2] = 0
    ids = {0: 0}
    paths = {}
    stack = list(reversed(kids[0]))
    while stack:
        v = stack.pop()
        parent = ids[rows[v][0]]
        key = (parent, rows[v][1])
        if key not in paths:
            paths[key] = len(out)
            out.append([parent, rows[v][1], 0, 0, 0, 0, 0])
        at = paths[key]
        for j in range(2, K):
            out[at][j] += rows[v][j]
        ids[v] = at
        stack.extend(reversed(kids[v]))
    return [tuple(r) for r in out], [ids[v] for v in range(len(rows))]


def reference(rows, task_nodes, ntasks):
    thread, remap = merged_by_path(rows)
    kids = [[] for _ in rows]
    for v, row in enumerate(rows[1:], 1):
        kids[row[0]].append(v)
    trees = []
    for k in range(ntasks):
        roots = [node for node, task in task_nodes if task == k]
        forest = [
            (-1, -1, 0, sum(rows[r][3] for r in roots), 0, sum(rows[r][5] for r in roots), 0)
        ]
        for r in roots:
            stack = [(r, 0)]
            while stack:
                v, parent = stack.pop()
                forest.append((parent, *rows[v][1:]))
                new = len(forest) - 1
                stack.extend((c, new) for c in reversed(kids[v]))
        trees.append(merged_by_path(forest)[0])
    return thread, remap, trees


# the loop's Handle._run (1) runs the coroutine (2) of tasks A and B; node 2
# is the coroutine's node that the recorder leaves empty beside the tasks';
# task A's coroutine was later resumed from the root (node 7)
ROWS = [
    (-1, -1, 0, 1000, 0, 500, 0),
    (0, 1, 1, 900, 100, 400, 50),
    (1, 2, 0, 0, 0, 0, 0),
    (1, 2, 1, 300, 100, 100, 40),
    (3, 3, 2, 200, 200, 60, 60),
    (1, 2, 1, 500, 150, 250, 100),
    (5, 3, 2, 350, 350, 150, 150),
    (0, 2, 0, 70, 20, 30, 10),
    (7, 4, 1, 50, 50, 20, 20),
]
TASK_NODES = [(3, 0), (5, 1), (7, 0)]


def test_split_by_hand():
    thread, remap, trees = _core._split_tasks(flat(ROWS), pairs(TASK_NODES), 2)
    assert rows_of(thread) == [
        (-1, -1, 0, 1000, 0, 500, 0),
        (0, 1, 1, 900, 100, 400, 50),
        (1, 2, 2, 800, 250, 350, 140),
        (2, 3, 4, 550, 550, 210, 210),
        (0, 2, 0, 70, 20, 30, 10),
        (4, 4, 1, 50, 50, 20, 20),
    ]
    assert list(array("q", remap)) == [0, 1, 2, 2, 3, 2, 3, 4, 5]
    assert [rows_of(t) for t in trees] == [
        [
            (-1, -1, 0, 370, 0, 130, 0),
            (0, 2, 1, 370, 120, 130, 50),
            (1, 3, 2, 200, 200, 60, 60),
            (1, 4, 1, 50, 50, 20, 20),
        ],
        [
            (-1, -1, 0, 500, 0, 250, 0),
            (0, 2, 1, 500, 150, 250, 100),
            (1, 3, 2, 350, 350, 150, 150),
        ],
    ]


def random_tree(rng, n):
    rows = [(-1, -1, 0, 10**6, 0, 10**5, 0)]
    for v in range(1, n):
        parent = rng.randrange(max(0, v - 4), v) if rng.random() < 0.8 else rng.randrange(v)
        rows.append((parent, rng.randrange(6), rng.randrange(3), 10 * v, v, 3 * v, 2 * v))
    return rows


@pytest.mark.parametrize("seed", range(40))
def test_split_matches_the_reference(seed):
    rng = random.Random(seed)
    rows = random_tree(rng, rng.randrange(1, 80))
    ntasks = rng.randrange(0, 6)
    candidates = list(range(1, len(rows)))
    rng.shuffle(candidates)
    task_nodes = [(v, rng.randrange(-1, ntasks + 1)) for v in candidates[: rng.randrange(0, 12)]]
    thread, remap, trees = _core._split_tasks(flat(rows), pairs(task_nodes), ntasks)
    kept = [(v, k) for v, k in task_nodes if 0 <= k < ntasks]
    want_thread, want_remap, want_trees = reference(rows, kept, ntasks)
    assert rows_of(thread) == want_thread
    assert list(array("q", remap)) == want_remap
    assert [rows_of(t) for t in trees] == want_trees


@pytest.mark.parametrize(
    ("tree", "task_nodes", "ntasks", "error"),
    [
        (flat(ROWS), pairs([(9, 0)]), 1, ValueError),  # a node past the tree
        (flat(ROWS), pairs([(0, 0)]), 1, ValueError),  # the root is no task's
        (flat(ROWS), array("q", [3]), 1, ValueError),  # not pairs
        (b"", b"", 0, ValueError),  # no root
        (flat([(-1, -1, 0, 0, 0, 0, 0), (1, 1, 0, 0, 0, 0, 0)]), b"", 0, ValueError),
        (flat(ROWS), b"", -1, TypeError),
        (flat(ROWS), None, 0, TypeError),
    ],
)
def test_bad_input_raises(tree, task_nodes, ntasks, error):
    with pytest.raises(error):
        _core._split_tasks(tree, task_nodes, ntasks)
