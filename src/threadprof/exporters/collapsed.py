# SPDX-License-Identifier: MIT
"""Collapsed (folded) stacks, read by flamegraph.pl, inferno, speedscope and Pyroscope.

One line per call path that has self time, its frames from the outermost to the
innermost separated by ``;``, then a space and the path's self time in integer
nanoseconds of the primary clock::

    MainThread;main (app.py:10);fact (app.py:20) 10000000

The first frame is the thread's name, so a flame graph has one tower per
thread; threads with the same name share theirs. The other frames are
``qualname (file:line)`` for Python functions and pstats' label
(``{built-in method builtins.len}``) for C functions. Paths whose frames read
the same (two functions with the same label) are summed into one line. Lines
come in the order of the threads and, within a thread, of a depth-first walk
of its call tree.

A frame cannot hold ``;`` or a line break: ``%``, ``;`` and the line breaks are
percent-encoded (``%25``, ``%3B``, ``%0A``; ``urllib.parse.unquote`` reverses
it). Spaces, quotes, backslashes and non-ASCII text are written as they are, in
UTF-8; the tools split the count off at the last space.
"""

from __future__ import annotations

from typing import BinaryIO

from ..model import Snapshot
from ._common import function_table, ns_converter, text_escaper

__all__ = ["dump", "escape_frame", "stacks"]

#: Percent-encodes ``%``, ``;`` and line breaks in a frame.
escape_frame = text_escaper(";")


def stacks(snapshot: Snapshot) -> dict[str, int]:
    """``{folded stack: self nanoseconds}`` for every thread, in output order."""
    functions = function_table(snapshot)
    labels = {fid: escape_frame(f.display) for fid, f in functions.items()}
    to_ns = ns_converter(snapshot.unit)
    self_field = f"{snapshot.primary}_self"
    out: dict[str, int] = {}
    for thread in snapshot.threads:
        # the folded stack of each node, built from its parent's
        prefix = {0: escape_frame(snapshot.thread_title(thread))}
        for node, _depth in thread.walk():
            path = prefix[node.id] = f"{prefix[node.parent]};{labels[node.func]}"
            ticks = getattr(node, self_field)
            if ticks:
                out[path] = out.get(path, 0) + ticks
    return {path: to_ns(ticks) for path, ticks in out.items()}


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write the collapsed stacks of every thread of ``snapshot``."""
    text = "".join(f"{path} {ns}\n" for path, ns in stacks(snapshot).items() if ns > 0)
    out.write(text.encode("utf-8", "backslashreplace"))
