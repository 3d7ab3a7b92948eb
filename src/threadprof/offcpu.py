# SPDX-License-Identifier: MIT
"""A thread's off-CPU time split: blocked in a known wait, or runnable but not
running (waiting for the GIL or for a CPU).

Off-CPU time is wall time less CPU time. Where it was spent says what it was:

* **Blocked in a known wait**: the own off-CPU time of a call that blocks
  the thread until something happens, named by the call and of one of
  :data:`WAIT_KINDS`: acquiring a lock (``lock``), joining a thread
  (``join``), ``queue.SimpleQueue.get`` (``queue``), ``time.sleep``
  (``sleep``), ``select``, ``poll``, ``epoll`` and ``kqueue`` (``select``), a
  socket's calls (``socket``), reading and writing files and pipes
  (``file``), waiting for a child process (``subprocess``).
* **Runnable**: every other off-CPU time: in Python code, between two events
  with no blocking call open, and in C calls that do not block. The thread
  could run and did not: it waited for the GIL (with the GIL, a thread that
  asks for it waits a switch interval, 5 ms by default, for its holder to
  let go), or for a CPU that the OS gave another thread or process. On a
  free-threaded build running without the GIL it is the OS scheduler's alone
  (:func:`has_gil`).

Computed from each thread's call tree (own wall and CPU time per node):
exact to the clock's reads, with CPU time measured (``Snapshot.cpu_mode``
not ``"none"``). The model computes; views render.
"""

from __future__ import annotations

import re

from ._record import Record
from .model import Function, Snapshot, ThreadProfile

__all__ = ["WAIT_KINDS", "FunctionSplit", "OffCpu", "ThreadSplit", "has_gil", "split", "wait_kind"]

#: The kinds of known waits, in the order views list them.
WAIT_KINDS = ("lock", "join", "queue", "sleep", "select", "socket", "file", "subprocess")

_METHOD = re.compile(r"<method '([^']+)' of '([^']+)' objects>")
_BUILTIN = re.compile(r"<built-in method ([\w.]+)>")

_LOCK_TYPES = ("_thread.lock", "_thread.RLock")
_LOCK_METHODS = ("acquire", "acquire_lock", "__enter__", "_acquire_restore")
_SOCKET_METHODS = (
    "accept",
    "_accept",
    "connect",
    "connect_ex",
    "recv",
    "recv_into",
    "recvfrom",
    "recvfrom_into",
    "recvmsg",
    "recvmsg_into",
    "send",
    "sendall",
    "sendto",
    "sendmsg",
)
_FILE_METHODS = ("read", "read1", "readinto", "readinto1", "readline", "readlines", "readall")
_FILE_METHODS += ("write", "writelines", "flush")
_SELECT_MODULE = ("select.select", "select.poll", "select.epoll", "select.kqueue")
_OS_FILE = ("read", "readv", "pread", "preadv", "write", "writev", "pwrite", "pwritev")
_OS_FILE += ("sendfile", "splice", "copy_file_range")
_OS_WAIT = ("wait", "waitpid", "wait3", "wait4", "waitid", "pidfd_open")


def wait_kind(func: Function) -> str | None:
    """The :data:`WAIT_KINDS` kind of a C function that blocks, or ``None``."""
    if func.kind != "c":
        return None
    name = func.name
    m = _METHOD.fullmatch(name)
    if m is not None:
        method, owner = m.groups()
        if owner in _LOCK_TYPES:
            return "lock" if method in _LOCK_METHODS else None
        if owner == "_thread._ThreadHandle":
            return "join" if method == "join" else None
        if owner == "_queue.SimpleQueue":
            return "queue" if method == "get" else None
        if owner.startswith("select."):
            return "select" if method in ("poll", "control") else None
        if owner in ("_socket.socket", "socket.socket", "_ssl._SSLSocket"):
            return "socket" if method in _SOCKET_METHODS or owner == "_ssl._SSLSocket" else None
        if owner.startswith("_io."):
            return "file" if method in _FILE_METHODS else None
        return None
    m = _BUILTIN.fullmatch(name)
    if m is None:
        return None
    qualified = m.group(1)
    module, _, short = qualified.rpartition(".")
    if qualified == "time.sleep":
        return "sleep"
    if qualified in _SELECT_MODULE:
        return "select"
    if module in ("posix", "nt", "os"):
        if short in _OS_FILE:
            return "file"
        if short in _OS_WAIT:
            return "subprocess"
    return None


