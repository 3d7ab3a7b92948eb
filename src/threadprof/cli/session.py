# SPDX-License-Identifier: MIT
"""One profiled run of ``threadprof run``: ending it, however the process ends.

The profile is written and the report printed when the program's main code
ends (it returned, raised or called ``sys.exit``) and its non-daemon threads
were joined; when a SIGTERM or SIGHUP that it does not handle kills it (it
then dies by that signal); and at ``os._exit`` or ``os.exec*``: exactly
once (:mod:`threadprof.ending`). A child forked from it writes its own for it
to merge (:mod:`threadprof.follow`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading

# everything that ending a run needs is imported before the program runs: the
# program may break imports (sys.modules["threadprof"] = None, __import__
# replaced) and the profile must still be written
from .. import api, rawmodel, tprof, trim  # noqa: F401  (loaded when first used)
from .._record import Frozen, replace
from ..atomicfile import OutputError, is_written_in_place
from ..ending import ProcessEnd, trim_own_frames
from ..exporters import Exporter, NoSuchThreadError, file_uri, get_exporter
from ..follow import Follow
from ..follower import take_checkpoints
from ..handoff import START_OPTIONS
from ..model import Snapshot
from ..report import format_report
from .color import colorize, use_color
from .common import PROG, Console
from .program import Program, Target
from .progress import Progress

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RunOptions", "Session", "start_profiler"]


# How the process ends, exactly once, whichever way: threadprof.ending. The
# processes that the program starts are followed (threadprof.follow): each
# writes its profile to the root's directory at its end, and the root merges
# them into its own at its end. With --no-follow, a process forked from the
# profiled one stops profiling.


class RunOptions(Frozen):
    """A parsed ``threadprof run``: what to run, and how to profile and report it."""

    __slots__ = (
        "clock",
        "color",
        "coroutines",
        "engine",
        "expand_threads",
        "exporter",
        "follow",
        "format_options",
        "full_paths",
        "hide_library",
        "keep_argv",
        "limit",
        "locks",
        "open_report",
        "output",
        "quiet",
        "slow_step",
        "sort",
        "target",
        "tasks",
        "thread",
        "timeline",
        "timeline_limit",
    )
    target: Target
    output: str | None
    exporter: Exporter | None
    clock: str
    engine: str
    sort: str
    limit: int
    thread: str | None
    expand_threads: bool
    quiet: bool
    full_paths: bool
    hide_library: bool
    color: str
    open_report: bool
    timeline: bool
    timeline_limit: int
    keep_argv: bool  # False: only the program's name goes in the profile
    format_options: dict[str, Any]
    coroutines: str  # one of COROUTINES
    slow_step: float  # seconds
    tasks: bool  # record asyncio tasks
    locks: bool  # record lock calls
    follow: bool  # profile the Python processes that the program starts

    def __init__(
        self,
        target: Target,
        output: str | None,
        exporter: Exporter | None,
        clock: str,
        engine: str,
        sort: str,
        limit: int,
        thread: str | None,
        expand_threads: bool,
        quiet: bool,
        full_paths: bool = False,
        hide_library: bool = False,
        color: str = "auto",
        open_report: bool = False,
        timeline: bool = False,
        timeline_limit: int = 0,
        keep_argv: bool = True,
        format_options: dict[str, Any] | None = None,
        coroutines: str = "whole",
        slow_step: float = 0.1,
        tasks: bool = True,
        follow: bool = True,
        locks: bool = True,
    ) -> None:
        self._set(
            target,
            output,
            exporter,
            clock,
            engine,
            sort,
            limit,
            thread,
            expand_threads,
            quiet,
            full_paths,
            hide_library,
            color,
            open_report,
            timeline,
            timeline_limit,
            keep_argv,
            {} if format_options is None else format_options,
            coroutines,
            slow_step,
            tasks,
            follow,
            locks,
        )


def start_profiler(options: RunOptions) -> api.Profile:
    """Start profiling every thread as ``options`` say."""
    return api.start(**{name: getattr(options, name) for name in START_OPTIONS})


#: The HTML report of ``--open`` when no file was written to put it beside.
DEFAULT_REPORT = "threadprof"


def _beside(path: str, exporter: Exporter | None) -> str:
    """``path`` without its format's extension: where a file beside it starts."""
    lower = path.lower()
    for ext in sorted(exporter.extensions if exporter else (), key=len, reverse=True):
        if lower.endswith(ext):
            return path[: -len(ext)]
    return path


