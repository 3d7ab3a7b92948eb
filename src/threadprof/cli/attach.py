# SPDX-License-Identifier: MIT
"""``threadprof attach PID [--duration S] [-o FILE]``: profile a running
Python 3.14+ process for a while, then detach (docs/attach.md).

How: the target process runs a small script through ``sys.remote_exec``
(PEP 768) the next time its main thread runs Python code; the script imports
:mod:`threadprof.attach` from the target's own environment, which profiles
every thread and writes the profile itself, reporting through a status file
that this command polls. ``sys.remote_exec`` only talks to a process of its
own Python version, so it is called by the target's own interpreter
(``/proc/PID/exe``): the command runs under any supported Python.

Before anything is sent, the target is checked: that it exists, that it runs
CPython 3.14 or newer, and that remote debugging is not disabled in it
(``-X disable_remote_debug``, ``PYTHON_DISABLE_REMOTE_DEBUG``), because
``sys.remote_exec`` returns without error when it is and the script never
runs. Each failure is one line with what to do.

Exit status: 0 profiled and written; 1 the target could not write the
profile, or ended before it did; 2 cannot attach (no such process, not
Python 3.14+, remote debugging disabled, threadprof not importable in the
target's environment, permission denied, no answer); 130 interrupted before
the target started profiling.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from ..attach import PROTOCOL
from ..exporters import exporter_for_path, known_names
from ..options import CLOCKS, COROUTINES, ENGINES
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Console

__all__ = ["Target", "add_parser", "inspect_target", "run"]

#: How long the target has to run the script before we give up, by default.
DEFAULT_TIMEOUT = 10.0
_POLL = 0.05

#: The script the target runs: standard library only until it has checked
#: that threadprof can be imported there. Filled with ``repr``s.
_SCRIPT = """\
# threadprof attach: run in this process by sys.remote_exec (PEP 768)
def _threadprof_attach(config):
    import json, os, sys, time

    def status(**fields):
        tmp = config["status"] + ".script.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(fields, f)
        os.replace(tmp, config["status"])

    if time.time() > config["deadline"]:
        return  # too late: the attacher has given up and said so
    try:
        from threadprof import attach
    except Exception as exc:
        status(state="error", kind="import", error=f"{{type(exc).__name__}}: {{exc}}",
               python=sys.version.split()[0], executable=sys.executable)
        return
    if getattr(attach, "PROTOCOL", None) != config["protocol"]:
        status(state="error", kind="protocol", error="another threadprof version",
               python=sys.version.split()[0], executable=sys.executable)
        return
    attach.run(config)


