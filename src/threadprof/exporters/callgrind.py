# SPDX-License-Identifier: MIT
"""The callgrind format, read by KCachegrind/QCachegrind, callgrind_annotate and gprof2dot.

One part holds every thread, merged (``callgrind_annotate`` reads only the first
part of a file, so one part per thread would hide all threads but one). Two
events, in integer nanoseconds, the primary clock first so that it is what the
viewers show by default: ``Wall_ns CPU_ns`` (``--clock wall``) or
``CPU_ns Wall_ns`` (``--clock cpu``).

For each function, once::

    fl=(1) app.py            file (compressed: "(id) name" once, "(id)" after)
    fn=(2) fact:20           name: qualname:first line, or the pstats label of a C function
    20 59000000 41000000     self cost, at the function's first line
    cfl=(1)
    cfn=(2)
    calls=4 20               calls of fact from fact, and fact's first line
    20 30000000 30000000     inclusive cost of those calls

Functions that share a file and a name are merged, as pstats merges a key. The
inclusive cost of a call line follows pstats' ``callers`` entries: it counts
only the outermost activations of that caller -> callee pair, so a viewer that
adds up a recursive function's call lines may show more than 100%, as it does for
callgrind's own profiles of recursive code. C functions have the file ``~`` and
line 0, as in pstats.

Names are single lines: ``%`` and line breaks are percent-encoded (``%25``,
``%0A``), the rest is written as is, in UTF-8.
"""

from __future__ import annotations

import shlex
from typing import BinaryIO

from ..model import Function, Snapshot
from ._common import creator, escape_text, function_table, ns_converter

__all__ = ["dump", "render"]

FuncKey = tuple[str, str]  # (file, name) as written


def _key(func: Function) -> FuncKey:
    if func.kind == "c":
        return (func.filename, func.display)
    return (func.filename, f"{func.qualname}:{func.lineno}")


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


def render(snapshot: Snapshot) -> str:
    """The callgrind file for every thread of ``snapshot``, merged, as text."""
    functions = function_table(snapshot)
    primary = snapshot.primary
    fields = ("wall", "cpu") if primary == "wall" else ("cpu", "wall")
    to_ns = ns_converter(snapshot.unit)

    # first line of each merged function, and its self cost in ticks per event
    keys: dict[FuncKey, int] = {}
    selfs: dict[FuncKey, list[int]] = {}
    for fid, fs in sorted(snapshot.function_stats().items()):
        func = functions[fid]
        k = _key(func)
        keys.setdefault(k, func.lineno)
        row = selfs.setdefault(k, [0, 0])
        row[0] += getattr(fs, f"{fields[0]}_self")
        row[1] += getattr(fs, f"{fields[1]}_self")

    # caller -> callee -> [calls, inclusive ticks per event]
    edges: dict[FuncKey, dict[FuncKey, list[int]]] = {}
    for (caller, callee), es in sorted(snapshot.edge_stats().items()):
        row = edges.setdefault(_key(functions[caller]), {}).setdefault(
            _key(functions[callee]), [0, 0, 0]
        )
        row[0] += es.calls
        row[1] += getattr(es, fields[0])
        row[2] += getattr(es, fields[1])

    body: list[str] = []
    total = [0, 0]
    files = _Names()
    names = _Names()
    for k, (self0, self1) in selfs.items():
        filename, name = k
        line = keys[k]
        cost0, cost1 = to_ns(self0), to_ns(self1)
        total[0] += cost0
        total[1] += cost1
        body.append(f"fl={files(filename)}")
        body.append(f"fn={names(name)}")
        body.append(f"{line} {cost0} {cost1}")
        for callee, (calls, incl0, incl1) in edges.get(k, {}).items():
            body.append(f"cfl={files(callee[0])}")
            body.append(f"cfn={names(callee[1])}")
            body.append(f"calls={calls} {keys[callee]}")
            body.append(f"{line} {to_ns(incl0)} {to_ns(incl1)}")

    event = {"wall": "Wall_ns", "cpu": "CPU_ns"}
    threads = len(snapshot.threads)
    head = [
        "# callgrind format",
        "version: 1",
        f"creator: {escape_text(creator())}",
    ]
    if snapshot.argv:
        head.append(f"cmd: {escape_text(shlex.join(snapshot.argv))}")
    head += [
        f"desc: Clock: {snapshot.clock} (CPU time: {snapshot.cpu_mode})",
        f"desc: Threads: {threads} merged",
        "positions: line",
        f"events: {event[fields[0]]} {event[fields[1]]}",
        f"summary: {total[0]} {total[1]}",
        "",
    ]
    tail = ["", f"totals: {total[0]} {total[1]}", ""]
    return "\n".join(head + body + tail)


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write every thread of ``snapshot``, merged, as a callgrind file."""
    out.write(render(snapshot).encode("utf-8", "backslashreplace"))
