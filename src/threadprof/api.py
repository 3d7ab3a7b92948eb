# SPDX-License-Identifier: MIT
"""The Python API: :class:`Profile` (a drop-in for ``cProfile.Profile``) and the
thread-aware helpers :func:`start`, :func:`stop` and :func:`profile`.

The C core (:mod:`threadprof._core`) does the recording; this module only turns
its raw snapshot into the :mod:`threadprof.model` objects and offers the
cProfile-shaped conveniences around it.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import weakref
from collections.abc import Callable
from types import TracebackType

from . import _core

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .follow import Follow
    from .model import Snapshot
    from .rawmodel import Subtree

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "Profile",
    "ProfilerError",
    "active",
    "attach_current_thread",
    "detach_current_thread",
    "profile",
    "start",
    "stop",
]

ProfilerError = _core.ProfilerError


class Profile(_core.Profiler):
    """A profiler of every thread, shaped like ``cProfile.Profile``.

    ``Profile(timer=None, timeunit=0.0, subcalls=True, builtins=True)`` takes
    cProfile's arguments and offers its methods (``enable``, ``disable``,
    ``clear``, ``runcall``, ``run``, ``runctx``, ``create_stats``,
    ``print_stats``, ``dump_stats``, context manager), so
    ``pstats.Stats(profile)`` works. Unlike cProfile it records every thread
    of the process, each in its own call tree.

    The keyword-only arguments are threadprof's own:

    * ``clock``: ``"wall"`` (default; the thread CPU time is estimated alongside
      it) or ``"cpu"`` (the thread CPU clock read exactly on every event, slow);
    * ``cpu``: set ``False`` to record wall time only;
    * ``seed_stacks``: when a thread is first seen, enter the frames that were
      already running so that they appear (with zero calls) in its tree.
      ``Profile`` leaves this off to report exactly what cProfile reports;
      :func:`start` and :func:`profile` turn it on.
    * ``engine``: how events reach the recorder: ``"monitoring"``
      (``sys.monitoring``, 3.12+; covers threads created from C too),
      ``"legacy"`` (a C profile function in every thread, as
      ``PyEval_SetProfileAllThreads`` installs it; the only engine on 3.11) or
      ``"auto"`` (the default: monitoring where available).
    * ``timeline``: also record every call and return of every thread with its
      time (see :class:`~threadprof.model.Timeline`); full buffers spill to an
      anonymous temporary file, so memory stays bounded.
    * ``timeline_limit``: keep only the last N timeline events per thread (in
      memory, no spill file); 0 keeps them all.
    * ``coroutines``: how calls of generators, coroutines and async generators
      are counted: ``"resume"`` (the default, cProfile's: each resume is a
      call) or ``"whole"`` (one call from the first start to the return, with
      a coroutine's awaits in its wall time; :func:`start`, :func:`profile`
      and ``threadprof run`` count this way; see docs/asyncio.md).
    * ``slow_step``: list every step of a task (a coroutine run by the event
      loop, up to its next suspension) that takes at least this many seconds
      (default 0.1, asyncio's own threshold for slow callbacks; 0 lists none):
      ``ThreadProfile.slow_steps``.
    * ``tasks``: with ``coroutines="whole"``, record each asyncio task like a
      thread, with its own call tree (``ThreadProfile.tasks``; default on).
    * ``locks``: record each call that acquires or releases a ``threading``
      lock (``Lock``, ``RLock`` and all that is built on them), for the
      contention report (``ThreadProfile.lock_ops``; default on; needs
      ``builtins``; see docs/contention.md).
    """

    stats: dict[Any, Any]

    def __init__(
        self,
        timer: Callable[[], float | int] | None = None,
        timeunit: float = 0.0,
        subcalls: bool = True,
        builtins: bool = True,
        *,
        clock: str = "wall",
        cpu: bool = True,
        seed_stacks: bool = False,
        engine: str = "auto",
        timeline: bool = False,
        timeline_limit: int = 0,
        coroutines: str = "resume",
        slow_step: float = 0.1,
        tasks: bool = True,
        locks: bool = True,
    ) -> None:
        # the C type reads its arguments in __new__; accept them here too
        self.subcalls = bool(subcalls)

    # -- snapshots ---------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """A consistent copy of everything recorded so far (also while running).

        Timelines are read lazily from this profiler's spill file, which lives
        as long as the profiler: the snapshot keeps a reference to it.
        """
        merged = getattr(self, "_processes", None)
        if merged is not None:  # the processes of threadprof.profile(subprocesses=True)
            return merged  # type: ignore[no-any-return]
        return self._snapshot(None)

    def _snapshot(self, subtree: Subtree | None) -> Snapshot:
        """:meth:`snapshot`, with one thread cut down to a subtree (:data:`Subtree`)."""
        snapshot_from_raw = _rawmodel().snapshot_from_raw
        try:
            return snapshot_from_raw(self._raw_snapshot(), self, subtree)
        except MemoryError:
            if not self.timeline:
                raise
        # Out of memory: shed the biggest part, the timelines, rather than
        # lose the whole profile. What was built is garbage by now.
        gc.collect()
        self._lean_snapshots = 1
        try:
            snap = snapshot_from_raw(self._raw_snapshot(), self, subtree)
        finally:
            self._lean_snapshots = 0
        snap.warnings.append(
            "out of memory while taking the snapshot: the timelines are left out of it"
        )
        return snap

    # -- cProfile compatibility --------------------------------------------
    def create_stats(self) -> None:
        from .exporters.pstats import snapshot_to_stats

        self._disable_if_enabled()
        try:
            snap = self.snapshot()
        except ProfilerError:
            self.stats = {}
            return
        self.stats = snapshot_to_stats(snap, subcalls=self.subcalls)

    def _disable_if_enabled(self) -> None:
        if self.enabled:
            self.disable()

    def print_stats(self, sort: str | int | tuple[str, ...] = -1) -> None:
        import pstats

        if not isinstance(sort, tuple):
            sort = (sort,)
        pstats.Stats(self).strip_dirs().sort_stats(*sort).print_stats()

    def dump_stats(self, file: str) -> None:
        from .atomicfile import atomic_write_bytes
        from .exporters.pstats import stats_to_bytes

        self.create_stats()
        atomic_write_bytes(file, stats_to_bytes(self.stats))

    def run(self, cmd: str) -> Profile:
        import __main__

        dict_ = __main__.__dict__
        return self.runctx(cmd, dict_, dict_)

    def runctx(self, cmd: str, globals: dict[str, Any], locals: dict[str, Any]) -> Profile:
        self.enable()
        try:
            exec(cmd, globals, locals)
        finally:
            self.disable()
        return self

    def runcall(self, func: Callable[..., Any], /, *args: Any, **kw: Any) -> Any:
        self.enable()
        try:
            return func(*args, **kw)
        finally:
            self.disable()

    def __enter__(self) -> Profile:
        self.enable()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disable()


# -- the thread-aware API -------------------------------------------------------


def start(
    *,
    clock: str = "wall",
    cpu: bool = True,
    engine: str = "auto",
    timeline: bool = False,
    timeline_limit: int = 0,
    timer: Callable[[], float | int] | None = None,
    timeunit: float = 0.0,
    coroutines: str = "whole",
    slow_step: float = 0.1,
    tasks: bool = True,
    locks: bool = True,
) -> Profile:
    """Start profiling every thread and return the running :class:`Profile`.

    Frames that are already running in a thread when it is first seen are
    entered with zero calls, so that its call tree starts at its real root.
    Calls of generators and coroutines are counted whole (``coroutines``, as
    :class:`Profile` describes it).
    Raises :class:`ProfilerError` if a threadprof profiler is already running.
    """
    if _core.active() is not None:
        raise ProfilerError("threadprof is already running: stop it first")
    p = Profile(
        timer,
        timeunit,
        clock=clock,
        cpu=cpu,
        seed_stacks=True,
        engine=engine,
        timeline=timeline,
        timeline_limit=timeline_limit,
        coroutines=coroutines,
        slow_step=slow_step,
        tasks=tasks,
        locks=locks,
    )
    p.enable()
    return p


def active() -> Profile | None:
    """The running profiler, or ``None``."""
    return _core.active()  # type: ignore[return-value]


def stop() -> Snapshot:
    """Stop the running profiler and return its snapshot.

    Raises :class:`ProfilerError` if no profiler is running. Data lost while
    profiling (a failing timer, memory) does not raise here: it is listed in
    the snapshot's ``warnings``.
    """
    return stop_within(None)


def stop_within(subtree: Subtree | None) -> Snapshot:
    """:func:`stop`, keeping of the thread ``subtree`` names only the subtree
    of its function's outermost call (:data:`Subtree`): ``threadprof run``
    leaves out its launcher's frames before the model is made."""
    p = _core.active()
    if p is None:
        raise ProfilerError("threadprof is not running")
    try:
        p.disable()
    except ProfilerError:
        pass  # the snapshot carries the same text in its warnings
    return p._snapshot(subtree)  # type: ignore[attr-defined, no-any-return]


def attach_current_thread() -> None:
    """Profile the calling thread from now on.

    Needed only for threads whose thread state was created in C
    (``PyGILState_Ensure``) under the legacy engine; with the monitoring
    engine every thread is covered already, and this only makes the thread
    known at once. Raises :class:`ProfilerError` if no profiler is running.
    """
    p = _core.active()
    if p is None:
        raise ProfilerError("threadprof is not running")
    p.attach_current_thread()


def detach_current_thread() -> None:
    """Stop profiling the calling thread; its open frames are closed now.

    Raises :class:`ProfilerError` if no profiler is running.
    """
    p = _core.active()
    if p is None:
        raise ProfilerError("threadprof is not running")
    p.detach_current_thread()


class profile:
    """``with threadprof.profile() as p:`` or ``@threadprof.profile()``.

    As a context manager it yields the running :class:`Profile`; call
    ``p.snapshot()`` inside or after the block (it raises
    :class:`ProfilerError` if a profiler runs already). As a decorator it
    profiles each call of the function; the last snapshot is kept as
    ``wrapper.snapshot``. A call made while a profiler runs already (a
    recursive or concurrent call, or under ``threadprof run``) runs unchanged,
    profiled by that profiler, and leaves ``wrapper.snapshot`` as it was.
    """

    def __init__(
        self,
        *,
        clock: str = "wall",
        cpu: bool = True,
        engine: str = "auto",
        timeline: bool = False,
        timeline_limit: int = 0,
        timer: Callable[[], float | int] | None = None,
        timeunit: float = 0.0,
        coroutines: str = "whole",
        slow_step: float = 0.1,
        tasks: bool = True,
        locks: bool = True,
        subprocesses: bool = False,
    ) -> None:
        self.subprocesses = subprocesses
        self._follow: Follow | None = None
        self._saved: dict[str, str | None] = {}
        self._pid = 0
        self._kw: dict[str, Any] = {
            "clock": clock,
            "cpu": cpu,
            "engine": engine,
            "timeline": timeline,
            "timeline_limit": timeline_limit,
            "timer": timer,
            "timeunit": timeunit,
            "coroutines": coroutines,
            "slow_step": slow_step,
            "tasks": tasks,
            "locks": locks,
        }
        self.profiler: Profile | None = None

    def __enter__(self) -> Profile:
        self.profiler = start(**self._kw)
        if self.subprocesses:
            self._follow_children()
        return self.profiler

    def __exit__(self, *exc: object) -> None:
        assert self.profiler is not None
        if self._follow is not None and os.getpid() != self._pid:
            return  # a forked child: it writes its profile at its end
        try:
            self.profiler.disable()
        except ProfilerError:
            pass  # reported in the snapshot's warnings
        if self._follow is not None:
            self._gather(self.profiler)

    # -- subprocesses=True ------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        """The options of the followers (those of ``threadprof run``)."""
        from .handoff import PROFILE_OPTIONS

        return {name: self._kw.get(name, True) for name in PROFILE_OPTIONS}

    def _follow_children(self) -> None:
        from .follow import Follow

        self._follow = Follow(self._settings())
        self._saved = self._follow.environ()
        self._pid = os.getpid()
        if hasattr(os, "register_at_fork"):
            forked = weakref.WeakMethod(self._forked)

            def after_in_child() -> None:
                method = forked()
                if method is not None:
                    method()

            os.register_at_fork(after_in_child=after_in_child)

    def _forked(self) -> None:
        """In a child forked inside the block: it follows (its profile is written
        at its end, however it ends, for the block's end to gather)."""
        follow = self._follow
        if follow is None or self.profiler is None or _core.active() is not self.profiler:
            return
        from .follower import follow_running

        follow_running(follow.dir, self._settings(), self.profiler)

    def _gather(self, profiler: Profile) -> Snapshot:
        """The snapshot of the block's processes; the environment as it was."""
        follow, self._follow = self._follow, None
        assert follow is not None
        follow.restore(self._saved)
        try:
            merged = follow.gather(profiler._snapshot(None), "exited", hold=True)
        finally:
            follow.remove()
        profiler._processes = merged  # type: ignore[attr-defined]
        return merged

    def __call__(self, func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            if _core._claimed():
                # a profiler runs already, or is being enabled (another call
                # of this function, in this thread or another, or threadprof
                # run): it profiles the call
                return func(*args, **kw)
            try:
                p = start(**self._kw)
            except ProfilerError:
                if not _core._claimed():
                    raise  # it could not start
                return func(*args, **kw)  # another thread's call started one first
            if self.subprocesses:
                self.profiler = p
                self._follow_children()
            try:
                return func(*args, **kw)
            finally:
                if self._follow is not None and os.getpid() != self._pid:
                    pass  # a forked child: it writes its profile at its end
                else:
                    p._disable_if_enabled()
                    if self._follow is not None:
                        wrapper.snapshot = self._gather(p)  # type: ignore[attr-defined]
                    else:
                        wrapper.snapshot = p.snapshot()  # type: ignore[attr-defined]

        return wrapper  # type: ignore[return-value]


def _capi_write(profiler: Profile, path: str, fmt: str | None, thread: str | None) -> None:
    """Threadprof_Write of the C API: export the profiler's data to ``path``.

    Raises ``ValueError`` for an unknown format, ``LookupError`` when ``thread``
    matches nothing, ``OSError`` when the file cannot be written and
    :class:`ProfilerError` when nothing was recorded.
    """
    from .atomicfile import OutputError
    from .exporters import UnknownFormatError, exporter_for_path, get_exporter

    exporter = get_exporter(fmt) if fmt else exporter_for_path(path)
    if exporter is None:
        raise UnknownFormatError(f"cannot tell the format of {path!r} from its extension")
    snapshot = profiler.snapshot()
    try:
        exporter.write(snapshot, path, thread)
    except OutputError as exc:
        raise OSError(str(exc)) from exc


def snapshot_from_raw(
    raw: dict[str, Any], owner: Any = None, subtree: Subtree | None = None
) -> Snapshot:
    """Build the model from the dict that ``_core.Profiler._raw_snapshot`` returns.

    ``owner`` is the profiler whose spill file holds spilled timeline chunks;
    ``subtree`` cuts one thread down (:data:`threadprof.rawmodel.Subtree`).
    """
    return _rawmodel().snapshot_from_raw(raw, owner, subtree)


def _rawmodel() -> Any:
    """:mod:`threadprof.rawmodel`, imported at the first snapshot, and then
    found without an import statement (a profiled program may have broken
    ``import`` by the time its profile is taken)."""
    module = sys.modules.get(f"{__package__}.rawmodel")
    if module is None:
        from . import rawmodel as module
    return module
