# SPDX-License-Identifier: MIT
"""The snapshot model: plain Python objects that every exporter and report reads.

A :class:`Snapshot` holds the profiled threads, each with its call tree. A call
tree node is (parent node, function); node 0 of every thread is a virtual root
whose ``func`` is ``-1``. Times are integer *ticks*; ``Snapshot.unit`` is the
length of one tick in seconds (``1e-9`` for the built-in clocks).

Everything else -- per-function totals, caller -> callee edges, primitive call
counts -- is derived from the trees here, with cProfile's rules for recursion:
a call is *primitive* when its function is not already on the stack, and a
function's cumulative time only counts its outermost activations.

Exporters and reports are written against this module only; they never touch the
C core, so they can be tested on snapshots built by hand.
"""

from __future__ import annotations

import fnmatch
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

FunctionKind = Literal["python", "c"]
ClockName = Literal["wall", "cpu", "user"]


@dataclass(frozen=True, slots=True)
class Function:
    """A profiled function.

    For Python functions ``filename``/``lineno`` are the code object's
    ``co_filename``/``co_firstlineno``, ``name`` its ``co_name`` and ``qualname``
    its ``co_qualname``. For C functions ``filename`` is ``"~"``, ``lineno`` is 0
    and ``name`` is cProfile's label, e.g. ``<built-in method builtins.len>``.
    """

    id: int
    kind: FunctionKind
    name: str
    qualname: str
    filename: str
    lineno: int

    @property
    def pstats_key(self) -> tuple[str, int, str]:
        """The ``(file, line, name)`` key that cProfile and pstats use."""
        return (self.filename, self.lineno, self.name)

    @property
    def display(self) -> str:
        """A one-line human label: ``qualname (file:line)`` or the C label."""
        if self.kind == "c":
            return "{" + self.name[1:-1] + "}" if self.name.startswith("<") else self.name
        return f"{self.qualname} ({self.filename}:{self.lineno})"


@dataclass(slots=True)
class Node:
    """One call-tree node: a function reached through one particular path.

    ``calls`` counts calls made during profiling; frames that were already
    running when profiling started are present with ``calls == 0``.
    ``prim_calls`` counts the calls that were not recursive (the function was
    not already on the stack). ``wall``/``cpu`` are inclusive and
    ``wall_self``/``cpu_self`` exclusive, in ticks.
    """

    id: int
    parent: int
    func: int
    calls: int = 0
    prim_calls: int = 0
    wall: int = 0
    wall_self: int = 0
    cpu: int = 0
    cpu_self: int = 0
    children: list[int] = field(default_factory=list)


@dataclass(slots=True)
class FunctionStats:
    """Per-function totals over one or more call trees (cProfile's semantics)."""

    func: int
    calls: int = 0
    prim_calls: int = 0
    wall: int = 0  # cumulative: outermost activations only
    wall_self: int = 0
    cpu: int = 0
    cpu_self: int = 0


@dataclass(slots=True)
class EdgeStats:
    """Totals of the calls from ``caller`` to ``callee`` (pstats' callers entry)."""

    caller: int
    callee: int
    calls: int = 0
    prim_calls: int = 0
    wall: int = 0
    wall_self: int = 0
    cpu: int = 0
    cpu_self: int = 0


#: One chunk of a timeline: ``(funcs, times)``, two arrays of equal length.
#: ``funcs[i] >= 0`` is a call of function ``funcs[i]``; ``funcs[i] < 0`` is
#: the return of function ``-1 - funcs[i]`` (``~f``). ``times`` are ticks since
#: the snapshot's origin, never decreasing within a thread.
TimelineChunk = tuple[array, array]


@dataclass(slots=True)
class Timeline:
    """A thread's calls and returns in time order (``--timeline``).

    The events come in chunks, possibly read lazily from a file, so that a
    timeline of any length can be converted without holding it in memory:
    iterate :meth:`chunks` once per pass. Guarantees: times never decrease;
    frames still open at stop get a return at the stop time; frames that were
    running when the thread was first seen get a call at that moment. A
    snapshot taken while profiling runs may end with calls whose returns have
    not happened yet: consumers close them at the end. When a limit kept only
    the last events (``dropped`` > 0), the stream may begin with returns whose
    calls were dropped: consumers skip a return that matches no open call.
    """

    source: Callable[[], Iterator[TimelineChunk]]
    events: int = 0  # events available
    dropped: int = 0  # events discarded at the start by --timeline-limit

    def chunks(self) -> Iterator[TimelineChunk]:
        return self.source()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """``(func_code, time)`` pairs; see :data:`TimelineChunk`."""
        for funcs, times in self.chunks():
            yield from zip(funcs, times, strict=True)

    @classmethod
    def from_events(cls, events: Iterable[tuple[int, int]], dropped: int = 0) -> Timeline:
        """A timeline held in memory, from ``(func_code, time)`` pairs."""
        funcs = array("i")
        times = array("q")
        for f, t in events:
            funcs.append(f)
            times.append(t)

        def source() -> Iterator[TimelineChunk]:
            yield funcs, times

        return cls(source, len(funcs), dropped)


