# SPDX-License-Identifier: MIT
"""The Chrome Trace Event Format (JSON), read by the Perfetto UI and chrome://tracing.

Needs a timeline (``threadprof run --timeline``): a snapshot in which no thread
has one raises :class:`~threadprof.exporters.NeedsTimelineError`.

The file is one JSON object::

    {"displayTimeUnit":"ns","otherData":{...},"traceEvents":[
    {"ph":"M","pid":4242,"tid":0,"name":"process_name","args":{"name":"app.py"}},
    {"ph":"M","pid":4242,"tid":4242,"name":"thread_name","args":{"name":"MainThread"}},
    {"ph":"B","pid":4242,"tid":4242,"name":"main (app.py:10)","ts":12.5},
    {"ph":"E","pid":4242,"tid":4242,"ts":13.25},
    ...]}

* one ``B`` (begin) event per call and one ``E`` (end) event per return, in
  time order per thread, the threads one after the other; ``ts`` is in
  microseconds since the start of profiling, written exactly to the nanosecond;
* ``tid`` is the thread's native id and ``pid`` the process id (0 for a
  snapshot that does not record it), so that the Perfetto UI names the
  process ``app.py <pid>`` and marks the main thread, whose id on Linux is the
  process's; ``process_name``, ``thread_name`` and ``thread_sort_index``
  metadata events (``"ph":"M"``) name the process after the command line and
  each thread after its name, and keep the threads in the order they started;
* each asyncio task with a timeline is a track of its own (a ``tid`` of
  :data:`TASK_TID_BASE` plus the task's id, named ``task NAME (thread)``,
  sorted after the threads): a complete event (``"ph":"X"``) per step of the
  task, from its resume by the event loop to its next suspension, named
  after its coroutine;
* slice names are ``qualname (file:line)``, or pstats' label for a C function;
* returns whose calls were dropped by ``--timeline-limit`` are skipped and
  frames still open at the end are closed there, so the slices always nest
  (see :mod:`threadprof.replay`).

The events are written chunk by chunk as the timeline gives them, so a trace of
any length is converted in bounded memory. JSON escapes quotes, backslashes and
control characters; all other text is UTF-8, so every name survives. For
traces of millions of events prefer the Perfetto format, several times smaller.
"""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO

from ..model import Snapshot, ThreadProfile
from . import NeedsTimelineError
from ._common import creator, event_renderer, function_table, ns_converter, render_events

__all__ = ["TASK_TID_BASE", "dump", "micros"]

#: The ``tid`` of a task's track is this plus the task's id: above any
#: thread id Linux gives (at most 2**22).
TASK_TID_BASE = 1 << 30


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def micros(ns: int) -> str:
    """Nanoseconds as a JSON number of microseconds, exact: 1234567 -> ``1234.567``."""
    if ns < 0:
        return "-" + micros(-ns)
    q, r = divmod(ns, 1000)
    return f"{q}.{r:03d}".rstrip("0") if r else str(q)


def _metadata(pid: int, kind: str, tid: int, args: dict[str, Any]) -> str:
    return _json({"ph": "M", "pid": pid, "tid": tid, "name": kind, "args": args})


def _process_name(snapshot: Snapshot) -> str:
    if not snapshot.argv:
        return "python"
    return " ".join([os.path.basename(snapshot.argv[0]), *snapshot.argv[1:]])


def process_names(snapshot: Snapshot) -> dict[int, str]:
    """``{pid: name}`` of the snapshot's processes (a process tree's, or its
    one): a command line with the program's base name."""
    if not snapshot.processes:
        return {snapshot.pid: _process_name(snapshot)}
    names: dict[int, str] = {}
    for p in snapshot.processes:
        argv = list(p.argv)
        names.setdefault(
            p.pid, " ".join([os.path.basename(argv[0]), *argv[1:]]) if argv else "python"
        )
    return names


class _Writer:
    def __init__(self, snapshot: Snapshot, out: BinaryIO) -> None:
        self.snapshot = snapshot
        self.out = out
        self.names = {fid: _json(f.display) for fid, f in function_table(snapshot).items()}
        self.first = True

    def write(self, events: list[str]) -> None:
        """Append encoded events to the ``traceEvents`` array, one per line."""
        if not events:
            return
        text = ",\n".join(events) if self.first else ",\n" + ",\n".join(events)
        self.out.write(text.encode("utf-8", "backslashreplace"))
        self.first = False

    def thread(self, thread: ThreadProfile) -> None:
        """Write a thread's slices, chunk by chunk as its timeline gives them."""
        assert thread.timeline is not None
        ids = f'"pid":{self.snapshot.pid_of(thread)},"tid":{thread.native_id},'
        begin, end = '{"ph":"B",' + ids, ('{"ph":"E",' + ids + '"ts":').encode()
        names = self.names

        def template(code: int) -> bytes:
            if code < 0:
                return end
            return f'{begin}"name":{names[code]},"ts":'.encode("utf-8", "backslashreplace")

        renderer = event_renderer(
            self.snapshot,
            template,
            "micros",
            suffix=b"}",
            separator=b",\n",
            separate_first=not self.first,
        )
        for part in render_events(thread.timeline, renderer):
            self.out.write(part)
            self.first = False


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write the timelines of ``snapshot``'s threads as a Chrome trace.

    Raises :class:`~threadprof.exporters.NeedsTimelineError` before writing
    anything if no thread has a timeline.
    """
    threads = [t for t in snapshot.threads if t.timeline is not None]
    if not threads:
        raise NeedsTimelineError("the chrome format needs a timeline: profile with --timeline")
    other = {
        "exporter": creator(),
        "clock": snapshot.clock,
        "python": snapshot.python_version,
        "argv": snapshot.argv,
    }
    out.write(
        f'{{"displayTimeUnit":"ns","otherData":{_json(other)},"traceEvents":[\n'.encode(
            "utf-8", "backslashreplace"
        )
    )
    writer = _Writer(snapshot, out)
    pid_of = snapshot.pid_of
    meta = [
        _metadata(pid, "process_name", 0, {"name": name})
        for pid, name in process_names(snapshot).items()
    ]
    for i, thread in enumerate(threads):
        pid = pid_of(thread)
        meta.append(_metadata(pid, "thread_name", thread.native_id, {"name": thread.name}))
        meta.append(_metadata(pid, "thread_sort_index", thread.native_id, {"sort_index": i}))
    serials = {t.serial: t.name for t in threads}
    tasks = [t for t in snapshot.tasks() if t.step_spans and t.serial in serials]
    for i, task in enumerate(tasks, len(threads)):
        tid = TASK_TID_BASE + task.id
        label = f"task {task.name} ({serials[task.serial]})"
        meta.append(_metadata(pid_of(task), "thread_name", tid, {"name": label}))
        meta.append(_metadata(pid_of(task), "thread_sort_index", tid, {"sort_index": i}))
    writer.write(meta)
    for thread in threads:
        writer.thread(thread)
    to_ns = ns_converter(snapshot.unit)
    for task in tasks:
        cols = task.tree_columns()
        name = writer.names[cols.func[1]] if len(cols) > 1 else _json(task.name)
        head = (
            f'{{"ph":"X","pid":{pid_of(task)},"tid":{TASK_TID_BASE + task.id},"name":{name},"ts":'
        )
        writer.write(
            [
                f'{head}{micros(to_ns(start))},"dur":{micros(to_ns(end) - to_ns(start))}}}'
                for start, end in task.step_spans
            ]
        )
    out.write(b"\n]}\n")
