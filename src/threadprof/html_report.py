# SPDX-License-Identifier: MIT
"""The HTML report: one self-contained file that a browser opens from disk.

:func:`render` turns a :class:`~threadprof.model.Snapshot` into a single HTML
page with no network access: the page's script and style sheet
(``threadprof/html/report.js`` and ``report.css``, written for threadprof, no
third-party code) are inlined, and the profile is embedded as one JSON document
in a ``<script type="application/json">`` element, which the script reads and
turns into views lazily, when they are first shown.

The embedded data (:func:`report_data`) is built to be small and quick to
parse, so that a profile of 100,000 call-tree nodes on 1,000 threads stays
responsive:

* ``files`` interns file names; ``funcs`` is a flat array of
  ``kind, label, file, line`` per function (kind 0 Python, 1 C; the label is
  the qualified name, or pstats' label of a C function), holding only the
  functions that the trees or timelines use, renumbered densely.
* Each thread's call tree is a flat integer array ``nodes`` of
  :data:`NODE_FIELDS` values per node, in depth-first pre-order (the virtual
  root, index 0, is left out: its times are in ``root``). A node's parent is
  given as the distance back to it, so that the numbers stay small.
* A thread with a timeline has ``timeline.lanes``: one flat array per stack
  depth of ``gap, duration, function`` per call, where ``gap`` is the time
  since the end of the previous call in that lane. When the timelines hold
  more calls than the page can draw quickly (``timeline_budget``), calls
  shorter than a quantum ``q`` are merged: a run of such calls at one depth,
  none more than ``q`` apart, becomes one slice whose function is ``-n`` for
  ``n`` merged calls. ``q`` is the smallest power of two (in ticks) that keeps
  the slices within the budget; the page says so, and does not zoom in
  further than ``q`` per pixel.
* ``groups`` holds the thread-name patterns that the threads overview groups
  threads by, the terminal report's (:func:`threadprof.report.thread_group_key`:
  ``worker-12`` -> ``worker-*``); a thread's ``group`` indexes it.

Escaping: the JSON is ASCII (every other character is a ``\\u`` escape) and
every ``<`` in it is written ``\\u003c``, so no name can close the script
element or start a comment; the page's title is HTML-escaped. Names, files and
thread names with quotes, backslashes, newlines or any other text therefore
reach the page exactly as they are.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any, BinaryIO

from ._version import __version__
from .exporters._timeline import replay
from .model import Function, Snapshot, ThreadProfile, Timeline
from .report import thread_group_key

__all__ = [
    "DATA_VERSION",
    "NODE_FIELDS",
    "TIMELINE_BUDGET",
    "dump",
    "embed_json",
    "render",
    "report_data",
    "thread_group_key",
]

#: The version of the embedded data's layout; the page checks it.
DATA_VERSION = 1

#: The values per node in a thread's ``nodes`` array, in order.
NODE_FIELDS = ("parent_back", "func", "calls", "wall", "wall_self", "cpu", "cpu_self")

#: The most timeline slices that a report embeds, over all threads, before it
#: merges short calls (about 20 bytes a slice).
TIMELINE_BUDGET = 200_000

_ASSETS = ("template.html", "report.css", "report.js")


# -- the embedded data -----------------------------------------------------------


class _Functions:
    """The functions the report uses, interned and renumbered in order of first use."""

    def __init__(self, functions: Iterable[Function]) -> None:
        self._by_id = {f.id: f for f in functions}
        self.index: dict[int, int] = {}
        self.files: dict[str, int] = {}
        self.flat: list[Any] = []

    def __call__(self, fid: int) -> int:
        idx = self.index.get(fid)
        if idx is None:
            func = self._by_id.get(fid)
            if func is None:  # a tree that names an unknown function: show its id
                func = Function(fid, "python", f"<function {fid}>", f"<function {fid}>", "?", 0)
            idx = self.index[fid] = len(self.index)
            file_idx = self.files.setdefault(func.filename, len(self.files))
            if func.kind == "c":
                self.flat += [1, func.display, file_idx, func.lineno]
            else:
                self.flat += [0, func.qualname, file_idx, func.lineno]
        return idx


def _tree(thread: ThreadProfile, funcs: _Functions) -> list[int]:
    """The thread's nodes in pre-order, :data:`NODE_FIELDS` values each."""
    out: list[int] = []
    order = {0: 0}  # node id -> pre-order index (root 0)
    for node, _depth in thread.walk():
        here = order[node.id] = len(order)
        out += (
            here - order[node.parent],
            funcs(node.func),
            node.calls,
            node.wall,
            node.wall_self,
            node.cpu,
            node.cpu_self,
        )
    return out


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
    slices: tuple[list[int], list[int], list[int], list[int]], q: int, funcs: _Functions
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