_threadprof_attach({config!r})
del _threadprof_attach
"""

#: The code the target's interpreter runs to send the script.
_SENDER = "import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])"


class AttachError(Exception):
    """Cannot attach; ``str()`` is one line, ``status`` the exit status."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``attach`` command to the CLI's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "attach",
        help="profile a running Python 3.14+ process for a while, then detach",
        usage="threadprof attach PID [--duration SECONDS] [-o FILE] [options]",
        description=(
            "Profile every thread of a running Python 3.14+ process for a while, then\n"
            "detach, through sys.remote_exec (PEP 768). threadprof must be importable\n"
            "in the target's environment; the target writes the profile itself."
        ),
        epilog=(
            "exit status: 0 written, 1 the target could not write the profile or ended\n"
            "first, 2 cannot attach (see the message), 130 interrupted before it started"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add = parser.add_argument
    add("pid", type=int, metavar="PID", help="the process to profile")
    add(
        "-d",
        "--duration",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to profile (default 10); Ctrl-C ends it early",
    )
    add(
        "-o",
        "--output",
        metavar="FILE",
        help="where the target writes the profile, by its extension (default "
        "threadprof-PID.tprof in the current directory)",
    )
    add("--clock", choices=CLOCKS, default="wall", help="the time charged to calls")
    add("--engine", choices=ENGINES, default="auto", help="how events reach the profiler")
    add(
        "--coroutines",
        choices=COROUTINES,
        default="whole",
        help="how calls of generators and coroutines count (as for 'threadprof run')",
    )
    add("--timeline", action="store_true", help="record every call and return in time too")
    add(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long the target has to start (default {DEFAULT_TIMEOUT:g}): it runs the "
        "script when its main thread next runs Python code",
    )
    add("-q", "--quiet", action="store_true", help="no report, only errors")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


# -- the target ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What the command knows of the target process before attaching."""

    pid: int
    exe: str
    #: ``(3, 14)``; ``None`` if it could not be told
    version: tuple[int, int] | None
    #: the target's interpreter, if ``exe`` is one (it sends the script)
    python: str | None
    #: why remote debugging is off in the target, or ``None``
    remote_debug_off: str | None


_EXE_VERSION = re.compile(r"python(\d+)\.(\d+)t?(?:-dbg|d)?$")
_LIB_VERSION = re.compile(r"libpython(\d+)\.(\d+)t?d?\.so")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def inspect_target(pid: int, proc: str = "/proc") -> Target:
    """Look at process ``pid`` through ``proc``; raises :class:`AttachError`."""
    base = f"{proc}/{pid}"
    if pid <= 0 or not os.path.isdir(base):
        raise AttachError(f"no process {pid}")
    try:
        exe = os.readlink(f"{base}/exe")
    except PermissionError:
        raise AttachError(_permission(pid)) from None
    except OSError as exc:
        raise AttachError(f"cannot read process {pid}: {exc.strerror or exc}") from None
    exe = exe.removesuffix(" (deleted)")
    version: tuple[int, int] | None = None
    python = None
    m = _EXE_VERSION.search(os.path.basename(exe))
    if m:
        version = (int(m[1]), int(m[2]))
        python = exe
    else:
        try:
            found = _LIB_VERSION.search(_read(f"{base}/maps").decode("latin-1"))
        except OSError:
            found = None
        if found:
            version = (int(found[1]), int(found[2]))
    off = None
    try:
        argv = _read(f"{base}/cmdline").split(b"\0")
        environ = _read(f"{base}/environ").split(b"\0")
    except OSError:
        argv, environ = [], []
    if any(a.startswith(b"-Xdisable_remote_debug") for a in argv) or any(
        pair == (b"-X", b"disable_remote_debug") for pair in itertools.pairwise(argv)
    ):
        off = "it was started with -X disable_remote_debug"
    elif any(
        e.startswith(b"PYTHON_DISABLE_REMOTE_DEBUG=") and e != b"PYTHON_DISABLE_REMOTE_DEBUG="
        for e in environ
    ):
        off = "PYTHON_DISABLE_REMOTE_DEBUG is set in its environment"
    return Target(pid, exe, version, python, off)


def _permission(pid: int) -> str:
    return (
        f"permission denied: cannot attach to process {pid} (attach to a process of your "
        "own user, with /proc/sys/kernel/yama/ptrace_scope at 0, or as root or with "
        "CAP_SYS_PTRACE)"
    )


def check_target(target: Target) -> None:
    """Refuse a target that cannot be attached to; raises :class:`AttachError`."""
    pid = target.pid
    if target.version is None:
        raise AttachError(
            f"process {pid} ({target.exe}) does not look like CPython: no python3.X "
            "executable and no libpython3.X in it"
        )
    if target.version < (3, 14):
        v = ".".join(map(str, target.version))
        raise AttachError(
            f"process {pid} runs Python {v}: attaching needs Python 3.14 or newer "
            "(sys.remote_exec, PEP 768); profile it from the start with 'threadprof run'"
        )
    if target.remote_debug_off:
        raise AttachError(
            f"remote debugging is disabled in process {pid}: {target.remote_debug_off}"
        )


def _send(target: Target, script: str) -> None:
    """Have the target run ``script`` (a file) through ``sys.remote_exec``,
    called by an interpreter of the target's version."""
    if target.python is not None and os.access(target.python, os.X_OK):
        argv = [target.python, "-I", "-S", "-c", _SENDER, str(target.pid), script]
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise AttachError(f"cannot run {target.python}: {exc}") from None
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            raise AttachError(_send_error(target.pid, lines[-1] if lines else "failed"))
        return
    if sys.version_info[:2] != target.version:
        raise AttachError(
            f"process {target.pid} runs an embedded Python {target.version}: run "
            "'threadprof attach' with that Python version"
        )
    try:
        sys.remote_exec(target.pid, script)  # type: ignore[attr-defined]
    except PermissionError:
        raise AttachError(_permission(target.pid)) from None
    except (OSError, RuntimeError) as exc:
        raise AttachError(_send_error(target.pid, f"{type(exc).__name__}: {exc}")) from None


def _send_error(pid: int, message: str) -> str:
    if "PermissionError" in message or "Operation not permitted" in message:
        return _permission(pid)
    return f"cannot attach to process {pid}: {message}"


# -- the command ---------------------------------------------------------------------


def _wait(status: str, until: float, pid: int, past: str = "") -> dict[str, Any] | None:
    """The status file's content once its state is not ``past``, or ``None``
    at ``until``; raises :class:`AttachError` if the target ends first."""
    while time.monotonic() < until:
        try:
            with open(status, encoding="utf-8") as f:
                found = dict(json.load(f))
            if found.get("state") != past:
                return found
        except (OSError, ValueError):
            pass
        if not os.path.isdir(f"/proc/{pid}"):
            raise AttachError(f"process {pid} ended before the profile was written", EXIT_FAILED)
        time.sleep(_POLL)
    return None


def run(ns: argparse.Namespace, console: Console) -> int:
    """Run the parsed ``attach`` command; returns its exit status."""
    try:
        return _attach(ns, console)
    except AttachError as exc:
        console.error(str(exc))
        return exc.status


def _attach(ns: argparse.Namespace, console: Console) -> int:
    output = os.path.abspath(ns.output or f"threadprof-{ns.pid}.tprof")
    if exporter_for_path(output) is None:
        raise AttachError(
            f"cannot tell the format of {ns.output!r} from its extension: {known_names()}"
        )
    if not os.path.isdir(os.path.dirname(output)):
        raise AttachError(f"cannot write {output!r}: its directory does not exist")
    target = inspect_target(ns.pid)
    check_target(target)
    work = tempfile.mkdtemp(prefix="threadprof-attach-")
    keep = False
    try:
        os.chmod(work, 0o777)  # the target, maybe of another user, writes its status here
        status, stop = os.path.join(work, "status.json"), os.path.join(work, "stop")
        config = {
            "protocol": PROTOCOL,
            "status": status,
            "stop": stop,
            "output": output,
            "duration": ns.duration,
            "clock": ns.clock,
            "engine": ns.engine,
            "coroutines": ns.coroutines,
            "timeline": ns.timeline,
            "deadline": time.time() + ns.timeout,
        }
        script = os.path.join(work, "attach.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(_SCRIPT.format(config=config))
        os.chmod(script, 0o644)
        _send(target, script)
        try:
            started = _wait(status, time.monotonic() + ns.timeout, ns.pid)
        except KeyboardInterrupt:
            keep = True  # the script may still run, and then finds it is too late
            console.error("interrupted before the target started profiling")
            return EXIT_INTERRUPTED
        if started is None:
            keep = True  # the script is pending: it must find itself too late, not missing
            raise AttachError(
                f"process {ns.pid} did not run threadprof's script within {ns.timeout:g} s: "
                "its main thread runs no Python code (blocked in C?), or remote debugging is "
                "off in its build (--without-remote-debug); it will not profile if it runs later"
            )
        if started.get("state") == "error":
            raise AttachError(_agent_error(ns.pid, started))
        if not ns.quiet:
            console.say(
                f"attached to process {ns.pid} (Python {started.get('python')}, "
                f"{started.get('threads')} threads); profiling for {ns.duration:g} s"
                " (Ctrl-C ends it early)"
            )
        try:
            done = _wait(status, time.monotonic() + ns.duration + 60, ns.pid, "started")
        except KeyboardInterrupt:
            open(stop, "w").close()
            done = _wait(status, time.monotonic() + 60, ns.pid, "started")
        if done is None:
            raise AttachError(f"process {ns.pid} did not write the profile", EXIT_FAILED)
        if done.get("state") != "done":
            raise AttachError(f"process {ns.pid}: {done.get('error')}", EXIT_FAILED)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if not ns.quiet:
        ended = {"exit": " (the process exited)", "stopped": " (stopped early)"}.get(
            done.get("reason", ""), ""
        )
        console.say(
            f"wrote the profile of process {ns.pid} to {output}{ended}: "
            f"{done['threads']} threads, {done['calls']} calls"
        )
        exporter = exporter_for_path(output)
        assert exporter is not None
        console.say(f"to view it: {exporter.view_hint(output)}")
    return EXIT_OK


def _agent_error(pid: int, status: dict[str, Any]) -> str:
    if status.get("kind") == "import":
        return (
            f"threadprof cannot be imported in process {pid} (Python {status.get('python')}, "
            f"{status.get('executable')}): install it in that environment "
            f"({status.get('error')})"
        )
    if status.get("kind") == "protocol":
        return f"process {pid} has another version of threadprof: install the same version in both"
    return f"cannot profile process {pid}: {status.get('error')}"
