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

import contextlib
import fnmatch
import operator
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence

from . import _core
from ._record import Frozen, Record
from ._record import replace as replace  # the model's dataclasses.replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, Literal, Protocol, TypeVar

    FunctionKind = Literal["python", "c"]
    ClockName = Literal["wall", "cpu", "user"]
    _Totals = TypeVar("_Totals", "FunctionStats", "EdgeStats")
    _K = TypeVar("_K")
else:
    Protocol = object  # a plain base class at run time


class Function(Frozen):
    """A profiled function.

    For Python functions ``filename``/``lineno`` are the code object's
    ``co_filename``/``co_firstlineno``, ``name`` its ``co_name`` and ``qualname``
    its ``co_qualname``. For C functions ``filename`` is ``"~"``, ``lineno`` is 0
    and ``name`` is cProfile's label, e.g. ``<built-in method builtins.len>``.
    """

    __slots__ = ("filename", "id", "kind", "lineno", "name", "qualname")
    id: int
    kind: FunctionKind
    name: str
    qualname: str
    filename: str
    lineno: int

    def __init__(
        self, id: int, kind: FunctionKind, name: str, qualname: str, filename: str, lineno: int
    ) -> None:
        self._set(id, kind, name, qualname, filename, lineno)

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


class Node(Record):
    """One call-tree node: a function reached through one particular path.

    ``calls`` counts calls made during profiling; frames that were already
    running when profiling started are present with ``calls == 0``.
    ``prim_calls`` counts the calls that were not recursive (the function was
    not already on the stack). ``wall``/``cpu`` are inclusive and
    ``wall_self``/``cpu_self`` exclusive, in ticks.
    """

    __slots__ = (
        "calls",
        "children",
        "cpu",
        "cpu_self",
        "func",
        "id",
        "parent",
        "prim_calls",
        "wall",
        "wall_self",
    )
    id: int
    parent: int
    func: int
    calls: int
    prim_calls: int
    wall: int
    wall_self: int
    cpu: int
    cpu_self: int
    children: list[int]

    def __init__(
        self,
        id: int,
        parent: int,
        func: int,
        calls: int = 0,
        prim_calls: int = 0,
        wall: int = 0,
        wall_self: int = 0,
        cpu: int = 0,
        cpu_self: int = 0,
        children: list[int] | None = None,
    ) -> None:
        self.id = id
        self.parent = parent
        self.func = func
        self.calls = calls
        self.prim_calls = prim_calls
        self.wall = wall
        self.wall_self = wall_self
        self.cpu = cpu
        self.cpu_self = cpu_self
        self.children = [] if children is None else children


class _Counted(Record):
    """The six totals that :class:`FunctionStats`, :class:`EdgeStats` and
    :class:`KeyStats` share; each names what they are the totals of."""

    __slots__ = ("calls", "cpu", "cpu_self", "prim_calls", "wall", "wall_self")
    calls: int
    prim_calls: int
    wall: int
    wall_self: int
    cpu: int
    cpu_self: int

    def _count(
        self, calls: int, prim_calls: int, wall: int, wall_self: int, cpu: int, cpu_self: int
    ) -> None:
        self.calls = calls
        self.prim_calls = prim_calls
        self.wall = wall
        self.wall_self = wall_self
        self.cpu = cpu
        self.cpu_self = cpu_self


class FunctionStats(_Counted):
    """Per-function totals over one or more call trees (cProfile's semantics)."""

    __slots__ = ("func",)
    func: int

    def __init__(
        self,
        func: int,
        calls: int = 0,
        prim_calls: int = 0,
        wall: int = 0,
        wall_self: int = 0,
        cpu: int = 0,
        cpu_self: int = 0,
    ) -> None:
        self.func = func
        self._count(calls, prim_calls, wall, wall_self, cpu, cpu_self)  # wall: outermost only

    def empty(self) -> FunctionStats:
        """Totals of the same function, all zero."""
        return FunctionStats(self.func)


class EdgeStats(_Counted):
    """Totals of the calls from ``caller`` to ``callee`` (pstats' callers entry)."""

    __slots__ = ("callee", "caller")
    caller: int
    callee: int

    def __init__(
        self,
        caller: int,
        callee: int,
        calls: int = 0,
        prim_calls: int = 0,
        wall: int = 0,
        wall_self: int = 0,
        cpu: int = 0,
        cpu_self: int = 0,
    ) -> None:
        self.caller = caller
        self.callee = callee
        self._count(calls, prim_calls, wall, wall_self, cpu, cpu_self)

    def empty(self) -> EdgeStats:
        """Totals of the same edge, all zero."""
        return EdgeStats(self.caller, self.callee)


#: One chunk of a timeline: ``(funcs, times)``, two arrays of equal length.
#: ``funcs[i] >= 0`` is a call of function ``funcs[i]``; ``funcs[i] < 0`` is
#: the return of function ``-1 - funcs[i]`` (``~f``). ``times`` are ticks since
#: the snapshot's origin, never decreasing within a thread.
TimelineChunk = tuple[array, array]


class EncodedChunk(Frozen):
    """A timeline chunk still encoded as a ``.tprof`` file's timeline section
    holds it (format 2.0's varints, :mod:`threadprof.tprof`), as the C core
    writes each full chunk to its spill file: a writer copies ``payload`` as
    it is; :meth:`decode` gives its arrays. Its codes name functions below
    ``nfuncs``."""

    __slots__ = ("count", "nfuncs", "payload")
    count: int  # events
    payload: bytes
    nfuncs: int

    def __init__(self, count: int, payload: bytes, nfuncs: int) -> None:
        self._set(count, payload, nfuncs)

    def decode(self) -> TimelineChunk:
        """Its ``(funcs, times)``; ``ValueError`` if the payload is corrupt."""
        funcs_bytes, times_bytes = _core._decode_events(self.payload, self.count, self.nfuncs)
        funcs, times = array("i"), array("q")
        funcs.frombytes(funcs_bytes)
        times.frombytes(times_bytes)
        return funcs, times

    def codes(self) -> array:
        """Its function codes alone, the times skipped."""
        funcs_bytes, _ = _core._decode_events(self.payload, self.count, self.nfuncs, True)
        funcs = array("i")
        funcs.frombytes(funcs_bytes)
        return funcs


