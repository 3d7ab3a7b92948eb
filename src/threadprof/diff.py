# SPDX-License-Identifier: MIT
"""Two profiles compared (``threadprof diff``): the change in calls and in
wall, CPU and off-CPU time, per function, per call path and per thread.

:func:`compare` takes the two profiles as read (a
:class:`~threadprof.model.Snapshot`, whose call trees may have been read as
columns only, or a :class:`~threadprof.readers.PstatsInput`) and returns a
:class:`Diff`. The views (:mod:`threadprof.diffreport`, the HTML page) and
the gates (:mod:`threadprof.gates`) read that; nothing here formats.

How the two are matched:

* Functions by their pstats key ``(file, line, name)``, as cProfile and
  pstats know them, so that a ``.tprof`` file compares with a pstats file.
  Their totals follow cProfile's rules: ``calls`` all calls,
  ``prim_calls`` those not recursive, own time exclusive, total time over
  the outermost activations only.
* Call paths by the functions' keys from the thread's root, merged over all
  threads (the HTML report's "all threads" tree). A pstats file has no call
  paths and no threads: a diff with one has functions only.
* Threads by name, the n-th thread of a name in one profile with the n-th of
  that name in the other, in order of first sight.

Every time is in integer nanoseconds, whatever the unit of the files' ticks.
A profile is read by one pass over its call-tree columns, so a profile of a
million nodes costs eight arrays of a million integers while it is read and
one more array per total; :func:`compare` reads the second profile only
after the first one's trees have been summed (it takes loaders for that).
"""

from __future__ import annotations

import heapq
import operator
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import compress
from typing import Literal

from .model import Function, NodeColumns, PstatsKey, Snapshot, add_totals
from .readers import PstatsInput

__all__ = [
    "METRICS",
    "TIME_METRICS",
    "Change",
    "Diff",
    "PathTable",
    "Side",
    "compare",
]

Profile = Snapshot | PstatsInput
Loader = Callable[[], Profile]

#: What a row can be compared by: calls, and each time total (``wall``,
#: ``cpu``, ``offcpu``: inclusive) or own (``*_self``: exclusive).
METRICS: dict[str, str] = {
    "calls": "calls",
    "wall": "total wall time",
    "wall_self": "own wall time",
    "cpu": "total CPU time",
    "cpu_self": "own CPU time",
    "offcpu": "total off-CPU time",
    "offcpu_self": "own off-CPU time",
}
TIME_METRICS = tuple(m for m in METRICS if m != "calls")
Metric = Literal["calls", "wall", "wall_self", "cpu", "cpu_self", "offcpu", "offcpu_self"]


@dataclass(slots=True)
class Side:
    """One profile's totals of a row (times in nanoseconds)."""

    calls: int = 0
    prim_calls: int = 0
    wall: int = 0
    wall_self: int = 0
    cpu: int = 0
    cpu_self: int = 0

    def get(self, metric: str) -> int:
        """The value of ``metric`` (see :data:`METRICS`)."""
        if metric == "offcpu":
            return self.wall - self.cpu
        if metric == "offcpu_self":
            return self.wall_self - self.cpu_self
        return int(getattr(self, metric))


@dataclass(slots=True)
class Change:
    """A row in both profiles: a function, a call path, a thread or the
    whole profile. ``before``/``after`` is ``None`` where it is absent."""

    kind: Literal["total", "function", "path", "thread"]
    label: str
    before: Side | None
    after: Side | None
    #: the function (of a function row, or a path's last one)
    func: Function | None = None
    #: a path's functions from the root (a path row only)
    path: list[Function] = field(default_factory=list)

    def value(self, metric: str, which: Literal["before", "after"]) -> int:
        side = self.before if which == "before" else self.after
        return 0 if side is None else side.get(metric)

    def delta(self, metric: str) -> int:
        """``after - before`` (an absent side counts as zero)."""
        return self.value(metric, "after") - self.value(metric, "before")

    def relative(self, metric: str) -> float:
        """The change as a fraction of ``before``: ``inf`` (or ``-inf``)
        when it was zero and is not now, 0.0 when both are zero."""
        old = self.value(metric, "before")
        d = self.delta(metric)
        if old == 0:
            return 0.0 if d == 0 else float("inf") if d > 0 else float("-inf")
        return d / abs(old)

    @property
    def status(self) -> Literal["added", "removed", "both"]:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "both"


#: The per-path columns of one profile, in this order.
_PATH_FIELDS = ("calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")


