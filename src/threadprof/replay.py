# SPDX-License-Identifier: MIT
"""Replaying a thread's timeline as properly nested calls and returns.

The timeline formats (Chrome trace, Perfetto, speedscope's evented profiles)
need every return to close the innermost open call. A
:class:`~threadprof.model.Timeline` promises a balanced end and non-decreasing
times, but when ``--timeline-limit`` dropped its first events it may begin with
returns whose calls are gone. :func:`replay` repairs the stream so that the
exporters never have to:

* a return that matches no open call is skipped;
* a return of a function that is open but not innermost closes the frames
  above it first, at the same time (the stream resynchronises, as the
  recorder's shadow stack does);
* a time smaller than the one before it is raised to it;
* frames still open at the end are closed at the last time seen.

The events come out chunk by chunk, as the timeline gives them, so a timeline
of any length is replayed in memory proportional to a chunk and the stack depth.

The Chrome, Perfetto and speedscope exporters apply these rules in the C core,
event by event as they write (``_core._EventRenderer``, through
:func:`threadprof.exporters._common.event_renderer`), and are tested against
this module; the HTML report's lanes replay with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import Timeline

__all__ = ["Events", "Replay", "replay"]

#: ``(code, time)`` pairs: ``code >= 0`` calls function ``code``, ``code < 0``
#: returns from function ``~code``, as in :data:`threadprof.model.TimelineChunk`.
Events = list[tuple[int, int]]


class Replay:
    """The repaired events of one timeline; iterate once to get lists of events."""

    __slots__ = ("closed", "skipped", "timeline")

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.skipped = 0  #: returns that matched no open call
        self.closed = 0  #: frames closed by the repair (out of order or open at the end)

    def __iter__(self) -> Iterator[Events]:
        stack: list[int] = []
        last = 0
        started = False
        for funcs, times in self.timeline.chunks():
            out: Events = []
            append = out.append
            for code, t in zip(funcs, times, strict=True):
                if not started:
                    last, started = t, True
                elif t < last:
                    t = last
                last = t
                if code >= 0:
                    stack.append(code)
                    append((code, t))
                    continue
                func = ~code
                if stack and stack[-1] == func:
                    stack.pop()
                    append((code, t))
                elif func in stack:
                    while True:
                        open_func = stack.pop()
                        append((~open_func, t))
                        if open_func == func:
                            break
                        self.closed += 1
                else:
                    self.skipped += 1
            if out:
                yield out
        if stack:
            self.closed += len(stack)
            yield [(~func, last) for func in reversed(stack)]
            stack.clear()


def replay(timeline: Timeline) -> Replay:
    """The events of ``timeline``, properly nested (see the module docstring)."""
    return Replay(timeline)
