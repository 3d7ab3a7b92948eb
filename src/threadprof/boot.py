# SPDX-License-Identifier: MIT
"""A follower's start: ``_boot/sitecustomize.py`` calls :func:`boot` in every
Python process that ``threadprof run`` starts, directly or not
(:mod:`threadprof.follow`)."""

from __future__ import annotations

import contextlib
import json
import os
import sys

from . import api
from .follower import follow_running
from .handoff import ENV, PROFILE_OPTIONS, START_OPTIONS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["boot", "runs_threadprof", "start_follower"]


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
    if not (isinstance(directory, str) and os.path.isdir(directory)):
        return  # the root has ended already
    if runs_threadprof(getattr(sys, "orig_argv", [])):
        return  # threadprof's own command line: a root of its own
    with contextlib.suppress(Exception):
        start_follower(directory, options)


def runs_threadprof(argv: list[str]) -> bool:
    """Whether the command line ``argv`` (``sys.orig_argv``) runs threadprof's
    command line (``python -m threadprof``, or its ``threadprof`` script)."""
    skip = False
    for i, arg in enumerate(argv[1:], 1):
        if skip:  # the value of -X or -W
            skip = False
            continue
        if arg in ("-X", "-W"):
            skip = True
            continue
        if arg == "-m":
            return i + 1 < len(argv) and argv[i + 1].partition(".")[0] == "threadprof"
        if arg.startswith("-m"):
            return arg[2:].partition(".")[0] == "threadprof"
        if arg == "-c" or not arg.startswith("-"):
            return os.path.basename(arg) == "threadprof"
    return False


def start_follower(directory: str, settings: dict[str, Any]) -> None:
    """Profile this process until its end, with ``threadprof run``'s options
    ``settings``, and then write its profile to ``directory``."""
    # no stack seeded: the frames running now are the interpreter's startup and
    # this module's, which end before the program starts
    profiler = api.Profile(seed_stacks=False, **{name: settings[name] for name in START_OPTIONS})
    follow_running(directory, settings, profiler)
    profiler.enable()  # last: no call of threadprof's own is recorded