#: A piece of a timeline (:meth:`Timeline.pieces`): a chunk, or one still encoded.
TimelinePiece = TimelineChunk | EncodedChunk


class Timeline(Record):
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

    __slots__ = ("codes_source", "dropped", "events", "pieces_source", "source")
    source: Callable[[], Iterator[TimelineChunk]]
    events: int  # events available
    dropped: int  # events discarded at the start by --timeline-limit
    #: the function codes alone, chunk by chunk as ``source`` gives them, when
    #: they can be read for less
    codes_source: Callable[[], Iterator[array]] | None
    #: the chunks of ``source``, some maybe still encoded (:meth:`pieces`)
    pieces_source: Callable[[], Iterator[TimelinePiece]] | None

    def __init__(
        self,
        source: Callable[[], Iterator[TimelineChunk]],
        events: int = 0,
        dropped: int = 0,
        codes_source: Callable[[], Iterator[array]] | None = None,
        pieces_source: Callable[[], Iterator[TimelinePiece]] | None = None,
    ) -> None:
        self.source = source
        self.events = events
        self.dropped = dropped
        self.codes_source = codes_source
        self.pieces_source = pieces_source

    @classmethod
    def of_pieces(
        cls, pieces: Callable[[], Iterator[TimelinePiece]], events: int, dropped: int = 0
    ) -> Timeline:
        """A timeline whose chunks come from ``pieces`` (:meth:`pieces`), each
        encoded one decoded as it is read."""

        def source() -> Iterator[TimelineChunk]:
            for piece in pieces():
                yield piece.decode() if isinstance(piece, EncodedChunk) else piece

        def codes() -> Iterator[array]:
            for piece in pieces():
                yield piece.codes() if isinstance(piece, EncodedChunk) else piece[0]

        return cls(source, events, dropped, codes, pieces)

    def chunks(self) -> Iterator[TimelineChunk]:
        return self.source()

    def pieces(self) -> Iterator[TimelinePiece]:
        """The events of :meth:`chunks`, in the same order, where a chunk may
        still be encoded as a ``.tprof`` file holds it (an
        :class:`EncodedChunk`), so that a writer copies it as it is."""
        if self.pieces_source is not None:
            return self.pieces_source()
        return self.source()

    def codes(self) -> Iterator[array]:
        """The function codes of :meth:`chunks`, without their times: what a
        pass that looks for calls and returns reads."""
        if self.codes_source is not None:
            return self.codes_source()
        return (funcs for funcs, _times in self.source())

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


#: The fields of a call-tree node as columns, in order (:class:`NodeColumns`).
COLUMN_FIELDS = ("parent", "func", "calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")
#: The same without the primitive calls, which the C loops derive: the columns
#: of a raw snapshot's trees (snapshot.c) and of ``_core._merge``'s.
RAW_FIELDS = ("parent", "func", "calls", "wall", "wall_self", "cpu", "cpu_self")


def split_columns(flat: bytes, count: int) -> list[array]:
    """``count`` int64 arrays from one buffer of as many columns, one after the other."""
    view = memoryview(flat)
    size = len(view) // count
    columns = []
    for i in range(count):
        column = array("q")
        column.frombytes(view[i * size : (i + 1) * size])
        columns.append(column)
    return columns


class SlowStep(Frozen):
    """A step of a task that took at least the snapshot's ``slow_step``.

    A step is one run of a coroutine resumed (or started) by code that is not
    a coroutine -- asyncio's event loop running a task -- from there to its
    next suspension or its end: while it runs, nothing else of its event loop
    does. Times are ticks of the snapshot's clock.
    """

    __slots__ = ("duration", "node", "start", "task", "where", "where_own")
    start: int  # from the start of the profile
    duration: int
    node: int  # the coroutine's node in the thread's call tree
    where: int  # the node of the call with the most own time in the step
    where_own: int  # that call's own time in the step
    task: int  # the id of its asyncio task (TaskProfile.id), 0 if none was recorded

    def __init__(
        self, start: int, duration: int, node: int, where: int, where_own: int, task: int = 0
    ) -> None:
        self._set(start, duration, node, where, where_own, task)


#: :attr:`LockOps.kind` of a call that acquires (``acquire``, ``__enter__``,
#: RLock's ``_acquire_restore``; a thread handle's ``join`` waits the same
#: way) and of one that releases.
LOCK_ACQUIRE = 1
LOCK_RELEASE = 2
#: What a thread's warning says when some of its lock calls were not recorded.
LOCKS_DROPPED = "lock calls past the memory budget for lock calls"
#: The fields of :class:`LockOps`, in the order of their columns.
LOCK_FIELDS = ("start", "end", "obj", "node", "kind")


