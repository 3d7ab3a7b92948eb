# SPDX-License-Identifier: MIT
"""Cutting frames out of a profile: out of a call tree, and out of its timeline.

``threadprof run`` removes its own frames from the profile: in the thread that
ran the program only the subtree of the program's ``<module>`` frame is kept
(the call tree is cut in C as the snapshot is made, ``_core._subtree``; its
timeline here, :func:`keep_activation`), and the handlers that threadprof runs inside the
program are removed wherever they ran (:func:`drop_activations`). The
timelines must lose the same frames, or a trace would show the launcher around
the program.

Both work on the function codes of a :class:`~threadprof.model.Timeline`
without replaying its stack event by event: an activation of a function ``f``
runs from a call ``f`` to the next return ``~f``, found with ``bytes.find``
over the codes' bytes, at C speed. That holds for the frames they are used
on, which never recurse: a module's top-level code and a signal or fork
handler. One pass over the timeline's function codes alone
(:meth:`~threadprof.model.Timeline.codes`) finds the events to keep (and
their number, which a Timeline states up front); the result is again lazy,
reading the original chunk by chunk on each pass. Times are untouched, so
they still never decrease, and what is kept is whole activations, so calls
and returns still pair up.

When ``--timeline-limit`` dropped the first events (``dropped > 0``), the
stream may begin inside an activation: a return ``~f`` with no call before it
means that everything before it was inside ``f``.
"""

from __future__ import annotations

import operator
import struct
from array import array
from collections.abc import Iterator

from . import _core
from ._record import replace
from .model import (
    RAW_FIELDS,
    EncodedChunk,
    Node,
    NodeColumns,
    ThreadProfile,
    Timeline,
    TimelinePiece,
    build_tree,
)

__all__ = [
    "drop_activations",
    "drop_frames",
    "keep_activation",
]

Ranges = list[tuple[int, int]]  # [start, stop) global event indices, sorted, disjoint


_CODE = struct.Struct("=i")  # a function code as array("i") holds it


def _find(data: bytes, code: int, start: int) -> int:
    """The index of ``code`` in a chunk's codes (``data``, their bytes) from
    ``start`` on, or -1: a search of bytes, where ``array.index`` would make
    an int object of every code it passes."""
    needle = _CODE.pack(code)
    pos = start * _CODE.size
    while True:
        found = data.find(needle, pos)
        if found < 0 or found % _CODE.size == 0:
            return found // _CODE.size if found >= 0 else -1
        pos = found + 1  # it straddles two codes: look on


def _select(timeline: Timeline, ranges: Ranges, dropped: int) -> Timeline:
    """A lazy timeline of the events of ``timeline`` whose indices lie in
    ``ranges``; a chunk kept whole stays as it was, encoded or not."""
    events = sum(stop - start for start, stop in ranges)

    def pieces() -> Iterator[TimelinePiece]:
        if not ranges:
            return
        i = 0
        base = 0
        for piece in timeline.pieces():
            n = piece.count if isinstance(piece, EncodedChunk) else len(piece[0])
            end = base + n
            chunk = None
            while i < len(ranges) and ranges[i][0] < end:
                start, stop = ranges[i]
                lo, hi = max(start, base) - base, min(stop, end) - base
                if lo < hi:
                    if lo == 0 and hi == n:
                        yield piece
                    else:
                        if chunk is None:
                            chunk = piece.decode() if isinstance(piece, EncodedChunk) else piece
                        funcs, times = chunk
                        yield funcs[lo:hi], times[lo:hi]
                if stop > end:
                    break  # the range goes on in the next chunk
                i += 1
            if i == len(ranges):
                return
            base = end

    return Timeline.of_pieces(pieces, events, dropped)


def keep_activation(timeline: Timeline | None, func: int) -> Timeline | None:
    """Only the events of the first activation of ``func``, from its call to its
    return (both included); ``None`` stays ``None``.

    If ``func`` was already running where the timeline starts (its first event
    is a return), everything up to that return is kept. A call whose return
    never comes keeps everything after it. No activation: no events. The
    result has ``dropped == 0`` when its first event is the call, since every
    dropped event came before it.
    """
    if timeline is None:
        return None
    call, ret = func, ~func
    start = stop = -1
    began_inside = False
    base = 0
    for codes in timeline.codes():
        n = len(codes)
        funcs = codes.tobytes()
        if start < 0:
            c, r = _find(funcs, call, 0), _find(funcs, ret, 0)
            if r >= 0 and (c < 0 or r < c):
                start, stop, began_inside = 0, base + r + 1, True
                break
            if c >= 0:
                start = base + c
                r = _find(funcs, ret, c + 1)
                if r >= 0:
                    stop = base + r + 1
                    break
        else:
            r = _find(funcs, ret, 0)
            if r >= 0:
                stop = base + r + 1
                break
        base += n
    if start < 0:
        return _select(timeline, [], timeline.dropped)
    if stop < 0:
        stop = base  # still open at the end: everything from its call on
    return _select(timeline, [(start, stop)], timeline.dropped if began_inside else 0)


