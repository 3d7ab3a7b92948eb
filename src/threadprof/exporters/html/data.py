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
* ``processes`` lists a process tree's processes (``pid``, ``ppid``,
  ``argv``, ``start``, ``end``, ``status``, ``recorded``; empty for one
  process); each thread's ``name`` then ends with its ``pid``.
* ``threads`` holds each thread's facts (``calls`` and ``pid`` among them), its ``view``,
  its ``timeline`` (:mod:`.lanes`), or ``None``, and, when it has any, its
  ``slow_steps`` of tasks: ``count``, ``least`` (the snapshot's
  ``slow_step``) and the :data:`SLOW_STEPS_SHOWN` ``longest``, each
  ``[start, duration, coroutine, where, where_own, task name or None]``;
  and, when it ran asyncio tasks, ``task_count`` and ``tasks``, its lanes of
  tasks (:data:`TASK_LANES` at most: ``name``, ``tasks``, ``depth``,
  ``first``, ``last``, ``wall``, ``cpu``, ``await``, ``steps``, ``spans``
  and a ``view``); ``horizon`` is the end
  of the page's time axis (the latest end of a thread or a timeline call),
  ``nodes`` the number of call-tree nodes, ``timeline_quantum`` the lanes'
  merge quantum.
* Beyond :data:`NODE_BUDGET` call-tree nodes over all views the report
  degrades by design rather than growing without bound: each view keeps its
  share of the budget (at least :data:`VIEW_FLOOR` nodes), its hottest nodes
  by inclusive wall time, and the subtrees left out under a kept node become
  one leaf of it, the function ``[cold call paths]``, holding their calls and
  their inclusive times as its own, so that every total still adds up;
  ``folded`` counts the nodes left out. The function and caller/callee
  tables are computed from the whole trees, exact.
* ``groups`` holds the thread groups of :func:`threadprof.model.threads_by_key`
  (``worker-12`` -> ``worker-*``) with their members (thread indices) and
  totals; a thread's ``group`` indexes it. ``merged`` holds the views of all
  threads (``"all"``) and of each group of two threads or more (``"g:<i>"``);
  a view that would repeat another is ``{"name", "view_of": key}``, that
  view under another name: the view of all threads of a profile of one
  thread (``"t:0"``), and of a group of every thread (``"all"``).
* ``contention`` (:mod:`threadprof.contention`): ``total``, the number of
  locks that made threads wait; ``locks``, the :data:`CONTENTION_LOCKS` that
  made them wait longest (``name``, ``waits``, ``wait``, ``max_wait``,
  ``holds``, ``hold``, ``max_hold``, in ticks); ``edges``, the
  :data:`CONTENTION_EDGES` heaviest blockers of those, ``{lock, waiter,
  holder, how, weight}``, each side ``thread: code`` and ``how`` ``"held"``
  or ``"woke"``; ``pools`` (:mod:`threadprof.pools`), each ``{key,
  workers, wall, busy, blocked, idle, tasks, queued, underused}`` in ticks,
  ``tasks`` ``[min, mean, max]`` per worker or ``null``, ``queued`` and
  ``underused`` ``null`` when not known.

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
import os
import re
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ... import _core
from ..._record import replace
from ..._version import __version__
from ...contention import analyse, lock_name, site_name
from ...model import (
    COLUMN_FIELDS,
    Function,
    Node,
    Snapshot,
    TaskProfile,
    ThreadProfile,
    grouped_totals,
    merge_threads,
    task_lines,
    threads_by_key,
)
from ...pools import pools
from .lanes import TIMELINE_BUDGET, timelines

__all__ = [
    "DATA_VERSION",
    "EDGE_FIELDS",
    "FOLDED",
    "FUNCTION_FIELDS",
    "NODE_BUDGET",
    "NODE_FIELDS",
    "SLOW_STEPS_SHOWN",
    "TASK_LANES",
    "TASK_SPANS",
    "TIMELINE_BUDGET",
    "VIEW_FLOOR",
    "embed",
    "embed_json",
    "fold",
    "report_data",
]

#: The version of the embedded data's layout; the page checks it.
DATA_VERSION = 3

#: The most call-tree nodes that a report embeds over all its views before it
#: folds cold subtrees (about 40 bytes a node in the page, and the page's
#: memory and drawing time grow with them).
NODE_BUDGET = 300_000
#: The nodes a view keeps however small its share of the budget.
VIEW_FLOOR = 1_000
#: The function id of a node that stands for folded subtrees.
FOLDED = -2
_FOLDED_FUNCTION = Function(FOLDED, "python", "[cold call paths]", "[cold call paths]", "", 0)

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
#: The name of the view of all threads merged.
ALL_THREADS = "all threads"
#: The columns of a call tree that ``_core._page_view`` reads, in its order.
NODE_COLUMNS = COLUMN_FIELDS
#: The values per function in a view's ``functions`` array, in order.
FUNCTION_FIELDS = ("func", "calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")
#: The values per caller -> callee pair in a view's ``edges`` array, in order.
EDGE_FIELDS = ("caller", "callee", "calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")


