# SPDX-License-Identifier: MIT
"""A follower's start: profiling a Python process that ``threadprof run``
follows, from its interpreter's startup to its end (:mod:`threadprof.follow` says
how; ``_boot/sitecustomize.py`` calls :func:`boot`)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import sys
import time

from .. import api
from .._record import replace
from ..follow import CHECKPOINTS, ENV, PROFILE_OPTIONS, mark_start, write_checkpoint
from .common import Console
from .program import Target
from .session import RunOptions, Session, start_profiler, trim_own_frames

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HELPERS", "Checkpoints", "boot", "follow_fork", "start_follower"]

#: multiprocessing's helper processes that do no work of the program: not
#: followed (the forkserver is, so that the children it forks are).
HELPERS = ("from multiprocessing.resource_tracker import main",)


def boot() -> None:
    """Start profiling this process with the root's options if :data:`ENV`
    says so, and write its profile at its end. Never raises: a follower that
    cannot profile runs unprofiled."""
    raw = os.environ.get(ENV)
    if not raw or api.active() is not None:
        return
    try:
        config = json.loads(raw)
        directory = config["dir"]
        options = {name: config[name] for name in PROFILE_OPTIONS}
    except (ValueError, KeyError, TypeError):
        return
    argv = getattr(sys, "orig_argv", [])
    if any(helper in arg for arg in argv for helper in HELPERS):
        return
    if not (isinstance(directory, str) and os.path.isdir(directory)):
        return  # the root has ended already
    with contextlib.suppress(Exception):
        start_follower(directory, options)


def start_follower(directory: str, settings: dict[str, Any]) -> None:
    """Profile this process, which ``threadprof run`` follows, until its end,
    and then write its profile to ``directory`` (:func:`boot`)."""
    session = _session(directory, settings)
    start_profiler(session.options)
    _watch(session)


def follow_fork(directory: str, settings: dict[str, Any]) -> None:
    """In a child forked from a process that ``threadprof.profile(...,
    subprocesses=True)`` profiles: the running profiler goes on, and the
    child's profile is written to ``directory`` at its end."""
    _watch(_session(directory, settings))


def _session(directory: str, settings: dict[str, Any]) -> Session:
    options = RunOptions(
        target=Target("code", "", ()),
        output=None,
        exporter=None,
        sort="",
        limit=0,
        thread=None,
        expand_threads=False,
        quiet=True,
        **settings,
    )
    return Session(options, None, Console(), follow_dir=directory)


def _watch(session: Session) -> None:
    """Write the running profiler's profile however this process ends, and
    checkpoints of it while it runs."""
    profiler = api.active()
    assert profiler is not None and session.follow_dir is not None
    profiler._set_exit_hook(session.on_exit)
    session.follow_key = mark_start(session.follow_dir, session.options.keep_argv)
    session.catch_fatal_signals()
    session.watch_forks()
    atexit.register(session.on_exit)  # the first registered: the last to run
    gc.callbacks.append(Checkpoints(session, profiler))


class Checkpoints:
    """A ``gc.callbacks`` entry that writes the follower's profile so far
    every so often (:data:`~threadprof.follow.CHECKPOINTS`): what a crash
    leaves of it. The garbage collector runs often in a program that
    allocates, in whatever thread allocates, at a point where Python code may
    run; no thread is started (a follower that forks would warn that it is
    multi-threaded) and no signal taken. Its calls are left out of the
    profile (:func:`.session.trim_own_frames`)."""

    def __init__(self, session: Session, profiler: api.Profile) -> None:
        self.session = session
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
        session = self.session
        if api.active() is not self.profiler or not session.follower or session.ending:
            return
        assert session.follow_dir is not None
        with contextlib.suppress(Exception):
            snapshot = trim_own_frames(self.profiler._snapshot(None))
            threads = [replace(t, timeline=None) for t in snapshot.threads]
            write_checkpoint(
                session.follow_dir, session.follow_key, replace(snapshot, threads=threads)
            )