class LockOps(Record):
    """A thread's calls of the methods of ``_thread``'s lock and RLock that
    acquire or release (what every ``threading`` and ``queue`` primitive is
    built on), in the order they were made, as columns: the call's start and
    end (ticks from the start of the profile), the lock's address while it
    lived, the call's node in the thread's tree and :data:`LOCK_ACQUIRE` or
    :data:`LOCK_RELEASE`. :mod:`threadprof.contention` makes locks, waits,
    holds and blockers of them."""

    __slots__ = LOCK_FIELDS
    start: array
    end: array
    obj: array
    node: array
    kind: array

    def __init__(
        self,
        start: array | None = None,
        end: array | None = None,
        obj: array | None = None,
        node: array | None = None,
        kind: array | None = None,
    ) -> None:
        self.start = array("q") if start is None else start
        self.end = array("q") if end is None else end
        self.obj = array("q") if obj is None else obj
        self.node = array("q") if node is None else node
        self.kind = array("q") if kind is None else kind

    def __len__(self) -> int:
        return len(self.start)

    def __iter__(self) -> Iterator[tuple[int, int, int, int, int]]:
        return zip(self.start, self.end, self.obj, self.node, self.kind, strict=True)

    def flat(self) -> bytes:
        """The columns as one buffer of native int64 columns, one after the other."""
        return b"".join([getattr(self, name).tobytes() for name in LOCK_FIELDS])

    @classmethod
    def of_flat(cls, flat: bytes) -> LockOps:
        """The inverse of :meth:`flat`."""
        return cls(*split_columns(flat, len(LOCK_FIELDS)))

    @classmethod
    def of_rows(cls, rows: Iterable[tuple[int, int, int, int, int]]) -> LockOps:
        """Columns from ``(start, end, obj, node, kind)`` rows."""
        ops = cls()
        for row in rows:
            for column, value in zip(
                (ops.start, ops.end, ops.obj, ops.node, ops.kind), row, strict=True
            ):
                column.append(value)
        return ops

    def renumbered(self, new_id: Callable[[int], int | None]) -> LockOps:
        """The calls with their nodes renumbered by ``new_id``; those it maps
        to ``None`` (nodes left out) are left out."""
        return LockOps.of_rows(
            (start, end, obj, node, kind)
            for start, end, obj, old, kind in self
            if (node := new_id(old)) is not None
        )

    def shifted(self, ticks: int) -> LockOps:
        """The calls with their times moved by ``ticks`` (a merge's)."""
        return LockOps(
            array("q", [t + ticks for t in self.start]),
            array("q", [t + ticks for t in self.end]),
            array("q", self.obj),
            array("q", self.node),
            array("q", self.kind),
        )


class NodeColumns(Record):
    """A call tree as eight arrays of 64-bit integers: node ``i``'s fields at
    index ``i`` (:class:`Node`'s, without the children), the root at 0 and
    every parent before its children. 64 bytes a node, where a :class:`Node`
    with its integers and children list takes about 400: what ``threadprof
    diff`` reads a million nodes into."""

    __slots__ = COLUMN_FIELDS
    parent: array
    func: array
    calls: array
    prim_calls: array
    wall: array
    wall_self: array
    cpu: array
    cpu_self: array

    def __init__(
        self,
        parent: array,
        func: array,
        calls: array,
        prim_calls: array,
        wall: array,
        wall_self: array,
        cpu: array,
        cpu_self: array,
    ) -> None:
        self.parent = parent
        self.func = func
        self.calls = calls
        self.prim_calls = prim_calls
        self.wall = wall
        self.wall_self = wall_self
        self.cpu = cpu
        self.cpu_self = cpu_self

    def __len__(self) -> int:
        return len(self.parent)

    def flat(self, fields: tuple[str, ...] = COLUMN_FIELDS) -> bytes:
        """``fields`` as one buffer of native int64 columns, one after the other."""
        return b"".join([getattr(self, name).tobytes() for name in fields])

    @classmethod
    def of_raw(cls, flat: bytes) -> NodeColumns:
        """The columns of a tree given as :data:`RAW_FIELDS` (a raw snapshot's,
        ``_core._merge``'s), with the primitive calls: the calls of the nodes
        that no ancestor below the root shares a function with (cProfile's
        rule, judged in C)."""
        cols = dict(zip(RAW_FIELDS, split_columns(flat, len(RAW_FIELDS)), strict=True))
        outermost = _core._outermost(cols["parent"], cols["func"])
        cols["prim_calls"] = array("q", map(operator.mul, cols["calls"], outermost))
        return cls(**cols)

    @classmethod
    def of_nodes(cls, nodes: list[Node]) -> NodeColumns:
        """The columns of a tree of :class:`Node` objects."""
        return cls(*split_columns(_core._gather(nodes, COLUMN_FIELDS), len(COLUMN_FIELDS)))


