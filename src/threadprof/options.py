# SPDX-License-Identifier: MIT
"""The profiling options, defined once.

:data:`OPTIONS` lists every option of the C ``Profiler`` with its default and
where it is offered; the C keyword list, the ``_core.pyi`` stub,
:class:`~threadprof.Profile`, :func:`~threadprof.start`,
:class:`~threadprof.profile` and ``threadprof run``'s choices are checked
against it by ``tests/unit/test_options.py``. To add an option: add it here
and in the C keyword list (``src/_core/profiler.c``, whose docstring is its
signature), then wherever the test says it is missing.
"""

from __future__ import annotations

from ._record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CLOCKS", "COROUTINES", "ENGINES", "OPTIONS", "Option", "session_options"]

#: The values of ``clock``: the time that calls are charged.
CLOCKS = ("wall", "cpu")
#: The values of ``engine``: how events reach the recorder.
ENGINES = ("auto", "legacy", "monitoring")
#: The values of ``coroutines``: how calls of generators, coroutines and async
#: generators are counted (docs/asyncio.md).
COROUTINES = ("whole", "resume")


class Option(Frozen):
    """One option of the profiler."""

    __slots__ = ("default", "doc", "name", "positional", "session", "session_default")
    name: str
    default: Any
    positional: bool  # cProfile's positional arguments; the others are keyword-only
    session: bool  # offered by start() and profile(), which profile every thread
    doc: str
    session_default: Any  # its default in start(), profile() and ``threadprof run``

    def __init__(
        self,
        name: str,
        default: Any,
        positional: bool,
        session: bool,
        doc: str,
        session_default: Any = None,
    ) -> None:
        self._set(name, default, positional, session, doc, session_default)

    @property
    def session_value(self) -> Any:
        """The default in :func:`threadprof.start`, :class:`threadprof.profile`
        and ``threadprof run``."""
        return self.default if self.session_default is None else self.session_default


OPTIONS: tuple[Option, ...] = (
    Option("timer", None, True, True, "a function returning the time (cProfile's)"),
    Option("timeunit", 0.0, True, True, "seconds per unit of the timer (cProfile's)"),
    Option("subcalls", True, True, False, "record caller -> callee edges (cProfile's)"),
    Option("builtins", True, True, False, "record calls of C functions (cProfile's)"),
    Option("clock", "wall", False, True, "the time charged: one of CLOCKS"),
    Option("cpu", True, False, True, "record each thread's CPU time too"),
    Option("seed_stacks", False, False, False, "enter the frames already running"),
    Option("engine", "auto", False, True, "how events arrive: one of ENGINES"),
    Option("timeline", False, False, True, "record every call and return in time"),
    Option("timeline_limit", 0, False, True, "keep the last N timeline events per thread"),
    Option(
        "coroutines",
        "resume",
        False,
        True,
        "count a generator-like call per resume (cProfile's) or whole: one of COROUTINES",
        "whole",
    ),
    Option("slow_step", 0.1, False, True, "list the steps of tasks this long (s; 0: none)"),
    Option("tasks", True, False, True, "record each asyncio task's calls (coroutines whole)"),
    Option("locks", True, False, True, "record each lock call, for the contention report"),
)


def session_options() -> tuple[Option, ...]:
    """The options of :func:`threadprof.start` and :class:`threadprof.profile`
    (which always seed stacks, and record subcalls and builtins)."""
    return tuple(o for o in OPTIONS if o.session)
