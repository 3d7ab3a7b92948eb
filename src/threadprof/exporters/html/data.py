# SPDX-License-Identifier: MIT
"""The HTML report's data: the model, computed once, as one JSON document.

The page computes nothing that the model computes: every tree, primitive call
count, function table and caller/callee table that it shows is derived here,
by :mod:`threadprof.model`, and embedded. The page decodes, sorts, filters by
search and draws. :func:`report_data` builds the document; it is made to be
small and quick to parse, so that a profile of 100,000 call-tree nodes on
1,000 threads stays responsive:

* ``files`` interns file names; ``funcs`` is a flat array of
  ``kind, label, file, line`` per function (kind 0 Python, 1 C; the label is
  the qualified name, or pstats' label of a C function), holding only the
  functions that the data uses, renumbered densely in order of first use.
* A *view* is what the flame graph and the function table show for one
  selection (a thread, a group of threads merged, or all threads merged):
  ``name``; ``root``, the virtual root's ``wall, wall_self, cpu, cpu_self``;
  ``nodes``, a flat integer array of :data:`NODE_FIELDS` per call-tree node
  in depth-first pre-order (the root left out), a node's parent given as the
  distance back to it so that the numbers stay small; ``functions``,
  :data:`FUNCTION_FIELDS` per function (:meth:`Snapshot.function_stats`), and
  ``edges``, :data:`EDGE_FIELDS` per caller -> callee pair
  (:meth:`Snapshot.edge_stats`).
* ``threads`` holds each thread's facts (``calls`` among them), its ``view``
  and its ``timeline`` (:mod:`.lanes`), or ``None``; ``horizon`` is the end
  of the page's time axis (the latest end of a thread or a timeline call),
  ``nodes`` the number of call-tree nodes, ``timeline_quantum`` the lanes'
  merge quantum.
* ``groups`` holds the thread groups of :func:`threadprof.model.threads_by_key`
  (``worker-12`` -> ``worker-*``) with their members (thread indices) and
  totals; a thread's ``group`` indexes it. ``merged`` holds the views of all
  threads (``"all"``) and of each group of two threads or more (``"g:<i>"``).

Embedding: :func:`embed_json` writes the document as ASCII JSON (every other
character a ``\\u`` escape, every ``<`` written ``\\u003c``); :func:`embed`
compresses that text (raw deflate) and writes it in base64, which the page
inflates with the browser's ``DecompressionStream``. The data is mostly
integers that repeat, so it shrinks about sixfold, and base64 holds no
character that could end the script element.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable
from typing import Any

from ..._version import __version__
from ...model import (
    EdgeStats,
    Function,
    FunctionStats,
    Snapshot,
    ThreadProfile,
    combine,
    merge_threads,
    thread_edge_stats,
    thread_function_stats,
    threads_by_key,
)
from .lanes import TIMELINE_BUDGET, timelines

__all__ = [
    "DATA_VERSION",
    "EDGE_FIELDS",
    "FUNCTION_FIELDS",
    "NODE_FIELDS",
    "TIMELINE_BUDGET",
    "embed",
    "embed_json",
    "report_data",
]

#: The version of the embedded data's layout; the page checks it.
DATA_VERSION = 2

#: The values per node in a view's ``nodes`` array, in order.
NODE_FIELDS = (
    "parent_back",
    "func",
    "calls",
    "prim_calls",
    "wall",
    "wall_self",
    "cpu",
    "cpu_self",
)
#: The values per function in a view's ``functions`` array, in order.
FUNCTION_FIELDS = ("func", "calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")
#: The values per caller -> callee pair in a view's ``edges`` array, in order.
EDGE_FIELDS = ("caller", "callee", "calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")


class FunctionIndex:
    """The functions the report uses, interned and renumbered in order of first use."""

    def __init__(self, functions: Iterable[Function]) -> None:
        self._by_id = {f.id: f for f in functions}
        self.index: dict[int, int] = {}
        self.files: dict[str, int] = {}
        self.flat: list[Any] = []

    def __call__(self, fid: int) -> int:
        idx = self.index.get(fid)
        if idx is None:
            func = self._by_id.get(fid)
            if func is None:  # a tree that names an unknown function: show its id
                func = Function(fid, "python", f"<function {fid}>", f"<function {fid}>", "?", 0)
            idx = self.index[fid] = len(self.index)
            file_idx = self.files.setdefault(func.filename, len(self.files))
            if func.kind == "c":
                self.flat += [1, func.display, file_idx, func.lineno]
            else:
                self.flat += [0, func.qualname, file_idx, func.lineno]
        return idx


class _Tables:
    """Each thread's function and edge tables, computed once, summed for a selection."""

    def __init__(self, threads: list[ThreadProfile]) -> None:
        self.functions = {id(t): thread_function_stats(t) for t in threads}
        self.edges = {id(t): thread_edge_stats(t) for t in threads}

    def of(
        self, threads: list[ThreadProfile]
    ) -> tuple[dict[int, FunctionStats], dict[tuple[int, int], EdgeStats]]:
        if len(threads) == 1:
            return self.functions[id(threads[0])], self.edges[id(threads[0])]
        return (
            combine(self.functions[id(t)] for t in threads),
            combine(self.edges[id(t)] for t in threads),
        )


