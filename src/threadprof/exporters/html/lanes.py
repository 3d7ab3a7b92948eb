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
from typing import Any

from ...model import ThreadProfile, Timeline
from ...replay import replay

__all__ = ["TIMELINE_BUDGET", "timelines"]

#: The most timeline slices that a report embeds, over all threads, before it
#: merges short calls (about 20 bytes a slice).
TIMELINE_BUDGET = 200_000

#: Renumbers a function id for the page (see :class:`.data.FunctionIndex`).
Renumber = Callable[[int], int]


def _slices(timeline: Timeline) -> tuple[list[int], list[int], list[int], list[int]]:
    """``(starts, ends, depths, funcs)`` of the repaired timeline's calls, in call order."""
    starts: list[int] = []
    ends: list[int] = []
    depths: list[int] = []
    codes: list[int] = []
    stack: list[int] = []
    for events in replay(timeline):
        for code, t in events:
            if code >= 0:
                stack.append(len(starts))
                starts.append(t)
                ends.append(t)
                depths.append(len(stack) - 1)
                codes.append(code)
            else:
                ends[stack.pop()] = t
    return starts, ends, depths, codes


def _duration_histogram(threads: list[ThreadProfile]) -> list[int]:
    """How many timeline calls last ``[2**(k-1), 2**k)`` ticks, by ``k`` (0 for 0 ticks)."""
    hist = [0] * 66
    for t in threads:
        if t.timeline is None:
            continue
        stack: list[int] = []
        for events in replay(t.timeline):
            for code, time in events:
                if code >= 0:
                    stack.append(time)
                else:
                    hist[(time - stack.pop()).bit_length()] += 1
    return hist


def _lanes(
    slices: tuple[list[int], list[int], list[int], list[int]], q: int, funcs: Renumber
) -> list[list[int]]:
    """One ``gap, duration, function`` array per depth, calls shorter than ``q`` merged."""
    starts, ends, depths, codes = slices
    lanes: list[list[int]] = []
    last_end: list[int] = []
    # per depth: the run of short calls being merged: [start, end, count, code]
    runs: list[list[int] | None] = []

    def emit(depth: int, start: int, end: int, func: int) -> None:
        lanes[depth] += (start - last_end[depth], end - start, func)
        last_end[depth] = end

    def flush(depth: int) -> None:
        run = runs[depth]
        if run is not None:
            start, end, count, code = run
            emit(depth, start, end, funcs(code) if count == 1 else -count)
            runs[depth] = None

    for start, end, depth, code in zip(starts, ends, depths, codes, strict=True):
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
    for depth in range(len(runs)):
        flush(depth)
    return lanes


def timelines(
    threads: list[ThreadProfile], funcs: Renumber, budget: int
) -> tuple[list[dict[str, Any] | None], int, int]:
    """Each thread's embedded timeline (or ``None``), the merge quantum ``q`` and
    the end of the longest timeline (the horizon of the page's time axis)."""
    with_timeline = [t for t in threads if t.timeline is not None]
    q = 0
    # a timeline has at most as many calls as events: count them only if needed
    if sum(t.timeline.events for t in with_timeline if t.timeline is not None) > budget:
        hist = _duration_histogram(with_timeline)
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
        horizon = 0
        ends = 0
        for t in threads:
            timeline = t.timeline
            if timeline is None:
                out.append(None)
                continue
            slices = _slices(timeline)
            horizon = max(horizon, max(slices[1], default=0) - min(slices[0], default=0))
            ends = max(ends, max(slices[1], default=0))
            lanes = _lanes(slices, q, funcs)
            shown = sum(len(lane) // 3 for lane in lanes)
            total += shown
            out.append(
                {
                    "events": timeline.events,
                    "dropped": timeline.dropped,
                    "calls": len(slices[0]),
                    "shown": shown,
                    "lanes": lanes,
                }
            )
        # past the longest timeline, a larger quantum merges nothing more
        if total <= budget or q > horizon:
            return out, q, ends
        q = max(1, q * 2)
