# SPDX-License-Identifier: MIT
"""A process that ``threadprof run`` (or ``threadprof.profile(...,
subprocesses=True)``) follows: its profile written for the root to merge,
however it ends, and checkpoints of it while it runs (:mod:`threadprof.follow`
says how; :mod:`threadprof.boot` starts a follower's profiler)."""

from __future__ import annotations

import atexit
import contextlib
import gc

from . import _core
from .ending import ProcessEnd
from .handoff import (
    CHECKPOINTS,
    mark_start,
    new_key,
    unmark_start,
    write_raw,
    write_raw_checkpoint,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Checkpoint", "Follower", "follow_running", "take_checkpoints"]


class Follower(ProcessEnd):
    """The end of a follower's profile: written to the root's directory, as
    the C core gives it (:mod:`threadprof.handoff`); the root makes the model
    of it and cuts out threadprof's own frames."""

    def __init__(self, follow_dir: str, keep_argv: bool, profiler: Any) -> None:
        super().__init__(follow_dir, keep_argv)
        self.profiler = profiler  # stopped at the exit before the end (atexit)

    def end(self) -> None:
        if not self.recording:
            return
        profiler = self.profiler
        with contextlib.suppress(Exception):
            profiler.disable()
        assert self.follow_dir is not None
        try:
            if not profiler._recorded():  # killed as it started: not listed
                unmark_start(self.follow_dir, self.follow_key)
                return
            if profiler.timeline:  # events in its spill file: a .tprof
                self.write_followed(profiler._snapshot(None))
                return
            raw = profiler._raw_snapshot()
        except Exception as exc:
            self.error(f"the profiler failed, no profile: {str(exc) or type(exc).__name__}")
            return
        try:
            write_raw(self.follow_dir, self.follow_key, raw, self.status, self.keep_argv)
        except Exception as exc:
            self.error(f"cannot write the profile: {type(exc).__name__}: {exc}")


def follow_running(directory: str, settings: dict[str, Any], profiler: Any) -> Follower:
    """Make this process a follower writing ``profiler``'s profile to
    ``directory``: it is written however the process ends (its interpreter's
    exit, ``os._exit``, ``os.exec*``, SIGTERM, SIGHUP), and checkpoints of
    it while it runs. ``profiler`` runs already (a forked child's) or is
    enabled next (a new process's: none of this is recorded)."""
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
    take_checkpoints(follower, profiler)
    return follower


def take_checkpoints(follower: ProcessEnd, profiler: Any) -> None:
    """Write ``follower``'s profile so far every so often
    (:data:`~threadprof.handoff.CHECKPOINTS`): what a crash leaves of it."""
    checkpoint = Checkpoint(follower, profiler)
    gc.callbacks.append(_core._gc_gate(checkpoint.write, *CHECKPOINTS))


class Checkpoint:
    """Writes a follower's profile so far, from a ``gc.callbacks`` entry. The
    garbage collector runs often in a program that allocates, in whatever
    thread allocates, at a point where Python code may run; no thread is
    started (a follower that forks would warn that it is multi-threaded) and
    no signal taken. The entry is a built-in (``src/_core/gcgate.h``) that
    calls :meth:`write` when it is due, so that no call is recorded at every
    collection; the root leaves the calls of :meth:`write` out of the
    profile (:func:`threadprof.ending.trim_own_frames`)."""

    def __init__(self, follower: ProcessEnd, profiler: Any) -> None:
        self.follower = follower
        self.profiler = profiler

    def write(self) -> None:
        follower = self.follower
        if _core.active() is not self.profiler or not follower.recording or follower.ending:
            return
        assert follower.follow_dir is not None
        with contextlib.suppress(Exception):
            raw = self.profiler._raw_snapshot()
            write_raw_checkpoint(follower.follow_dir, follower.follow_key, raw, follower.keep_argv)
