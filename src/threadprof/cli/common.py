# SPDX-License-Identifier: MIT
"""What every command of the command line shares: exit statuses, errors, output.

Every command reports an error as one line on stderr, ``threadprof: error:
...``, and ends with one of the statuses below (docs/cli.md lists which
command uses which). A command module provides ``add_parser(sub)``, which adds
its subparser, and ``run(ns, console)``, which runs it and returns the status;
:func:`threadprof.cli.main` parses and dispatches.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from ..atomicfile import commit_guard
from ..ending import FATAL_SIGNALS, die_by_signal

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FATAL_SIGNALS",
    "FORMAT_FLAGS",
    "PROG",
    "Console",
    "Parser",
    "UsageError",
    "add_format_flags",
    "die_by_signal",
    "dying_cleanly",
    "emit",
    "format_options",
    "non_negative",
    "positive",
    "report_width",
]

PROG = "threadprof"

EXIT_OK = 0
#: Something could not be written once the work had started, an exporter
#: failed, or (``run``) the program raised: Python's own status for that.
EXIT_FAILED = 1
#: A usage error: bad options, a format the input cannot give, an unwritable
#: output, a program that cannot be started.
EXIT_USAGE = 2
#: The input file cannot be read: missing, not a profile, truncated, corrupt, too new.
EXIT_BAD_INPUT = 3
#: Interrupted by Ctrl-C where the signal itself cannot end the process (128 + SIGINT).
EXIT_INTERRUPTED = 130


#: Signals that kill a Python process by default, and after which threadprof
#: still ends what it writes cleanly when they are left at the default.


class UsageError(Exception):
    """A bad command line or an impossible run; ``str()`` is a one-line message."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are exceptions, not ``sys.exit``, and
    whose help is as wide as argparse makes it but measured without importing
    shutil (argparse imports it as it builds a parser)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        formatter = kwargs.get("formatter_class", argparse.HelpFormatter)
        kwargs["formatter_class"] = _measured(formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def positive(text: str) -> int:
    """An option's value that must be an integer >= 1."""
    value = non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


#: The options of one output format: (flag, format, the option's keyword for
#: the format's ``dump``, argparse's keywords). Given for another format, a
#: usage error.
FORMAT_FLAGS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    (
        "--sample-types",
        "pprof",
        "sample_types",
        {
            "choices": ("all", "cpu", "wall", "locks"),
            "help": "pprof: the sample types, all (wall, cpu, calls; the default), or cpu or "
            "wall alone, which Pyroscope and Parca file as a CPU or a wall-clock profile, "
            "or locks: lock-acquire, lock-acquire-wait and lock-release-hold per lock name",
        },
    ),
    (
        "--max-samples",
        "pprof",
        "max_samples",
        {
            "type": positive,
            "metavar": "N",
            "help": "pprof: at most N samples (Pyroscope's default limit is 16000): threads "
            "grouped by name, then merged, then the stacks of least time folded; totals exact",
        },
    ),
    (
        "--compress",
        "tprof",
        "compress",
        {
            "action": "store_true",
            "default": None,
            "help": "tprof: compress the timelines too (zlib): a third of the size, about a "
            "byte an event instead of three, for five times the cost of writing them",
        },
    ),
    (
        "--thread-roots",
        "pstats",
        "thread_roots",
        {
            "action": "store_true",
            "default": None,
            "help": "pstats: each thread's calls under a function <thread 'NAME'> of its own, "
            "so that snakeviz opens on the main thread rather than on all threads summed",
        },
    ),
    (
        "--separate-threads",
        "callgrind",
        "separate_threads",
        {
            "action": "store_true",
            "default": None,
            "help": "callgrind: a part per thread, as valgrind --separate-threads=yes writes, "
            "for KCachegrind's thread selector (default: threads merged)",
        },
    ),
)


def add_format_flags(parser: argparse.ArgumentParser) -> None:
    """Add :data:`FORMAT_FLAGS` to ``parser``, in a group of their own."""
    group = parser.add_argument_group("options of one output format")
    for flag, _fmt, key, kwargs in FORMAT_FLAGS:
        group.add_argument(flag, dest=f"format_{key}", **kwargs)