class PathTable:
    """The call paths of both profiles, merged over threads, as columns.

    Path 0 is the root; path ``p`` is ``parent[p]``'s path and then the
    function ``funcs[func[p]]``. ``before``/``after`` hold the six totals of
    :data:`_PATH_FIELDS` per path, ``present`` says which profiles have it
    (bit 1 before, bit 2 after)."""

    def __init__(self, funcs: list[Function]) -> None:
        self.funcs = funcs
        self.parent = array("q", [-1])
        self.func = array("q", [-1])
        self.present = bytearray(b"\x03")
        self.outer = bytearray(b"\x00")  # the function is not already on the path
        #: per profile (bit), path -> (wall, cpu) to add to its function's
        #: total times: nodes of one path that ``outer`` is wrong for
        self.fix: dict[int, dict[int, tuple[int, int]]] = {1: {}, 2: {}}
        self.before = [array("q", [0]) for _ in _PATH_FIELDS]
        self.after = [array("q", [0]) for _ in _PATH_FIELDS]
        self.index: dict[int, int] = {}  # parent * _STRIDE + function -> path

    def __len__(self) -> int:
        return len(self.parent)

    def side(self, p: int, which: Literal["before", "after"]) -> Side | None:
        bit = 1 if which == "before" else 2
        if not self.present[p] & bit:
            return None
        cols = self.before if which == "before" else self.after
        return Side(*(c[p] for c in cols))

    def find(self, parent: int, func: int) -> int:
        """The path of function ``func`` (an index of ``funcs``) under path
        ``parent``; a ``KeyError`` if neither profile has it."""
        return self.index[parent * _STRIDE + func]

    def functions(self, p: int) -> list[Function]:
        """The functions of path ``p`` from the outermost."""
        out = []
        while p > 0:
            out.append(self.funcs[self.func[p]])
            p = self.parent[p]
        out.reverse()
        return out

    def change(self, p: int) -> Change:
        path = self.functions(p)
        return Change(
            "path",
            " > ".join(f.display for f in path),
            self.side(p, "before"),
            self.side(p, "after"),
            func=path[-1] if path else None,
            path=path,
        )

    def deltas(self, metric: str) -> list[int]:
        """Every path's ``after - before`` of ``metric`` (the root's is 0)."""
        if metric.startswith("offcpu"):
            suffix = metric[len("offcpu") :]
            wall, cpu = self.deltas("wall" + suffix), self.deltas("cpu" + suffix)
            return [w - c for w, c in zip(wall, cpu, strict=True)]
        i = _PATH_FIELDS.index(metric)
        out = [a - b for a, b in zip(self.after[i], self.before[i], strict=True)]
        out[0] = 0
        return out

    def top(self, metric: str, limit: int) -> list[Change]:
        """The ``limit`` paths of largest change in ``metric``, either way."""
        deltas = self.deltas(metric)
        best = heapq.nlargest(limit, range(1, len(deltas)), key=lambda p: (abs(deltas[p]), -p))
        return [self.change(p) for p in best if deltas[p]]


@dataclass(slots=True)
class Diff:
    """Two profiles compared (see the module's docstring)."""

    before_name: str
    after_name: str
    #: the whole profile: calls, the threads' wall and CPU times summed
    total: Change
    #: every function of either profile, in order of first sight
    functions: list[Change]
    #: the threads of both, matched; ``None`` when a pstats file has none
    threads: list[Change] | None
    #: the call paths of both; ``None`` when a pstats file has none
    paths: PathTable | None
    #: whether both profiles have CPU times
    has_cpu: bool
    #: the profiles' durations, nanoseconds from start to stop
    durations: tuple[int, int] = (0, 0)
    warnings: list[str] = field(default_factory=list)

    def top_functions(self, metric: str, limit: int | None = None) -> list[Change]:
        """The functions whose ``metric`` changed, by the size of the change."""
        rows = [c for c in self.functions if c.delta(metric)]
        rows.sort(key=lambda c: -abs(c.delta(metric)))
        return rows if limit is None else rows[:limit]


# -- reading one profile -------------------------------------------------------------


class _Keys:
    """The functions of both profiles, one per pstats key."""

    def __init__(self) -> None:
        self.index: dict[PstatsKey, int] = {}
        self.funcs: list[Function] = []

    def of(self, functions: list[Function]) -> list[int]:
        """Each function id's key index (a list indexed by id)."""
        ids = [0] * (max((f.id for f in functions), default=-1) + 1)
        for f in functions:
            k = self.index.get(f.pstats_key)
            if k is None:
                k = self.index[f.pstats_key] = len(self.funcs)
                self.funcs.append(f)
            ids[f.id] = k
        return ids


