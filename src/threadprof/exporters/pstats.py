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

Threads merged, a viewer that roots the call graph at one function (snakeviz
takes the uncalled function of most cumulative time) often shows
``Thread._bootstrap`` with every worker's time summed, rather than the main
thread. With ``thread_roots=True`` every thread's top-level calls are made
from a function of its own, ``<thread 'NAME'>`` (file ``~``, line 0, no time
of its own, its cumulative time the thread's), so each thread is a root of
its own size and the longest-lived one, the main thread as a rule, is the one
snakeviz opens on; ``--thread NAME`` writes one thread alone. Threads of the
same name share one such function.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

from .. import _core
from .._record import replace
from ..model import (
    Function,
    Node,
    PstatsKey,
    Snapshot,
    ThreadProfile,
    grouped_totals,
    pstats_groups,
)

__all__ = ["dump", "snapshot_to_bytes", "snapshot_to_stats", "stats_to_bytes", "with_thread_roots"]

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
    return _stats_of_rows(snapshot, selected, None if subcalls else [])


#: Where a row of ``grouped_totals`` holds the cumulative and the own time of
#: each clock.
_TIME_AT = {"wall": (4, 5), "cpu": (6, 7)}


def _stats_of_rows(
    snapshot: Snapshot, threads: list[ThreadProfile] | None, pairs: Sequence[int] | None
) -> Stats:
    """The stats from the rows of the pstats keys' totals and of their pairs'
    (``pairs``, unless given): one step per function and per caller -> callee
    pair."""
    group, firsts = pstats_groups(snapshot.functions)
    keys = [f.pstats_key for f in firsts]
    rows = grouped_totals(snapshot, threads, group, False)
    if pairs is None:
        pairs = grouped_totals(snapshot, threads, group, True)
    unit = snapshot.unit
    cum_at, self_at = _TIME_AT[snapshot.primary]
    callers: dict[int, dict[PstatsKey, CallerEntry]] = {}
    # ticks are summed as integers and converted once, as cProfile does
    for key, calls, prim, own, cum in zip(
        pairs[0::8], pairs[2::8], pairs[3::8], pairs[self_at::8], pairs[cum_at::8], strict=True
    ):
        into = callers.get(key & 0xFFFFFFFF)
        if into is None:
            into = callers[key & 0xFFFFFFFF] = {}
        into[keys[key >> 32]] = (calls, prim, own * unit, cum * unit)
    return {
        keys[g]: (prim, calls, own * unit, cum * unit, callers.get(g, {}))
        for g, calls, prim, own, cum in zip(
            rows[0::8], rows[2::8], rows[3::8], rows[self_at::8], rows[cum_at::8], strict=True
        )
    }


def stats_to_bytes(stats: dict[Any, Any]) -> bytes:
    """The file content that ``pstats.Stats.load_stats`` reads (``marshal``)."""
    return marshal.dumps(stats)


def with_thread_roots(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with a ``<thread 'NAME'>`` function atop each thread's tree
    (see the module's docstring)."""
    functions = list(snapshot.functions)
    by_name: dict[str, int] = {}
    threads = []
    for thread in snapshot.threads:
        fid = by_name.get(thread.name)
        if fid is None:
            fid = by_name[thread.name] = len(functions)
            name = f"<thread {thread.name!r}>"
            functions.append(Function(fid, "c", name, name, "~", 0))
        top_ids = thread.root.children
        tops = [thread.nodes[c] for c in top_ids]
        shift = 1  # every node moves up one id: the new node is 1
        nodes = [replace(thread.root, children=[1])]
        nodes.append(
            Node(
                1,
                0,
                fid,
                calls=1,
                prim_calls=1,
                wall=sum(n.wall for n in tops),
                cpu=sum(n.cpu for n in tops),
                children=[c + shift for c in top_ids],
            )
        )
        for node in thread.nodes[1:]:
            parent = 1 if node.parent == 0 else node.parent + shift
            nodes.append(
                replace(
                    node,
                    id=node.id + shift,
                    parent=parent,
                    children=[c + shift for c in node.children],
                )
            )
        threads.append(replace(thread, nodes=nodes, timeline=None))
    return replace(snapshot, functions=functions, threads=threads)


def dump(snapshot: Snapshot, out: BinaryIO, *, thread_roots: bool = False) -> None:
    """Write every thread of ``snapshot``, merged, as a pstats file; with
    ``thread_roots``, each under a function of its own."""
    if thread_roots:
        snapshot = with_thread_roots(snapshot)
    out.write(snapshot_to_bytes(snapshot))


def snapshot_to_bytes(snapshot: Snapshot) -> bytes:
    """``stats_to_bytes(snapshot_to_stats(snapshot))``, written in C from the
    totals' rows (``_core._pstats_marshal``) without the dictionary between,
    unless a total leaves 64 bits (a model built by hand)."""
    group, firsts = pstats_groups(snapshot.functions)
    rows = grouped_totals(snapshot, None, group, False)
    pairs = grouped_totals(snapshot, None, group, True)
    if isinstance(rows, list) or isinstance(pairs, list):
        return stats_to_bytes(_stats_of_rows(snapshot, None, pairs))
    keys = [marshal.dumps(f.pstats_key, 2) for f in firsts]  # version 2: no references
    cum_at, self_at = _TIME_AT[snapshot.primary]
    return _core._pstats_marshal(rows, pairs, keys, snapshot.unit, self_at, cum_at)