class ThreadProfile(Record):
    """One thread as the profiler saw it.

    ``serial`` is unique per OS thread for the life of the process, so two
    threads never merge even if the OS reuses an ident. ``first_seen`` and
    ``last_seen`` are in ticks of the snapshot's clock; ``wall_time`` and
    ``cpu_time`` are the thread's totals while profiled, in ticks.
    """

    __slots__ = (
        "_nodes",
        "columns",
        "cpu_time",
        "first_seen",
        "ident",
        "last_seen",
        "lock_ops",
        "name",
        "native_id",
        "process",
        "serial",
        "slow_steps",
        "tasks",
        "timeline",
        "wall_time",
        "warnings",
    )
    serial: int
    ident: int
    native_id: int
    name: str
    first_seen: int
    last_seen: int
    wall_time: int
    cpu_time: int
    _nodes: list[Node] | None
    warnings: list[str]
    timeline: Timeline | None
    #: The call tree as columns until :attr:`nodes` is first read (which makes
    #: the node objects from them and sets this to ``None``); ``None`` for a
    #: tree given as nodes.
    columns: NodeColumns | None
    #: The steps of tasks that ran in this thread for at least the snapshot's
    #: ``slow_step``, in the order they ended.
    slow_steps: list[SlowStep]
    #: The asyncio tasks that ran in this thread, in the order of their first
    #: steps (none when coroutines were counted per resume).
    tasks: list[TaskProfile]
    #: The index in :attr:`Snapshot.processes` of the process the thread ran
    #: in (0: the first, which is the only one of a profile of one process).
    process: int
    #: The lock calls it made (empty for a task: they are its thread's).
    lock_ops: LockOps

    def __init__(
        self,
        serial: int,
        ident: int,
        native_id: int,
        name: str,
        first_seen: int,
        last_seen: int,
        wall_time: int,
        cpu_time: int,
        nodes: list[Node] | None,
        warnings: list[str] | None = None,
        timeline: Timeline | None = None,
        columns: NodeColumns | None = None,
        slow_steps: list[SlowStep] | None = None,
        tasks: list[TaskProfile] | None = None,
        process: int = 0,
        lock_ops: LockOps | None = None,
    ) -> None:
        if (nodes is None) == (columns is None):
            raise ValueError("a thread's call tree is given as nodes or as columns, one of them")
        self.serial = serial
        self.ident = ident
        self.native_id = native_id
        self.name = name
        self.first_seen = first_seen
        self.last_seen = last_seen
        self.wall_time = wall_time
        self.cpu_time = cpu_time
        self._nodes = nodes
        self.warnings = [] if warnings is None else warnings
        self.timeline = timeline
        self.columns = columns
        self.slow_steps = [] if slow_steps is None else slow_steps
        self.tasks = [] if tasks is None else tasks
        self.process = process
        self.lock_ops = LockOps() if lock_ops is None else lock_ops

    @property
    def nodes(self) -> list[Node]:
        """The call tree's :class:`Node` objects, node ``i`` at index ``i``.

        A tree held as :attr:`columns` (as snapshots and ``.tprof`` files
        give it) gets its objects the first time this is read; views that
        only total or write the tree read the columns and never make them.
        """
        if self._nodes is None:
            if self.columns is None:
                raise ValueError(f"thread {self.name!r}: its call tree was released")
            self._nodes = _core._build_nodes(Node, self.columns.flat(), COLUMN_FIELDS)
            self.columns = None
        return self._nodes

    @nodes.setter
    def nodes(self, nodes: list[Node]) -> None:
        self._nodes = nodes
        self.columns = None

    def __replace__(self, **changes: Any) -> ThreadProfile:
        if "nodes" in changes:  # a new tree: not the columns of the old one
            changes.setdefault("columns", None)
        elif self._nodes is None:  # the columns, still without node objects
            changes["nodes"] = None
        return super().__replace__(**changes)  # type: ignore[no-any-return]

    def tree_columns(self) -> NodeColumns:
        """The call tree as :class:`NodeColumns`, however it is held."""
        return self.columns if self._nodes is None else NodeColumns.of_nodes(self.nodes)

    def tree_flat(self, fields: tuple[str, ...]) -> bytes:
        """The call tree's ``fields`` as one buffer of native int64 columns,
        one field after the other (what the C loops take). OverflowError or
        TypeError for a node value that is not a 64-bit integer."""
        if self._nodes is None:
            return self.tree_columns().flat(fields)
        return _core._gather(self._nodes, fields)

    @property
    def tree_size(self) -> int:
        """The number of nodes in the call tree, root included."""
        return len(self.columns) if self._nodes is None else len(self._nodes)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def calls(self) -> int:
        """Calls recorded in this thread."""
        if self._nodes is None:
            return sum(self.tree_columns().calls)
        try:
            calls = array("q", self.tree_flat(("calls",)))
        except (OverflowError, TypeError):  # a model built by hand
            return sum(n.calls for n in self.nodes)
        return sum(calls)

    def walk(self) -> Iterator[tuple[Node, int]]:
        """Yield ``(node, depth)`` depth-first from the root's children, in tree order."""
        nodes = self.nodes
        todo = [(c, 1) for c in reversed(nodes[0].children)]
        pop = todo.pop
        while todo:
            nid, depth = pop()
            node = nodes[nid]
            yield node, depth
            if node.children:
                below = depth + 1
                todo.extend([(c, below) for c in reversed(node.children)])

    def path(self, node_id: int) -> list[int]:
        """Function ids from the outermost frame down to ``node_id``."""
        out: list[int] = []
        cols = self.columns
        if cols is not None:  # without making the node objects
            while node_id > 0:
                out.append(cols.func[node_id])
                node_id = cols.parent[node_id]
        else:
            while node_id > 0:
                node = self.nodes[node_id]
                out.append(node.func)
                node_id = node.parent
        out.reverse()
        return out


class TaskProfile(ThreadProfile):
    """One asyncio task, recorded like a thread.

    Its call tree is rooted at its coroutine: the calls it ran in its steps,
    and its awaits (off-CPU wall time). ``serial``, ``ident`` and
    ``native_id`` are those of the thread it ran in; ``name`` is
    ``Task.get_name()`` when its first step ended (``<task ID>`` if that step
    had not ended); ``first_seen`` is its first step's start, ``last_seen``
    its end or the end of the profile, ``wall_time`` and ``cpu_time`` its
    coroutine's, ``await_time`` the wall time it spent
    suspended in awaits, ``steps`` how often its event loop ran it. ``id`` is
    unique in the profile, ``creator`` the id of the task in whose context it
    was made (0 for none: made outside any task), ``loop`` the number of its
    event loop in the profile (from 1). ``prefix`` is where its coroutine
    ran in its thread's tree: the functions from the thread's outermost
    frame to the coroutine's caller (the event loop's, or for an eager task
    the code that made it). ``step_spans`` are the start and end of each of
    its steps, in ticks from the start of the profile, with a timeline
    (empty without one).
    """

    __slots__ = ("await_time", "creator", "id", "loop", "prefix", "step_spans", "steps")
    id: int
    creator: int
    loop: int
    steps: int
    await_time: int
    prefix: list[int]
    step_spans: list[tuple[int, int]]

    def __init__(
        self,
        serial: int,
        ident: int,
        native_id: int,
        name: str,
        first_seen: int,
        last_seen: int,
        wall_time: int,
        cpu_time: int,
        nodes: list[Node] | None,
        warnings: list[str] | None = None,
        timeline: Timeline | None = None,
        columns: NodeColumns | None = None,
        slow_steps: list[SlowStep] | None = None,
        tasks: list[TaskProfile] | None = None,
        id: int = 0,
        creator: int = 0,
        loop: int = 0,
        steps: int = 0,
        await_time: int = 0,
        prefix: list[int] | None = None,
        step_spans: list[tuple[int, int]] | None = None,
        process: int = 0,
        lock_ops: LockOps | None = None,
    ) -> None:
        super().__init__(
            serial,
            ident,
            native_id,
            name,
            first_seen,
            last_seen,
            wall_time,
            cpu_time,
            nodes,
            warnings,
            timeline,
            columns,
            slow_steps,
            tasks,
            process,
            lock_ops,
        )
        self.id = id
        self.creator = creator
        self.loop = loop
        self.steps = steps
        self.await_time = await_time
        self.prefix = [] if prefix is None else prefix
        self.step_spans = [] if step_spans is None else step_spans


