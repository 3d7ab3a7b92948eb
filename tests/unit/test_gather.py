# SPDX-License-Identifier: MIT
"""Integer attributes of many objects as columns (``_core._gather``), which the
.tprof writer and the model's C loops read call trees through."""

from __future__ import annotations

from array import array

import pytest

from threadprof import _core
from threadprof.model import COLUMN_FIELDS, Node, NodeColumns


def columns(objects, names):
    out = array("q")
    out.frombytes(_core._gather(objects, names))
    return out.tolist()


def test_columns_name_after_name():
    nodes = [Node(0, -1, -1), Node(1, 0, 7, calls=3, wall=-(2**63)), Node(2, 1, 8, wall=2**63 - 1)]
    assert columns(nodes, ("id", "func", "calls", "wall")) == [
        *(0, 1, 2),
        *(-1, 7, 8),
        *(0, 3, 0),
        *(0, -(2**63), 2**63 - 1),
    ]
    assert columns([], ("id",)) == [] and columns(nodes, ()) == []
    cols = NodeColumns.of_nodes(nodes)
    assert [getattr(cols, f).tolist() for f in COLUMN_FIELDS] == [
        [getattr(n, f) for n in nodes] for f in COLUMN_FIELDS
    ]


def test_bad_values_raise():
    with pytest.raises(OverflowError):
        _core._gather([Node(0, 0, 2**63)], ("func",))
    with pytest.raises(TypeError, match="'func' of item 1 is not an int"):
        _core._gather([Node(0, 0, 0), Node(1, 0, 1.5)], ("func",))
    with pytest.raises(AttributeError):
        _core._gather([Node(0, 0, 0)], ("nope",))
    with pytest.raises(TypeError):
        _core._gather((Node(0, 0, 0),), ("func",))
    with pytest.raises(TypeError):
        _core._gather([Node(0, 0, 0)], (1,))
