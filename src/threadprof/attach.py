# SPDX-License-Identifier: MIT
"""The target's side of ``threadprof attach PID``: what runs inside the
profiled process.

``threadprof attach`` (:mod:`threadprof.cli.attach`) has the target run a
small script through ``sys.remote_exec`` (PEP 768, Python 3.14+); the script
imports this module and calls :func:`run` in the target's main thread, which
returns at once. :func:`run` starts a profiler for every thread (the frames
already running in each thread are entered with zero calls, so its call tree
starts at its real root), and a thread of its own, not profiled, ends it:
after the duration, when the attacher asks (a ``stop`` file), or when the
process exits (``atexit``), whichever comes first. The profile is written
atomically to the output, then the profiler is gone: nothing of threadprof
keeps running in the target.

Each step is reported to the attacher in a small JSON status file, written
atomically: ``{"state": "started" | "done" | "error", ...}``.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any

from . import api
from ._record import replace
from .exporters import exporter_for_path

__all__ = ["PROTOCOL", "run"]

#: The version of the script <-> agent protocol: the attacher's script checks it.
PROTOCOL = 1


def _status(path: str, **fields: Any) -> None:
    """Write the status file atomically (the attacher polls it)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(fields, f)
    os.replace(tmp, path)


def run(config: dict[str, Any]) -> None:
    """Start profiling this process as ``config`` says; returns at once.

    ``config``: ``status`` and ``stop`` (file paths), ``output``, ``duration``
    (seconds), ``clock``, ``engine``, ``timeline``, ``coroutines``.
    """
    status = config["status"]
    try:
        profiler = api.start(
            clock=config["clock"],
            engine=config["engine"],
            timeline=config["timeline"],
            coroutines=config.get("coroutines", "whole"),
        )
    except Exception as exc:  # another profiler runs, a bad option
        _status(status, state="error", error=f"{type(exc).__name__}: {exc}")
        return
    lock = threading.Lock()
    finished = threading.Event()
    own: set[int] = set()  # the idents of threadprof's own threads

    def finish(reason: str) -> None:
        with lock:
            if finished.is_set():
                return
            finished.set()
        try:
            profiler._disable_if_enabled()
            snapshot = profiler.snapshot()
            # the timer's thread is threadprof's, not the program's
            mine = [t for t in snapshot.threads if t.ident not in own]
            snapshot = replace(snapshot, threads=mine)
            exporter = exporter_for_path(config["output"])
            assert exporter is not None  # checked by the attacher
            exporter.write(snapshot, config["output"])
        except BaseException as exc:
            _status(
                status, state="error", error=f"writing the profile: {type(exc).__name__}: {exc}"
            )
        else:
            _status(
                status,
                state="done",
                reason=reason,
                threads=len(snapshot.threads),
                calls=sum(t.calls for t in snapshot.threads),
            )
        finally:
            atexit.unregister(at_exit)

    def at_exit() -> None:
        finish("exit")

    def timer() -> None:
        own.add(threading.get_ident())
        api.detach_current_thread()
        deadline = time.monotonic() + config["duration"]
        while not finished.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                finish("duration")
                return
            if os.path.exists(config["stop"]):
                finish("stopped")
                return
            finished.wait(min(left, 0.05))

    atexit.register(at_exit)
    threading.Thread(target=timer, name="threadprof-attach", daemon=True).start()
    _status(
        status,
        state="started",
        pid=os.getpid(),
        python=sys.version.split()[0],
        threads=threading.active_count() - 1,
    )