class Process(Frozen):
    """One process of a profile of a process tree (``threadprof run`` follows
    the Python processes that a program starts: docs/processes.md).

    ``start`` and ``end`` are ticks from the snapshot's origin (the first
    process's start); ``status`` says how it ended: ``"exited"``,
    ``"exited N"`` (``os._exit(N)``), ``"killed by SIGTERM"``, ``"crashed"``
    (it ended without writing its profile: killed by SIGKILL, or a crash),
    ``"running"`` (still running when the profile was written), or ``""``
    when unknown. ``recorded`` is false for a process that left no profile.
    """

    __slots__ = ("argv", "end", "pid", "ppid", "recorded", "start", "status")
    pid: int
    ppid: int
    argv: tuple[str, ...]
    start: int
    end: int
    status: str
    recorded: bool

    def __init__(
        self,
        pid: int,
        ppid: int,
        argv: Sequence[str],
        start: int,
        end: int,
        status: str = "",
        recorded: bool = True,
    ) -> None:
        self._set(pid, ppid, tuple(argv), start, end, status, recorded)


class Snapshot(Record):
    """A consistent copy of a profile: threads, call trees, functions, metadata."""

    __slots__ = (
        "argv",
        "clock",
        "coroutines",
        "cpu_mode",
        "duration",
        "engine",
        "functions",
        "pid",
        "processes",
        "python_version",
        "slow_step",
        "start_time",
        "threads",
        "unit",
        "warnings",
    )
    clock: ClockName
    unit: float
    functions: list[Function]
    threads: list[ThreadProfile]
    cpu_mode: str  # "exact", "sampled" (estimated between reads) or "none"
    engine: str  # "monitoring" or "legacy"; "" when unknown
    pid: int  # the profiled process; 0 when unknown
    start_time: float  # time.time() at start
    duration: int  # ticks from start to stop (or to the snapshot)
    python_version: str
    argv: list[str]
    warnings: list[str]
    #: how calls of coroutines and generators were counted: "whole" or
    #: "resume" (docs/asyncio.md); "" when unknown
    coroutines: str
    #: the least duration of the steps of tasks listed (ticks; 0: none listed)
    slow_step: int
    #: the processes of a process tree, the first the one that started the
    #: others (:attr:`ThreadProfile.process` indexes it); empty for a profile
    #: of one process, ``pid``'s
    processes: list[Process]

    def __init__(
        self,
        clock: ClockName,
        unit: float,
        functions: list[Function],
        threads: list[ThreadProfile],
        cpu_mode: str = "sampled",
        engine: str = "",
        pid: int = 0,
        start_time: float = 0.0,
        duration: int = 0,
        python_version: str = "",
        argv: list[str] | None = None,
        warnings: list[str] | None = None,
        coroutines: str = "",
        slow_step: int = 0,
        processes: list[Process] | None = None,
    ) -> None:
        self.clock = clock
        self.unit = unit
        self.functions = functions
        self.threads = threads
        self.cpu_mode = cpu_mode
        self.engine = engine
        self.pid = pid
        self.start_time = start_time
        self.duration = duration
        self.python_version = python_version
        self.argv = [] if argv is None else argv
        self.warnings = [] if warnings is None else warnings
        self.coroutines = coroutines
        self.slow_step = slow_step
        self.processes = [] if processes is None else processes

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
            coroutines=self.coroutines,
            slow_step=self.slow_step,
            processes=self.processes,
        )

    def tasks(self) -> list[TaskProfile]:
        """Every thread's asyncio tasks, in the order of their ids (first
        steps first)."""
        return sorted((task for t in self.threads for task in t.tasks), key=lambda task: task.id)

    def slow_steps(self) -> list[tuple[ThreadProfile, SlowStep]]:
        """Every thread's slow steps of tasks, the longest first."""
        steps = [(t, s) for t in self.threads for s in t.slow_steps]
        steps.sort(key=lambda ts: -ts[1].duration)
        return steps

    def pid_of(self, thread: ThreadProfile) -> int:
        """The pid of the process ``thread`` ran in (0 when unknown)."""
        if 0 <= thread.process < len(self.processes):
            return self.processes[thread.process].pid
        return self.pid

    def thread_title(self, thread: ThreadProfile) -> str:
        """The thread's name, with its process's pid in a profile of several
        processes (``MainThread (pid 4242)``): what views show of it."""
        if len(self.processes) > 1:
            return f"{thread.name} (pid {self.pid_of(thread)})"
        return thread.name

    def merged(self, name: str = "all threads") -> ThreadProfile:
        """All threads merged into one call tree (paths from the root are united)."""
        return merge_threads(self.threads, name)

    # -- derived tables --------------------------------------------------
    def function_stats(
        self, threads: Iterable[ThreadProfile] | None = None
    ) -> dict[int, FunctionStats]:
        """Per-function totals over the given threads (all by default)."""
        return combine(thread_function_stats(t) for t in self._each(threads))

    def edge_stats(
        self, threads: Iterable[ThreadProfile] | None = None
    ) -> dict[tuple[int, int], EdgeStats]:
        """Caller -> callee totals over the given threads (all by default)."""
        return combine(thread_edge_stats(t) for t in self._each(threads))

    def _each(self, threads: Iterable[ThreadProfile] | None) -> Iterable[ThreadProfile]:
        return self.threads if threads is None else threads

    def seconds(self, ticks: int) -> float:
        return ticks * self.unit

    @property
    def primary(self) -> Literal["wall", "cpu"]:
        """Which time field holds the chosen clock (``cpu`` for ``--clock cpu``)."""
        return "cpu" if self.clock == "cpu" else "wall"


# -- derivations ---------------------------------------------------------------


