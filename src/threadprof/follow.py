# SPDX-License-Identifier: MIT
"""Following the Python processes that a profiled program starts
(docs/processes.md): the directory they write to, and gathering what they wrote.

``threadprof run`` (the *root*) makes a private directory and puts two things
in its environment, which every process the program starts inherits:
:data:`ENV`, with that directory and the options to profile with, and, first
on ``PYTHONPATH``, threadprof's ``_boot`` directory, whose only file is a
``sitecustomize`` module. A Python interpreter that starts with them (a
multiprocessing child of any start method, a ``subprocess`` or ``os.exec*``
of Python) imports it at startup; it runs the ``sitecustomize`` it stands in
front of, if any, then :func:`boot`, which starts the profiler in that
process (the *follower*) with the root's options. A process forked from a
profiled one keeps profiling (the C core starts afresh in the child) and is a
follower too. The start method does not matter, nor how many there are.

A follower writes, in the directory, ``<key>.start`` when it starts (its
parent and command line), ``<key>.tprof`` when it ends (atomically, however it
ends: its main code returned, ``sys.exit``, ``os._exit``, ``os.exec*``, a
SIGTERM or SIGHUP) and then ``<key>.end`` (how it ended). Every so often
(:data:`CHECKPOINTS`) it also writes its profile so far, without its
timeline, to ``<key>.part.tprof``: what a follower that crashes or is killed
by SIGKILL leaves. The key is its pid
and the time it started (``<pid>-<ns>``): a process that replaces itself with
``os.exec*`` of Python is two followers of the same pid. At its own end, the root waits
for the followers still running (at most :data:`WAIT` seconds), reads every
file, merges them into one profile with a process per follower
(:func:`threadprof.merge.merge_processes`) and removes the directory. A
follower that started but left no profile is listed as crashed, or as
running if it still runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

from .merge import merge_processes
from .model import Process, Snapshot, Timeline
from .tprof import read, write

__all__ = [
    "CHECKPOINTS",
    "ENV",
    "OWN_MODULES",
    "PROFILE_OPTIONS",
    "START_OPTIONS",
    "WAIT",
    "Follow",
    "mark_start",
    "new_key",
    "write_checkpoint",
    "write_profile",
]

#: The environment variable that makes a starting Python a follower: JSON
#: with ``dir`` and the profiling options.
ENV = "THREADPROF_FOLLOW"
_HERE = os.path.dirname(os.path.abspath(__file__))
#: The directory that holds the ``sitecustomize`` that starts a follower.
BOOT_DIR = os.path.join(_HERE, "_boot")
#: The files of the code that starts a follower, whose frames its profile leaves out.
OWN_MODULES = tuple(
    os.path.join(_HERE, name)
    for name in (os.path.join("_boot", "sitecustomize.py"), "boot.py", "follower.py")
)
#: Seconds the root waits for followers that still run at its end.
WAIT = 5.0
#: Seconds between a follower's checkpoints: the first after 1 s, then each
#: interval twice the last, up to 16 s.
CHECKPOINTS = (1.0, 16.0)
#: The keywords of :func:`threadprof.api.start` that a run profiles with.
START_OPTIONS = (
    "clock",
    "engine",
    "timeline",
    "timeline_limit",
    "coroutines",
    "slow_step",
    "tasks",
)
#: The options a follower profiles with, as ``threadprof run`` takes them.
PROFILE_OPTIONS = (*START_OPTIONS, "keep_argv")


def _write_tprof(path: str, snapshot: Snapshot) -> None:
    """``snapshot`` as ``.tprof``, whole or not at all (a temporary file
    renamed), without the fsyncs of a file the user asked for: the root reads
    it at once, and a machine that crashes loses the run anyway."""
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as f:
            write(snapshot, f, level=1)  # read once, at once: zlib's fastest
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _write_json(path: str, data: dict[str, object]) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file renamed)."""
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(temp, path)


def _read_json(path: str) -> dict[str, object] | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet waited for, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's: it exists
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


def command_line(keep_argv: bool) -> list[str]:
    """This process's command line, as the interpreter was started."""
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    return argv if keep_argv else argv[:1]


def new_key() -> str:
    """This process's name in the directory: its pid and the time now."""
    return f"{os.getpid()}-{time.time_ns()}"


def mark_start(directory: str, key: str, keep_argv: bool) -> None:
    """Say, in ``directory``, that this process started (``<key>.start``).
    Until it has, a profile it writes is not read: a process killed as it
    starts is left out rather than listed as having recorded nothing."""
    with contextlib.suppress(OSError):
        _write_json(
            os.path.join(directory, f"{key}.start"),
            {"ppid": os.getppid(), "time": time.time(), "argv": command_line(keep_argv)},
        )


def write_profile(directory: str, key: str, snapshot: Snapshot, status: str) -> None:
    """A follower's end: its profile, then how it ended. Raises on failure;
    writes nothing if the root has ended (its directory is gone)."""
    if not os.path.isdir(directory):
        return
    _write_tprof(os.path.join(directory, f"{key}.tprof"), snapshot)
    _write_json(os.path.join(directory, f"{key}.end"), {"status": status})


def write_checkpoint(directory: str, key: str, snapshot: Snapshot) -> None:
    """A follower's profile so far (``<key>.part.tprof``), which the root
    reads if the follower ends without writing its profile (a crash)."""
    if os.path.isdir(directory):
        _write_tprof(os.path.join(directory, f"{key}.part.tprof"), snapshot)


