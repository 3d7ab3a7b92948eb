# SPDX-License-Identifier: MIT
"""The HTML report's arrays made in C (``_core._page_view``, ``_page_table``,
``_json_ints``) against the Python code that they replace for trees held as
columns, which stays the path of trees of node objects."""

from __future__ import annotations

import json
import random
from array import array

import pytest

from threadprof import _core
from threadprof.exporters.html import data as html_data
from threadprof.exporters.html.data import FOLDED, NODE_COLUMNS, FunctionIndex, report_data
from threadprof.model import Function, Node, NodeColumns, Snapshot, ThreadProfile

NFUNCS = 12
FUNCTIONS = [Function(i, "python", f"f{i}", f"f{i}", f"m{i % 3}.py", i) for i in range(NFUNCS)]


def _random_tree(rnd: random.Random, n: int) -> list[Node]:
    """A call tree of ``n`` nodes whose inclusive times add up, with ties
    (small values) so that the fold's threshold is shared."""
    nodes = [Node(0, -1, -1)]
    for i in range(1, n):
        parent = rnd.randrange(max(0, i - 6), i)
        own = rnd.randrange(0, 4)
        nodes.append(Node(i, parent, rnd.randrange(NFUNCS), rnd.randrange(1, 4), 1, own, own))
        nodes[parent].children.append(i)
    for node in reversed(nodes):  # inclusive = own + children's
        node.wall_self = node.wall if node.id else 0
        node.cpu = node.wall // 2
        node.cpu_self = node.wall_self // 2
        if node.id:
            nodes[node.parent].wall += node.wall
    nodes[0].cpu = sum(nodes[c].cpu for c in nodes[0].children)
    return nodes


def _thread(nodes: list[Node] | None, columns: NodeColumns | None = None) -> ThreadProfile:
    return ThreadProfile(1, 1, 1, "t", 0, 10, 10, 5, nodes, columns=columns)


