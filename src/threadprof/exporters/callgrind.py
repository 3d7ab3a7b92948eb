# SPDX-License-Identifier: MIT
"""The callgrind format, read by KCachegrind/QCachegrind, callgrind_annotate and gprof2dot.

By default one part holds every thread, merged (``callgrind_annotate`` reads
only the first part of a file). With ``separate_threads=True`` each thread is
a part of its own, with a ``thread:`` header line, as in the files of
``valgrind --tool=callgrind --separate-threads=yes``: KCachegrind loads every
part of the file and offers its thread selector. Two events, in integer
nanoseconds, the primary clock first so that it is what the viewers show by
default: ``Wall_ns CPU_ns`` (``--clock wall``) or ``CPU_ns Wall_ns`` (``--clock
cpu``). ``pid:`` is the profiled process's id, when the snapshot has it.

For each function, once per part::

    fl=(1) /app/app.py                 file ("(id) name" once, "(id)" after)
    fn=(2) fact (/app/app.py:20)       name: qualname (file:first line)
    20 59000000 41000000               self cost, at the function's first line
    cfl=(1)
    cfn=(2)
    calls=4 20                         calls of fact from fact, and fact's first line
    20 30000000 30000000               inclusive cost of those calls

A name holds the function's file and first line because KCachegrind and
gprof2dot tell functions apart by name alone: two modules' ``<module>`` (or
two files' ``main``) would otherwise be one function, calling itself. A C
function is pstats' label (``{built-in method builtins.len}``), file ``~``
and line 0, as in pstats. Functions that share a file, line and qualname are
merged, as pstats merges a key. The inclusive cost of a call line follows
pstats' ``callers`` entries: it counts only the outermost activations of that
caller -> callee pair, so a viewer that adds up a recursive function's call
lines may show more than 100%, as it does for callgrind's own profiles of
recursive code.

Names are single lines: ``%`` and line breaks are percent-encoded (``%25``,
``%0A``), the rest is written as is, in UTF-8.
"""

from __future__ import annotations

import contextlib
import shlex
from array import array
from collections.abc import Sequence
from typing import BinaryIO

from .. import _core
from ..model import Function, Snapshot, ThreadProfile, group_functions, grouped_totals
from ._common import creator, escape_text, ns_converter, ns_scale

__all__ = ["dump", "render"]

FuncKey = tuple[str, str]  # (file, name) as written


def _key(func: Function) -> FuncKey:
    return (func.filename, func.display)


