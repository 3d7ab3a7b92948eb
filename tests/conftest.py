# SPDX-License-Identifier: MIT
"""Shared fixtures: hand-built snapshots for exporter, report and model tests.

``builder`` returns a fresh :class:`SnapshotBuilder`. A thread is a list of
:class:`Call` trees; each ``Call`` gives a function, the number of calls and the
inclusive wall (and optionally CPU) ticks through that path. Self times are
derived (inclusive minus the children's inclusive) unless given, so a tree reads
like a profile and its numbers stay consistent::

    def test_x(builder):
        C = builder.call
        builder.thread("MainThread", [C("main", 1, 100, [C("f", 2, 40)])])
        snap = builder.build()

:meth:`SnapshotBuilder.timeline` gives a thread a timeline of calls and returns
(``("call", "f", 5)``, ``("ret", "f", 9)``), in one chunk or several.

Functions are named by string (created on first use in ``app.py``, one line
apart) or by the id that :meth:`SnapshotBuilder.func` returns, which is how two
distinct functions with the same ``(file, line, name)`` are made.

``weird_snap`` is a snapshot whose names (tests/names.py) every format and
view must carry through unchanged. ``engine`` runs a test once per engine of
this Python.

``threadprof`` is imported lazily, so collecting tests that do not use these
fixtures never needs the package.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from shared import (
    ENGINES,
    FREE_THREADED,
    WEIRD_ARG,
    WEIRD_C,
    WEIRD_FILE,
    WEIRD_QUALNAME,
    WEIRD_THREAD,
)

if TYPE_CHECKING:
    from threadprof.model import Snapshot, TaskProfile, ThreadProfile, Timeline


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """valgrind's memcheck cannot run a free-threaded CPython (its mimalloc
    heap crashes under valgrind before threadprof runs): skip those there."""
    if not FREE_THREADED:
        return
    skip = pytest.mark.skip(reason="valgrind cannot run a free-threaded CPython (mimalloc)")
    for item in items:
        if item.get_closest_marker("memcheck") is not None:
            item.add_marker(skip)


@dataclass
class Call:
    """A call-tree node as written in a test."""

    func: str | int
    calls: int = 1
    wall: int = 0
    children: list[Call] = field(default_factory=list)
    cpu: int | None = None  # default: equal to wall
    wall_self: int | None = None  # default: wall - sum(children wall)
    cpu_self: int | None = None  # default: cpu - sum(children cpu)


class SnapshotBuilder:
    """Builds :class:`threadprof.model.Snapshot` objects by hand."""

    call = Call

    def __init__(self, clock: str = "wall", unit: float = 1e-3, cpu_mode: str = "exact") -> None:
        self.clock = clock
        self.unit = unit
        self.cpu_mode = cpu_mode
        self.functions: list[Any] = []
        self.threads: list[Any] = []
        self._by_name: dict[str, int] = {}

    def func(
        self,
        name: str,
        filename: str = "app.py",
        lineno: int | None = None,
        *,
        kind: str = "python",
        qualname: str | None = None,
    ) -> int:
        """Add a function and return its id. ``kind="c"`` makes a builtin (``~``, line 0)."""
        from threadprof.model import Function

        fid = len(self.functions)
        if kind == "c":
            filename, lineno = "~", 0
        elif lineno is None:
            lineno = 10 * (fid + 1)
        self.functions.append(Function(fid, kind, name, qualname or name, filename, lineno))  # type: ignore[arg-type]
        self._by_name.setdefault(name, fid)
        return fid

    def cfunc(self, name: str) -> int:
        """Add a C function such as ``<built-in method builtins.len>``."""
        return self.func(name, kind="c")

    def _fid(self, func: str | int) -> int:
        if isinstance(func, int):
            return func
        if func not in self._by_name:
            return self.func(func)
        return self._by_name[func]

    def thread(
        self,
        name: str,
        calls: list[Call],
        *,
        ident: int | None = None,
        native_id: int | None = None,
        wall_time: int | None = None,
        cpu_time: int | None = None,
        first_seen: int = 0,
    ) -> ThreadProfile:
        """Add a thread whose root calls are ``calls``; returns it."""
        from threadprof.model import Node, ThreadProfile, build_tree

        nodes = [Node(0, -1, -1)]

        def add(call: Call, parent: int) -> None:
            cpu = call.wall if call.cpu is None else call.cpu
            kids_wall = sum(c.wall for c in call.children)
            kids_cpu = sum(c.wall if c.cpu is None else c.cpu for c in call.children)
            node = Node(
                id=len(nodes),
                parent=parent,
                func=self._fid(call.func),
                calls=call.calls,
                wall=call.wall,
                wall_self=call.wall - kids_wall if call.wall_self is None else call.wall_self,
                cpu=cpu,
                cpu_self=cpu - kids_cpu if call.cpu_self is None else call.cpu_self,
            )
            nodes.append(node)
            for child in call.children:
                add(child, node.id)

        for call in calls:
            add(call, 0)
        build_tree(nodes)
        root = nodes[0]
        root.wall = sum(nodes[c].wall for c in root.children)
        root.cpu = sum(nodes[c].cpu for c in root.children)
        serial = len(self.threads) + 1
        wall = root.wall if wall_time is None else wall_time
        thread = ThreadProfile(
            serial=serial,
            ident=1000 + serial if ident is None else ident,
            native_id=2000 + serial if native_id is None else native_id,
            name=name,
            first_seen=first_seen,
            last_seen=first_seen + wall,
            wall_time=wall,
            cpu_time=root.cpu if cpu_time is None else cpu_time,
            nodes=nodes,
        )
        self.threads.append(thread)
        return thread

    def task(
        self,
        thread: ThreadProfile,
        name: str,
        calls: list[Call],
        *,
        id: int,
        creator: int = 0,
        loop: int = 1,
        steps: int = 1,
        await_time: int = 0,
        first_seen: int = 0,
        prefix: list[str | int] = (),  # type: ignore[assignment]
    ) -> TaskProfile:
        """Add a task of ``thread`` whose coroutine's calls are ``calls``,
        run below the functions ``prefix``; returns it."""
        from threadprof.model import TaskProfile

        tree = self.thread(name, calls, first_seen=first_seen)
        self.threads.remove(tree)
        task = TaskProfile(
            serial=thread.serial,
            ident=thread.ident,
            native_id=thread.native_id,
            name=name,
            first_seen=first_seen,
            last_seen=tree.last_seen,
            wall_time=tree.wall_time,
            cpu_time=tree.cpu_time,
            nodes=tree.nodes,
            id=id,
            creator=creator,
            loop=loop,
            steps=steps,
            await_time=await_time,
            prefix=[self._fid(f) for f in prefix],
        )
        thread.tasks.append(task)
        return task

    def timeline(
        self,
        thread: ThreadProfile,
        events: list[tuple[str, str | int, int]],
        *,
        dropped: int = 0,
        chunk: int | None = None,
    ) -> Timeline:
        """Give ``thread`` a timeline and return it.

        ``events`` are ``("call" | "ret", func, time)`` with functions named as
        for :class:`Call`; ``chunk`` splits them into chunks of that many events
        (one chunk by default), produced lazily as a recorded timeline would be.
        """
        from threadprof.model import Timeline

        codes = []
        for kind, func, time in events:
            if kind not in ("call", "ret"):
                raise ValueError(f"event kind must be 'call' or 'ret', not {kind!r}")
            fid = self._fid(func)
            codes.append((fid if kind == "call" else ~fid, time))
        if chunk is None:
            timeline = Timeline.from_events(codes, dropped)
        else:
            size = chunk

            def source() -> Iterator[tuple[array, array]]:
                for i in range(0, len(codes), size):
                    part = codes[i : i + size]
                    yield array("i", [c for c, _ in part]), array("q", [t for _, t in part])

            timeline = Timeline(source, len(codes), dropped)
        thread.timeline = timeline
        return timeline

    def build(self, **extra: Any) -> Snapshot:
        """The snapshot of everything added so far (``extra`` sets other fields)."""
        from threadprof.model import Snapshot

        duration = max((t.last_seen for t in self.threads), default=0)
        fields: dict[str, Any] = {
            "clock": self.clock,
            "unit": self.unit,
            "functions": list(self.functions),
            "threads": list(self.threads),
            "cpu_mode": self.cpu_mode,
            "duration": duration,
            "python_version": "3.12.0",
            "argv": ["app.py"],
        }
        fields.update(extra)
        return Snapshot(**fields)


@pytest.fixture
def builder() -> SnapshotBuilder:
    """A fresh :class:`SnapshotBuilder` (wall clock, 1 ms ticks)."""
    return SnapshotBuilder()


@pytest.fixture
def make_builder() -> type[SnapshotBuilder]:
    """The :class:`SnapshotBuilder` class, for a clock or unit of your own."""
    return SnapshotBuilder


@pytest.fixture
def weird_snap(builder: SnapshotBuilder) -> Snapshot:
    """One thread, a Python and a C function, a timeline: every name weird."""
    b = builder
    fn = b.func("fn", WEIRD_FILE, 7, qualname=WEIRD_QUALNAME)
    cfn = b.cfunc(WEIRD_C)
    C = b.call
    t = b.thread(WEIRD_THREAD, [C(fn, 2, 30, [C(cfn, 1, 10)])], native_id=99)
    b.timeline(t, [("call", fn, 0), ("call", cfn, 5), ("ret", cfn, 15), ("ret", fn, 30)])
    return b.build(argv=["app.py", WEIRD_ARG])


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The name of an engine of this Python; a test using it runs once per engine."""
    return str(request.param)