@pytest.mark.parametrize("seed", range(30))
def test_c_view_is_the_python_view(seed):
    rnd = random.Random(seed)
    n = rnd.randrange(1, 300)
    nodes = _random_tree(rnd, n)
    by_columns = _thread(None, NodeColumns.of_nodes(nodes))
    by_nodes = _thread(nodes)
    for keep in sorted({0, 1, 2, 5, n // 3, n // 2, n - 2, n - 1, n, n + 4} - {-1, -2}):
        c_funcs, py_funcs = FunctionIndex(FUNCTIONS, NFUNCS), FunctionIndex(FUNCTIONS, NFUNCS)
        c_funcs(3)  # numbers given before the view stay
        py_funcs(3)
        got = html_data._c_view(by_columns, c_funcs, keep)
        assert got is not None
        rows, folded, root = got
        want_rows, want_folded, want_root = html_data._py_view(by_nodes, py_funcs, keep)
        assert (list(rows), folded, root) == (want_rows, want_folded, want_root), keep
        assert c_funcs.index == py_funcs.index and c_funcs.flat == py_funcs.flat
        ids = range(FOLDED, FOLDED + len(c_funcs.map))
        assert list(c_funcs.map) == [py_funcs.index.get(f, -1) for f in ids]
        kept = len(rows) // len(html_data.NODE_FIELDS)
        assert folded == 0 if keep >= n - 1 else kept <= keep + folded
        # the folds hold what they stand for: the root's children still add up
        tops = [rows[i + 4] for i in range(0, len(rows), 8) if rows[i] == i // 8 + 1]
        assert sum(tops) == nodes[0].wall


def test_c_tables_are_the_python_tables(monkeypatch):
    rnd = random.Random(7)
    threads = [_thread(None, NodeColumns.of_nodes(_random_tree(rnd, 200))) for _ in range(3)]
    snap = Snapshot("wall", 1e-9, FUNCTIONS, threads)
    tables = html_data._Tables(snap)
    c_funcs = FunctionIndex(FUNCTIONS, tables.top)
    got = tables.of(threads[:2], c_funcs)
    real = html_data.grouped_totals
    monkeypatch.setattr(html_data, "grouped_totals", lambda *a: list(real(*a)))  # Python's ints
    py_funcs = FunctionIndex(FUNCTIONS, tables.top)
    want = tables.of(threads[:2], py_funcs)
    assert [list(got[0]), list(got[1])] == [want[0], want[1]]
    assert c_funcs.index == py_funcs.index
    assert len(want[1]) > 8 * 20  # edges of many pairs


def test_a_whole_report_in_c_and_in_python(monkeypatch):
    rnd = random.Random(3)
    trees = [_random_tree(rnd, 500) for _ in range(3)]
    as_columns = Snapshot(
        "wall", 1e-9, FUNCTIONS, [_thread(None, NodeColumns.of_nodes(t)) for t in trees]
    )
    as_nodes = Snapshot("wall", 1e-9, FUNCTIONS, [_thread(t) for t in trees])
    for budget in (None, 100):
        got = json.loads(html_data.embed_json(report_data(as_columns, node_budget=budget)))
        with monkeypatch.context() as m:
            m.setattr(html_data, "_c_view", lambda *a: None)
            want = json.loads(html_data.embed_json(report_data(as_nodes, node_budget=budget)))
        assert got == want
        # node objects whose children are in index order: the same page
        assert json.loads(html_data.embed_json(report_data(as_nodes, node_budget=budget))) == got
        assert (got["folded"] > 0) == (budget is not None)


def test_page_view_errors_leave_the_map_as_it_was():
    nodes = _random_tree(random.Random(1), 50)
    flat = NodeColumns.of_nodes(nodes).flat(NODE_COLUMNS)
    fmap = array("q", [-1]) * 7  # functions up to 4 only
    before = list(fmap)
    with pytest.raises(ValueError, match="outside the page's map"):
        _core._page_view(flat, 100, fmap, 0)
    assert list(fmap) == before
    with pytest.raises(ValueError, match="int64 columns"):
        _core._page_view(flat[:-8], 100, fmap, 0)
    with pytest.raises(ValueError, match="int64 columns"):
        _core._page_view(b"", 100, fmap, 0)
    with pytest.raises(ValueError, match="keep"):
        _core._page_view(flat, -1, fmap, 0)
    bad = NodeColumns.of_nodes(nodes)
    bad.parent[5] = 9  # a parent after its child
    with pytest.raises(ValueError):
        _core._page_view(bad.flat(NODE_COLUMNS), 100, array("q", [-1]) * 20, 0)
    with pytest.raises(ValueError, match="rows"):
        _core._page_table(b"\0" * 12, False, fmap, 0)
    with pytest.raises(BufferError):
        _core._page_view(flat, 100, b"read-only", 0)


def test_a_fold_that_overflows_falls_back_to_python():
    nodes = [Node(0, -1, -1), Node(1, 0, 0, 1, 1, 2**62, 2**62)]
    for i in (2, 3, 4):
        nodes.append(Node(i, 1, 1, 1, 1, 2**62, 2**62))
        nodes[1].children.append(i)
    nodes[0].children.append(1)
    tree = _thread(None, NodeColumns.of_nodes(nodes))
    with pytest.raises(OverflowError):
        _core._page_view(tree.tree_flat(NODE_COLUMNS), 1, array("q", [-1]) * 4, 0)
    funcs = FunctionIndex(FUNCTIONS, 2)
    assert html_data._c_view(tree, funcs, 1) is None
    assert html_data._c_view(_thread(nodes), funcs, 1) is None
    assert funcs.index == {}
    rows, folded, _root = html_data._py_view(_thread(nodes), funcs, 1)
    assert folded == 3 and rows[8 + 4] == 3 * 2**62  # Python's ints hold the sum


def test_json_ints():
    values = [0, 1, -1, 9, 10, -10, 2**63 - 1, -(2**63), 1234567890123]
    assert json.loads(_core._json_ints(array("q", values))) == values
    assert _core._json_ints(array("q")) == b"[]"
    assert _core._json_ints(array("q", [5, 6])) == b"[5,6]"
    with pytest.raises(ValueError):
        _core._json_ints(b"123")


def test_embedded_arrays_and_text_that_looks_like_a_placeholder():
    data = {"a": array("q", [1, 2]), "b": "\0" + "0" * 16 + ":0", "c": [array("q", [-3])]}
    assert json.loads(html_data.embed_json(data)) == {"a": [1, 2], "b": data["b"], "c": [[-3]]}
    with pytest.raises(TypeError, match="not JSON serializable"):
        html_data.embed_json({"x": object()})