def _pid(key: str) -> int:
    return int(key.partition("-")[0])


class Follow:
    """The root's side: the directory the followers write to, and their profiles."""

    def __init__(self, options: dict[str, object]) -> None:
        self.dir = _private_directory()
        self.options = options

    def environ(self) -> dict[str, str | None]:
        """Make the processes that this one starts followers (their
        environment); returns what it replaced, for :meth:`restore`."""
        saved = {name: os.environ.get(name) for name in (ENV, "PYTHONPATH")}
        os.environ[ENV] = json.dumps({"dir": self.dir, **self.options})
        path = saved["PYTHONPATH"]
        os.environ["PYTHONPATH"] = BOOT_DIR + (os.pathsep + path if path else "")
        return saved

    @staticmethod
    def restore(saved: dict[str, str | None]) -> None:
        """Put back the environment that :meth:`environ` changed."""
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def started(self) -> list[str]:
        """The keys of the followers that have started so far."""
        try:
            names = os.listdir(self.dir)
        except OSError:
            return []
        keys = [n[:-6] for n in names if n.endswith(".start")]
        return sorted(k for k in keys if k.replace("-", "").isdigit() and "-" in k)

    def _has(self, key: str, ext: str) -> bool:
        return os.path.exists(os.path.join(self.dir, f"{key}{ext}"))

    def _read(self, key: str, ext: str) -> Snapshot | None:
        path = os.path.join(self.dir, f"{key}{ext}")
        if not os.path.exists(path):
            return None
        try:
            return read(path)
        except Exception:
            return None

    def wait(self, timeout: float = WAIT) -> None:
        """Wait until every follower has ended, at most ``timeout`` seconds.

        multiprocessing's forkserver, which runs until the root's exit, is
        asked to stop first, as it would be at that exit.
        """
        server = sys.modules.get("multiprocessing.forkserver")
        stop = getattr(getattr(server, "_forkserver", None), "_stop", None)
        if stop is not None:
            with contextlib.suppress(Exception):
                stop()
        deadline = time.monotonic() + timeout
        while True:
            running = [
                key
                for key in self.started()
                if not self._has(key, ".end")
                and not self._has(key, ".tprof")
                and _alive(_pid(key))
            ]
            if not running or time.monotonic() >= deadline:
                return
            time.sleep(0.01)

    def gather(self, root: Snapshot, status: str, hold: bool = False) -> Snapshot:
        """``root``'s profile with those of its followers, one process each;
        ``root`` itself if none started. Their timelines are read from their
        files as they are used (the directory must stay until then), or with
        ``hold`` read into memory now."""
        keys = self.started()
        if not keys:
            return root
        self.wait()
        parts: list[tuple[Process, Snapshot | None]] = [
            (Process(root.pid, os.getppid(), root.argv, 0, root.duration, status), root)
        ]
        children = []
        for key in keys:
            pid = _pid(key)
            start = _read_json(os.path.join(self.dir, f"{key}.start")) or {}
            snapshot = self._read(key, ".tprof")
            end = _read_json(os.path.join(self.dir, f"{key}.end")) or {}
            if snapshot is not None:
                how = str(end.get("status", "exited"))
            else:
                # the pid of a process that replaced itself with exec runs its successor
                later = any(_pid(k) == pid and k > key for k in keys)
                how = "running" if _alive(pid) and not later else "crashed"
                snapshot = self._read(key, ".part.tprof")  # its last checkpoint
            when = start.get("time")
            began = float(when) if isinstance(when, int | float) else root.start_time
            ticks = round((began - root.start_time) / root.unit) if root.clock == "wall" else 0
            ppid = start.get("ppid")
            argv = start.get("argv")
            process = Process(
                pid,
                ppid if isinstance(ppid, int) else 0,
                [str(a) for a in argv] if isinstance(argv, list) else [],
                ticks,
                ticks,
                how,
            )
            children.append((began, process, snapshot))
        children.sort(key=lambda c: c[0])
        parts += [(process, snapshot) for _, process, snapshot in children]
        try:
            merged = merge_processes(parts)
        except ValueError as exc:  # a follower with another clock: cannot happen
            root.warnings.append(f"the profiles of the child processes are left out: {exc}")
            return root
        if hold:
            for t in merged.threads:
                if t.process and t.timeline is not None:
                    t.timeline = _held(t.timeline)
        return merged

    def remove(self) -> None:
        """Remove the directory and what the followers wrote (flat files)."""
        with contextlib.suppress(OSError):
            for name in os.listdir(self.dir):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.dir, name))
            os.rmdir(self.dir)


def _held(timeline: Timeline) -> Timeline:
    """``timeline`` read into memory."""
    chunks = list(timeline.chunks())
    return Timeline(lambda: iter(chunks), timeline.events, timeline.dropped)


def _private_directory() -> str:
    """A new directory that only this user can enter, in the temporary
    directory (``TMPDIR``, ``TEMP`` or ``TMP``, else /tmp), as
    ``tempfile.mkdtemp`` makes (which imports what a run does not need)."""
    base = next((os.environ[v] for v in ("TMPDIR", "TEMP", "TMP") if os.environ.get(v)), "/tmp")
    for _ in range(100):
        path = os.path.join(base, f"threadprof-follow-{os.getpid()}-{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no new directory could be made in {base}")
