# SPDX-License-Identifier: MIT
"""Pools of threads: how busy a group of workers was, and how evenly.

A pool is a group of two or more threads whose names share a
:func:`~threadprof.model.thread_group_key` (``worker-*``, a
``ThreadPoolExecutor``'s ``ThreadPoolExecutor-0_*``). Each worker's wall time
is split three ways, from its call tree:

* **idle**: blocked waiting for work: in ``queue.SimpleQueue.get`` (where a
  ``ThreadPoolExecutor``'s workers wait) or in a lock inside
  ``queue.Queue.get``;
* **blocked**: in any other known wait (:func:`threadprof.offcpu.wait_kind`:
  a lock, a sleep, a socket...);
* **busy**: the rest: running, or runnable (waiting for the GIL or a CPU).

A worker's tasks are its calls of ``concurrent.futures``' ``_WorkItem.run``
(one per task a ``ThreadPoolExecutor`` ran), else its calls that took work
from a queue (``Queue.get``, ``SimpleQueue.get``).

From the lock calls (:mod:`threadprof.queues`), when they were recorded: the
time the pool's queues held work (``queued``), and of it the time fewer than
all its workers were busy (``underused``): one was waiting for work, or had
not started yet, or had ended. All its workers are as many as were alive at
once (a name shared by pools that ran one after another, such as
``multiprocessing``'s ``Thread-N (worker)``, is one group). A pool's queues are
the ones its workers take work from.
"""

from __future__ import annotations

from ._record import Record
from .model import LOCKS_DROPPED, Function, Snapshot, ThreadProfile, thread_group_key
from .offcpu import wait_kind
from .queues import QueueTrace, queue_traces

__all__ = ["PoolStats", "pools"]

_QUEUE_FILE = "/queue.py"
_FUTURES_THREAD = "/concurrent/futures/thread.py"


class PoolStats(Record):
    """One pool: its workers (thread indices) and their time, in ticks."""

    __slots__ = (
        "blocked",
        "busy",
        "idle",
        "key",
        "queued",
        "tasks",
        "threads",
        "underused",
        "wall",
    )
    key: str
    threads: list[int]
    wall: int  # the workers' wall time, summed
    busy: int
    blocked: int
    idle: int
    tasks: list[int] | None  # per worker, in the order of threads; None: not known
    queued: int | None  # the time its queues held work; None: not known
    underused: int | None  # of it, the time fewer than all its workers were busy

    def __init__(
        self,
        key: str,
        threads: list[int],
        wall: int,
        busy: int,
        blocked: int,
        idle: int,
        tasks: list[int] | None,
        queued: int | None = None,
        underused: int | None = None,
    ) -> None:
        self.key = key
        self.threads = threads
        self.wall = wall
        self.busy = busy
        self.blocked = blocked
        self.idle = idle
        self.tasks = tasks
        self.queued = queued
        self.underused = underused


def _is(f: Function, suffix: str, qualname: str) -> bool:
    return (
        f.kind == "python"
        and f.qualname == qualname
        and f.filename.replace("\\", "/").endswith(suffix)
    )


def _worker(snapshot: Snapshot, thread: ThreadProfile) -> tuple[int, int, int, int]:
    """(blocked, idle, work items run, gets from a queue) of one thread."""
    functions = snapshot.functions
    cols = thread.tree_columns()
    parent, func = cols.parent, cols.func
    blocked = idle = runs = gets = 0
    for i in range(1, len(cols)):
        f = functions[func[i]]
        if _is(f, _FUTURES_THREAD, "_WorkItem.run"):
            runs += cols.calls[i]
        elif _is(f, _QUEUE_FILE, "Queue.get"):
            gets += cols.calls[i]
        kind = wait_kind(f)
        if kind is None:
            continue
        if kind == "queue":
            gets += cols.calls[i]
        off = max(cols.wall_self[i] - cols.cpu_self[i], 0)
        if off == 0:
            continue
        waiting_for_work = kind == "queue"
        up = parent[i]
        while not waiting_for_work and up > 0:
            waiting_for_work = _is(functions[func[up]], _QUEUE_FILE, "Queue.get")
            up = parent[up]
        if waiting_for_work:
            idle += off
        else:
            blocked += off
    return blocked, idle, runs, gets


def _queued(
    snapshot: Snapshot, members: list[int], traces: dict[tuple[int, int], QueueTrace]
) -> tuple[int, int] | None:
    """(queued, underused) of a pool's workers, or ``None`` if it took no work
    from a queue whose calls were seen whole."""
    mine = set(members)
    queues = [q for q in traces.values() if mine & (q.waits.keys() | q.takers.keys())]
    if not queues:
        return None
    # (time, change of the work queued, change of the workers busy)
    steps: list[tuple[int, int, int]] = []
    for q in queues:
        steps += [(t, 1, 0) for t in q.puts]
        steps += [(t, -1, 0) for t in q.takes]
        for thread in members:
            for start, end in q.waits.get(thread, ()):
                steps += [(start, 0, -1), (end, 0, 1)]
    lives = []
    for thread in members:
        t = snapshot.threads[thread]
        lives += [(t.first_seen, 1), (t.last_seen, -1)]
    steps += [(time, 0, alive) for time, alive in lives]
    steps.sort()
    horizon = max(t.last_seen for t in snapshot.threads)
    work = queued = underused = busy = 0
    size = _most_at_once(lives)  # all the workers: as many as ran at once
    at = steps[0][0]
    for time, dwork, dbusy in steps:
        if work > 0:
            queued += time - at
            if busy < size:
                underused += time - at
        at = time
        work += dwork
        busy += dbusy
    if work > 0 and horizon > at:  # still queued when the profile ended
        queued += horizon - at
        if busy < size:
            underused += horizon - at
    return queued, underused


def _most_at_once(lives: list[tuple[int, int]]) -> int:
    """The most threads alive at once, of (time, +1 or -1) steps (a thread
    that ends at a time another starts is not counted with it)."""
    most = alive = 0
    for _time, step in sorted(lives, key=lambda s: (s[0], s[1])):
        alive += step
        most = max(most, alive)
    return most


def pools(snapshot: Snapshot) -> list[PoolStats]:
    """The pools of a snapshot's threads, the most threads first."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(snapshot.threads):
        key = thread_group_key(t.name)
        if key != t.name:
            groups.setdefault(key, []).append(i)
    out = []
    traces: dict[tuple[int, int], QueueTrace] | None = None
    whole = not any(LOCKS_DROPPED in w for t in snapshot.threads for w in t.warnings)
    for key, members in groups.items():
        if len(members) < 2:
            continue
        wall = busy = blocked = idle = 0
        runs: list[int] = []
        gets: list[int] = []
        for i in members:
            t = snapshot.threads[i]
            b, d, r, g = _worker(snapshot, t)
            wall += t.wall_time
            blocked += b
            idle += d
            busy += max(t.wall_time - b - d, 0)
            runs.append(r)
            gets.append(g)
        tasks = runs if any(runs) else gets if any(gets) else None
        stats = PoolStats(key, members, wall, busy, blocked, idle, tasks)
        if whole:
            if traces is None:
                traces = queue_traces(snapshot)
            stats.queued, stats.underused = _queued(snapshot, members, traces) or (None, None)
        out.append(stats)
    out.sort(key=lambda p: (-len(p.threads), p.key))
    return out
