# SPDX-License-Identifier: MIT
"""One profiled run of ``threadprof run``: ending it, however the process ends.

The profile is written and the report printed when the program's main code
ends (it returned, raised or called ``sys.exit``) and its non-daemon threads
were joined; when a SIGTERM or SIGHUP that it does not handle kills it (it
then dies by that signal); and at ``os._exit``, in the program or in a child
forked from it. See the comment below for how exactly-once is kept.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import types
from collections.abc import Sequence

# everything that ending a run needs is imported before the program runs: the
# program may break imports (sys.modules["threadprof"] = None, __import__
# replaced) and the profile must still be written
from .. import _core, api
from .._record import Frozen, replace
from ..atomicfile import OutputError, is_written_in_place
from ..exporters import Exporter, NoSuchThreadError, file_uri, get_exporter
from ..follow import OWN_MODULES, Follow, mark_start, write_profile
from ..model import Snapshot
from ..report import format_report
from ..trim import drop_frames
from .color import colorize, use_color
from .common import FATAL_SIGNALS, PROG, Console, die_by_signal
from .program import Program, Target
from .progress import Progress

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FATAL_SIGNALS", "RunOptions", "Session", "start_profiler", "trim_own_frames"]


# -- however the process ends ----------------------------------------------------
#
# The profile is written exactly once per process, by whichever comes first:
#
# * the normal end: the program's main code returned, raised or called
#   sys.exit, and its non-daemon threads were joined (run.run);
# * a fatal signal (SIGTERM, SIGHUP) whose disposition the program left at the
#   default: threadprof's handler writes the profile, then the process dies by
#   that signal as it would have (Session.on_fatal_signal);
# * os._exit(), the way multiprocessing's children end (Session.on_exit, which
#   the C core calls at the event of that call).
#
# The processes that the program starts are followed (.follow): each writes
# its profile to the root's directory at its end, by the same ways, and the
# root merges them into its own at its end. With --no-follow, a process forked
# from the profiled one stops profiling. A forked child is told apart by its
# pid, not by a flag that a fork hook sets, so no ordering of at-fork hooks and
# signals can make a child write the parent's file.


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
        )


def start_profiler(options: RunOptions) -> api.Profile:
    """Start profiling every thread as ``options`` say (a run's, a follower's)."""
    return api.start(
        clock=options.clock,
        engine=options.engine,
        timeline=options.timeline,
        timeline_limit=options.timeline_limit,
        coroutines=options.coroutines,
        slow_step=options.slow_step,
        tasks=options.tasks,
    )


#: The HTML report of ``--open`` when no file was written to put it beside.
DEFAULT_REPORT = "threadprof"


def _beside(path: str, exporter: Exporter | None) -> str:
    """``path`` without its format's extension: where a file beside it starts."""
    lower = path.lower()
    for ext in sorted(exporter.extensions if exporter else (), key=len, reverse=True):
        if lower.endswith(ext):
            return path[: -len(ext)]
    return path