def format_options(ns: argparse.Namespace, fmt: str) -> dict[str, Any]:
    """The format options given in ``ns`` for the format ``fmt``; raises
    :class:`UsageError` for one that belongs to another format."""
    options: dict[str, Any] = {}
    for flag, owner, key, _kwargs in FORMAT_FLAGS:
        value = getattr(ns, f"format_{key}", None)
        if value is None:
            continue
        if owner != fmt:
            raise UsageError(f"{flag} applies to the {owner} format, not to {fmt}")
        options[key] = value
    return options


def seconds(text: str) -> float:
    """An option's value that must be a finite number of seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, not {text!r}")
    return value


def non_negative(text: str) -> int:
    """An option's value that must be an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


class Console:
    """Where a command's messages go: stderr, one line each, never a crash.

    The profiled program may have closed or replaced stderr; no message is
    worth a traceback.
    """

    def write(self, text: str) -> None:
        with contextlib.suppress(Exception):
            sys.stderr.write(text)
            sys.stderr.flush()

    def error(self, message: str) -> None:
        """``threadprof: error: <message>``, its whitespace folded to one line."""
        self.write(f"{PROG}: error: {' '.join(message.split())}\n")

    def say(self, line: str) -> None:
        """``threadprof: <line>``: what a command did (a file written)."""
        self.write(f"{PROG}: {line}\n")


class _Terminated(BaseException):
    """A fatal signal arrived: unwinds what was being written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def dying_cleanly() -> Iterator[None]:
    """While a command writes a file: a SIGTERM or SIGHUP left at the default
    unwinds the write (its temporary file removed, an older file under the
    name left as it was), then ends the process by that signal, as it would
    have without threadprof.

    The handler raises, but Python ignores an exception raised where it cannot
    propagate (a weakref callback, ``__del__``), so the signal is also kept:
    the rename of a finished file checks it, and so does the end of the block.
    Such an ignored exception is not printed as a traceback."""
    arrived: list[int] = []

    def handler(signum: int, frame: object) -> None:
        arrived.append(signum)
        raise _Terminated(signum)

    def check() -> None:
        if arrived:
            raise _Terminated(arrived[0])

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        if not isinstance(info.exc_value, _Terminated):
            hook(info)

    hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    previous = {}
    for name in FATAL_SIGNALS:
        signum = getattr(signal, name, None)
        with contextlib.suppress(OSError, ValueError, TypeError):  # not the main thread
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, handler)
    try:
        with commit_guard(check):
            yield
        check()
    except _Terminated as exc:
        die_by_signal(exc.signum)
    finally:
        for signum, old in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signum, old)
        sys.unraisablehook = hook


def _terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it (``$COLUMNS``
    first), without importing shutil, which imports every compressor."""
    with contextlib.suppress(ValueError):
        columns = int(os.environ.get("COLUMNS", "0"))
        if columns > 0:
            return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _measured(formatter: Any) -> Any:
    """``formatter`` (an argparse help formatter class) given the terminal's
    width when none is asked for, as argparse computes it."""

    def make(prog: str, *args: Any, **kwargs: Any) -> Any:
        if not args and kwargs.get("width") is None:
            kwargs["width"] = _terminal_columns() - 2
        return formatter(prog, *args, **kwargs)

    return make


def report_width(width: int | None) -> int:
    """A report's width: ``width`` (at least 40) if given, else the
    terminal's (at most 100), or 80 when stdout is not a terminal."""
    if width is not None:
        return max(width, 40)
    if sys.stdout is not None and sys.stdout.isatty():
        return min(_terminal_columns(), 100)
    return 80


def emit(text: str, console: Console) -> int:
    """Print ``text`` to stdout; a closed, full or broken stdout is one error line.

    Characters stdout cannot encode are written as backslash escapes.
    """
    stdout = sys.stdout
    if stdout is None:
        console.error("cannot print the report: there is no standard output")
        return EXIT_FAILED
    try:
        with contextlib.suppress(AttributeError, ValueError):
            stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        stdout.write(text)
        stdout.flush()
    except OSError as exc:
        console.error(f"cannot print the report: {exc.strerror or exc}")
        _silence_stdout()
        return EXIT_FAILED
    return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit
    does not fail again on what could not be written (as Python's docs advise
    for a broken pipe)."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