class ThreadSplit(Record):
    """One thread's off-CPU time, split (ticks)."""

    __slots__ = ("blocked", "offcpu", "runnable", "thread", "wall")
    thread: int  # its index in the snapshot
    wall: int
    offcpu: int  # wall less CPU: blocked + runnable
    blocked: dict[str, int]  # by kind of wait
    runnable: int

    def __init__(
        self, thread: int, wall: int, offcpu: int, blocked: dict[str, int], runnable: int
    ) -> None:
        self.thread = thread
        self.wall = wall
        self.offcpu = offcpu
        self.blocked = blocked
        self.runnable = runnable


class FunctionSplit(Record):
    """A Python function's off-CPU time over the threads: blocked in the known
    waits it called (by the waiting call's function id), and runnable in its
    own code and the other C calls it made."""

    __slots__ = ("blocked", "func", "runnable")
    func: int
    blocked: dict[int, int]
    runnable: int

    def __init__(self, func: int, blocked: dict[int, int], runnable: int) -> None:
        self.func = func
        self.blocked = blocked
        self.runnable = runnable

    @property
    def offcpu(self) -> int:
        return self.runnable + sum(self.blocked.values())


class OffCpu(Record):
    """The split of every thread and of every function (the most off-CPU
    first)."""

    __slots__ = ("functions", "gil", "threads")
    threads: list[ThreadSplit]
    functions: list[FunctionSplit]
    gil: bool  # the profiled interpreter ran with a GIL

    def __init__(
        self, threads: list[ThreadSplit], functions: list[FunctionSplit], gil: bool
    ) -> None:
        self.threads = threads
        self.functions = functions
        self.gil = gil


def has_gil(snapshot: Snapshot) -> bool:
    """Whether the profiled interpreter ran with a GIL (``python_version``
    ends with ``t`` for one running without)."""
    return not snapshot.python_version.endswith("t")


def _thread_split(
    index: int,
    thread: ThreadProfile,
    kinds: list[str | None],
    functions: list[Function],
    per_func: dict[int, FunctionSplit],
) -> ThreadSplit:
    cols = thread.tree_columns()
    parent, func = cols.parent, cols.func
    blocked: dict[str, int] = {}
    runnable = 0
    for i in range(1, len(cols)):
        off = cols.wall_self[i] - cols.cpu_self[i]
        if off <= 0:
            continue
        f = func[i]
        kind = kinds[f]
        if kind is not None:
            blocked[kind] = blocked.get(kind, 0) + off
        else:
            runnable += off
        # the Python function it counts to: itself, or its nearest Python caller
        owner, up = f, parent[i]
        while functions[owner].kind != "python" and up > 0:
            owner, up = func[up], parent[up]
        if functions[owner].kind != "python":
            continue  # C calls at the thread's root: no Python function to name
        row = per_func.get(owner)
        if row is None:
            row = per_func[owner] = FunctionSplit(owner, {}, 0)
        if kind is not None:
            row.blocked[f] = row.blocked.get(f, 0) + off
        else:
            row.runnable += off
    wall = thread.wall_time
    return ThreadSplit(index, wall, sum(blocked.values()) + runnable, blocked, runnable)


def split(snapshot: Snapshot) -> OffCpu | None:
    """The :class:`OffCpu` of a snapshot's threads, or ``None`` without CPU
    time (``cpu_mode`` ``"none"``)."""
    if snapshot.cpu_mode == "none":
        return None
    functions = snapshot.functions
    kinds = [wait_kind(f) for f in functions]
    per_func: dict[int, FunctionSplit] = {}
    threads = [
        _thread_split(i, t, kinds, functions, per_func) for i, t in enumerate(snapshot.threads)
    ]
    rows = sorted(per_func.values(), key=lambda r: (-r.offcpu, r.func))
    return OffCpu(threads, rows, has_gil(snapshot))