class _Names:
    """Callgrind's name compression: ``(id) name`` the first time, ``(id)`` after."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        nid = self.ids.get(name)
        if nid is not None:
            return f"({nid})"
        nid = self.ids[name] = len(self.ids) + 1
        return f"({nid}) {escape_text(name)}"


def _part(snapshot: Snapshot, threads: list[ThreadProfile]) -> tuple[list[str], list[int]]:
    """The body of a part holding ``threads`` merged (its lines), and its
    totals per event: written in C (``_core._callgrind_part``) unless a
    total leaves 64 bits (a model built by hand)."""
    # the functions of one (file, name) are one callgrind function
    group, firsts = group_functions(snapshot.functions, _key)
    rows = grouped_totals(snapshot, threads, group, False)
    pairs = grouped_totals(snapshot, threads, group, True)
    own = (5, 7) if snapshot.primary == "wall" else (7, 5)  # wall_self, cpu_self
    incl = (4, 6) if snapshot.primary == "wall" else (6, 4)  # wall, cpu
    if not isinstance(rows, list) and not isinstance(pairs, list):
        files: dict[str, int] = {}
        names: dict[str, int] = {}
        funcs = array("q")
        for f in firsts:
            file_at = files.setdefault(f.filename, len(files))
            funcs.extend((file_at, names.setdefault(f.display, len(names)), f.lineno))

        def encoded(texts: dict[str, int]) -> list[bytes]:
            return [escape_text(t).encode("utf-8", "backslashreplace") for t in texts]

        scale = ns_scale(snapshot.unit)
        with contextlib.suppress(OverflowError):
            body, *total = _core._callgrind_part(
                rows, pairs, funcs, encoded(files), encoded(names), scale, own, incl
            )
            return ([body.decode("utf-8")] if body else []), total
    return _py_part(snapshot, firsts, rows, pairs, own, incl)


def _py_part(
    snapshot: Snapshot,
    firsts: list[Function],
    rows: Sequence[int],
    pairs: Sequence[int],
    own: tuple[int, int],
    incl: tuple[int, int],
) -> tuple[list[str], list[int]]:
    """:func:`_part` in Python's integers."""
    to_ns = ns_converter(snapshot.unit)
    calls_of: dict[int, list[int]] = {}  # caller group -> its rows in pairs
    for i in range(0, len(pairs), 8):
        calls_of.setdefault(pairs[i] >> 32, []).append(i)

    body: list[str] = []
    total = [0, 0]
    files = _Names()
    names = _Names()
    for i in range(0, len(rows), 8):
        g = rows[i]
        func = firsts[g]
        cost0, cost1 = to_ns(rows[i + own[0]]), to_ns(rows[i + own[1]])
        total[0] += cost0
        total[1] += cost1
        body.append(f"fl={files(func.filename)}")
        body.append(f"fn={names(func.display)}")
        body.append(f"{func.lineno} {cost0} {cost1}")
        for j in calls_of.get(g, ()):
            callee = firsts[pairs[j] & 0xFFFFFFFF]
            body.append(f"cfl={files(callee.filename)}")
            body.append(f"cfn={names(callee.display)}")
            body.append(f"calls={pairs[j + 2]} {callee.lineno}")
            body.append(f"{func.lineno} {to_ns(pairs[j + incl[0]])} {to_ns(pairs[j + incl[1]])}")
    return body, total


def _fields(snapshot: Snapshot) -> tuple[str, str]:
    return ("wall", "cpu") if snapshot.primary == "wall" else ("cpu", "wall")


def render(snapshot: Snapshot, separate_threads: bool = False) -> str:
    """The callgrind file of ``snapshot``: every thread merged into one part,
    or with ``separate_threads`` a part per thread; as text."""
    event = {"wall": "Wall_ns", "cpu": "CPU_ns"}
    fields = _fields(snapshot)
    head = ["# callgrind format", "version: 1", f"creator: {escape_text(creator())}"]
    if snapshot.argv:
        head.append(f"cmd: {escape_text(shlex.join(snapshot.argv))}")
    clock = f"desc: Clock: {snapshot.clock} (CPU time: {snapshot.cpu_mode})"
    pid = [f"pid: {snapshot.pid}"] if snapshot.pid else []
    events = ["positions: line", f"events: {event[fields[0]]} {event[fields[1]]}"]

    if separate_threads:
        parts = [
            (
                [
                    f"thread: {i}",
                    *([f"pid: {snapshot.pid_of(t)}"] if snapshot.pid_of(t) else []),
                    clock,
                    f"desc: Thread: {escape_text(snapshot.thread_title(t))}",
                ],
                [t],
            )
            for i, t in enumerate(snapshot.threads, 1)
        ] or [([*pid, clock, "desc: Threads: 0"], [])]
    else:
        merged = f"desc: Threads: {len(snapshot.threads)} merged"
        parts = [([*pid, clock, merged], snapshot.threads)]
    out = head
    for part_head, threads in parts:
        body, total = _part(snapshot, threads)
        out += [
            *part_head,
            *events,
            f"summary: {total[0]} {total[1]}",
            "",
            *body,
            "",
            f"totals: {total[0]} {total[1]}",
            "",
        ]
    return "\n".join(out)


def dump(snapshot: Snapshot, out: BinaryIO, *, separate_threads: bool = False) -> None:
    """Write ``snapshot`` as a callgrind file: threads merged, or a part per
    thread with ``separate_threads``."""
    out.write(render(snapshot, separate_threads).encode("utf-8", "backslashreplace"))