def outermost_flags(nodes: list[Node], keys: Iterable[int]) -> bytes:
    """A flag per node (by id): 1 if the node is *outermost*, no ancestor of it
    below the root has the same key (one integer per node, the root's
    included), else 0; 0 for the root.

    This is the one rule behind cProfile's handling of recursion: with the
    function as the key it gives primitive calls and cumulative times, with
    the ``(caller, callee)`` pair the same for edges. The C core walks the
    tree (``_core._outermost``).
    """
    return _outermost(nodes, array("q", keys))


def _outermost(nodes: list[Node], keys: array | bytes) -> bytes:
    parents = array("q")
    parents.frombytes(_core._gather(nodes, ("parent",)))
    if parents:
        parents[0] = 0
    return _core._outermost(parents, keys)


def _function_flags(nodes: list[Node]) -> bytes:
    return _outermost(nodes, _core._gather(nodes, ("func",)))


def compute_prim_calls(nodes: list[Node]) -> None:
    """Fill ``prim_calls``: a node's calls are primitive unless an ancestor has its function."""
    flags = _function_flags(nodes)
    for node, first in zip(nodes, flags, strict=True):
        node.prim_calls = node.calls if first else 0
    if nodes:
        nodes[0].prim_calls = 0


def _add(totals: FunctionStats | EdgeStats, node: Node, first: int) -> None:
    totals.calls += node.calls
    totals.wall_self += node.wall_self
    totals.cpu_self += node.cpu_self
    if first:
        totals.prim_calls += node.calls
        totals.wall += node.wall
        totals.cpu += node.cpu


#: The columns of a call tree that ``_core._totals`` reads, in its order.
_TOTAL_FIELDS = ("parent", "func", "calls", "wall", "wall_self", "cpu", "cpu_self")


def _c_totals(thread: ThreadProfile, edges: bool) -> memoryview | None:
    """``_core._totals``'s rows of eight integers (key, first node, calls,
    prim_calls, wall, wall_self, cpu, cpu_self), or ``None`` when a value does
    not fit in 64 bits (or, for edges, a function id in 32), which only a
    model built by hand can hold."""
    try:
        flat = _core._totals(thread.tree_flat(_TOTAL_FIELDS), edges)
    except (OverflowError, TypeError):
        return None
    return memoryview(flat).cast("q")


def thread_function_stats(thread: ThreadProfile) -> dict[int, FunctionStats]:
    """Per-function totals of one thread (recursion judged on its own stack),
    in the order of each function's first node."""
    rows = _c_totals(thread, False)
    if rows is None:
        return _function_stats_by_node(thread.nodes)
    return {
        rows[i]: FunctionStats(
            rows[i], rows[i + 2], rows[i + 3], rows[i + 4], rows[i + 5], rows[i + 6], rows[i + 7]
        )
        for i in range(0, len(rows), 8)
    }


def thread_edge_stats(thread: ThreadProfile) -> dict[tuple[int, int], EdgeStats]:
    """Caller -> callee totals of one thread (the children of the root have no
    caller, so they add no edge), in the order of each pair's first node."""
    rows = _c_totals(thread, True)
    if rows is None:
        return _edge_stats_by_node(thread.nodes)
    out: dict[tuple[int, int], EdgeStats] = {}
    for i in range(0, len(rows), 8):
        key = (rows[i] >> 32, rows[i] & 0xFFFFFFFF)
        out[key] = EdgeStats(
            *key, rows[i + 2], rows[i + 3], rows[i + 4], rows[i + 5], rows[i + 6], rows[i + 7]
        )
    return out


def _function_stats_by_node(nodes: list[Node]) -> dict[int, FunctionStats]:
    """:func:`thread_function_stats` node by node, in Python's integers."""
    out: dict[int, FunctionStats] = {}
    flags = _function_flags(nodes)
    for i in range(1, len(nodes)):
        node = nodes[i]
        fs = out.get(node.func)
        if fs is None:
            fs = out[node.func] = FunctionStats(node.func)
        _add(fs, node, flags[i])
    return out


def _edge_stats_by_node(nodes: list[Node]) -> dict[tuple[int, int], EdgeStats]:
    """:func:`thread_edge_stats` node by node, in Python's integers."""
    out: dict[tuple[int, int], EdgeStats] = {}
    # each (caller, callee) pair numbered; the root's children get negative
    # keys of their own (they make no pair)
    pairs: dict[tuple[int, int], int] = {}
    keys = [0] * len(nodes)
    for i in range(1, len(nodes)):
        parent = nodes[i].parent
        pair = (nodes[parent].func, nodes[i].func)
        keys[i] = pairs.setdefault(pair, len(pairs)) if parent > 0 else -1 - i
    flags = outermost_flags(nodes, keys)
    for i in range(1, len(nodes)):
        node = nodes[i]
        if node.parent <= 0:
            continue
        key = (nodes[node.parent].func, node.func)
        es = out.get(key)
        if es is None:
            es = out[key] = EdgeStats(*key)
        _add(es, node, flags[i])
    return out


def combine(tables: Iterable[dict[_K, _Totals]]) -> dict[_K, _Totals]:
    """The sum of several threads' tables (:func:`thread_function_stats` or
    :func:`thread_edge_stats`): each thread's recursion is judged on its own
    stack, then the totals are added, as cProfile's would be."""
    out: dict[_K, _Totals] = {}
    for table in tables:
        for key, s in table.items():
            total = out.get(key)
            if total is None:
                total = out[key] = s.empty()
            add_totals(total, s)
    return out


class Totals(Protocol):
    """Anything with the six totals: :class:`FunctionStats`, :class:`EdgeStats`,
    :class:`KeyStats`, ``threadprof.diff.Side``."""

    calls: int
    prim_calls: int
    wall: int
    wall_self: int
    cpu: int
    cpu_self: int


def add_totals(total: Totals, s: Totals) -> None:
    """Add the counts and times of ``s`` to ``total``."""
    total.calls += s.calls
    total.prim_calls += s.prim_calls
    total.wall += s.wall
    total.wall_self += s.wall_self
    total.cpu += s.cpu
    total.cpu_self += s.cpu_self


