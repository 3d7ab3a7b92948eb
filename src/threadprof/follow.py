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
front of, if any, then :func:`threadprof.boot.boot`, which starts the profiler in that
process (the *follower*) with the root's options. A process forked from a
profiled one keeps profiling (the C core starts afresh in the child) and is a
follower too. The start method does not matter, nor how many there are.

A follower writes, in the directory (:mod:`threadprof.handoff`),
``<key>.start`` when it starts (its parent and command line), its profile
when it ends (atomically, however it ends: its main code returned,
``sys.exit``, ``os._exit``, ``os.exec*``, a SIGTERM or SIGHUP) and then
``<key>.end`` (how it ended). The profile is the C core's raw snapshot,
``<key>.raw``, or with a timeline a ``<key>.tprof``: the root makes the model
of it and cuts out threadprof's own frames. Every so often
(:data:`threadprof.handoff.CHECKPOINTS`) a follower also writes its profile so far, without its
timeline, to ``<key>.part.raw``: what a follower that crashes or is killed
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
import marshal
import os
import sys
import time

from ._version import __version__
from .ending import trim_own_frames
from .handoff import ENV, RAW_FORMAT
from .merge import merge_processes
from .model import Process, Snapshot, Timeline
from .rawmodel import snapshot_from_raw
from .tprof import read

__all__ = ["WAIT", "Follow", "read_raw"]

_HERE = os.path.dirname(os.path.abspath(__file__))
#: The directory that holds the ``sitecustomize`` that starts a follower.
BOOT_DIR = os.path.join(_HERE, "_boot")
#: Seconds the root waits for followers that still run at its end.
WAIT = 5.0


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


def read_raw(path: str) -> Snapshot:
    """The profile in a follower's raw file (:func:`threadprof.handoff.write_raw`).
    Raises ValueError if it is not one, or another version of threadprof wrote it."""
    with open(path, "rb") as f:
        data = marshal.load(f)
    if not (
        isinstance(data, dict)
        and data.get("format") == RAW_FORMAT
        and data.get("version") == __version__
    ):
        raise ValueError(f"{path}: not a raw profile of threadprof {__version__}")
    snapshot = snapshot_from_raw(data["raw"])  # no timeline: it needs no spill file
    snapshot.pid = int(data["pid"])
    snapshot.argv = [str(a) for a in data["argv"]]
    snapshot.python_version = str(data["python_version"])
    return snapshot


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

    def _read(self, key: str, problems: list[str], part: str = "") -> Snapshot | None:
        """The profile that follower ``key`` wrote (``part``: its
        checkpoint), without threadprof's own frames; None if none was
        written or it cannot be read (then said in ``problems``)."""
        for ext, reader in ((".raw", read_raw), (".tprof", read)):
            path = os.path.join(self.dir, f"{key}{part}{ext}")
            if os.path.exists(path):
                try:
                    return trim_own_frames(reader(path))
                except Exception as exc:
                    what = "last checkpoint" if part else "profile"
                    problems.append(
                        f"process {_pid(key)}: its {what} cannot be read, left out"
                        f" ({type(exc).__name__}: {exc})"
                    )
                    return None
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
                and not self._has(key, ".raw")
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
        problems: list[str] = []
        for key in keys:
            pid = _pid(key)
            start = _read_json(os.path.join(self.dir, f"{key}.start")) or {}
            snapshot = self._read(key, problems)
            end = _read_json(os.path.join(self.dir, f"{key}.end")) or {}
            if snapshot is not None or "status" in end:  # it ended, and said how
                how = str(end.get("status", "exited"))
            else:
                # the pid of a process that replaced itself with exec runs its successor
                later = any(_pid(k) == pid and k > key for k in keys)
                how = "running" if _alive(pid) and not later else "crashed"
                snapshot = self._read(key, problems, ".part")  # its last checkpoint
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
        merged.warnings.extend(problems)
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