class Session(ProcessEnd):
    """One profiled run: what to write and where, whichever way it ends
    (:class:`~threadprof.ending.ProcessEnd`).

    ``follow`` holds the directory where the processes that the program starts
    write their profiles (None with ``--no-follow``); a child forked from the
    program's process writes its own there.
    """

    def __init__(
        self,
        options: RunOptions,
        program: Program,
        console: Console,
        follow: Follow | None = None,
    ) -> None:
        super().__init__(follow.dir if follow is not None else None, options.keep_argv)
        self.options = options
        self.program = program
        self.console = console
        self.follow = follow
        self.pending: Snapshot | None = None  # the root's, written at exit (finish_pending)
        self.ident = threading.get_ident()  # the thread that runs the program's main code
        self.cwd = os.getcwd()  # where a relative -o points, whatever the program does

    def forked(self) -> None:
        """A child forked from the program's process: followed, it also takes
        checkpoints (:func:`~threadprof.follower.take_checkpoints`)."""
        super().forked()
        profiler = api.active()
        if self.follow_dir is not None and profiler is not None:
            take_checkpoints(self, profiler)

    def output_path(self) -> str | None:
        """The file to write: ``-o`` as given, resolved against the directory
        the run started in if the program has changed directory since (so
        that messages show the path as typed whenever they can)."""
        output = self.options.output
        if output is None or os.path.isabs(output):
            return output
        try:
            moved = os.getcwd() != self.cwd
        except OSError:  # the current directory was removed
            moved = True
        return os.path.join(self.cwd, output) if moved else output

    def stop(self) -> Snapshot | None:
        """Stop profiling; ``None`` (and an error printed) if the profiler failed."""
        # the program is the subtree of its <module> frame in the thread that runs it
        code = self.program.code
        subtree = (self.ident, (code.co_filename, code.co_firstlineno, code.co_name))
        try:
            snapshot = api.stop_within(subtree)
        except Exception as exc:
            self.error(f"the profiler failed, no profile: {str(exc) or type(exc).__name__}")
            return None
        if not self.options.keep_argv:
            snapshot = replace(snapshot, argv=snapshot.argv[:1])
        return trim_own_frames(snapshot)

    def end(self) -> None:
        """Stop profiling and write the profile, after :meth:`claim`."""
        if not self.recording:
            return
        snapshot = self.stop()
        if snapshot is not None:
            self.finish(snapshot)
        else:
            self.forget_followers()

    def finish(self, snapshot: Snapshot) -> None:
        """Write the output file and print the report; a failure only prints an error.

        A forked child writes its profile for the root to merge
        (:mod:`threadprof.follow`) and prints nothing. The root merges its
        followers' profiles into its own first.
        """
        if self.in_child:
            if self.follow_dir is not None:
                self.write_followed(snapshot)
            return
        try:
            if self.follow is not None:
                snapshot = self.follow.gather(snapshot, self.status)
            self.write(snapshot)
        finally:
            if self.follow is not None:
                self.follow.remove()

    def defer(self, snapshot: Snapshot) -> bool:
        """Keep the root's ``snapshot`` to finish at exit, after the program's
        own exit handlers (:meth:`finish_pending`): when processes it started
        may still be running, as a pool's workers that multiprocessing ends
        there. False (finish now) if none was started."""
        if self.in_child or self.follow is None or not self.follow.started():
            return False
        self.pending = snapshot
        return True

    def finish_pending(self) -> None:
        """The exit handler, registered before the program ran its own: write
        the deferred profile."""
        snapshot, self.pending = self.pending, None
        if snapshot is not None and not self.in_child:
            self.finish(snapshot)
        else:
            self.forget_followers()  # no profile to merge them into (the profiler failed)

    def forget_followers(self) -> None:
        """Remove the followers' directory of a run that writes no profile."""
        if self.follow is not None and not self.in_child:
            self.follow.remove()

    def write(self, snapshot: Snapshot) -> None:
        """The root's output file and report."""
        options = self.options
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        written = problem = None
        output = self.output_path()
        if output is not None and options.exporter is not None:
            try:
                with Progress(f"writing {os.path.basename(output)}", quiet=options.quiet):
                    options.exporter.write(
                        snapshot, output, thread=options.thread, options=options.format_options
                    )
                written = f"{PROG}: wrote the {options.exporter.name} profile to {output}\n"
                if not is_written_in_place(output):
                    written += f"{PROG}: to view it: {options.exporter.view_hint(output)}\n"
            except NoSuchThreadError as exc:
                problem = str(exc)
            except OutputError as exc:
                problem = str(exc)
            except Exception as exc:  # an exporter's failure must not cost the report or status
                problem = f"cannot write {output!r}: {type(exc).__name__}: {exc}"
        if not options.quiet:
            report = functools.partial(
                format_report,
                snapshot,
                options.sort,
                options.limit,
                expand_threads=options.expand_threads,
                details=True,
                full_paths=options.full_paths,
                hide_library=options.hide_library,
            )
            try:
                text = report(thread=options.thread)
            except LookupError:
                text = report()
                problem = problem or f"no thread matches {options.thread!r}"
            if use_color(options.color, sys.stderr):
                text = colorize(text)
            self.console.write(text + (written or ""))
        if problem:
            self.error(problem)
        if options.open_report:
            self.open_report(snapshot, output if written else None)

    def open_report(self, snapshot: Snapshot, written: str | None) -> None:
        """``--open``: the HTML report in a browser, or where it is. It is the
        output file when that is HTML, else a file beside it (or
        ``threadprof.html`` when the profile went to a device or was not
        written); with no browser to start (no display and no ``$BROWSER``),
        say where it is."""
        html = get_exporter("html")
        if written is not None and is_written_in_place(written):
            written = None  # /dev/null, a FIFO: nothing to put a report beside
        if written is not None and self.options.exporter is html:
            path = written
        else:
            base = written if written is not None else DEFAULT_REPORT
            path = _beside(base, self.options.exporter) + ".html"
            try:
                html.write(snapshot, path, thread=self.options.thread)
            except Exception as exc:  # as for the profile: never the status
                self.error(f"cannot write the HTML report {path!r}: {exc}")
                return
            self.console.write(f"{PROG}: wrote the HTML report to {path}\n")
        uri = file_uri(os.path.abspath(path))
        opened = False
        if any(os.environ.get(v) for v in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY")):
            with contextlib.suppress(Exception):
                import webbrowser  # imported before the program ran (run.run)

                opened = webbrowser.open(uri)
        if not opened:
            self.console.write(f"{PROG}: no browser to start: open {uri}\n")

    def error(self, message: str) -> None:
        message = f"process {os.getpid()}: {message}" if self.in_child else message
        self.console.error(message)