def _view(
    tables: _Tables,
    name: str,
    tree: ThreadProfile,
    threads: list[ThreadProfile],
    funcs: FunctionIndex,
) -> dict[str, Any]:
    """The flame graph's tree and the function and edge tables of ``threads``,
    whose call tree (merged if more than one) is ``tree``."""
    nodes: list[int] = []
    add = nodes.extend
    index = funcs.index
    order = [0] * len(tree.nodes)  # node id -> pre-order index (the root 0)
    here = 0
    for node, _depth in tree.walk():
        here += 1
        order[node.id] = here
        fid = node.func
        add(
            (
                here - order[node.parent],
                index[fid] if fid in index else funcs(fid),
                node.calls,
                node.prim_calls,
                node.wall,
                node.wall_self,
                node.cpu,
                node.cpu_self,
            )
        )
    function_stats, edge_stats = tables.of(threads)
    functions: list[int] = []
    for fid, s in sorted(function_stats.items()):
        functions += (funcs(fid), s.calls, s.prim_calls, s.wall, s.wall_self, s.cpu, s.cpu_self)
    edges: list[int] = []
    for (caller, callee), e in sorted(edge_stats.items()):
        edges += (
            funcs(caller),
            funcs(callee),
            e.calls,
            e.prim_calls,
            e.wall,
            e.wall_self,
            e.cpu,
            e.cpu_self,
        )
    root = tree.root
    return {
        "name": name,
        "root": [root.wall, root.wall_self, root.cpu, root.cpu_self],
        "nodes": nodes,
        "functions": functions,
        "edges": edges,
    }


def report_data(snapshot: Snapshot, *, timeline_budget: int = TIMELINE_BUDGET) -> dict[str, Any]:
    """The JSON document that the page embeds (see the module docstring)."""
    funcs = FunctionIndex(snapshot.functions)
    tables = _Tables(snapshot.threads)
    index = {id(t): i for i, t in enumerate(snapshot.threads)}
    groups = threads_by_key(snapshot.threads)
    group_of = {id(t): gi for gi, g in enumerate(groups) for t in g.threads}
    threads: list[dict[str, Any]] = []
    for t in snapshot.threads:
        threads.append(
            {
                "name": t.name,
                "serial": t.serial,
                "ident": t.ident,
                "native_id": t.native_id,
                "first": t.first_seen,
                "last": t.last_seen,
                "wall": t.wall_time,
                "cpu": t.cpu_time,
                "calls": t.calls,
                "group": group_of[id(t)],
                "warnings": list(t.warnings),
                "view": _view(tables, t.name, t, [t], funcs),
                "timeline": None,
            }
        )
    everything = merge_threads(snapshot.threads)
    merged = {"all": _view(tables, everything.name, everything, snapshot.threads, funcs)}
    for gi, g in enumerate(groups):
        if len(g.threads) > 1:
            tree = merge_threads(g.threads, f"{g.key} ({len(g.threads)} threads)")
            merged[f"g:{gi}"] = _view(tables, tree.name, tree, g.threads, funcs)
    embedded, q, ends = timelines(snapshot.threads, funcs, timeline_budget)
    for entry, timeline in zip(threads, embedded, strict=True):
        entry["timeline"] = timeline
    horizon = max([1, snapshot.duration, ends, *(t.last_seen for t in snapshot.threads)])
    return {
        "version": DATA_VERSION,
        "generator": f"threadprof {__version__}",
        "clock": snapshot.clock,
        "unit": snapshot.unit,
        "cpu_mode": snapshot.cpu_mode,
        "engine": snapshot.engine,
        "start_time": snapshot.start_time,
        "duration": snapshot.duration,
        "horizon": horizon,
        "python_version": snapshot.python_version,
        "argv": list(snapshot.argv),
        "warnings": list(snapshot.warnings),
        "timeline_quantum": q,
        "nodes": sum(len(t.nodes) - 1 for t in snapshot.threads),
        "files": list(funcs.files),
        "funcs": funcs.flat,
        "groups": [
            {
                "pattern": g.key,
                "members": [index[id(t)] for t in g.threads],
                "wall": g.wall_time,
                "cpu": g.cpu_time,
                "first": g.first_seen,
                "last": g.last_seen,
            }
            for g in groups
        ],
        "threads": threads,
        "merged": merged,
    }


def embed_json(data: Any) -> str:
    """``data`` as JSON text that is safe inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")


def embed(data: Any) -> str:
    """``data`` as the page embeds it: :func:`embed_json`, raw deflate, base64."""
    deflate = zlib.compressobj(1, zlib.DEFLATED, -15)  # level 1: 6x faster than 6, 10 % larger
    packed = deflate.compress(embed_json(data).encode("ascii")) + deflate.flush()
    return base64.b64encode(packed).decode("ascii")