def _timelines(
    threads: list[ThreadProfile], funcs: _Functions, budget: int
) -> tuple[list[dict[str, Any] | None], int]:
    """Each thread's embedded timeline (or ``None``), and the merge quantum ``q``."""
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
        for t in threads:
            timeline = t.timeline
            if timeline is None:
                out.append(None)
                continue
            slices = _slices(timeline)
            horizon = max(horizon, max(slices[1], default=0) - min(slices[0], default=0))
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
            return out, q
        q = max(1, q * 2)


def report_data(snapshot: Snapshot, *, timeline_budget: int = TIMELINE_BUDGET) -> dict[str, Any]:
    """The JSON document that the page embeds (see the module docstring)."""
    funcs = _Functions(snapshot.functions)
    groups: dict[str, int] = {}
    threads: list[dict[str, Any]] = []
    for t in snapshot.threads:
        root = t.root
        threads.append(
            {
                "name": t.name,
                "serial": t.serial,
                "ident": t.ident,
                "native_id": t.native_id,
                "first": t.first_seen,
                "last": t.last_seen,
                "wall": t.wall_time,
                "cpu": t.cpu_time,
                "group": groups.setdefault(thread_group_key(t.name), len(groups)),
                "warnings": list(t.warnings),
                "root": [root.wall, root.wall_self, root.cpu, root.cpu_self],
                "nodes": _tree(t, funcs),
                "timeline": None,
            }
        )
    timelines, q = _timelines(snapshot.threads, funcs, timeline_budget)
    for entry, timeline in zip(threads, timelines, strict=True):
        entry["timeline"] = timeline
    return {
        "version": DATA_VERSION,
        "generator": f"threadprof {__version__}",
        "clock": snapshot.clock,
        "unit": snapshot.unit,
        "cpu_mode": snapshot.cpu_mode,
        "engine": snapshot.engine,
        "start_time": snapshot.start_time,
        "duration": snapshot.duration,
        "python_version": snapshot.python_version,
        "argv": list(snapshot.argv),
        "warnings": list(snapshot.warnings),
        "timeline_quantum": q,
        "files": list(funcs.files),
        "funcs": funcs.flat,
        "groups": list(groups),
        "threads": threads,
    }


def embed_json(data: Any) -> str:
    """``data`` as JSON text that is safe inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")


# -- the page --------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("html", name).read_text("utf-8")


def _title(snapshot: Snapshot) -> str:
    what = " ".join(snapshot.argv) if snapshot.argv else "profile"
    return f"threadprof: {what}"


def render(snapshot: Snapshot, *, timeline_budget: int = TIMELINE_BUDGET) -> str:
    """The whole HTML page for ``snapshot``."""
    template, css, js = (_asset(name) for name in _ASSETS)
    for name, text in (("report.css", css), ("report.js", js)):
        if "</" in text or "<!--" in text:  # would end the element early
            raise RuntimeError(f"threadprof/html/{name} must not contain '</' or '<!--'")
    data = embed_json(report_data(snapshot, timeline_budget=timeline_budget))
    parts = {
        "TITLE": html.escape(_title(snapshot).replace("\n", " ")),
        "CSS": css,
        "DATA": data,
        "JS": js,
    }
    # one pass, so that nothing substituted is substituted again
    return re.sub(r"@@(TITLE|CSS|DATA|JS)@@", lambda m: parts[m[1]], template)


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write the HTML report of ``snapshot`` to the binary file ``out`` (UTF-8)."""
    out.write(render(snapshot).encode("utf-8"))
