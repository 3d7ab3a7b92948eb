# SPDX-License-Identifier: MIT
"""``threadprof run [options] [--] script.py [args...]``, or ``-m module [args...]``.

Runs the program as ``python`` would (:mod:`.program`) under the profiler,
every thread of it; at its end writes the profile (``threadprof.tprof`` unless
``-o`` or ``--format`` say otherwise) and prints the report to stderr, however
the process ends (:mod:`.session`). Everything that can fail before the
program runs -- an unknown option, a missing script, an unwritable output --
is reported (exit status 2) before it has done anything. docs/cli.md
documents every exit status.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
from collections.abc import Sequence

from ..atomicfile import check_writable, is_written_in_place
from ..exporters import (
    EXPORTERS,
    FORMATS,
    Exporter,
    exporter_for_path,
    get_exporter,
    known_names,
)
from ..follow import Follow
from ..handoff import PROFILE_OPTIONS
from ..model import Snapshot
from ..options import CLOCKS, COROUTINES, ENGINES
from ..report import DEFAULT_LIMIT, DEFAULT_SORT, REPORT_SORT_KEYS
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    PROG,
    Console,
    UsageError,
    add_format_flags,
    die_by_signal,
    format_options,
    non_negative,
    seconds,
)
from .program import Outcome, SigintAtExit, Target, execute, install, join_threads, prepare
from .session import RunOptions, Session, start_profiler

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_OUTPUT", "add_parser", "parse", "run"]


#: The format of an output written in place (a device, a FIFO, /dev/stdout)
#: whose name no format claims: pstats, as ``python -m cProfile -o`` writes.
IN_PLACE_FORMAT = "pstats"

#: The file ``threadprof run`` writes without -o: threadprof's own format, which
#: ``threadprof convert`` turns into any other.
DEFAULT_OUTPUT = "threadprof.tprof"


def _output(output: str | None, fmt: str | None, timeline: bool) -> tuple[str, Exporter]:
    """The file to write and its format: ``--format``, else the extension of
    ``-o FILE`` (a usage error if no format claims it, but for a device, FIFO
    or descriptor, which gets pstats), else ``threadprof.tprof``.
    Without -o the file is ``threadprof`` plus the format's extension. A format
    that shows calls in time needs ``--timeline``: refused before the run."""
    if fmt is not None:
        exporter = get_exporter(fmt)
    elif output is not None:
        found = exporter_for_path(output)
        if found is None:
            if not (is_written_in_place(output) or os.path.isdir(output)):
                raise UsageError(
                    f"cannot tell the format of {output!r} from its name: give --format, "
                    f"or a name ending in {known_names()}"
                )
            # /dev/null, /dev/stdout, a FIFO: cProfile's format, as python -m cProfile -o;
            # a directory: refused by check_writable, with its own reason
            found = get_exporter(IN_PLACE_FORMAT)
        exporter = found
    else:
        exporter = get_exporter("tprof")
    if output is None:
        output = "threadprof" + exporter.extensions[0]
    if exporter.needs_timeline and not timeline:
        raise UsageError(
            f"the {exporter.name} format shows calls in time: add --timeline to record them"
        )
    return output, exporter


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``run`` command to the CLI's subparsers; its options that take a
    value are in :data:`VALUE_OPTIONS` (how :func:`parse` finds the target)."""
    formats = "\n".join(
        f"  {e.name:<10} {', '.join(e.extensions):<16} {e.description}" for e in EXPORTERS
    )
    run: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run a Python script or module under the profiler",
        usage=(
            f"{PROG} [run] [options] [--] script.py [args ...]\n"
            f"       {PROG} [run] [options] -m module [args ...]\n"
            f"       {PROG} [run] [options] -c cmd [args ...]"
        ),
        description=(
            "Run a Python program under the profiler, every thread of it, and every Python\n"
            "process it starts (multiprocessing, process pools, subprocesses of Python;\n"
            "--no-follow: the program's process alone). At exit, print a report to stderr\n"
            f"and write the profile ({DEFAULT_OUTPUT} unless -o or --format say otherwise),\n"
            "also after SIGTERM or SIGHUP. The program's exit status is kept. Options come\n"
            "before the script, -m or -c; what follows belongs to the program."
        ),
        epilog=(
            "output formats (--format, or -o FILE's extension; "
            f"{DEFAULT_OUTPUT} without either):\n{formats}"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )

    def option(*flags: str, **kwargs: Any) -> None:
        run.add_argument(*flags, **kwargs)

    option(
        "-o",
        "--output",
        metavar="FILE",
        help=f"write the profile to FILE (default: {DEFAULT_OUTPUT})",
    )
    option(
        "--format",
        choices=FORMATS,
        help="format of the profile (default: from -o FILE's extension, which must be known; "
        "without -o the file is threadprof.<its extension>)",
    )
    option(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="time to attribute: wall (default; CPU time is kept alongside) or cpu",
    )
    option(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="how events reach the profiler: monitoring (sys.monitoring, 3.12+), legacy (a "
        "profile function in every thread) or auto (default: monitoring where available)",
    )
    option(
        "--coroutines",
        choices=COROUTINES,
        default="whole",
        help="how calls of generators and coroutines count: whole (default: one call from "
        "start to return, a coroutine's awaits in its wall time) or resume (each resume "
        "a call, as cProfile counts)",
    )
    option(
        "--slow-step",
        type=seconds,
        default=0.1,
        metavar="SECONDS",
        help="list the steps of asyncio tasks (a coroutine run by the event loop until it "
        "next awaits) that take at least this long (default 0.1; 0: none)",
    )
    option(
        "--no-tasks",
        dest="tasks",
        action="store_false",
        help="do not record each asyncio task's calls apart (with --coroutines whole, "
        "they are by default)",
    )
    option(
        "--no-locks",
        dest="locks",
        action="store_false",
        help="do not record lock calls (the contention report)",
    )
    option(
        "--no-follow",
        dest="follow",
        action="store_false",
        help="profile the program's process alone, not the Python processes it starts "
        "(multiprocessing's, a process pool's, subprocesses of Python): by default each is "
        "profiled with the same options and is a process of the one profile",
    )
    option(
        "-s",
        "--sort",
        choices=REPORT_SORT_KEYS,
        default=DEFAULT_SORT,
        metavar="KEY",
        help=f"sort the report's functions by KEY, as cProfile -s (default: {DEFAULT_SORT}); "
        f"one of: {', '.join(REPORT_SORT_KEYS)}",
    )
    option(
        "--limit",
        type=non_negative,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show the top N functions in the report (default: {DEFAULT_LIMIT}; 0: none)",
    )
    option(
        "--thread",
        metavar="NAME|IDENT",
        help="restrict the -o file and the report's functions to the threads with this "
        "ident or native id, or whose name matches (glob patterns allowed)",
    )
    option(
        "--expand-threads",
        action="store_true",
        help="list every thread in the report; by default threads whose names differ only "
        "by a trailing number share a line (worker-* (1000 threads))",
    )
    option(
        "--full-paths",
        action="store_true",
        help="show files whole in the report (default: short, as concurrent/futures/thread.py)",
    )
    option(
        "--hide-library",
        action="store_true",
        help="leave the functions of the standard library and of installed packages out of "
        "the report",
    )
    option(
        "--timeline",
        action="store_true",
        help="also record every call and return of every thread in time order (for the "
        "chrome and perfetto formats, and speedscope's evented view)",
    )
    option(
        "--timeline-limit",
        type=non_negative,
        metavar="N",
        help="record the timeline keeping only the last N events of each thread "
        "(implies --timeline; 0: keep all)",
    )
    option(
        "--no-argv",
        dest="keep_argv",
        action="store_false",
        help="leave the program's arguments out of the profile (they may hold secrets); "
        "its name is kept",
    )
    option("-q", "--quiet", action="store_true", help="print no report")
    option(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colours in the report: auto (when stderr is a terminal and NO_COLOR is not "
        "set), always, never",
    )
    option(
        "--open",
        dest="open_report",
        action="store_true",
        help="after the run, open the HTML report in a browser (written beside the profile "
        "unless -o is HTML), or say where it is",
    )
    add_format_flags(run)
    option(
        "-m",
        dest="module",
        metavar="module",
        help="run a library module as a script, as python -m (ends the options)",
    )
    option(
        "-c",
        dest="code",
        metavar="cmd",
        help="run the program passed as a string, as python -c (ends the options)",
    )
    return run


# the flags that end threadprof's options and name what to run, as python's do
_TARGET_FLAGS = {"-m": "module", "-c": "code"}
_TARGET_WHAT = {"module": "a module name", "code": "a program (a string)"}


def _split_run_args(
    args: Sequence[str], value_options: frozenset[str]
) -> tuple[list[str], Target | None]:
    """Split ``run``'s arguments into threadprof's options and the target.

    Everything from the script (or from ``-m module``) on belongs to the program,
    even if it looks like one of threadprof's options.
    """
    opts: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            if i + 1 == len(args):
                raise UsageError("missing script after '--'")
            return opts, Target("script", args[i + 1], tuple(args[i + 2 :]))
        if arg.startswith("--"):
            opts.append(arg)
            if "=" not in arg and arg in value_options and i + 1 < len(args):
                opts.append(args[i + 1])
                i += 1
        elif arg.startswith("-") and arg != "-":
            # short options, possibly bundled: -q, -ofile, -qo file, -mmodule, -c code
            for j in range(1, len(arg)):
                flag = "-" + arg[j]
                if flag in _TARGET_FLAGS:
                    kind = _TARGET_FLAGS[flag]
                    if j > 1:
                        opts.append(arg[:j])
                    if j + 1 < len(arg):
                        return opts, Target(kind, arg[j + 1 :], tuple(args[i + 1 :]))
                    if i + 1 == len(args):
                        raise UsageError(f"argument {flag}: expected {_TARGET_WHAT[kind]}")
                    return opts, Target(kind, args[i + 1], tuple(args[i + 2 :]))
                if flag in value_options:
                    opts.append(arg)
                    if j + 1 == len(arg) and i + 1 < len(args):
                        opts.append(args[i + 1])
                        i += 1
                    break
            else:
                opts.append(arg)
        else:
            return opts, Target("script", arg, tuple(args[i + 1 :]))
        i += 1
    return opts, None


def parse(parser: argparse.ArgumentParser, args: Sequence[str]) -> RunOptions:
    """The options of ``threadprof run ARGS``: everything from the script (or
    from ``-m module``) on belongs to the program, even if it looks like one
    of threadprof's options."""
    opts, target = _split_run_args(args, _value_options(parser))
    ns = parser.parse_args(opts)
    if target is None:
        raise UsageError("run: missing script, -m module or -c cmd (try 'threadprof run --help')")
    timeline = ns.timeline or ns.timeline_limit is not None
    output, exporter = _output(ns.output, ns.format, timeline)
    return RunOptions(
        format_options=format_options(ns, exporter.name),
        target=target,
        output=output,
        exporter=exporter,
        clock=ns.clock,
        engine=ns.engine,
        coroutines=ns.coroutines,
        slow_step=ns.slow_step,
        tasks=ns.tasks,
        locks=ns.locks,
        sort=ns.sort,
        limit=ns.limit,
        thread=ns.thread,
        expand_threads=ns.expand_threads,
        full_paths=ns.full_paths,
        hide_library=ns.hide_library,
        color=ns.color,
        open_report=ns.open_report,
        quiet=ns.quiet,
        timeline=timeline,
        timeline_limit=ns.timeline_limit or 0,
        keep_argv=ns.keep_argv,
        follow=ns.follow,
    )


def _value_options(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The flags of ``parser`` that take a value: ``-o FILE``, ``--clock wall``..."""
    return frozenset(
        flag for action in parser._actions if action.nargs != 0 for flag in action.option_strings
    )


def _status(outcome: Outcome) -> str:
    """How the program's process ends, as :class:`~threadprof.model.Process` says."""
    if outcome.interrupted:
        return "interrupted"
    return f"exited {outcome.status}" if outcome.status else "exited"


def run(options: RunOptions, console: Console) -> int:
    """Run the program under the profiler; returns the exit status to end with."""

    # everything that can fail before the program runs is checked before it runs
    if options.output is not None:
        check_writable(options.output)
    if options.exporter is not None:
        # imported now rather than in a signal handler that may have interrupted
        # an import, or once per forked child; a failure shows when writing
        with contextlib.suppress(Exception):
            options.exporter.load()
    if options.open_report:
        with contextlib.suppress(Exception):
            import webbrowser  # noqa: F401  (for Session.open_report)

            get_exporter("html").load()
    try:
        program = prepare(options.target)
    except SyntaxError as exc:  # the program does not compile: as Python reports it
        sys.__excepthook__(type(exc), exc.with_traceback(None), None)
        return EXIT_FAILED
    sigint = SigintAtExit()
    atexit.register(sigint)  # before the program registers its own: runs after them
    follow = None
    if options.follow:
        try:
            follow = Follow({name: getattr(options, name) for name in PROFILE_OPTIONS})
        except OSError as exc:
            raise UsageError(f"cannot follow the program's processes: {exc}") from exc
    session = Session(options, program, console, follow=follow)
    atexit.register(session.finish_pending)  # as sigint: after the program's own
    install(program)
    try:
        profiler = start_profiler(options)
    except Exception as exc:
        if follow is not None:
            follow.remove()
        raise UsageError(f"cannot start the profiler: {exc}") from exc
    # a forked child inherits the profiler, and with it this hook
    profiler._set_exit_hook(session.on_exit)
    session.catch_fatal_signals()
    session.watch_forks()
    if follow is not None:
        follow.environ()
    snapshot: Snapshot | None = None
    outcome = Outcome()
    wait_interrupted = False
    try:
        outcome = execute(program)
        try:
            join_threads()
        except KeyboardInterrupt:
            outcome.interrupted = wait_interrupted = True
            console.error("interrupted while waiting for the program's threads")
    finally:
        # if the claim fails, os._exit in another thread is ending profiling
        if session.recording and session.claim():
            snapshot = session.stop()

    session.status = _status(outcome)
    if snapshot is not None and not session.defer(snapshot):
        try:
            session.finish(snapshot)
        except KeyboardInterrupt:
            outcome.interrupted = True
            console.error("interrupted while writing the profile")
    session.release_fatal_signals()
    if session.pending_signal is not None:
        die_by_signal(session.pending_signal)
    if outcome.interrupted:
        sigint.armed = True
        if wait_interrupted:
            # The interpreter would wait for the same threads again before its
            # atexit handlers (threading._shutdown was cut short): run them now,
            # the last of them, sigint, ends the process.
            atexit._run_exitfuncs()
        return EXIT_INTERRUPTED
    return outcome.status
