# SPDX-License-Identifier: MIT
"""A call tree's node objects made in C from its columns (``_core._build_nodes``),
as snapshots and .tprof files make them: the same nodes as the model's own
constructor and :func:`threadprof.model.build_tree` give."""

from __future__ import annotations

import random
from array import array

import pytest

from threadprof import _core
from threadprof.model import Node, build_tree

FIELDS = ("parent", "func", "calls", "wall", "wall_self", "cpu", "cpu_self")


def flat(rows):
    out = array("q")
    for j in range(len(FIELDS)):
        out.extend(row[j] for row in rows)
    return out


@pytest.mark.parametrize("seed", range(10))
def test_the_same_nodes_as_the_model_builds(seed):
    rng = random.Random(seed)
    rows = [(-1, -1, 0, 100, 0, 50, 0)]
    for v in range(1, rng.randrange(1, 300)):
        parent = rng.randrange(max(0, v - 4), v)
        big = rng.choice((1, 2**40, -3))
        rows.append((parent, rng.randrange(6), rng.randrange(5), big * v, v, 2 * v, -v))
    want = build_tree([Node(i, *row[:3], 0, *row[3:]) for i, row in enumerate(rows)])
    got = _core._build_nodes(Node, flat(rows), FIELDS)
    assert got == want
    assert all(type(n) is Node for n in got)
    # with primitive calls given, they are taken as they are
    named = ("prim_calls", *FIELDS)
    given = array("q", [7] * len(rows)) + flat(rows)
    assert [n.prim_calls for n in _core._build_nodes(Node, given, named)] == [7] * len(rows)


def test_a_class_without_slots_gets_attributes():
    class Plain:
        pass

    (root, child) = _core._build_nodes(
        Plain, flat([(-1, -1, 0, 0, 0, 0, 0), (0, 3, 2, 5, 5, 1, 1)]), FIELDS
    )
    assert (child.id, child.parent, child.func, child.calls, child.prim_calls) == (1, 0, 3, 2, 2)
    assert root.children == [1] and child.children == []


def test_bad_input_raises():
    with pytest.raises(ValueError, match="parent must come before"):
        _core._build_nodes(Node, flat([(-1, -1, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0, 0)]), FIELDS)
    with pytest.raises(ValueError, match="one 8-byte integer per node and name"):
        _core._build_nodes(Node, b"x" * 9, FIELDS)
    with pytest.raises(ValueError, match="'parent' among them"):
        _core._build_nodes(Node, b"", ("func",))
    with pytest.raises(ValueError, match="needed to compute"):
        _core._build_nodes(Node, b"", ("parent",))
    with pytest.raises(AttributeError):
        _core._build_nodes(Node, array("q", [-1, 0, 0, 0]), ("parent", "func", "calls", "nope"))
    with pytest.raises(TypeError):
        _core._build_nodes(Node(0, 0, 0), b"", FIELDS)
    assert _core._build_nodes(Node, b"", FIELDS) == []
