# SPDX-License-Identifier: MIT
"""The model (:mod:`threadprof.model`) of what the C core records: the dict
that ``_core.Profiler._raw_snapshot`` returns made into a
:class:`~threadprof.model.Snapshot`. Imported when a snapshot is first taken,
not with :mod:`threadprof.api`: a process that profiles (a follower of
``threadprof run`` among them) loads the model only if it uses it."""

from __future__ import annotations

import os
import sys
from array import array
from collections.abc import Iterator

from . import _core
from ._gcpause import gc_paused
from .build import python_version
from .model import (
    LOCKS_DROPPED,
    RAW_FIELDS,
    EncodedChunk,
    Function,
    LockOps,
    NodeColumns,
    SlowStep,
    Snapshot,
    TaskProfile,
    ThreadProfile,
    Timeline,
    TimelinePiece,
    replace,
)
from .trim import keep_activation

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Subtree", "snapshot_from_raw"]

#: ``(thread ident, (file, line, name))``: in the threads of that ident, only
#: the subtree of the call of that Python function nearest the root (breadth
#: first), under a new root; its timeline keeps that call's events alone.
#: A thread where the function never ran is kept whole.
Subtree = tuple[int, tuple[str, int, str]]


def snapshot_from_raw(
    raw: dict[str, Any], owner: Any = None, subtree: Subtree | None = None
) -> Snapshot:
    """Build the model from the dict that ``_core.Profiler._raw_snapshot`` returns.

    ``owner`` is the profiler whose spill file holds spilled timeline chunks;
    ``subtree`` cuts one thread down (:data:`Subtree`).
    """
    with gc_paused():
        return _snapshot_from_raw(raw, owner, subtree)


def _snapshot_from_raw(raw: dict[str, Any], owner: Any, subtree: Subtree | None) -> Snapshot:
    functions = [
        Function(i, kind, name, qualname, filename, lineno)
        for i, (kind, name, qualname, filename, lineno) in enumerate(raw["functions"])
    ]
    ident, key = subtree if subtree is not None else (None, None)
    top_funcs = tuple(f.id for f in functions if f.kind == "python" and f.pstats_key == key)
    fd = getattr(owner, "_timeline_fd", -1)
    threads = []
    for t in raw["threads"]:
        flat = t["nodes"]
        steps = [SlowStep(*row) for row in t["slow_steps"]]
        ops = _lock_ops(t["lock_ops"])
        tasks: list[TaskProfile] = []
        if t["tasks"]:
            flat, steps, tasks, remap = _split_tasks(t, steps)
            ops = ops.renumbered(remap.__getitem__)
        cut = None
        if t["ident"] == ident and top_funcs:
            cut, steps, ops = _cut(flat, top_funcs, steps, ops)
            if cut is not None:
                tasks = [_cut_prefix(task, top_funcs) for task in tasks]
        columns = NodeColumns.of_raw(flat if cut is None else cut)
        raw_tl = t.get("timeline")
        timeline = (
            None if raw_tl is None else _timeline_from_raw(raw_tl, fd, owner, len(functions))
        )
        if cut is not None:  # the call at node 1 is the one the timeline keeps
            timeline = keep_activation(timeline, columns.func[1])
        threads.append(
            ThreadProfile(
                serial=t["serial"],
                ident=t["ident"],
                native_id=t["native_id"],
                name=t["name"] if t["name"] is not None else f"<thread {t['native_id']}>",
                first_seen=t["first_seen"],
                last_seen=t["last_seen"],
                wall_time=t["last_seen"] - t["first_seen"],
                cpu_time=t["cpu_time"],
                nodes=None,
                columns=columns,
                warnings=_thread_warnings(t),
                timeline=timeline,
                slow_steps=steps,
                tasks=tasks,
                lock_ops=ops,
            )
        )
    return Snapshot(
        engine=raw["engine"],
        pid=os.getpid(),
        clock=raw["clock"],
        unit=raw["unit"],
        functions=functions,
        threads=threads,
        cpu_mode=raw["cpu_mode"],
        start_time=raw["start_time"],
        duration=raw["duration"],
        python_version=python_version(),
        argv=list(sys.argv),
        warnings=list(raw["warnings"]),
        coroutines=raw["coroutines"],
        slow_step=raw["slow_step"],
    )


def _thread_warnings(t: dict[str, Any]) -> list[str]:
    warnings = list(t["warnings"])
    if t["lock_ops_dropped"]:
        warnings.append(
            f"{t['lock_ops_dropped']:,} {LOCKS_DROPPED} "
            f"(16 MiB, about 512 Ki calls in all threads) were not recorded: the contention "
            f"report counts its first {len(t['lock_ops']) // 40:,} only"
        )
    if t["tasks_over"]:
        warnings.append(
            f"{t['tasks_over']:,} more asyncio tasks ran than the {len(t['tasks']):,} "
            "recorded as tasks: their calls are in the thread's tree only"
        )
    return warnings


def _lock_ops(raw: bytes) -> LockOps:
    """A raw thread's lock calls (five columns: start, end, address, node,
    kind) as :class:`LockOps`."""
    return LockOps.of_flat(raw)


