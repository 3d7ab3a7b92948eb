# SPDX-License-Identifier: MIT
"""A follower's start: profiling a Python process that ``threadprof run``
follows, from its interpreter's startup to its end (:mod:`.followdir` says
how; ``_boot/sitecustomize.py`` calls :func:`boot`)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys

from .. import api
from .common import Console
from .followdir import ENV, PROFILE_OPTIONS, mark_start
from .program import Target
from .session import RunOptions, Session

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HELPERS", "boot", "start_follower"]

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
    session = Session(options, None, Console(), follow_dir=directory)
    profiler = api.start(
        clock=options.clock,
        engine=options.engine,
        timeline=options.timeline,
        timeline_limit=options.timeline_limit,
        coroutines=options.coroutines,
        slow_step=options.slow_step,
        tasks=options.tasks,
    )
    profiler._set_exit_hook(session.on_exit)
    session.follow_key = mark_start(directory, options.keep_argv)
    session.catch_fatal_signals()
    session.watch_forks()
    atexit.register(session.on_exit)  # the first registered: the last to run
