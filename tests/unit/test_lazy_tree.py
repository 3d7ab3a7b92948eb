# SPDX-License-Identifier: MIT
"""Call trees held as columns until their node objects are needed: snapshots
and ``.tprof`` files give columns; totals, reports and the ``.tprof`` writer
read them; ``ThreadProfile.nodes`` makes the objects on first use."""

from __future__ import annotations

import io
import threading

import pytest

import threadprof
from threadprof import tprof
from threadprof.model import Node, NodeColumns, ThreadProfile, build_tree, replace
from threadprof.report import format_report


def _work(n: int) -> int:
    return sum(_leaf(i) for i in range(n))


def _leaf(i: int) -> int:
    return i * 2


def _rec(n: int) -> int:
    return n if n < 1 else _rec(n - 1)


@pytest.fixture
def snap():
    with threadprof.profile() as p:
        _work(50)
        _rec(5)
        t = threading.Thread(target=_work, args=(20,))
        t.start()
        t.join()
    return p.snapshot()


def _lazy(snapshot) -> list[bool]:
    return [t.columns is not None for t in snapshot.threads]


def test_snapshots_hold_columns_and_views_that_total_do_not_make_nodes(snap):
    assert all(_lazy(snap))
    sizes = [t.tree_size for t in snap.threads]
    stats = snap.function_stats()
    edges = snap.edge_stats()
    calls = [t.calls for t in snap.threads]
    report = format_report(snap, details=True)
    tprof.write(snap, io.BytesIO())
    assert all(_lazy(snap))  # none of that made a node object
    # the same numbers once the nodes exist
    for t in snap.threads:
        assert len(t.nodes) == t.tree_size and t.columns is None
    assert [len(t.nodes) for t in snap.threads] == sizes
    assert snap.function_stats() == stats and snap.edge_stats() == edges
    assert [t.calls for t in snap.threads] == calls
    assert format_report(snap, details=True) == report


def test_nodes_from_columns_are_the_model_s_own(snap):
    recs = []
    for t in snap.threads:
        columns = t.tree_columns()
        nodes = t.nodes
        # what the model's constructor and build_tree give for the same fields
        want = build_tree(
            [
                Node(
                    i,
                    *(getattr(columns, f)[i] for f in ("parent", "func", "calls")),
                    0,
                    *(getattr(columns, f)[i] for f in ("wall", "wall_self", "cpu", "cpu_self")),
                )
                for i in range(len(columns))
            ]
        )
        assert nodes == want
        # recursion: _rec's inner calls are not primitive (in the main thread)
        recs.append([n.prim_calls for n in nodes[1:] if snap.functions[n.func].name == "_rec"])
        assert t.tree_columns() == columns  # gathered back from the objects
    assert sorted(recs) == [[], [1, 0, 0, 0, 0, 0]]


def test_a_tree_is_nodes_or_columns(snap):
    t = snap.threads[0]
    args = (1, 2, 3, "t", 0, 1, 1, 1)
    with pytest.raises(ValueError, match="one of them"):
        ThreadProfile(*args, None)
    with pytest.raises(ValueError, match="one of them"):
        ThreadProfile(*args, [Node(0, -1, -1)], columns=t.tree_columns())
    released = ThreadProfile(*args, None, columns=NodeColumns.of_nodes([Node(0, -1, -1)]))
    released.columns = None  # as threadprof diff frees the arrays it has summed
    with pytest.raises(ValueError, match="released"):
        released.nodes  # noqa: B018


def test_replace_keeps_columns_unless_it_is_given_nodes(snap):
    t = snap.threads[0]
    renamed = replace(t, name="x")
    assert renamed.columns is t.columns and t.columns is not None
    rebuilt = replace(t, nodes=[Node(0, -1, -1)])
    assert rebuilt.columns is None and len(rebuilt.nodes) == 1
    # assigning nodes also replaces the columns
    renamed.nodes = [Node(0, -1, -1)]
    assert renamed.columns is None and renamed.tree_size == 1


def test_a_lazy_thread_equals_its_built_twin(snap):
    lazy = snap.threads[0]
    twin = replace(lazy)
    twin.nodes  # noqa: B018  (made: its columns are gone)
    assert twin.columns is None and lazy == twin


def test_tprof_files_read_lazily_unless_their_children_have_an_order(snap, tmp_path):
    path = tmp_path / "p.tprof"
    with open(path, "wb") as f:
        tprof.write(snap, f)
    back = tprof.read(path)
    assert all(_lazy(back))
    assert [t.nodes for t in back.threads] == [t.nodes for t in snap.threads]
    # children in an order of their own are written (KIDS) and read back as nodes
    t = snap.threads[0]
    parent = next(n for n in t.nodes if len(n.children) > 1)
    parent.children.reverse()
    with open(path, "wb") as f:
        tprof.write(snap, f)
    back = tprof.read(path)
    assert back.threads[0].columns is None
    assert back.threads[0].nodes[parent.id].children == parent.children
    assert tprof.read(path, columns=True).threads[0].columns is not None