@dataclass(slots=True)
class ThreadProfile:
    """One thread as the profiler saw it.

    ``serial`` is unique per OS thread for the life of the process, so two
    threads never merge even if the OS reuses an ident. ``first_seen`` and
    ``last_seen`` are in ticks of the snapshot's clock; ``wall_time`` and
    ``cpu_time`` are the thread's totals while profiled, in ticks.
    """

    serial: int
    ident: int
    native_id: int
    name: str
    first_seen: int
    last_seen: int
    wall_time: int
    cpu_time: int
    nodes: list[Node]
    warnings: list[str] = field(default_factory=list)
    timeline: Timeline | None = None

    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def calls(self) -> int:
        """Calls recorded in this thread."""
        return sum(n.calls for n in self.nodes)

    def walk(self) -> Iterator[tuple[Node, int]]:
        """Yield ``(node, depth)`` depth-first from the root's children, in tree order."""
        stack = [(c, 1) for c in reversed(self.nodes[0].children)]
        while stack:
            nid, depth = stack.pop()
            node = self.nodes[nid]
            yield node, depth
            stack.extend((c, depth + 1) for c in reversed(node.children))

    def path(self, node_id: int) -> list[int]:
        """Function ids from the outermost frame down to ``node_id``."""
        out: list[int] = []
        while node_id > 0:
            node = self.nodes[node_id]
            out.append(node.func)
            node_id = node.parent
        out.reverse()
        return out


@dataclass(slots=True)
class Snapshot:
    """A consistent copy of a profile: threads, call trees, functions, metadata."""

    clock: ClockName
    unit: float
    functions: list[Function]
    threads: list[ThreadProfile]
    cpu_mode: str = "sampled"  # "exact", "sampled" (estimated between reads) or "none"
    engine: str = ""  # "monitoring" or "legacy"; "" when unknown
    pid: int = 0  # the profiled process; 0 when unknown
    start_time: float = 0.0  # time.time() at start
    duration: int = 0  # ticks from start to stop (or to the snapshot)
    python_version: str = ""
    argv: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    # -- selection -------------------------------------------------------
    def thread(self, key: str | int) -> ThreadProfile:
        """The thread with this ident, serial or name (ident first)."""
        found = self.select_threads(key)
        if not found:
            raise KeyError(f"no thread matches {key!r}")
        return found[0]

    def select_threads(self, key: str | int) -> list[ThreadProfile]:
        """Threads matching an ident (int or digits), or a name / glob pattern."""
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            num = int(key)
            hits = [t for t in self.threads if t.ident == num]
            hits = hits or [t for t in self.threads if t.native_id == num]
            if hits:
                return hits
        text = str(key)
        return [t for t in self.threads if t.name == text or fnmatch.fnmatchcase(t.name, text)]

    def filter_threads(self, key: str | int) -> Snapshot:
        """A snapshot holding only the threads that :meth:`select_threads` finds."""
        threads = self.select_threads(key)
        if not threads:
            raise KeyError(f"no thread matches {key!r}")
        return self._with_threads(threads)

    def _with_threads(self, threads: list[ThreadProfile]) -> Snapshot:
        return Snapshot(
            clock=self.clock,
            unit=self.unit,
            functions=self.functions,
            threads=threads,
            cpu_mode=self.cpu_mode,
            engine=self.engine,
            pid=self.pid,
            start_time=self.start_time,
            duration=self.duration,
            python_version=self.python_version,
            argv=list(self.argv),
            warnings=list(self.warnings),
        )

    def merged(self, name: str = "all threads") -> ThreadProfile:
        """All threads merged into one call tree (paths from the root are united)."""
        return merge_threads(self.threads, name)

    # -- derived tables --------------------------------------------------
    def function_stats(
        self, threads: Iterable[ThreadProfile] | None = None
    ) -> dict[int, FunctionStats]:
        """Per-function totals over the given threads (all by default)."""
        out: dict[int, FunctionStats] = {}
        for t in self.threads if threads is None else threads:
            _accumulate_functions(t, out)
        return out

    def edge_stats(
        self, threads: Iterable[ThreadProfile] | None = None
    ) -> dict[tuple[int, int], EdgeStats]:
        """Caller -> callee totals over the given threads (all by default)."""
        out: dict[tuple[int, int], EdgeStats] = {}
        for t in self.threads if threads is None else threads:
            _accumulate_edges(t, out)
        return out

    def seconds(self, ticks: int) -> float:
        return ticks * self.unit

    @property
    def primary(self) -> Literal["wall", "cpu"]:
        """Which time field holds the chosen clock (``cpu`` for ``--clock cpu``)."""
        return "cpu" if self.clock == "cpu" else "wall"


