# SPDX-License-Identifier: MIT
"""speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json).

One profile per thread, named after it, all sharing one frame table:

* a thread with a timeline gets an ``evented`` profile: an ``O`` (open) event
  for each call and a ``C`` (close) event for each return, at its time.
  Returns whose calls were dropped by ``--timeline-limit`` are skipped and
  frames still open at the end are closed there (see
  :mod:`threadprof.replay`);
* a thread without one gets a ``sampled`` profile built from its call tree:
  one sample per call path with self time, the stack from the outermost frame,
  weighted by that self time.

Each asyncio task then gets a ``sampled`` profile of its own call tree, from
its coroutine, named ``task NAME`` (after the threads, in the order of the
tasks' first steps). Past :data:`MAX_TASK_PROFILES` tasks, the tasks of one
name pattern share a profile (``task fetch-* (1000 tasks)``), their trees
merged.

Values are integer nanoseconds of the snapshot's clock (``"unit":
"nanoseconds"``); evented profiles are in time since the start of profiling.
A frame has the ``name`` (``qualname``, or pstats' label for a C function),
``file`` and ``line`` of a function; functions that share all three share a
frame. The JSON is UTF-8 and escapes what JSON must (quotes, backslashes,
control characters), so every name survives as it is. Evented profiles are
written chunk by chunk, so a long timeline never has to be in memory at once.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from ..model import Function, Snapshot, ThreadProfile, merge_threads, threads_by_key
from ._common import creator, event_renderer, function_name, ns_converter, render_events

__all__ = ["MAX_TASK_PROFILES", "SCHEMA_URL", "dump"]

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
#: The most tasks that get a profile each; more are grouped by name pattern.
MAX_TASK_PROFILES = 1000


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _frame(func: Function) -> dict[str, Any]:
    frame: dict[str, Any] = {"name": function_name(func)}
    if func.kind != "c":
        frame["file"] = func.filename
        frame["line"] = func.lineno
    return frame


def _frames(snapshot: Snapshot) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The shared frame table and the frame index of each function id."""
    frames: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    index: dict[int, int] = {}
    for func in snapshot.functions:
        frame = _frame(func)
        key = _json(frame)
        if key not in seen:
            seen[key] = len(frames)
            frames.append(frame)
        index[func.id] = seen[key]
    return frames, index


class _Writer:
    def __init__(self, snapshot: Snapshot, out: BinaryIO) -> None:
        self.snapshot = snapshot
        self.out = out
        self.to_ns = ns_converter(snapshot.unit)
        self.frames, self.index = _frames(snapshot)

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8", "backslashreplace"))

    def sampled(self, thread: ThreadProfile, name: str | None = None) -> None:
        field = f"{self.snapshot.primary}_self"
        index, to_ns = self.index, self.to_ns
        stacks: dict[int, list[int]] = {0: []}
        samples: list[list[int]] = []
        weights: list[int] = []
        for node, _depth in thread.walk():
            stack = stacks[node.id] = [*stacks[node.parent], index[node.func]]
            ns = to_ns(getattr(node, field))
            if ns > 0:
                samples.append(stack)
                weights.append(ns)
        profile = {
            "type": "sampled",
            "name": self.snapshot.thread_title(thread) if name is None else name,
            "unit": "nanoseconds",
            "startValue": 0,
            "endValue": sum(weights),
            "samples": samples,
            "weights": weights,
        }
        self.write(_json(profile))

    def evented(self, thread: ThreadProfile) -> None:
        assert thread.timeline is not None
        head = {
            "type": "evented",
            "name": self.snapshot.thread_title(thread),
            "unit": "nanoseconds",
        }
        self.write(_json(head)[:-1] + ',"events":[')
        index = self.index

        def template(code: int) -> bytes:
            if code < 0:
                return b'{"type":"C","frame":%d,"at":' % index[~code]
            return b'{"type":"O","frame":%d,"at":' % index[code]

        renderer = event_renderer(self.snapshot, template, "nanos", suffix=b"}", separator=b",")
        for part in render_events(thread.timeline, renderer):
            self.out.write(part)
        last = renderer.last_ns or 0
        start = last if renderer.first_ns is None else renderer.first_ns
        self.write(f'],"startValue":{start},"endValue":{last}}}')


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write every thread of ``snapshot`` as a speedscope file."""
    writer = _Writer(snapshot, out)
    name = " ".join(snapshot.argv) or "threadprof profile"
    head = {
        "$schema": SCHEMA_URL,
        "exporter": creator(),
        "name": name,
        "activeProfileIndex": 0,
        "shared": {"frames": writer.frames},
    }
    writer.write(_json(head)[:-1] + ',"profiles":[')
    for i, thread in enumerate(snapshot.threads):
        if i:
            writer.write(",")
        if thread.timeline is not None:
            writer.evented(thread)
        else:
            writer.sampled(thread)
    for tree, name in _task_profiles(snapshot):
        writer.write(",")
        writer.sampled(tree, name)
    writer.write("]}\n")


def _task_profiles(snapshot: Snapshot) -> list[tuple[ThreadProfile, str]]:
    """The tasks' trees and their profiles' names: one per task, or per name
    pattern past :data:`MAX_TASK_PROFILES` tasks."""
    tasks = snapshot.tasks()
    if len(tasks) <= MAX_TASK_PROFILES:
        return [(task, f"task {task.name}") for task in tasks]
    out = []
    for group in threads_by_key(tasks):
        n = len(group.threads)
        label = f"task {group.key}" + (f" ({n} tasks)" if n > 1 else "")
        out.append((merge_threads(group.threads, label) if n > 1 else group.threads[0], label))
    return out
