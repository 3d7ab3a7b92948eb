# SPDX-License-Identifier: MIT
"""What a follower writes for the root (:mod:`threadprof.follow` says who they
are): the names of its files, its start, and its profile as the C core gives
it. Everything a follower imports to start and to end is here and in
:mod:`threadprof.ending`, :mod:`threadprof.follower` and :mod:`threadprof.api`,
none of which loads the model: a process started by a profiled program pays
for threadprof's profiler alone. The root makes the model of what it reads.

A follower's profile is its raw snapshot (``_core.Profiler._raw_snapshot``:
dicts, lists, byte strings and numbers) with its process's pid, command line
and Python version, in :mod:`marshal`'s format, which the ``marshal`` module
built into every interpreter writes and reads at C speed. It is read once, at
once, by the root, from a directory only this user can enter, and only if its
format and threadprof's version match the root's. A follower that records a
timeline (whose events are in its spill file, maybe larger than memory)
writes a ``.tprof`` instead (:func:`write_profile`).
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import sys
import time

from ._version import __version__
from .build import python_version

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO

    from .model import Snapshot

__all__ = [
    "CHECKPOINTS",
    "ENV",
    "OWN_MODULES",
    "PROFILE_OPTIONS",
    "RAW_FORMAT",
    "START_OPTIONS",
    "command_line",
    "mark_start",
    "new_key",
    "unmark_start",
    "write_json",
    "write_profile",
    "write_raw",
    "write_raw_checkpoint",
]

#: The environment variable that makes a starting Python a follower: JSON
#: with ``dir`` and the profiling options.
ENV = "THREADPROF_FOLLOW"
_HERE = os.path.dirname(os.path.abspath(__file__))
#: The files of the code that starts a follower, whose frames its profile leaves out.
OWN_MODULES = tuple(
    os.path.join(_HERE, name)
    for name in (os.path.join("_boot", "sitecustomize.py"), "boot.py", "follower.py")
)
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
    "locks",
)
#: What a follower takes from the root: :data:`START_OPTIONS` and whether
#: command lines are kept whole.
PROFILE_OPTIONS = (*START_OPTIONS, "keep_argv")
#: The ``format`` of a follower's raw profile (``<key>.raw``).
RAW_FORMAT = "threadprof-follower-raw-1"


def command_line(keep_argv: bool) -> list[str]:
    """This process's command line, as the interpreter was started."""
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    return argv if keep_argv else argv[:1]


def new_key() -> str:
    """This process's name in the directory: its pid and the time now."""
    return f"{os.getpid()}-{time.time_ns()}"


def _write_whole(path: str, fill: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` with ``fill``, whole or not at all (a temporary file
    renamed), without fsync: the root reads it at once, and a machine that
    crashes loses the run anyway."""
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as f:
            fill(f)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_json(path: str, data: dict[str, object]) -> None:
    """Write ``data`` to ``path`` as JSON, whole or not at all."""
    _write_whole(path, lambda f: f.write(json.dumps(data).encode()))


def mark_start(directory: str, key: str, keep_argv: bool) -> None:
    """Say, in ``directory``, that this process started (``<key>.start``).
    Until it has, a profile it writes is not read: a process killed as it
    starts is left out rather than listed as having recorded nothing."""
    with contextlib.suppress(OSError):
        write_json(
            os.path.join(directory, f"{key}.start"),
            {"ppid": os.getppid(), "time": time.time(), "argv": command_line(keep_argv)},
        )


def unmark_start(directory: str, key: str) -> None:
    """Take back :func:`mark_start`, and a checkpoint: this process ends
    having recorded nothing (killed as it started), and is left out as if
    it had been killed before it could say that it started."""
    for ext in (".start", ".part.raw"):
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, f"{key}{ext}"))


def _raw_file(raw: dict[str, Any], keep_argv: bool) -> dict[str, Any]:
    argv = list(sys.argv)
    return {
        "format": RAW_FORMAT,
        "version": __version__,
        "pid": os.getpid(),
        "argv": argv if keep_argv else argv[:1],
        "python_version": python_version(),
        "raw": raw,
    }


def write_raw(directory: str, key: str, raw: dict[str, Any], status: str, keep_argv: bool) -> None:
    """A follower's end: its raw profile (``<key>.raw``, without timelines),
    then how it ended (``<key>.end``). Raises on failure; writes nothing if
    the root has ended (its directory is gone)."""
    if not os.path.isdir(directory):
        return
    data = _raw_file(raw, keep_argv)
    _write_whole(os.path.join(directory, f"{key}.raw"), lambda f: marshal.dump(data, f))
    write_json(os.path.join(directory, f"{key}.end"), {"status": status})


def write_raw_checkpoint(directory: str, key: str, raw: dict[str, Any], keep_argv: bool) -> None:
    """A follower's raw profile so far, without timelines
    (``<key>.part.raw``), which the root reads if the follower ends without
    writing its profile (a crash)."""
    if os.path.isdir(directory):
        for thread in raw["threads"]:
            thread["timeline"] = None
        data = _raw_file(raw, keep_argv)
        _write_whole(os.path.join(directory, f"{key}.part.raw"), lambda f: marshal.dump(data, f))


def write_profile(directory: str, key: str, snapshot: Snapshot, status: str) -> None:
    """A follower's end with a timeline, or a forked child's of ``threadprof
    run``'s process: its profile as ``<key>.tprof``, then how it ended.
    Raises on failure; writes nothing if the root has ended (its directory is
    gone)."""
    # the .tprof writer, found without an import statement where the program
    # may have broken `import` (threadprof run imports it before the program)
    tprof = sys.modules.get(f"{__package__}.tprof")
    if tprof is None:
        from . import tprof
    if not os.path.isdir(directory):
        return
    path = os.path.join(directory, f"{key}.tprof")
    _write_whole(path, lambda f: tprof.write(snapshot, f, level=1))  # read once: zlib's fastest
    write_json(os.path.join(directory, f"{key}.end"), {"status": status})