#: Paths are interned as ``parent * _STRIDE + function``: at most this many
#: functions in the two profiles together.
_STRIDE = 1 << 32


def _add_tree(table: PathTable, cols: NodeColumns, fkey: list[int], bit: int) -> int:
    """Sum one call tree into the paths of one profile (in its ticks); returns
    its calls.

    One loop finds each node's path. The paths a tree adds are numbered in
    the order of the nodes that made them, so those nodes' totals are copied
    in C (:func:`itertools.compress`); runs of nodes on consecutive paths are
    summed in C too (:func:`_add_runs`); only the other nodes are summed one by
    one."""
    setdefault = table.index.setdefault
    stride = _STRIDE
    pids = [0]
    append = pids.append
    first = nxt = len(table)
    new: list[int] = []  # the keys of the new paths, in order
    keyed = map(fkey.__getitem__, cols.func[1:])
    for parent, k in zip(cols.parent[1:], keyed, strict=True):
        key = pids[parent] * stride + k
        p = setdefault(key, nxt)
        if p == nxt:
            new.append(key)
            nxt += 1
        append(p)
    end = nxt
    acc = table.before if bit == 1 else table.after
    fields = [getattr(cols, name) for name in _PATH_FIELDS]
    if end > first:
        table.parent.extend([key // _STRIDE for key in new])
        table.func.extend([key % _STRIDE for key in new])
        grow = bytes(8 * (end - first))
        for col in table.after if bit == 1 else table.before:
            col.frombytes(grow)
        is_new = _creators(pids, first)
        for total, col in zip(acc, fields, strict=True):
            total.extend(compress(col, is_new))
        table.present.extend(bytes([bit]) * (end - first))
        # whether a new path's function is not on it already: cProfile's
        # primitive calls say so for a called node; for a frame that was
        # running when profiling began (no calls), its callers do
        calls = array("q", compress(cols.calls, is_new))
        prim = compress(cols.prim_calls, is_new)
        table.outer.extend(map(operator.eq, calls, prim))
        if calls.count(0):
            creators = compress(range(len(pids)), is_new)
            for p, c, node in zip(range(first, end), calls, creators, strict=True):
                if not c:
                    table.outer[p] = _running_outermost(cols, node)
        seen = bytearray(is_new.translate(_FLIP))
    else:
        seen = bytearray(b"\x01" * len(pids))
    if seen.count(1) >= _RUN:
        _add_runs(table, cols, fields, pids, seen, bit)
    present, outer = table.present, table.outer
    a_calls, a_prim, a_wall, a_wself, a_cpu, a_cself = acc
    rows = compress(zip(range(len(pids)), pids, *fields, strict=True), seen)
    for node, p, calls_, prim_, wall, wself, cpu, cself in rows:
        present[p] |= bit
        a_calls[p] += calls_
        a_prim[p] += prim_
        a_wall[p] += wall
        a_wself[p] += wself
        a_cpu[p] += cpu
        a_cself[p] += cself
        if p and (prim_ == calls_ if calls_ else _running_outermost(cols, node)) != outer[p]:
            _fix(table, bit, p, wall, cpu)
    return sum(cols.calls)


def _fix(table: PathTable, bit: int, p: int, wall: int, cpu: int) -> None:
    """A node of path ``p`` whose recursion ``outer[p]`` is wrong for: a path
    of two functions of one key (two lambdas of a line), only one of them on
    the stack already. Its function's total time is set right."""
    fix = table.fix[bit]
    sign = 1 if table.outer[p] == 0 else -1
    old = fix.get(p, (0, 0))
    fix[p] = (old[0] + sign * wall, old[1] + sign * cpu)


#: Nodes of consecutive paths that :func:`_add_runs` sums in C, at the least.
_RUN = 32
_OR = {bit: bytes(i | bit for i in range(256)) for bit in (1, 2)}


def _add_runs(
    table: PathTable,
    cols: NodeColumns,
    fields: list[array],
    pids: list[int],
    seen: bytearray,
    bit: int,
) -> None:
    """Sum the runs of seen nodes whose paths are consecutive (``pids[i + 1]
    == pids[i] + 1``) a run at a time, in C, and clear them in ``seen``.

    Two profiles of one program build their trees in the same order, so a
    tree of the second profile maps onto runs of the first's paths: this is
    most of its nodes, summed without a Python loop per node."""
    step = bytes(map((1).__eq__, map(operator.sub, pids[1:], pids[:-1])))
    both = bytes(map(operator.and_, seen[:-1], seen[1:]))
    ok = bytes(map(operator.and_, step, both))
    acc = table.before if bit == 1 else table.after
    present, outer = table.present, table.outer
    calls, prim, wall, cpu = cols.calls, cols.prim_calls, cols.wall, cols.cpu
    for m in re.finditer(rb"\x01{%d,}" % (_RUN - 1), ok):
        s, e = m.start(), m.end() + 1  # nodes s .. e - 1
        p0 = pids[s]
        p1 = p0 + (e - s)
        if 1 in present[p0:p1].translate(_HAS[bit]):
            for total, col in zip(acc, fields, strict=True):
                total[p0:p1] = array("q", map(operator.add, total[p0:p1], col[s:e]))
        else:  # the paths' first nodes in this profile: copied
            for total, col in zip(acc, fields, strict=True):
                total[p0:p1] = col[s:e]
        present[p0:p1] = present[p0:p1].translate(_OR[bit])
        flags = bytearray(map(operator.eq, calls[s:e], prim[s:e]))
        if calls[s:e].count(0):
            for i in range(e - s):
                if not calls[s + i]:
                    flags[i] = _running_outermost(cols, s + i)
        if flags != outer[p0:p1]:
            for i in range(e - s):
                if p0 + i and flags[i] != outer[p0 + i]:
                    _fix(table, bit, p0 + i, wall[s + i], cpu[s + i])
        seen[s:e] = bytes(e - s)


def _creators(pids: list[int], first: int) -> bytes:
    """1 for the node that made each path numbered from ``first`` (the first
    node of it: two functions of one key under one caller share a path), 0
    for the others."""
    out = bytearray(len(pids))
    want = first
    for node, p in enumerate(pids):
        if p == want:
            out[node] = 1
            want += 1
    return bytes(out)


_FLIP = bytes([1, 0]) + bytes(254)


def _running_outermost(cols: NodeColumns, node: int) -> bool:
    """Whether the function of ``node``, a frame without calls (running when
    profiling began), is not on the stack above it."""
    parent, func = cols.parent, cols.func
    f, up = func[node], parent[node]
    while up > 0:
        if func[up] == f:
            return False
        up = parent[up]
    return True


def _function_sides(table: PathTable, bit: int, nkeys: int) -> dict[int, Side]:
    """Each function's totals in one profile, from its paths (a path of the
    other profile only adds zeros)."""
    calls, prim, wall, wself, cpu, cself = (array("q", bytes(8 * nkeys)) for _ in range(6))
    p_calls, p_prim, p_wall, p_wself, p_cpu, p_cself = table.before if bit == 1 else table.after
    func = table.func
    rows = zip(func[1:], p_calls[1:], p_prim[1:], p_wself[1:], p_cself[1:], strict=True)
    for k, c, pc, ws, cs in rows:
        calls[k] += c
        prim[k] += pc
        wself[k] += ws
        cself[k] += cs
    outer = table.outer[1:]
    # the total time of the outermost activations only
    for k, w, c in compress(zip(func[1:], p_wall[1:], p_cpu[1:], strict=True), outer):
        wall[k] += w
        cpu[k] += c
    for p, (w, c) in table.fix[bit].items():
        wall[func[p]] += w
        cpu[func[p]] += c
    mine = table.present.translate(_HAS[bit])
    return {
        k: Side(calls[k], prim[k], wall[k], wself[k], cpu[k], cself[k])
        for k in sorted(set(compress(func[1:], mine[1:])))
    }


#: ``bytes.translate`` tables: a ``present`` byte -> 1 if it has the bit.
_HAS = {bit: bytes(1 if i & bit else 0 for i in range(256)) for bit in (1, 2)}


def _scale(unit: float) -> int:
    """The factor from ticks of ``unit`` seconds to nanoseconds."""
    factor = round(unit * 1e9)
    if factor < 1 or abs(factor - unit * 1e9) > 1e-6 * factor:
        raise ValueError(f"cannot compare times of a {unit:g} s tick in whole nanoseconds")
    return factor


@dataclass(slots=True)
class _Read:
    """What one profile contributes: function and thread totals, and facts."""

    functions: dict[int, Side]
    threads: list[tuple[str, Side]] | None
    total: Side
    has_cpu: bool
    duration: int
    warnings: list[str]


def _read_snapshot(
    snap: Snapshot, keys: _Keys, table: PathTable, bit: int, thread: str | None, drop: bool
) -> _Read:
    scale = _scale(snap.unit)
    fkey = keys.of(snap.functions)
    threads = snap.threads if thread is None else snap.select_threads(thread)
    rows: list[tuple[str, Side]] = []
    total = Side()
    for t in threads:
        calls = _add_tree(table, t.tree_columns(), fkey, bit)
        wall, cpu = t.wall_time * scale, t.cpu_time * scale
        side = Side(calls, 0, wall, wall, cpu, cpu)  # a thread's time is its own
        rows.append((t.name, side))
        add_totals(total, side)
        if drop:
            t.columns = None  # summed: the arrays can go
    if scale != 1:
        for col in (table.before if bit == 1 else table.after)[2:]:  # the times
            for p in range(len(col)):
                col[p] *= scale
        fix = table.fix[bit]
        for p, (w, c) in fix.items():
            fix[p] = (w * scale, c * scale)
    return _Read(
        _function_sides(table, bit, len(keys.funcs)),
        rows,
        total,
        snap.cpu_mode != "none",
        snap.duration * scale,
        list(snap.warnings),
    )


def _read_pstats(stats: PstatsInput, keys: _Keys) -> _Read:
    functions = [
        Function(i, "c" if (f, line) == ("~", 0) else "python", name, name, f, line)
        for i, (f, line, name) in enumerate(stats.stats)
    ]
    fkey = keys.of(functions)
    out: dict[int, Side] = {}
    total = Side()
    for i, (cc, nc, tt, ct, _callers) in enumerate(stats.stats.values()):
        wall, wself = round(ct * 1e9), round(tt * 1e9)
        out[fkey[i]] = Side(nc, cc, wall, wself)
        total.calls += nc
        total.wall += wself
    total.wall_self = total.wall
    return _Read(out, None, total, False, total.wall, [])


def _load(profile: Profile | Loader) -> Profile:
    return profile() if callable(profile) else profile


def compare(
    before: Profile | Loader,
    after: Profile | Loader,
    *,
    names: tuple[str, str] = ("before", "after"),
    thread: str | None = None,
) -> Diff:
    """Compare two profiles (see the module's docstring).

    Each may be given as a zero-argument function that reads it: the second
    is then read only once the first has been summed, and the columns of a
    snapshot it returns are dropped as they are summed. ``thread`` keeps only the threads
    whose ident or name matches it (a glob); a ``ValueError`` if it matches
    none in either profile. Two profiles whose ticks are not whole nanoseconds
    are a ``ValueError`` too.
    """
    keys = _Keys()
    table = PathTable(keys.funcs)
    reads: list[_Read] = []
    trees = True
    for bit, source in ((1, before), (2, after)):
        profile = _load(source)
        if isinstance(profile, PstatsInput):
            if thread is not None:
                raise ValueError(
                    f"{profile.path!r} is a pstats file, which has no threads: "
                    "--thread needs .tprof profiles"
                )
            trees = False
            reads.append(_read_pstats(profile, keys))
        else:
            reads.append(_read_snapshot(profile, keys, table, bit, thread, callable(source)))
        del profile
    a, b = reads
    if thread is not None and not (a.threads or b.threads):
        raise ValueError(f"no thread matches {thread!r} in either profile")
    functions = [
        Change("function", f.display, a.functions.get(k), b.functions.get(k), func=f)
        for k, f in enumerate(keys.funcs)
        if k in a.functions or k in b.functions
    ]
    threads = None
    if a.threads is not None and b.threads is not None:
        threads = list(_match_threads(a.threads, b.threads))
    warnings = [f"{names[0]}: {w}" for w in a.warnings] + [f"{names[1]}: {w}" for w in b.warnings]
    return Diff(
        before_name=names[0],
        after_name=names[1],
        total=Change("total", "all threads", a.total, b.total),
        functions=functions,
        threads=threads,
        paths=table if trees else None,
        has_cpu=a.has_cpu and b.has_cpu,
        durations=(a.duration, b.duration),
        warnings=warnings,
    )


def _match_threads(
    before: list[tuple[str, Side]], after: list[tuple[str, Side]]
) -> Iterator[Change]:
    """Threads paired by name, the n-th of a name with the n-th; the threads
    of ``after`` in their order, then those only ``before`` has."""
    waiting: dict[str, list[Side]] = {}
    for name, side in before:
        waiting.setdefault(name, []).append(side)
    for name, side in after:
        queue = waiting.get(name)
        yield Change("thread", name, queue.pop(0) if queue else None, side)
    for name, sides in waiting.items():
        for side in sides:
            yield Change("thread", name, side, None)