class FunctionIndex:
    """The functions the report uses, interned and renumbered in order of first use.

    ``map`` holds the page index of function ``f`` at ``f + 2`` (-1: none
    yet), for the C loops (``_core._page_view``), for the ids up to ``top``;
    :meth:`added` takes the functions they numbered."""

    def __init__(self, functions: Iterable[Function], top: int = -1) -> None:
        self._by_id = {f.id: f for f in functions}
        self.index: dict[int, int] = {}
        self.files: dict[str, int] = {}
        self.flat: list[Any] = []
        self.map = array("q", [-1]) * (max(top, *self._by_id, -1) - FOLDED + 1)

    def __call__(self, fid: int) -> int:
        idx = self.index.get(fid)
        if idx is None:
            idx = self._add(fid)
            if 0 <= fid - FOLDED < len(self.map):
                self.map[fid - FOLDED] = idx
        return idx

    def added(self, fids: bytes) -> None:
        """Take the functions that a C loop gave the next indices, in order."""
        for fid in array("q", fids):
            self._add(fid)

    def _add(self, fid: int) -> int:
        func = self._by_id.get(fid, _FOLDED_FUNCTION if fid == FOLDED else None)
        if func is None:  # a tree that names an unknown function: show its id
            func = Function(fid, "python", f"<function {fid}>", f"<function {fid}>", "?", 0)
        idx = self.index[fid] = len(self.index)
        file_idx = self.files.setdefault(func.filename, len(self.files))
        if func.kind == "c":
            self.flat += [1, func.display, file_idx, func.lineno]
        else:
            self.flat += [0, func.qualname, file_idx, func.lineno]
        return idx


#: The slow steps of tasks a thread's details list, the longest first.
SLOW_STEPS_SHOWN = 10
#: The most lanes of asyncio tasks under a thread (the first ones, in the
#: order of the tasks table).
TASK_LANES = 200
#: The most steps a task's lane draws (the first ones).
TASK_SPANS = 5_000


def _task_lanes(thread: ThreadProfile) -> list[tuple[list[TaskProfile], int, str]]:
    """The lanes of a thread's tasks: ``(tasks, depth, label)`` as the tasks
    table has them (each under the task that made it, grouped by name
    pattern), at most :data:`TASK_LANES`."""
    lines = task_lines(thread.tasks)
    if len(lines) > TASK_LANES:
        lines = task_lines(thread.tasks, 2)
    out = []
    for group, depth in lines[:TASK_LANES]:
        members = [t for t in group.threads if isinstance(t, TaskProfile)]
        label = members[0].name if len(members) == 1 else f"{group.key} ({len(members)} tasks)"
        out.append((members, depth, label))
    return out


def _slow_steps(snapshot: Snapshot, t: ThreadProfile, funcs: FunctionIndex) -> dict[str, Any]:
    """A thread's slow steps of tasks for its details: how many, the least
    duration listed, and the longest as ``[start, duration, coroutine, where,
    where_own, task]`` (functions by page index; the task's name, or
    ``None``)."""
    longest = sorted(t.slow_steps, key=lambda s: -s.duration)[:SLOW_STEPS_SHOWN]
    names = {task.id: task.name for task in t.tasks}
    return {
        "count": len(t.slow_steps),
        "least": snapshot.slow_step,
        "longest": [
            [
                s.start,
                s.duration,
                funcs(t.path(s.node)[-1]),
                funcs(t.path(s.where)[-1]),
                s.where_own,
                names.get(s.task),
            ]
            for s in longest
        ],
    }