def drop_activations(timeline: Timeline | None, funcs: set[int]) -> Timeline | None:
    """The timeline without the activations of ``funcs`` (each from a call to
    the next return of the same function, both included); ``None`` stays
    ``None``.

    If the timeline starts inside one (``dropped > 0`` and a return of one of
    ``funcs`` comes before any call of them), everything up to that return is
    removed too.
    """
    if timeline is None or not funcs:
        return timeline
    codes = sorted(funcs)
    cut: Ranges = []  # the activations to remove
    inside = -1  # the function whose activation is open, or -1
    cut_start = 0
    seen_call = False
    base = 0
    total = 0
    for chunk_codes in timeline.codes():
        n = len(chunk_codes)
        chunk = chunk_codes.tobytes()
        pos = 0
        while pos < n:
            if inside >= 0:
                r = _find(chunk, ~inside, pos)
                if r < 0:
                    break
                cut.append((cut_start, base + r + 1))
                inside, pos = -1, r + 1
                continue
            best, best_code = n, 0
            for code in codes:
                for c in (code, ~code):
                    p = _find(chunk, c, pos)
                    if 0 <= p < best:
                        best, best_code = p, c
            if best == n:
                break
            if best_code >= 0:
                seen_call = True
                inside, cut_start, pos = best_code, base + best, best + 1
            else:
                # a return with no call: inside since the start if the limit
                # cut the start and nothing before it was seen, else a stray
                # return to drop alone
                from_start = timeline.dropped > 0 and not seen_call
                cut.append((0 if from_start else base + best, base + best + 1))
                seen_call = True
                pos = best + 1
        base += n
        total = base
    if inside >= 0:
        cut.append((cut_start, total))
    if not cut:
        return timeline
    keep: Ranges = []
    last = 0
    for start, stop in cut:
        if start > last:
            keep.append((last, start))
        last = max(last, stop)
    if last < total:
        keep.append((last, total))
    return _select(timeline, keep, timeline.dropped)


# -- call trees ------------------------------------------------------------------


def _drop_columns(thread: ThreadProfile, funcs: set[int]) -> ThreadProfile:
    """:func:`drop_frames` on a tree held as columns, keeping the id order
    (every parent comes before its children): a pass over the parents marks
    the dropped subtrees, and each column is copied without them. The nodes
    before the first dropped one keep their ids and are copied whole (the
    frames dropped are mostly made late: a handler's at the end)."""
    cols = thread.tree_columns()
    parent, func = cols.parent, cols.func
    size = len(cols)
    roots = [i for i in range(1, size) if func[i] in funcs]  # the dropped subtrees' roots
    if not roots:
        return thread
    first = roots[0]
    dropped = bytearray(size)
    for i in roots:
        dropped[i] = 1
    for i in range(first + 1, size):
        if dropped[parent[i]]:
            dropped[i] = 1
    keep = [i for i in range(first, size) if not dropped[i]]  # after the first
    new_ids = [*range(first), *[-1] * (size - first)]
    for new, old in enumerate(keep, first):
        new_ids[old] = new

    def kept(i: int) -> int:  # the new id of the nearest kept ancestor, or itself
        while dropped[i]:
            i = parent[i]
        return new_ids[i]

    out = {
        name: array("q", column[:first]) + array("q", [column[i] for i in keep])
        for name, column in zip(RAW_FIELDS, (getattr(cols, n) for n in RAW_FIELDS), strict=True)
    }
    out["parent"] = array("q", parent[:first]) + array("q", [new_ids[parent[i]] for i in keep])
    for i in roots:
        if not dropped[parent[i]]:  # its time becomes its parent's own
            up = new_ids[parent[i]]
            out["wall_self"][up] += cols.wall[i]
            out["cpu_self"][up] += cols.cpu[i]
    outermost = _core._outermost(out["parent"], out["func"])
    columns = NodeColumns(prim_calls=array("q", map(operator.mul, out["calls"], outermost)), **out)
    steps = [
        replace(s, node=new_ids[s.node], where=kept(s.where))
        for s in thread.slow_steps
        if not dropped[s.node]
    ]
    return replace(
        thread,
        nodes=None,
        columns=columns,
        timeline=drop_activations(thread.timeline, funcs),
        slow_steps=steps,
        lock_ops=thread.lock_ops.renumbered(lambda i: None if dropped[i] else new_ids[i]),
    )


def drop_frames(thread: ThreadProfile, funcs: set[int]) -> ThreadProfile:
    """``thread`` without the subtrees of the nodes of ``funcs``; each one's
    time becomes self time of its parent, so that the times still add up."""
    if thread._nodes is None:  # columns: no node objects made
        return _drop_columns(thread, funcs)
    old = thread.nodes
    root = old[0]
    nodes = [Node(0, -1, -1, 0, 0, root.wall, root.wall_self, root.cpu, root.cpu_self)]
    new_ids = {0: 0}
    stack = [(c, 0) for c in reversed(root.children)]
    while stack:
        nid, parent = stack.pop()
        n = old[nid]
        if n.func in funcs:
            nodes[parent].wall_self += n.wall
            nodes[parent].cpu_self += n.cpu
            continue
        new_id = new_ids[nid] = len(nodes)
        nodes.append(
            Node(new_id, parent, n.func, n.calls, 0, n.wall, n.wall_self, n.cpu, n.cpu_self)
        )
        stack.extend((c, new_id) for c in reversed(n.children))
    build_tree(nodes)

    def kept(nid: int) -> int:  # a dropped node's time went to its nearest kept ancestor
        while nid not in new_ids:
            nid = old[nid].parent
        return new_ids[nid]

    steps = [
        replace(s, node=new_ids[s.node], where=kept(s.where))
        for s in thread.slow_steps
        if s.node in new_ids
    ]
    # the timeline loses the same frames; the lock calls in them go
    return replace(
        thread,
        nodes=nodes,
        timeline=drop_activations(thread.timeline, funcs),
        slow_steps=steps,
        lock_ops=thread.lock_ops.renumbered(new_ids.get),
    )
