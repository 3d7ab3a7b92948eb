# SPDX-License-Identifier: MIT
"""Several snapshots as one: the processes of a process tree (``threadprof run``
following a program's children, docs/processes.md) or pytest-xdist's workers.

Functions become one table, matched by kind, names, file and line; each
thread's tree and timeline are renumbered into it. Every thread keeps its
own tree and names its process (:attr:`ThreadProfile.process
<threadprof.model.ThreadProfile.process>`, an index into
:attr:`Snapshot.processes <threadprof.model.Snapshot.processes>`). With the
wall clock, every time is moved onto the first snapshot's origin (by the
difference of the start times), so that the processes line up in time; CPU
clocks have no common origin and are kept as they are.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence

from ._record import replace
from .model import (
    Function,
    Process,
    Snapshot,
    ThreadProfile,
    Timeline,
    TimelineChunk,
    _renumbered,
)

__all__ = ["merge_processes", "merge_snapshots"]


def merge_snapshots(snapshots: Sequence[Snapshot], prefixes: Sequence[str] = ()) -> Snapshot:
    """One snapshot of the threads of ``snapshots``, one process each (a
    pool's children, pytest-xdist's workers), each thread kept apart and its
    name prefixed with ``prefixes[i]`` (``gw0:MainThread``). The snapshots
    must share a clock and a unit. The pid is the first snapshot's when all
    agree, else 0; the start is the earliest."""
    if not snapshots:
        raise ValueError("no snapshot to merge")
    parts = [(_own_process(s), s) for s in snapshots]
    return _Merge(parts, prefixes).snapshot()


def merge_processes(parts: Sequence[tuple[Process, Snapshot | None]]) -> Snapshot:
    """One snapshot of a process tree: ``parts[0]`` is the process that
    started the others, which must have a snapshot; a process without one
    (it crashed, or still ran) is listed with no threads. Each process's
    ``start`` and ``end`` are replaced by its snapshot's, on the first's
    origin."""
    if not parts or parts[0][1] is None:
        raise ValueError("the first process of a tree needs its snapshot")
    merged = _Merge(parts, ()).snapshot()
    merged.pid = parts[0][0].pid
    return merged


def _own_process(s: Snapshot) -> Process:
    return Process(s.pid, 0, s.argv, 0, s.duration, "")


class _Merge:
    """The work of one merge: the function table and the threads so far."""

    def __init__(
        self, parts: Sequence[tuple[Process, Snapshot | None]], prefixes: Sequence[str]
    ) -> None:
        recorded = [s for _, s in parts if s is not None]
        self.first = first = recorded[0]
        for s in recorded[1:]:
            if (s.clock, s.unit) != (first.clock, first.unit):
                raise ValueError(
                    f"cannot merge a {s.clock} clock of unit {s.unit:g} s with a {first.clock} "
                    f"clock of unit {first.unit:g} s"
                )
        self.parts = parts
        self.recorded = recorded
        self.prefixes = prefixes
        self.functions: list[Function] = []
        self.keyed: dict[tuple[str, str, str, str, int], int] = {}
        self.threads: list[ThreadProfile] = []
        self.processes: list[Process] = []
        self.warnings: list[str] = []
        self.next_task = 0  # task ids stay unique: each snapshot's follow the last
        self.origin = min(s.start_time for s in recorded)

    def shift(self, s: Snapshot) -> int:
        """Ticks to add to ``s``'s times to put them on the merged origin."""
        if s.clock != "wall":
            return 0
        return round((s.start_time - self.origin) / s.unit)

    def snapshot(self) -> Snapshot:
        index = 0
        for i, (process, snap) in enumerate(self.parts):
            if snap is None:
                self.processes.append(replace(process, recorded=False))
                continue
            shift = self.shift(snap)
            self.processes.append(replace(process, start=shift, end=shift + snap.duration))
            prefix = self.prefixes[index] if index < len(self.prefixes) else ""
            self.add(snap, i, shift, prefix)
            index += 1
        first = self.first
        pids = {s.pid for s in self.recorded}
        return Snapshot(
            clock=first.clock,
            unit=first.unit,
            functions=self.functions,
            threads=self.threads,
            cpu_mode=first.cpu_mode,
            engine=first.engine,
            pid=first.pid if len(pids) == 1 else 0,
            start_time=self.origin,
            duration=max(p.end for p in self.processes),
            python_version=first.python_version,
            argv=list(first.argv),
            warnings=self.warnings,
            coroutines=(
                first.coroutines if len({s.coroutines for s in self.recorded}) == 1 else ""
            ),
            slow_step=max(s.slow_step for s in self.recorded),
            processes=self.processes,
        )

    def function_table(self, snap: Snapshot) -> array:
        """``table[f]``: the merged id of ``snap``'s function ``f``."""
        table = array("q")
        for f in snap.functions:
            key = (f.kind, f.name, f.qualname, f.filename, f.lineno)
            fid = self.keyed.get(key)
            if fid is None:
                fid = self.keyed[key] = len(self.functions)
                self.functions.append(
                    Function(fid, f.kind, f.name, f.qualname, f.filename, f.lineno)
                )
            table.append(fid)
        return table

    def add(self, snap: Snapshot, process: int, shift: int, prefix: str) -> None:
        table = self.function_table(snap)
        task_base = self.next_task
        for t in snap.threads:
            serial = len(self.threads)
            tasks = [
                replace(
                    _moved(task, table, shift, process),
                    serial=serial,
                    prefix=[table[f] for f in task.prefix],
                    id=task_base + task.id,
                    creator=task_base + task.creator if task.creator else 0,
                    step_spans=[(a + shift, b + shift) for a, b in task.step_spans],
                )
                for task in t.tasks
            ]
            self.next_task = max([self.next_task, *(task.id for task in tasks)])
            self.threads.append(
                replace(
                    _moved(t, table, shift, process),
                    serial=serial,
                    name=prefix + t.name,
                    tasks=tasks,
                )
            )
        self.warnings += [prefix + w for w in snap.warnings]