class _Tables:
    """The function and edge tables of a selection of threads, as the rows of
    :func:`~threadprof.model.grouped_totals` (each function its own group):
    ``[func, calls, prim_calls, wall, wall_self, cpu, cpu_self]`` and
    ``[caller, callee, calls, ...]`` flat, in order of function id."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        used = [array("q", t.tree_flat(("func",))) for t in snapshot.threads]
        self.top = max([len(snapshot.functions) - 1, *(max(f) for f in used if f)])
        self.group = array("q", range(self.top + 1))  # every function its own group

    def of(
        self, threads: list[ThreadProfile], funcs: FunctionIndex
    ) -> tuple[Sequence[int], Sequence[int]]:
        """The flat ``functions`` and ``edges`` arrays of a view, function ids
        made the page's indices (``funcs``)."""
        tables = []
        for edges in (False, True):
            rows = grouped_totals(self.snapshot, threads, self.group, edges)
            if not isinstance(rows, list):  # int64 rows
                flat, added = _core._page_table(rows, edges, funcs.map, len(funcs.index))
                funcs.added(added)
                tables.append(memoryview(flat).cast("q"))
                continue
            # sums beyond 64 bits (a model built by hand): Python's ints
            keys = rows[0::8]
            ids = [map(funcs, [k >> 32 for k in keys])] if edges else []
            ids.append(map(funcs, [k & 0xFFFFFFFF for k in keys] if edges else keys))
            tables.append(_interleave([*ids, *(rows[j::8] for j in range(2, 8))]))
        return tables[0], tables[1]


def _interleave(columns: list[Iterable[int]]) -> list[int]:
    """The items of ``columns`` row by row: ``[a0, b0, c0, a1, b1, c1...]``."""
    width = len(columns)
    out: list[int] = []
    for j, column in enumerate(columns):
        values = list(column)
        if j == 0:
            out = [0] * (len(values) * width)
        out[j::width] = values
    return out


def fold(nodes: list[Node], keep: int) -> tuple[list[Node], int]:
    """``nodes`` (a call tree indexed by id, every parent before its children)
    with at most ``keep`` nodes below the root: its hottest by inclusive wall
    time, ties to the earlier node. The subtrees left out under a kept node
    become one leaf of it, function :data:`FOLDED`, that holds their calls
    and their inclusive times as its own. Returns the tree and the number of
    nodes left out (0: ``nodes`` itself)."""
    n = len(nodes)
    if n - 1 <= keep:
        return nodes, 0
    walls = sorted([node.wall for node in nodes[1:]], reverse=True)
    threshold = walls[keep - 1] if keep > 0 else walls[0] + 1
    room = walls[:keep].count(threshold)  # nodes at the threshold that fit
    new_id = [-1] * n
    new_id[0] = 0
    out = [Node(0, -1, nodes[0].func, *_values(nodes[0]))]
    folds: dict[int, Node] = {}  # kept parent (new id) -> its fold
    for node in nodes[1:]:
        parent = new_id[node.parent]
        if parent < 0:
            continue  # inside a folded subtree: counted with its top
        wall = node.wall
        if wall > threshold or (wall == threshold and room > 0):
            room -= wall == threshold
            new_id[node.id] = len(out)
            out.append(Node(len(out), parent, node.func, *_values(node)))
            out[parent].children.append(len(out) - 1)
            continue
        f = folds.get(parent)
        if f is None:
            f = folds[parent] = Node(-1, parent, FOLDED)
        f.calls += node.calls
        f.prim_calls += node.prim_calls
        f.wall += node.wall
        f.wall_self += node.wall
        f.cpu += node.cpu
        f.cpu_self += node.cpu
    for parent, f in folds.items():
        f.id = len(out)
        out.append(f)
        out[parent].children.append(f.id)
    return out, n - 1 - (len(out) - 1 - len(folds))


def _values(node: Node) -> tuple[int, int, int, int, int, int]:
    return node.calls, node.prim_calls, node.wall, node.wall_self, node.cpu, node.cpu_self


def _view(
    tables: _Tables,
    name: str,
    tree: ThreadProfile,
    threads: list[ThreadProfile],
    funcs: FunctionIndex,
    keep: int,
) -> dict[str, Any]:
    """The flame graph's tree and the function and edge tables of ``threads``,
    whose call tree (merged if more than one) is ``tree``, folded to at most
    ``keep`` nodes (:func:`fold`)."""
    nodes, folded, root = _c_view(tree, funcs, keep) or _py_view(tree, funcs, keep)
    functions, edges = tables.of(threads, funcs)
    return {
        "name": name,
        "root": root,
        "nodes": nodes,
        "functions": functions,
        "edges": edges,
        "folded": folded,
    }


def _py_view(
    tree: ThreadProfile, funcs: FunctionIndex, keep: int
) -> tuple[list[int], int, list[int]]:
    """A view's ``nodes`` array, the nodes folded and the root's values, from
    the tree's node objects (in their children's order), in Python's integers:
    a model built by hand can hold values beyond 64 bits."""
    folded_nodes, folded = fold(tree.nodes, keep)
    if folded:
        tree = replace(tree, nodes=folded_nodes)
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
    root = tree.root
    return nodes, folded, [root.wall, root.wall_self, root.cpu, root.cpu_self]


