# SPDX-License-Identifier: MIT
"""The HTML report's timelines: each thread's calls as lanes, downsampled to a budget.

A thread with a timeline becomes ``lanes``: one flat array per stack depth of
``gap, duration, function`` per call, where ``gap`` is the time since the end
of the previous call in that lane. When the timelines hold more calls than the
page can draw quickly (``budget``), calls shorter than a quantum ``q`` are
merged: a run of such calls at one depth, none more than ``q`` apart, becomes
one slice whose function is ``-n`` for ``n`` merged calls. ``q`` is the
smallest power of two (in ticks) that keeps the slices within the budget; the
page says so, and does not zoom in further than ``q`` per pixel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...model import ThreadProfile, Timeline
from ...replay import replay

__all__ = ["TIMELINE_BUDGET", "timelines"]

#: The most timeline slices that a report embeds, over all threads, before it
#: merges short calls (about 20 bytes a slice).
TIMELINE_BUDGET = 200_000

#: Renumbers a function id for the page (see :class:`.data.FunctionIndex`).
Renumber = Callable[[int], int]


def _duration_histogram(threads: list[ThreadProfile]) -> tuple[list[int], int]:
    """How many timeline calls last ``[2**(k-1), 2**k)`` ticks, by ``k`` (0 for
    0 ticks), and the longest span of a timeline (last end - first start)."""
    hist = [0] * 66
    span = 0
    for t in threads:
        if t.timeline is None:
            continue
        stack: list[int] = []
        first: int | None = None
        last = 0
        for events in replay(t.timeline):
            for code, time in events:
                if code >= 0:
                    if first is None:
                        first = time
                    stack.append(time)
                else:
                    hist[(time - stack.pop()).bit_length()] += 1
                    last = max(last, time)
        if first is not None:
            span = max(span, last - first)
    return hist, span


@dataclass(slots=True)
class _Lanes:
    """A thread's timeline as lanes, and what the page says of it."""

    lanes: list[list[int]]
    calls: int = 0
    last: int = 0  # the latest end


def _lanes(timeline: Timeline, q: int, funcs: Renumber, room: int) -> _Lanes | None:
    """One ``gap, duration, function`` array per depth, calls shorter than ``q``
    merged, in one pass over the repaired timeline; ``None`` as soon as there
    would be more than ``room`` slices (the caller then merges more).

    A call is laid out when it returns, when its end is known: within one
    depth calls never overlap, so they return in the order they started, and
    memory holds the lanes and the open frames, never the whole timeline."""
    out = _Lanes([])
    lanes = out.lanes
    last_end: list[int] = []
    # per depth: the run of short calls being merged: [start, end, count, code]
    runs: list[list[int] | None] = []
    # the open calls: (start, code)
    stack: list[tuple[int, int]] = []

    shown = 0

    def emit(depth: int, start: int, end: int, func: int) -> None:
        nonlocal shown
        lanes[depth] += (start - last_end[depth], end - start, func)
        last_end[depth] = end
        shown += 1

    def flush(depth: int) -> None:
        run = runs[depth]
        if run is not None:
            start, end, count, code = run
            emit(depth, start, end, funcs(code) if count == 1 else -count)
            runs[depth] = None

    for events in replay(timeline):
        for code, t in events:
            if code >= 0:
                stack.append((t, code))
                continue
            start, code = stack.pop()
            end = t
            depth = len(stack)
            out.calls += 1
            out.last = max(out.last, end)
            while len(lanes) <= depth:
                lanes.append([])
                last_end.append(0)
                runs.append(None)
            if end - start >= q:
                flush(depth)
                emit(depth, start, end, funcs(code))
                continue
            run = runs[depth]
            if run is not None and start - run[1] < q:
                run[1] = end
                run[2] += 1
            else:
                flush(depth)
                runs[depth] = [start, end, 1, code]
            if shown > room:
                return None
    for depth in range(len(runs)):
        flush(depth)
    return None if shown > room else out


def timelines(
    threads: list[ThreadProfile], funcs: Renumber, budget: int
) -> tuple[list[dict[str, Any] | None], int, int]:
    """Each thread's embedded timeline (or ``None``), the merge quantum ``q`` and
    the end of the longest timeline (the horizon of the page's time axis).

    Memory stays within the budget: a pass that would lay out more slices
    stops at once and the next one merges more."""
    with_timeline = [t for t in threads if t.timeline is not None]
    q = 0
    span: int | None = None  # the longest timeline's span, when it may not fit
    # a timeline has at most as many calls as events: count them only if needed
    if sum(t.timeline.events for t in with_timeline if t.timeline is not None) > budget:
        hist, span = _duration_histogram(with_timeline)
        calls = sum(hist)
        if calls > budget:
            # the smallest power of two that leaves at most half the budget
            # unmerged; the merged runs take (most of) the other half
            q = 1
            for k, count in enumerate(hist):
                if calls <= budget // 2:
                    break
                calls -= count
                q = 1 << k
    while True:
        out: list[dict[str, Any] | None] = []
        total = 0
        ends = 0
        # past the longest span a larger quantum merges nothing more: that
        # pass is kept, over the budget or not
        last_pass = span is None or q > span
        for t in threads:
            timeline = t.timeline
            if timeline is None:
                out.append(None)
                continue
            laid = _lanes(timeline, q, funcs, 1 << 62 if last_pass else budget - total)
            if laid is None:
                break  # over the budget: merge more
            ends = max(ends, laid.last)
            shown = sum(len(lane) // 3 for lane in laid.lanes)
            total += shown
            out.append(
                {
                    "events": timeline.events,
                    "dropped": timeline.dropped,
                    "calls": laid.calls,
                    "shown": shown,
                    "lanes": laid.lanes,
                }
            )
        else:
            if total <= budget or last_pass:
                return out, q, ends
        q = max(1, q * 2)