class Session:
    """One profiled run: what to write and where, whichever way it ends.

    In the process that runs ``threadprof run`` (the root), ``follow`` holds
    the directory where the processes it starts write their profiles (None
    with ``--no-follow``). In a follower (:func:`start_follower`), ``program``
    is None and ``follow_dir`` is that directory.
    """

    def __init__(
        self,
        options: RunOptions,
        program: Program | None,
        console: Console,
        follow: Follow | None = None,
        follow_dir: str | None = None,
    ) -> None:
        self.options = options
        self.program = program
        self.console = console
        self.follow = follow
        self.follow_dir = follow.dir if follow is not None else follow_dir
        self.status = "exited"  # how this process ended (Process.status)
        self.follow_key = ""  # a follower's name in the directory (.follow)
        self.pending: Snapshot | None = None  # the root's, written at exit (finish_pending)
        self.ident = threading.get_ident()  # the thread that runs the program's main code
        self.pid = os.getpid()  # of the process that runs `threadprof run`
        self._claim = threading.Lock()  # held by whoever ends profiling
        self.caught: list[int] = []  # the fatal signals handled here
        self.pending_signal: int | None = None  # to die by once the profile is written
        self.watching = False  # the C core watches the caught signals
        self.cwd = os.getcwd()  # where a relative -o points, whatever the program does

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

    @property
    def in_child(self) -> bool:
        return os.getpid() != self.pid

    @property
    def follower(self) -> bool:
        """Whether this process writes its profile for a root to merge: a
        follower, or a process forked from the root or a follower."""
        return self.follow_dir is not None and (self.program is None or self.in_child)

    @property
    def ending(self) -> bool:
        """Whether profiling is being ended in this process (:meth:`claim`)."""
        return self._claim.locked()

    def claim(self) -> bool:
        """Become the one that ends profiling in this process (at most one caller can).

        A lock, not a flag: acquiring it is one step that no signal handler can
        interrupt halfway.
        """
        return self._claim.acquire(blocking=False)

    def stop(self) -> Snapshot | None:
        """Stop profiling; ``None`` (and an error printed) if the profiler failed."""
        subtree = None
        if self.program is not None:
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

    @property
    def recording(self) -> bool:
        """False in a child forked with ``--no-follow``: it stopped profiling."""
        return self.follow_dir is not None or not self.in_child

    def end(self) -> None:
        """Stop profiling and write the profile, after :meth:`claim`."""
        if not self.recording:
            return
        snapshot = self.stop()
        if snapshot is not None:
            self.finish(snapshot)

    def finish(self, snapshot: Snapshot) -> None:
        """Write the output file and print the report; a failure only prints an error.

        A follower writes its profile for the root to merge (:mod:`threadprof.follow`)
        and prints nothing. The root merges its followers' profiles into its
        own first.
        """
        if self.follower:
            assert self.follow_dir is not None
            try:
                write_profile(self.follow_dir, self.follow_key, snapshot, self.status)
            except Exception as exc:
                self.error(f"cannot write the profile: {type(exc).__name__}: {exc}")
            return
        if self.in_child:
            return  # pragma: no cover - --no-follow: stopped at the fork (end)
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
        if self.follower or self.follow is None or not self.follow.started():
            return False
        self.pending = snapshot
        return True

    def finish_pending(self) -> None:
        """The exit handler, registered before the program ran its own: write
        the deferred profile."""
        snapshot, self.pending = self.pending, None
        if snapshot is not None and not self.in_child:
            self.finish(snapshot)

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
        message = f"process {os.getpid()}: {message}" if self.follower else message
        self.console.error(message)

    # -- fatal signals --------------------------------------------------------

    def catch_fatal_signals(self) -> None:
        """Handle the :data:`FATAL_SIGNALS` that are at their default disposition.

        A signal that the program ignores or handles already (inherited
        SIG_IGN, as under nohup) is left alone, and so is any handler the
        program installs later: it simply replaces this one.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # pragma: no cover - main() runs in the main thread
        for name in FATAL_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:
                continue  # pragma: no cover - not on this platform
            with contextlib.suppress(OSError, ValueError):
                if signal.getsignal(signum) == signal.SIG_DFL:
                    signal.signal(signum, self.on_fatal_signal)
                    self.caught.append(signum)
        if self.caught:
            self.watch_signals()
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=self.watch_signals_again)

    def watch_forks(self) -> None:
        """A forked child is a follower (it says so in the directory), or with
        ``--no-follow`` stops profiling: the parent alone is recorded."""
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.forked)

    def forked(self) -> None:
        if self.follow_dir is not None:
            self.follow_key = mark_start(self.follow_dir, self.options.keep_argv)
            return
        profiler = api.active()
        if profiler is not None:
            with contextlib.suppress(Exception):
                profiler.disable()

    def watch_signals(self) -> None:
        """Make sure a caught signal reaches :meth:`on_fatal_signal`: a signal
        that lands in another thread, or just before the main thread blocks
        in a C call, would leave the process hanging where the default action
        would have ended it. The C core sends it again to the main thread
        every 100 ms until the handler runs (``src/_core/sigwatch.h``); no
        thread is started."""
        with contextlib.suppress(OSError, ValueError):
            self.watching = _core._sigwatch_start(tuple(self.caught))

    def watch_signals_again(self) -> None:
        """In a forked child: the timers did not come along."""
        if self.watching:
            self.watch_signals()

    def unwatch_signals(self) -> None:
        if self.watching:
            self.watching = False
            _core._sigwatch_stop()

    def release_fatal_signals(self) -> None:
        """Give back the default disposition where this handler still is."""
        self.unwatch_signals()
        for signum in self.caught:
            with contextlib.suppress(OSError, ValueError):
                if signal.getsignal(signum) == self.on_fatal_signal:
                    signal.signal(signum, signal.SIG_DFL)
        self.caught.clear()

    def on_fatal_signal(self, signum: int, frame: types.FrameType | None) -> None:
        """Write the profile, then die by ``signum`` as the program would have.

        Runs in the main thread, between two bytecodes of whatever it was
        running. If the profile is being written already (the code this handler
        interrupted, or another thread, is ending profiling), the process dies
        by the signal once it is written.
        """
        _core._sigwatch_handled()
        self.status = f"killed by {signal.Signals(signum).name}"
        if not self.claim():
            self.pending_signal = signum
            return
        try:
            self.end()
        finally:
            die_by_signal(signum)

    # -- os._exit ----------------------------------------------------------------

    def on_exit(self) -> None:
        """The program calls ``os._exit`` or ``os.exec*`` (or, in a follower,
        its interpreter exits): write the profile first.

        The C core calls this at the event of that call, before ``os._exit``
        or ``os.execv``/``os.execve`` runs (the profiler's exit hook, set by
        :func:`threadprof.cli.run.run` and inherited by every forked child). A
        program that replaces itself by ``os.exec*`` of Python is followed
        again if it is a follower; the root's profile ends at the exec.
        multiprocessing's children end this way (``Popen._launch`` calls
        ``os._exit`` after the target, its finalizers and its threads are
        done), and so do most hand-written
        ``os.fork()`` children; so may the program itself. Nothing here may
        keep the process from exiting.
        """
        if self.claim():
            self.end()
            if self.pending_signal is not None:
                die_by_signal(self.pending_signal)


def trim_own_frames(snapshot: Snapshot) -> Snapshot:
    """Drop threadprof's own frames from the profile.

    The thread that ran the program has a tree that starts with the frames
    that were running when profiling started (the launcher, ``main``, this
    module) and ends with the waits for the other threads: :meth:`Session.stop`
    keeps only the subtree of the program's ``<module>`` frame as the snapshot
    is made. Here, in any thread, the calls of the handlers that threadprof
    runs inside the program (a fatal signal's, and in a follower the exit
    handler's and the startup's that began profiling) are removed, their time
    left to the frame they interrupted. (The exit hook runs inside the
    profiler's own event, where nothing is recorded.)
    """
    own_funcs = _function_ids(
        snapshot, [Session.on_fatal_signal.__code__, Session.on_exit.__code__]
    )
    own_funcs.update(
        f.id for f in snapshot.functions if f.kind == "python" and f.filename in OWN_MODULES
    )
    if not own_funcs:
        return snapshot
    threads = []
    for t in snapshot.threads:
        if not own_funcs.isdisjoint(t.tree_columns().func):
            t = drop_frames(t, own_funcs)
        threads.append(t)
    return replace(snapshot, threads=threads)


def _function_ids(snapshot: Snapshot, codes: Sequence[types.CodeType]) -> set[int]:
    keys = {(c.co_filename, c.co_firstlineno, c.co_name) for c in codes}
    return {f.id for f in snapshot.functions if f.kind == "python" and f.pstats_key in keys}