def _c_view(
    tree: ThreadProfile, funcs: FunctionIndex, keep: int
) -> tuple[Sequence[int], int, list[int]] | None:
    """:func:`_py_view` in C (``_core._page_view``), children taken in index
    order (as a tree held as columns has them, and the node objects made from
    it); ``None`` for a tree of values beyond 64 bits."""
    try:
        flat = tree.tree_flat(NODE_COLUMNS)
        nodes, folded, added = _core._page_view(flat, keep, funcs.map, len(funcs.index))
    except (OverflowError, TypeError):
        return None
    funcs.added(added)
    columns = memoryview(flat).cast("q")
    n = len(columns) // len(NODE_COLUMNS)
    root = [
        columns[NODE_COLUMNS.index(name) * n] for name in ("wall", "wall_self", "cpu", "cpu_self")
    ]
    return memoryview(nodes).cast("q"), folded, root


def _task_lane(
    tables: _Tables,
    members: list[TaskProfile],
    depth: int,
    label: str,
    funcs: FunctionIndex,
    share: Callable[[int], int],
) -> dict[str, Any]:
    """A lane of tasks: their totals, the spans of a lone task's steps, and
    the view of their trees merged."""
    tree = members[0] if len(members) == 1 else merge_threads(members, label)
    spans = members[0].step_spans[:TASK_SPANS] if len(members) == 1 else []
    return {
        "name": label,
        "tasks": len(members),
        "depth": depth,
        "first": min(t.first_seen for t in members),
        "last": max(t.last_seen for t in members),
        "wall": sum(t.wall_time for t in members),
        "cpu": sum(t.cpu_time for t in members),
        "await": sum(t.await_time for t in members),
        "steps": sum(t.steps for t in members),
        "spans": [x for span in spans for x in span],
        "view": _view(tables, label, tree, members, funcs, share(tree.tree_size - 1)),
    }


#: The locks and the blockers the page shows, the most waited for first.
CONTENTION_LOCKS = 50
CONTENTION_EDGES = 100


def _contention(snapshot: Snapshot) -> dict[str, Any]:
    """The page's contention data (docs/contention.md): the pools of worker
    threads, the locks that made threads wait, and who made whom wait, each
    side named ``thread: code``."""
    locks = [lock for lock in analyse(snapshot).locks if lock.wait_time > 0]
    shown = locks[:CONTENTION_LOCKS]

    def side(thread: int, node: int) -> str:
        site = site_name(snapshot, thread, node) or "(the standard library)"
        return f"{snapshot.threads[thread].name}: {site}"

    edges = [(i, b) for i, lock in enumerate(shown) for b in lock.blockers if b.weight > 0]
    edges.sort(key=lambda e: -e[1].weight)
    return {
        "total": len(locks),
        "locks": [
            {
                "name": lock_name(snapshot, lock),
                "waits": lock.waits,
                "wait": lock.wait_time,
                "max_wait": lock.max_wait,
                "holds": lock.holds,
                "hold": lock.hold_time,
                "max_hold": lock.max_hold,
            }
            for lock in shown
        ],
        "edges": [
            {
                "lock": i,
                "waiter": side(b.waiter, b.waiter_site),
                "holder": side(b.holder, b.holder_site),
                "how": b.how,
                "weight": b.weight,
            }
            for i, b in edges[:CONTENTION_EDGES]
        ],
        "pools": [
            {
                "key": p.key,
                "workers": len(p.threads),
                "wall": p.wall,
                "busy": p.busy,
                "blocked": p.blocked,
                "idle": p.idle,
                "tasks": [min(p.tasks), sum(p.tasks) / len(p.tasks), max(p.tasks)]
                if p.tasks
                else None,
                "queued": p.queued,
                "underused": p.underused,
            }
            for p in pools(snapshot)
        ],
    }