def _split_tasks(
    t: dict[str, Any], steps: list[SlowStep]
) -> tuple[bytes, list[SlowStep], list[TaskProfile], array]:
    """A raw thread's tree without the nodes of its tasks' coroutines apart
    (merged with their siblings of the same function), its slow steps
    renumbered to match, its tasks (``_core._split_tasks``) and the new id of
    each old node."""
    raw = t["nodes"]
    flat, remap_bytes, trees = _core._split_tasks(raw, t["task_nodes"], len(t["tasks"]))
    n = len(raw) // (8 * len(RAW_FIELDS))
    parents, funcs = array("q", raw[: 8 * n]), array("q", raw[8 * n : 16 * n])
    pairs = array("q", t["task_nodes"])
    prefixes: dict[int, list[int]] = {}
    for node, index in zip(pairs[::2], pairs[1::2], strict=True):
        path = []
        up = parents[node]
        while up > 0:
            path.append(funcs[up])
            up = parents[up]
        path.reverse()
        prefixes.setdefault(index, path)
    spans: dict[int, list[tuple[int, int]]] = {}
    triples = array("q", t["task_spans"])
    for start, end, index in zip(triples[::3], triples[1::3], triples[2::3], strict=True):
        spans.setdefault(index, []).append((start, end))
    remap = array("q")
    remap.frombytes(remap_bytes)
    steps = [replace(s, node=remap[s.node], where=remap[s.where]) for s in steps]
    tasks = []
    for index, ((task_id, name, creator, loop, first, nsteps, awaited), tree) in enumerate(
        zip(t["tasks"], trees, strict=True)
    ):
        columns = NodeColumns.of_raw(tree)
        wall, cpu = columns.wall[0], columns.cpu[0]
        tasks.append(
            TaskProfile(
                serial=t["serial"],
                ident=t["ident"],
                native_id=t["native_id"],
                name=f"<task {task_id}>" if name is None else name,
                first_seen=first,
                last_seen=first + wall,
                wall_time=wall,
                cpu_time=cpu,
                nodes=None,
                columns=columns,
                id=task_id,
                creator=creator,
                loop=loop,
                steps=nsteps,
                await_time=awaited,
                prefix=prefixes.get(index, []),
                step_spans=spans.get(index, []),
            )
        )
    return flat, steps, tasks, remap


def _cut_prefix(task: TaskProfile, funcs: tuple[int, ...]) -> TaskProfile:
    """A task of a thread cut by :func:`_cut`, its prefix cut the same way:
    from the cut call on."""
    at = next((i for i, f in enumerate(task.prefix) if f in funcs), None)
    return task if at is None else replace(task, prefix=task.prefix[at:])


def _cut(
    flat: bytes, funcs: tuple[int, ...], steps: list[SlowStep], ops: LockOps
) -> tuple[bytes | None, list[SlowStep], LockOps]:
    """``_core._subtree`` of a raw tree, and its slow steps and lock calls
    renumbered as the subtree numbers its nodes (those outside it are left
    out)."""
    if not steps and not ops:
        return _core._subtree(flat, RAW_FIELDS, funcs), steps, ops
    n = len(flat) // (8 * len(RAW_FIELDS))
    ids = array("q", range(n)).tobytes()
    cut = _core._subtree(flat + ids, (*RAW_FIELDS, "id"), funcs)
    if cut is None:
        return None, steps, ops
    size = len(RAW_FIELDS) * 8 * (len(cut) // (8 * (len(RAW_FIELDS) + 1)))
    old = array("q")
    old.frombytes(cut[size:])
    new_id = {o: i for i, o in enumerate(old) if i}
    kept = [
        replace(s, node=new_id[s.node], where=new_id[s.where])
        for s in steps
        if s.node in new_id and s.where in new_id
    ]
    return cut[:size], kept, ops.renumbered(new_id.get)


def _timeline_from_raw(raw: dict[str, Any], fd: int, owner: Any, nfuncs: int) -> Timeline:
    """A lazy :class:`Timeline` over spilled chunks (read with ``os.pread`` from
    the profiler's spill file, where they are encoded as a ``.tprof`` file
    holds them) followed by the chunks copied from memory."""
    spills: list[tuple[int, int, int]] = raw["spills"]
    chunks: list[tuple[bytes, bytes]] = raw["chunks"]
    skip: int = raw["skip"]
    events = sum(n for _, n, _ in spills) + sum(len(tb) // 8 for tb, _ in chunks) - skip

    def pieces() -> Iterator[TimelinePiece]:
        _keep = owner  # the spill file lives as long as its profiler
        for offset, n, size in spills:
            yield EncodedChunk(n, _pread_exact(fd, size, offset), nfuncs)
        left = skip
        for tb, fb in chunks:
            funcs = array("i")
            funcs.frombytes(fb)
            cut = min(left, len(funcs))
            left -= cut
            if cut:
                funcs = funcs[cut:]
            if not funcs:
                continue
            times = array("q")
            times.frombytes(memoryview(tb)[8 * cut :])
            yield funcs, times
        del _keep

    return Timeline.of_pieces(pieces, events, raw["dropped"])


def _pread_exact(fd: int, size: int, offset: int) -> bytes:
    data = b""
    while len(data) < size:
        part = os.pread(fd, size - len(data), offset + len(data))
        if not part:
            raise _core.ProfilerError("the timeline spill file is shorter than expected")
        data += part
    return data
