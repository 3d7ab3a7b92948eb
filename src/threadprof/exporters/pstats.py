# SPDX-License-Identifier: MIT
"""The pstats format: cProfile's ``Profile.stats`` dictionary, marshalled.

The dictionary maps ``(file, line, name)`` to ``(cc, nc, tt, ct, callers)``:

* ``nc``: all calls, ``cc``: primitive calls (the function was not already on
  the stack);
* ``tt``: self time, ``ct``: cumulative time, which counts only the outermost
  activations of a recursive function;
* ``callers``: ``{caller key: (nc, cc, tt, ct)}`` for the calls from that
  caller, where ``cc`` and ``ct`` treat recursion of the caller -> callee edge
  the way cProfile does. Functions called from the top of a thread have an empty
  ``callers`` dict.

Times are seconds of the snapshot's primary clock (``--clock wall`` or ``cpu``).
As in cProfile, ticks are summed as integers and converted to seconds at the end.
Threads are merged: each thread's recursion is judged on its own stack, then the
totals are added. Frames that were already running when profiling started appear
with ``nc == 0``, which pstats prints without a per-call time.

``pstats.Stats(path)`` reads the file; so do snakeviz, gprof2dot and tuna.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable
from typing import Any, BinaryIO

from ..model import KeyStats, PstatsKey, Snapshot, ThreadProfile, key_edges, key_stats

__all__ = ["dump", "snapshot_to_stats", "stats_to_bytes"]

CallerEntry = tuple[int, int, float, float]
StatsEntry = tuple[int, int, float, float, dict[PstatsKey, CallerEntry]]
Stats = dict[PstatsKey, StatsEntry]


def snapshot_to_stats(
    snapshot: Snapshot,
    subcalls: bool = True,
    threads: Iterable[ThreadProfile] | None = None,
) -> Stats:
    """cProfile's ``Profile.stats`` for the given threads of ``snapshot`` (all by default).

    With ``subcalls=False`` every ``callers`` dict is empty, as with
    ``cProfile.Profile(subcalls=False)``. Functions that share a
    ``(file, line, name)`` key are summed into one entry.
    """
    selected = None if threads is None else list(threads)
    cum_field = snapshot.primary
    self_field = f"{cum_field}_self"
    unit = snapshot.unit
    edges = key_edges(snapshot, selected) if subcalls else {}

    def times(s: KeyStats) -> tuple[float, float]:
        # ticks are summed as integers and converted once, as cProfile does
        return getattr(s, self_field) * unit, getattr(s, cum_field) * unit

    return {
        key: (
            row.prim_calls,
            row.calls,
            *times(row),
            {ckey: (e.calls, e.prim_calls, *times(e)) for ckey, e in edges.get(key, {}).items()},
        )
        for key, row in key_stats(snapshot, selected).items()
    }


def stats_to_bytes(stats: dict[Any, Any]) -> bytes:
    """The file content that ``pstats.Stats.load_stats`` reads (``marshal``)."""
    return marshal.dumps(stats)


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write every thread of ``snapshot``, merged, as a pstats file."""
    out.write(stats_to_bytes(snapshot_to_stats(snapshot)))