def report_data(
    snapshot: Snapshot,
    *,
    timeline_budget: int = TIMELINE_BUDGET,
    node_budget: int | None = None,
) -> dict[str, Any]:
    """The JSON document that the page embeds (see the module docstring);
    ``node_budget`` is :data:`NODE_BUDGET` unless given."""
    if node_budget is None:
        node_budget = NODE_BUDGET
    tables = _Tables(snapshot)
    funcs = FunctionIndex(snapshot.functions, tables.top)
    total = sum(t.tree_size - 1 for t in snapshot.threads)
    groups = threads_by_key(snapshot.threads)
    everyone = len(snapshot.threads)
    merged_views = [g.threads for g in groups if everyone > len(g.threads) > 1]
    # every node is in its thread's view, in the view of all threads (unless
    # that is the thread's) and in at most one group's (unless that is all
    # threads): each view gets the budget in proportion to its size
    shown = (2 if everyone > 1 else 1) * total
    shown += sum(t.tree_size - 1 for ts in merged_views for t in ts)

    def share(nodes: int) -> int:
        if shown <= node_budget:
            return nodes
        return max(VIEW_FLOOR, nodes * node_budget // shown)

    lanes_of = {id(t): _task_lanes(t) for t in snapshot.threads if t.tasks}
    shown += sum(
        task.tree_size - 1
        for lanes in lanes_of.values()
        for members, _depth, _label in lanes
        for task in members
    )
    index = {id(t): i for i, t in enumerate(snapshot.threads)}
    group_of = {id(t): gi for gi, g in enumerate(groups) for t in g.threads}
    threads: list[dict[str, Any]] = []
    for t in snapshot.threads:
        title = snapshot.thread_title(t)
        threads.append(
            {
                "name": title,
                "pid": snapshot.pid_of(t),
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
                "view": _view(tables, title, t, [t], funcs, share(t.tree_size - 1)),
                "timeline": None,
            }
        )
        if t.slow_steps:
            threads[-1]["slow_steps"] = _slow_steps(snapshot, t, funcs)
        if t.tasks:
            threads[-1]["tasks"] = [
                _task_lane(tables, members, depth, label, funcs, share)
                for members, depth, label in lanes_of[id(t)]
            ]
            threads[-1]["task_count"] = len(t.tasks)
    merged: dict[str, dict[str, Any]] = {}
    if len(snapshot.threads) == 1:  # all threads are that thread: its view
        merged["all"] = {"name": ALL_THREADS, "view_of": "t:0"}
    else:
        everything = merge_threads(snapshot.threads, ALL_THREADS)
        merged["all"] = _view(
            tables, everything.name, everything, snapshot.threads, funcs, share(total)
        )
    for gi, g in enumerate(groups):
        if len(g.threads) > 1:
            name = f"{g.key} ({len(g.threads)} threads)"
            if len(g.threads) == len(snapshot.threads):  # all of them: the same view
                merged[f"g:{gi}"] = {"name": name, "view_of": "all"}
                continue
            tree = merge_threads(g.threads, name)
            keep = share(sum(t.tree_size - 1 for t in g.threads))
            merged[f"g:{gi}"] = _view(tables, tree.name, tree, g.threads, funcs, keep)
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
        "processes": [
            {
                "pid": p.pid,
                "ppid": p.ppid,
                "argv": list(p.argv),
                "start": p.start,
                "end": p.end,
                "status": p.status,
                "recorded": p.recorded,
            }
            for p in snapshot.processes
        ],
        "warnings": list(snapshot.warnings),
        "timeline_quantum": q,
        "nodes": total,
        "folded": sum(
            v["folded"] if "view_of" not in v else 0
            for v in [*(t["view"] for t in threads), *merged.values()]
        ),
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
        "contention": _contention(snapshot),
    }


def _json_pieces(data: Any) -> Iterator[str]:
    """:func:`embed_json`'s text in pieces: the int64 arrays of ``data``
    (``array`` or ``memoryview``, as the C loops give them) are written by
    ``_core._json_ints`` where ``json`` leaves a placeholder for each."""
    arrays: list[array | memoryview] = []
    nonce = os.urandom(8).hex()  # no text of the profile holds it

    def stash(obj: object) -> str:
        if not isinstance(obj, (array, memoryview)):
            raise TypeError(f"{type(obj).__name__} is not JSON serializable")
        arrays.append(obj)
        return f"\0{nonce}:{len(arrays) - 1}"

    text = json.dumps(
        data, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=stash
    )
    pieces = re.split(rf'"\\u0000{nonce}:(\d+)"', text)
    for i, piece in enumerate(pieces):
        if i % 2:
            yield _core._json_ints(arrays[int(piece)]).decode("ascii")
        else:
            yield piece.replace("<", "\\u003c")


def embed_json(data: Any) -> str:
    """``data`` as JSON text that is safe inside a ``<script>`` element."""
    return "".join(_json_pieces(data))


def embed(data: Any) -> str:
    """``data`` as the page embeds it: :func:`embed_json`, raw deflate, base64."""
    deflate = zlib.compressobj(1, zlib.DEFLATED, -15)  # level 1: 6x faster than 6, 10 % larger
    packed = [deflate.compress(piece.encode("ascii")) for piece in _json_pieces(data)]
    packed.append(deflate.flush())
    return base64.b64encode(b"".join(packed)).decode("ascii")