def _moved(t: ThreadProfile, table: array, shift: int, process: int) -> ThreadProfile:
    """``t`` (a thread or a task) with its functions renumbered by ``table``
    and its times moved by ``shift`` ticks, in process ``process``."""
    if t._nodes is not None:  # a tree built by hand: its children lists as given
        tree = {"nodes": _renumbered(t._nodes, dict(enumerate(table)))}
    else:
        columns = t.tree_columns()
        funcs = array("q", [table[f] if f >= 0 else f for f in columns.func])
        tree = {"nodes": None, "columns": replace(columns, func=funcs)}
    changes = {
        **tree,
        "first_seen": t.first_seen + shift,
        "last_seen": t.last_seen + shift,
        "warnings": list(t.warnings),
        "slow_steps": [replace(s, start=s.start + shift) for s in t.slow_steps],
        "lock_ops": t.lock_ops.shifted(shift),
        "timeline": _moved_timeline(t.timeline, table, shift),
        "process": process,
    }
    return replace(t, **changes)  # type: ignore[no-any-return]


def _moved_timeline(timeline: Timeline | None, table: array, shift: int) -> Timeline | None:
    if timeline is None:
        return None
    lookup = table.tolist()

    def codes(funcs: array) -> array:
        return array("i", [lookup[f] if f >= 0 else ~lookup[~f] for f in funcs])

    def source() -> Iterator[TimelineChunk]:
        for funcs, times in timeline.chunks():
            yield codes(funcs), array("q", [x + shift for x in times]) if shift else times

    def codes_source() -> Iterator[array]:
        return (codes(funcs) for funcs in timeline.codes())

    return Timeline(source, timeline.events, timeline.dropped, codes_source)