# -- derivations ---------------------------------------------------------------


def compute_prim_calls(nodes: list[Node]) -> None:
    """Fill ``prim_calls``: a node's calls are primitive unless an ancestor has its function."""
    active: dict[int, int] = {}
    # iterative DFS with enter/leave markers
    stack: list[tuple[int, bool]] = [(c, True) for c in reversed(nodes[0].children)]
    while stack:
        nid, entering = stack.pop()
        node = nodes[nid]
        if entering:
            node.prim_calls = node.calls if active.get(node.func, 0) == 0 else 0
            active[node.func] = active.get(node.func, 0) + 1
            stack.append((nid, False))
            stack.extend((c, True) for c in reversed(node.children))
        else:
            active[node.func] -= 1


def _accumulate_functions(thread: ThreadProfile, out: dict[int, FunctionStats]) -> None:
    nodes = thread.nodes
    active: dict[int, int] = {}
    stack: list[tuple[int, bool]] = [(c, True) for c in reversed(nodes[0].children)]
    while stack:
        nid, entering = stack.pop()
        node = nodes[nid]
        if not entering:
            active[node.func] -= 1
            continue
        fs = out.get(node.func)
        if fs is None:
            fs = out[node.func] = FunctionStats(node.func)
        outermost = active.get(node.func, 0) == 0
        fs.calls += node.calls
        fs.wall_self += node.wall_self
        fs.cpu_self += node.cpu_self
        if outermost:
            fs.prim_calls += node.calls
            fs.wall += node.wall
            fs.cpu += node.cpu
        active[node.func] = active.get(node.func, 0) + 1
        stack.append((nid, False))
        stack.extend((c, True) for c in reversed(node.children))


def _accumulate_edges(thread: ThreadProfile, out: dict[tuple[int, int], EdgeStats]) -> None:
    nodes = thread.nodes
    active: dict[tuple[int, int], int] = {}
    # children of the root have no caller, so they add no edge
    stack: list[tuple[int, bool]] = [(c, True) for c in reversed(nodes[0].children)]
    while stack:
        nid, entering = stack.pop()
        node = nodes[nid]
        parent = nodes[node.parent] if node.parent > 0 else None
        key = (parent.func, node.func) if parent is not None else None
        if not entering:
            if key is not None:
                active[key] -= 1
            continue
        if key is not None:
            es = out.get(key)
            if es is None:
                es = out[key] = EdgeStats(key[0], key[1])
            outermost = active.get(key, 0) == 0
            es.calls += node.calls
            es.wall_self += node.wall_self
            es.cpu_self += node.cpu_self
            if outermost:
                es.prim_calls += node.calls
                es.wall += node.wall
                es.cpu += node.cpu
            active[key] = active.get(key, 0) + 1
        stack.append((nid, False))
        stack.extend((c, True) for c in reversed(node.children))


def merge_threads(threads: Iterable[ThreadProfile], name: str = "all threads") -> ThreadProfile:
    """Unite the call trees of several threads by path from the root."""
    threads = list(threads)
    root = Node(0, -1, -1)
    nodes = [root]
    index: dict[tuple[int, int], int] = {}
    for t in threads:
        remap = {0: 0}
        for node, _depth in t.walk():
            parent = remap[node.parent]
            key = (parent, node.func)
            nid = index.get(key)
            if nid is None:
                nid = index[key] = len(nodes)
                nodes.append(Node(nid, parent, node.func))
                nodes[parent].children.append(nid)
            m = nodes[nid]
            m.calls += node.calls
            m.wall += node.wall
            m.wall_self += node.wall_self
            m.cpu += node.cpu
            m.cpu_self += node.cpu_self
            remap[node.id] = nid
        root.wall += t.root.wall
        root.wall_self += t.root.wall_self
        root.cpu += t.root.cpu
        root.cpu_self += t.root.cpu_self
    compute_prim_calls(nodes)
    return ThreadProfile(
        serial=-1,
        ident=0,
        native_id=0,
        name=name,
        first_seen=min((t.first_seen for t in threads), default=0),
        last_seen=max((t.last_seen for t in threads), default=0),
        wall_time=sum(t.wall_time for t in threads),
        cpu_time=sum(t.cpu_time for t in threads),
        nodes=nodes,
        warnings=[w for t in threads for w in t.warnings],
    )


def build_tree(nodes: list[Node]) -> list[Node]:
    """Fill ``children`` from ``parent`` links and compute primitive calls.

    Nodes must be indexed by id, with each parent before its children.
    """
    for n in nodes:
        n.children.clear()
    for n in nodes[1:]:
        nodes[n.parent].children.append(n.id)
    compute_prim_calls(nodes)
    return nodes