def merge_threads(threads: Iterable[ThreadProfile], name: str = "all threads") -> ThreadProfile:
    """Unite the call trees of several threads by path from the root (in C,
    as columns; primitive calls judged on the merged tree)."""
    threads = list(threads)
    columns: NodeColumns | None = None
    nodes: list[Node] | None = None
    try:
        columns = NodeColumns.of_raw(_core._merge([t.tree_flat(RAW_FIELDS) for t in threads]))
    except (OverflowError, TypeError):  # a model built by hand: Python's ints
        nodes = _merge_nodes(threads)
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
        columns=columns,
        warnings=[w for t in threads for w in t.warnings],
    )


def _merge_nodes(threads: list[ThreadProfile]) -> list[Node]:
    """:func:`merge_threads`' nodes, made node by node."""
    root = Node(0, -1, -1)
    nodes = [root]
    index: dict[tuple[int, int], int] = {}
    for t in threads:
        remap = [0] * len(t.nodes)  # the thread's node id -> the merged one
        for node, _depth in t.walk():
            parent = remap[node.parent]
            key = (parent, node.func)
            nid = index.get(key)
            if nid is None:
                nid = index[key] = len(nodes)
                m = Node(nid, parent, node.func)
                nodes.append(m)
                nodes[parent].children.append(nid)
            else:
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
    return nodes


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


# -- thread groups ---------------------------------------------------------------

#: The fewest threads of one name pattern that the views show as one group:
#: up to 16 threads are listed one by one, so that their imbalance shows.
GROUP_MIN = 17
#: The most lines a threads table takes before smaller groups are made too.
SCREEN_ROWS = 40

# a name that ends in a number, possibly followed by the " (target)" that
# threading's default names carry since 3.10: "worker-12", "Thread-5 (serve)"
_NUMBERED = re.compile(r"(?P<stem>.*?)\d+(?P<tail>(?: \([^()]*\))?)", re.DOTALL)


def thread_group_key(name: str) -> str:
    """The name pattern that groups a thread: its trailing number made ``*``.

    ``worker-12`` -> ``worker-*``, ``ThreadPoolExecutor-0_12`` ->
    ``ThreadPoolExecutor-0_*``, ``Thread-5 (serve)`` -> ``Thread-* (serve)``
    (``threading``'s default names put the target's name after the number).
    A name that does not end in a number is its own key. A key is also a
    ``--thread`` glob that selects its group (unless the names hold glob
    characters of their own).
    """
    m = _NUMBERED.fullmatch(name)
    return name if m is None else f"{m['stem']}*{m['tail']}"


class ThreadGroup(Record):
    """Threads shown together: those that share a :func:`thread_group_key`, or one
    thread on its own; with their totals."""

    __slots__ = ("key", "threads")
    key: str
    threads: list[ThreadProfile]

    def __init__(self, key: str, threads: list[ThreadProfile]) -> None:
        self.key = key
        self.threads = threads

    @property
    def wall_time(self) -> int:
        return sum(t.wall_time for t in self.threads)

    @property
    def cpu_time(self) -> int:
        return sum(t.cpu_time for t in self.threads)

    @property
    def calls(self) -> int:
        return sum(t.calls for t in self.threads)

    @property
    def first_seen(self) -> int:
        return min(t.first_seen for t in self.threads)

    @property
    def last_seen(self) -> int:
        return max(t.last_seen for t in self.threads)


def threads_by_key(threads: Iterable[ThreadProfile]) -> list[ThreadGroup]:
    """The threads of each :func:`thread_group_key`, keys in order of first use."""
    members: dict[str, ThreadGroup] = {}
    for t in threads:
        key = thread_group_key(t.name)
        group = members.get(key)
        if group is None:
            group = members[key] = ThreadGroup(key, [])
        group.threads.append(t)
    return list(members.values())


def screen_groups(threads: list[ThreadProfile]) -> list[ThreadGroup]:
    """The lines of a threads table that fits a screen: the groups of more
    than 16 threads (:data:`GROUP_MIN`), and if that leaves more than
    :data:`SCREEN_ROWS` lines, every group of two or more."""
    lines = group_threads(threads)
    if len(lines) > SCREEN_ROWS:
        lines = group_threads(threads, 2)
    return lines


def group_threads(threads: list[ThreadProfile], min_size: int = GROUP_MIN) -> list[ThreadGroup]:
    """The lines of a threads table: each group of at least ``min_size``
    threads that share a :func:`thread_group_key`, and every other thread on
    its own, in the order of each line's first thread."""
    groups = {id(t): g for g in threads_by_key(threads) for t in g.threads}
    lines: list[ThreadGroup] = []
    for t in threads:
        group = groups[id(t)]
        if len(group.threads) < min_size:
            lines.append(ThreadGroup(group.key, [t]))
        elif group.threads[0] is t:
            lines.append(group)
    return lines


def thread_without_tasks(thread: ThreadProfile) -> ThreadProfile:
    """``thread`` with its tasks' calls taken out of its call tree: each
    task's tree subtracted at its ``prefix``, node by node (calls and times;
    from the inclusive times of the callers, its steps but not its waits,
    which were never theirs). The views that show tasks beside
    their thread (pprof's ``task`` label) count nothing twice with it. A task
    whose calls are not all in the thread's tree (a model built by hand) is
    left in."""
    nodes = _renumbered(thread.nodes, {})  # copies
    child = {(n.parent, n.func): n.id for n in nodes[1:]}
    for task in thread.tasks:
        at: int | None = 0
        for func in task.prefix:
            at = child.get((at, func))
            if at is None:
                break
        if at is None:
            continue
        where = {0: at}
        for n in task.nodes[1:]:
            m = child.get((where[n.parent], n.func))
            if m is None:
                break
            where[n.id] = m
        else:
            for n in task.nodes[1:]:
                m = nodes[where[n.id]]
                m.calls -= n.calls
                m.prim_calls -= n.prim_calls
                m.wall -= n.wall
                m.wall_self -= n.wall_self
                m.cpu -= n.cpu
                m.cpu_self -= n.cpu_self
            # its steps were its callers' inclusive time; its waits were not
            top = task.nodes[0]
            up: int = at
            while up > 0:  # the root's times are the thread's, kept as they are
                nodes[up].wall -= top.wall - task.await_time
                nodes[up].cpu -= top.cpu
                up = nodes[up].parent
    return replace(thread, nodes=nodes, tasks=[])


