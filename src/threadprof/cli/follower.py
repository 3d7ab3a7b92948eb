# SPDX-License-Identifier: MIT
"""A follower's start: profiling a Python process that ``threadprof run``
follows, from its interpreter's startup to its end (:mod:`threadprof.follow` says
how; ``_boot/sitecustomize.py`` calls :func:`boot`)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys

from .. import api
from ..follow import ENV, PROFILE_OPTIONS, mark_start
from .common import Console
from .program import Target
from .session import RunOptions, Session, start_profiler

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HELPERS", "boot", "follow_fork", "start_follower"]

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
    """Write the running profiler's profile however this process ends."""
    profiler = api.active()
    assert profiler is not None and session.follow_dir is not None
    profiler._set_exit_hook(session.on_exit)
    session.follow_key = mark_start(session.follow_dir, session.options.keep_argv)
    session.catch_fatal_signals()
    session.watch_forks()
    atexit.register(session.on_exit)  # the first registered: the last to run
