# SPDX-License-Identifier: MIT
"""Ending the profiling of a process exactly once, however the process ends.

:class:`ProcessEnd` owns what that takes, for ``threadprof run``'s process
(:class:`threadprof.cli.session.Session`) and for the processes it follows
(:class:`threadprof.follower.Follower`): the profile is ended by whichever
comes first of

* the normal end (the program's main code returned, raised or called
  ``sys.exit``);
* a fatal signal (SIGTERM, SIGHUP) whose disposition the program left at the
  default: the handler ends profiling, then the process dies by that signal as
  it would have (:meth:`ProcessEnd.on_fatal_signal`);
* ``os._exit()`` or ``os.exec*()``, seen by the C core at the event of that
  call (the profiler's exit hook, :meth:`ProcessEnd.on_exit`).

A process forked from a profiled one keeps profiling (the C core resets its
state in the child) and is told apart by its pid, not by a flag that a fork
hook sets, so no ordering of at-fork hooks and signals can make a child end
the parent's profile. Followed (``follow_dir``), the child writes its profile
for the root to merge (:mod:`threadprof.follow`); else it stops profiling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import types
from collections.abc import Sequence

from . import _core
from ._record import replace
from .handoff import OWN_MODULES, mark_start, new_key, write_profile

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from .model import Snapshot

__all__ = ["FATAL_SIGNALS", "ProcessEnd", "die_by_signal", "trim_own_frames"]

#: The signals whose default action ends the process and that a profiled
#: process handles to write its profile first.
FATAL_SIGNALS = ("SIGTERM", "SIGHUP")


def die_by_signal(signum: int) -> NoReturn:
    """End the process by ``signum``, its default action, as if never handled."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        signal.signal(signum, signal.SIG_DFL)  # fails outside the main thread
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        signal.raise_signal(signum)  # delivered to this thread before it returns
    os._exit(128 + signum)  # if the signal could not end the process: the shell's status


class ProcessEnd:
    """The ways a profiled process can end, each ending its profile once
    (:meth:`end`, which subclasses give)."""

    def __init__(self, follow_dir: str | None, keep_argv: bool) -> None:
        self.pid = os.getpid()  # of the process that started profiling
        self._claim = threading.Lock()  # held by whoever ends profiling
        self.caught: list[int] = []  # the fatal signals handled here
        self.pending_signal: int | None = None  # to die by once the profile is written
        self.watching = False  # the C core watches the caught signals
        self.status = "exited"  # how this process ended (Process.status)
        self.follow_dir = follow_dir  # where followers write (threadprof.follow)
        self.follow_key = ""  # this process's name there, if it follows
        self.keep_argv = keep_argv

    def end(self) -> None:
        """Stop profiling and write the profile, after :meth:`claim`."""
        raise NotImplementedError

    @property
    def in_child(self) -> bool:
        return os.getpid() != self.pid

    @property
    def recording(self) -> bool:
        """False in a child forked without following: it stopped profiling."""
        return self.follow_dir is not None or not self.in_child

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

    def error(self, message: str) -> None:
        """``threadprof: error: process PID: <message>`` on stderr, never raising."""
        with contextlib.suppress(Exception):
            sys.stderr.write(f"threadprof: error: process {os.getpid()}: {message}\n")
            sys.stderr.flush()

    def write_followed(self, snapshot: Snapshot) -> None:
        """A follower's end: its profile, for the root to merge."""
        assert self.follow_dir is not None
        if not self.keep_argv:
            snapshot = replace(snapshot, argv=snapshot.argv[:1])
        try:
            write_profile(self.follow_dir, self.follow_key, snapshot, self.status)
        except Exception as exc:
            self.error(f"cannot write the profile: {type(exc).__name__}: {exc}")

    # -- forks ----------------------------------------------------------------

    def watch_forks(self) -> None:
        """A forked child follows (it says so in the directory), or stops
        profiling: the parent alone is recorded."""
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.forked)

    def forked(self) -> None:
        if self.follow_dir is not None:
            self.follow_key = new_key()
            mark_start(self.follow_dir, self.follow_key, self.keep_argv)
            return
        profiler = _core.active()
        if profiler is not None:
            with contextlib.suppress(Exception):
                profiler.disable()

    # -- fatal signals --------------------------------------------------------

    def catch_fatal_signals(self) -> None:
        """Handle the :data:`FATAL_SIGNALS` that are at their default disposition.

        A signal that the program ignores or handles already (inherited
        SIG_IGN, as under nohup) is left alone, and so is any handler the
        program installs later: it simply replaces this one.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # pragma: no cover - called in the main thread
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

    # -- os._exit, os.exec*, the interpreter's exit ---------------------------------

    def on_exit(self) -> None:
        """The program calls ``os._exit`` or ``os.exec*`` (or, in a follower,
        its interpreter exits): write the profile first.

        The C core calls this at the event of that call, before ``os._exit``
        or ``os.execv``/``os.execve`` runs (the profiler's exit hook, which a
        forked child inherits). multiprocessing's fork children end this way
        (``Popen._launch`` calls ``os._exit`` after the target, its finalizers
        and its threads are done), and so do most hand-written ``os.fork()``
        children; so may the program itself. A program that replaces itself
        by ``os.exec*`` of Python is followed again if it is a follower.
        Nothing here may keep the process from exiting.
        """
        if self.claim():
            self.end()
            if self.pending_signal is not None:
                die_by_signal(self.pending_signal)


def trim_own_frames(snapshot: Snapshot) -> Snapshot:
    """Drop threadprof's own frames from a profile.

    In any thread, the calls of the handlers that threadprof runs inside the
    program (a fatal signal's, the exit handler's, a follower's startup and
    checkpoints) are removed, their time left to the frame they interrupted.
    (The exit hook runs inside the profiler's own event, where nothing is
    recorded.)
    """
    drop_frames = _trim().drop_frames
    own_funcs = _function_ids(
        snapshot, [ProcessEnd.on_fatal_signal.__code__, ProcessEnd.on_exit.__code__]
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
    names = {c.co_name for c in codes}  # a cheap test first: most functions fail it
    return {
        f.id
        for f in snapshot.functions
        if f.name in names and f.kind == "python" and f.pstats_key in keys
    }


def _trim() -> Any:
    """:mod:`threadprof.trim`, which a follower never needs (the root cuts
    its frames): imported when first used, then found without an import
    statement (``threadprof run`` imports it before the program runs, which
    may break ``import``)."""
    module = sys.modules.get(f"{__package__}.trim")
    if module is None:
        from . import trim as module
    return module