def task_lines(
    tasks: list[TaskProfile], min_size: int = GROUP_MIN
) -> list[tuple[ThreadGroup, int]]:
    """The lines of a tasks table, as ``(group, depth)`` depth first: the
    tasks made outside any task (or by one not among ``tasks``) at depth 0,
    each line followed by the tasks its tasks made, one deeper. Of the tasks
    one line made, those that share a :func:`thread_group_key` make one line
    when there are at least ``min_size`` of them, as threads do; every other
    task is a line of its own, in the order of first steps."""
    ids = {t.id for t in tasks}
    made: dict[int, list[TaskProfile]] = {}
    for t in sorted(tasks, key=lambda t: t.id):
        made.setdefault(t.creator if t.creator in ids else 0, []).append(t)
    lines: list[tuple[ThreadGroup, int]] = []
    # iteratively: a chain of tasks can be deeper than Python recurses
    todo: list[tuple[ThreadGroup | list[ThreadProfile], int]] = [(list(made.get(0, [])), 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, list):  # the tasks one line made: grouped
            todo.extend((g, depth) for g in reversed(group_threads(item, min_size)))
            continue
        lines.append((item, depth))
        kids = sorted(
            (k for t in item.threads if isinstance(t, TaskProfile) for k in made.get(t.id, ())),
            key=lambda t: t.id,
        )
        if kids:
            todo.append((list(kids), depth + 1))
    return lines


# -- tables by pstats key ----------------------------------------------------------

#: cProfile's and pstats' key of a function: ``(file, line, name)``.
PstatsKey = tuple[str, int, str]


class KeyStats(_Counted):
    """Totals of the functions that share one pstats key (the first one names it),
    with cProfile's semantics, or of the calls between two such keys."""

    __slots__ = ("func",)
    func: Function

    def __init__(
        self,
        func: Function,
        calls: int = 0,
        prim_calls: int = 0,
        wall: int = 0,
        wall_self: int = 0,
        cpu: int = 0,
        cpu_self: int = 0,
    ) -> None:
        self.func = func
        self._count(calls, prim_calls, wall, wall_self, cpu, cpu_self)


def group_functions(
    functions: Sequence[Function], key: Callable[[Function], object]
) -> tuple[array, list[Function]]:
    """Each function's group, as int64 by function id: the functions whose
    ``key`` is equal share a group, numbered in order of their first function;
    and that first function of each group."""
    index: dict[object, int] = {}
    firsts: list[Function] = []
    group = array("q")
    for f in functions:
        k = key(f)
        g = index.get(k)
        if g is None:
            g = index[k] = len(firsts)
            firsts.append(f)
        group.append(g)
    return group, firsts


def pstats_groups(functions: Sequence[Function]) -> tuple[array, list[Function]]:
    """:func:`group_functions` by pstats key."""
    return group_functions(functions, operator.attrgetter("pstats_key"))


def grouped_totals(
    snapshot: Snapshot, threads: Iterable[ThreadProfile] | None, group: array, edges: bool
) -> Sequence[int]:
    """The totals of the threads (all by default) summed by ``group``
    (:func:`group_functions`): rows of eight integers (the group, or caller
    group << 32 | callee group; 0; calls, prim_calls, wall, wall_self, cpu,
    cpu_self), sorted by group. Recursion is judged per thread and function,
    as cProfile does, before the functions are grouped."""
    selected = list(snapshot._each(threads))
    tables = []
    for t in selected:
        rows = _c_totals(t, edges)
        if rows is None:
            break
        tables.append(rows)
    else:
        with contextlib.suppress(OverflowError):
            return memoryview(_core._regroup(tables, group, edges)).cast("q")
    # sums beyond 64 bits, which only a model built by hand holds: Python's ints
    sums: dict[int, list[int]] = {}
    stats: dict[Any, Totals]
    if edges:
        stats = dict(snapshot.edge_stats(selected))
        key_of: Callable[[Any], int] = lambda p: group[p[0]] << 32 | group[p[1]]  # noqa: E731
    else:
        stats = dict(snapshot.function_stats(selected))
        key_of = group.__getitem__
    for k, s in stats.items():
        g = key_of(k)
        row = sums.setdefault(g, [g, 0, 0, 0, 0, 0, 0, 0])
        for j, v in enumerate((s.calls, s.prim_calls, s.wall, s.wall_self, s.cpu, s.cpu_self), 2):
            row[j] += v
    return [v for g in sorted(sums) for v in sums[g]]


def key_stats(
    snapshot: Snapshot, threads: Iterable[ThreadProfile] | None = None
) -> dict[PstatsKey, KeyStats]:
    """Per-function totals summed by pstats key, in order of each key's first
    function: the rows of a pstats file and of the terminal report's function
    table. A key is named by its first function."""
    group, firsts = pstats_groups(snapshot.functions)
    rows = grouped_totals(snapshot, threads, group, False)
    out: dict[PstatsKey, KeyStats] = {}
    for i in range(0, len(rows), 8):
        func = firsts[rows[i]]
        out[func.pstats_key] = KeyStats(func, *rows[i + 2 : i + 8])
    return out


def _renumbered(nodes: list[Node], remap: dict[int, int]) -> list[Node]:
    """Copies of ``nodes`` whose functions are renumbered by ``remap``."""
    return [
        Node(
            n.id,
            n.parent,
            remap.get(n.func, n.func) if n.func >= 0 else n.func,
            n.calls,
            n.prim_calls,
            n.wall,
            n.wall_self,
            n.cpu,
            n.cpu_self,
            list(n.children),
        )
        for n in nodes
    ]
