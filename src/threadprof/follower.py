# SPDX-License-Identifier: MIT
"""A process that ``threadprof run`` (or ``threadprof.profile(...,
subprocesses=True)``) follows: its profile written for the root to merge,
however it ends, and checkpoints of it while it runs (:mod:`threadprof.follow`
says how; :mod:`threadprof.boot` starts a follower's profiler)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import time

from . import _core
from ._record import replace
from .ending import ProcessEnd, trim_own_frames
from .follow import CHECKPOINTS, mark_start, new_key, write_checkpoint

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

    from .model import Snapshot

__all__ = ["Checkpoints", "Follower", "follow_running"]


class Follower(ProcessEnd):
    """The end of a follower's profile: written to the root's directory."""

    def __init__(self, follow_dir: str, keep_argv: bool, profiler: Any) -> None:
        super().__init__(follow_dir, keep_argv)
        self.profiler = profiler  # stopped at the exit before the end (atexit)

    def end(self) -> None:
        if not self.recording:
            return
        profiler = self.profiler
        with contextlib.suppress(Exception):
            profiler.disable()
        try:
            snapshot: Snapshot = profiler._snapshot(None)  # type: ignore[attr-defined]
        except Exception as exc:
            self.error(f"the profiler failed, no profile: {str(exc) or type(exc).__name__}")
            return
        self.write_followed(trim_own_frames(snapshot))


def follow_running(directory: str, settings: dict[str, Any]) -> Follower:
    """Make this process, whose profiler runs, a follower writing to
    ``directory``: its profile is written however it ends (its interpreter's
    exit, ``os._exit``, ``os.exec*``, SIGTERM, SIGHUP), and checkpoints of
    it while it runs."""
    profiler = _core.active()
    assert profiler is not None
    follower = Follower(directory, bool(settings.get("keep_argv", True)), profiler)
    follower.follow_key = new_key()
    profiler._set_exit_hook(follower.on_exit)
    follower.catch_fatal_signals()
    mark_start(directory, follower.follow_key, follower.keep_argv)  # after: see mark_start
    follower.watch_forks()
    atexit.register(follower.on_exit)  # registered first: it runs last
    # ... but for this, which stops recording first, from C: the exit
    # handler's own calls are not recorded (no frames of its to cut out)
    atexit.register(profiler.disable)
    gc.callbacks.append(Checkpoints(follower, profiler))
    return follower


class Checkpoints:
    """A ``gc.callbacks`` entry that writes the follower's profile so far
    every so often (:data:`~threadprof.follow.CHECKPOINTS`): what a crash
    leaves of it. The garbage collector runs often in a program that
    allocates, in whatever thread allocates, at a point where Python code may
    run; no thread is started (a follower that forks would warn that it is
    multi-threaded) and no signal taken. Its calls are left out of the
    profile (:func:`threadprof.ending.trim_own_frames`)."""

    def __init__(self, follower: ProcessEnd, profiler: Any) -> None:
        self.follower = follower
        self.profiler = profiler
        self.interval = CHECKPOINTS[0]
        self.due = time.monotonic() + self.interval
        self.busy = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop" or self.busy or time.monotonic() < self.due:
            return
        self.busy = True
        try:
            self.write()
        finally:
            self.interval = min(self.interval * 2, CHECKPOINTS[1])
            self.due = time.monotonic() + self.interval
            self.busy = False

    def write(self) -> None:
        follower = self.follower
        if _core.active() is not self.profiler or not follower.recording or follower.ending:
            return
        assert follower.follow_dir is not None
        with contextlib.suppress(Exception):
            snapshot = trim_own_frames(self.profiler._snapshot(None))
            threads = [replace(t, timeline=None) for t in snapshot.threads]
            write_checkpoint(
                follower.follow_dir, follower.follow_key, replace(snapshot, threads=threads)
            )
