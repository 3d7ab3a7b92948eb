# SPDX-License-Identifier: MIT
"""threadprof's native profile file, ``.tprof``: lossless, versioned, streamed.

A ``.tprof`` file keeps everything a :class:`~threadprof.model.Snapshot` holds
-- the threads with their metadata and warnings, each thread's call tree (every
field of every node), the functions, the clock, the Python version, the
command line, the start time and duration, and each thread's timeline -- so
that :func:`read` gives back a snapshot equal to the one :func:`write` wrote,
from which any format can be exported later (``threadprof convert``).

Layout (all integers little-endian)::

    header    8s magic b"\\x89TPROF\\r\\n", u16 major, u16 minor, u32 flags (0)
    section*  the data sections, in any order; each is
                4s tag, u8 encoding (0 stored, 1 zlib), 3 reserved bytes,
                u32 thread (index into the thread list, or 0xFFFFFFFF),
                u32 count (nodes or events), u32 CRC-32 of the stored bytes,
                u64 stored length, u64 raw (decompressed) length,
                then the stored bytes
    META      the last section: JSON (ASCII) with everything else and where
              each thread's sections are (their offsets)
    footer    u64 offset of META, u64 length of the whole file, 8s b"TPROFEND"

Sections:

* ``NODE``: one thread's call tree, ``count`` nodes in id order, as 8 columns
  of int64 (parent, func, calls, prim_calls, wall, wall_self, cpu, cpu_self).
  Node 0 is the root (parent and func -1); every other node's parent comes
  before it.
* ``KIDS``: only for a thread whose ``children`` lists are not in id order (a
  tree built by hand): the children lists of nodes 0, 1, ... concatenated,
  ``count`` int64 node ids.
* ``LOCK`` (2.4): one thread's lock calls
  (:class:`~threadprof.model.LockOps`), ``count`` calls as 5 columns of int64
  (start, end, the lock's address, node, kind: 1 acquires, 2 releases), in
  the order they were made; every node is one of the thread's tree.
* ``EVTS``: up to 16,384 timeline events of one thread (function codes ``f``
  a call, ``~f`` a return, as in :data:`~threadprof.model.TimelineChunk`): a
  u8 encoding, 7 reserved bytes, then (2, format 2.0) ``count`` times as the
  differences of consecutive times modulo 2**64 (the first one's from 0) and
  ``count`` function codes, each an LEB128 varint of its zigzag encoding
  (0, -1, 1, -2... as 0, 1, 2, 3...); or (format 1.x) ``count`` int64 times,
  plain (0) or as differences (1), and ``count`` int32 codes, byte-shuffled.
* ``META``: JSON: the snapshot's fields (clock, unit, cpu_mode, engine, pid,
  start_time, duration, python_version, argv, warnings; coroutines and
  slow_step since 2.1; since 2.3, for a process tree, ``processes``, each
  ``[pid, ppid, argv, start, end, status, recorded]``), the functions as ``[kind, name,
  qualname, filename, lineno]`` (a function's id is its index), and per thread
  its fields, the offset of its ``NODE`` (and ``KIDS``) section, its slow steps
  of tasks (2.1, when it has any: ``[start, duration, node, where, where_own]``
  each), its tasks (2.2), the index of its process (2.3, ``process``, when
  not 0), the offset of its ``LOCK`` section (2.4, ``lock_ops``, when it made
  lock calls) and, with a timeline, ``events``, ``dropped`` and the ``[offset,
  count]`` of each ``EVTS`` section in order.

The call trees' arrays are byte-shuffled (all first bytes, then all second
bytes...) before zlib compression, which packs slowly changing integers well. A
timeline's varints take 2 to 3.5 bytes an event (12 in memory) and are stored as
they are (:data:`EVENTS_LEVEL`): zlib would make them about 1 byte, but at six
times the cost of writing them (``--compress`` asks for it). The per-event loops of
``EVTS`` sections (differences, shuffling, checks) run in the C core
(``src/_core/eventcodec.c``); this module says what they produce.

Writing is streamed: each section is written as soon as it is built, and a
timeline is read chunk by chunk from :meth:`Timeline.chunks
<threadprof.model.Timeline.chunks>`, so a timeline of any length is written in
memory bounded by a chunk. The metadata comes last, when the offsets and event
counts are known, and the footer last of all: a file cut short by a crash has no
footer and is refused as incomplete.

Reading is lazy: :func:`read` reads the header, footer, metadata and call
trees, and checks that every section the metadata points to lies inside the
file. Each thread's timeline is a :class:`~threadprof.model.Timeline` whose
source reopens the file and reads one ``EVTS`` section at a time, so
converting a huge file to Perfetto never holds it all in memory.

Versioning: a reader reads every file of its own major version. A minor version
may add sections (readers skip tags they do not know) and JSON keys (readers
ignore keys they do not know), never change the meaning of existing ones. A new
major version is refused with a message naming both versions.

Robustness: every length, count and offset is checked against the file's size
and the section's expected size before anything is allocated or decompressed,
every section's CRC-32 is checked, decompression is bounded by the declared
size, a thread's timeline sections must follow one another without
overlapping (so that no section is decoded twice and the work stays in
proportion to the file), and the metadata is validated field by field, so a truncated, corrupt or
foreign file gives a :class:`~threadprof.fileformat.ProfileFormatError` -- never a
traceback, a crash or a hang. The lazy timeline reader fails the same way.
"""

from __future__ import annotations

import json
import math
import operator
import os
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator

from . import _core
from .fileformat import ProfileFormatError, describe_foreign
from .model import (
    LOCK_ACQUIRE,
    LOCK_RELEASE,
    EncodedChunk,
    Function,
    LockOps,
    Node,
    NodeColumns,
    Process,
    SlowStep,
    Snapshot,
    TaskProfile,
    ThreadProfile,
    Timeline,
    TimelineChunk,
    TimelinePiece,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, BinaryIO, NoReturn

__all__ = [
    "CHUNK_EVENTS",
    "EXTENSION",
    "MAGIC",
    "VERSION",
    "read",
    "write",
]

EXTENSION = ".tprof"
MAGIC = b"\x89TPROF\r\n"
END_MAGIC = b"TPROFEND"
#: The format version this module writes, ``(major, minor)``. 2.0 added the
#: varint encoding of timeline sections (``EVTS_VARINTS``), which 1.x readers
#: cannot read; 2.1 the snapshot's ``coroutines`` and ``slow_step`` and the
#: threads' ``slow_steps``; 2.2 the threads' ``tasks``; 2.3 the snapshot's
#: ``processes`` and the threads' ``process``; 2.4 the threads' lock calls
#: (``LOCK``); this module reads 1.x and 2.x.
VERSION = (2, 4)

HEADER = struct.Struct("<8sHHI")  # magic, major, minor, flags
SECTION = struct.Struct("<4sB3xIIIQQ")  # tag, encoding, thread, count, crc, stored, raw
FOOTER = struct.Struct("<QQ8s")  # META offset, file length, end magic

TAG_NODES = b"NODE"
TAG_CHILDREN = b"KIDS"
TAG_EVENTS = b"EVTS"
TAG_META = b"META"
TAG_LOCKS = b"LOCK"
_SECTION_NAMES = {
    TAG_NODES: "call-tree",
    TAG_LOCKS: "lock-calls",
    TAG_CHILDREN: "children",
    TAG_EVENTS: "timeline",
    TAG_META: "metadata",
}

ENC_STORED = 0
ENC_ZLIB = 1
NO_THREAD = 0xFFFFFFFF

#: Events per ``EVTS`` section that the writer puts at most.
CHUNK_EVENTS = 1 << 14
#: Events per ``EVTS`` section that a reader accepts at most.
MAX_CHUNK_EVENTS = 1 << 20
#: The most that deflate can expand: a section claiming more is corrupt.
_MAX_RATIO = 1032
#: The most a call tree's section (nodes, children) may grow when it is
#: decompressed, as a multiple of its stored size, beyond EAGER_SLACK bytes.
#: Real trees shrink about tenfold; zero-filled nodes a thousandfold, which
#: would let a file of a few hundred KB fill gigabytes with nodes.
EAGER_RATIO = 100
EAGER_SLACK = 1 << 20
_EAGER_TAGS = frozenset((b"NODE", b"KIDS"))
_U32 = 0xFFFFFFFF

NODE_FIELDS = ("parent", "func", "calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")
#: The longest time a profile may hold, in nanoseconds: what the formats with
#: 64-bit nanosecond fields (pprof, Perfetto) can carry.
_MAX_NS = 2**63 - 1
_EVENTS_HEAD = 8  # u8 encoding + 7 reserved bytes
# an EVTS section's first byte, as src/_core/eventcodec.c writes and reads it
TIMES_PLAIN = 0  # shuffled: the times as they are (format 1.x)
TIMES_DELTA = 1  # shuffled: the first time, then the differences (format 1.x)
EVTS_VARINTS = 2  # varints: the differences, then the function codes (2.0)
#: zlib's level for timeline sections, 0 for none, from bench/timeline_codec.py
#: (its mixed workload, 3.1 M events): the varints take 2.47 bytes an event,
#: written in 4.3 ns; zlib would make them 0.99 bytes for 24 ns more an event,
#: which on a program that makes millions of calls a second is a third of
#: ``threadprof run --timeline``'s time. (Format 1.x's shuffled numbers took
#: 1.02 bytes at 37 ns.)
EVENTS_LEVEL = 0
#: zlib's level for timeline sections when asked to compress them
#: (``--compress``): 0.99 bytes an event at 28 ns, against 0.97 at 44 ns at
#: level 6
COMPRESSED_EVENTS_LEVEL = 1
#: zlib's level for the other sections (call trees, functions, metadata): on
#: pyperformance's json_dumps (18,713 nodes) 161 kB in 5.8 ms, against 156 kB
#: in 11.3 ms at level 6
LEVEL = 3
#: what the C core's _decode_events says is wrong with a timeline section, worded
_CORRUPT_EVENTS = {
    "encoding": "has an unknown encoding",
    "size": "has the wrong size",
    "times": "has impossible times",
    "functions": "names unknown functions",
}

_INT64 = (-(1 << 63), (1 << 63) - 1)
_BIG_ENDIAN = sys.byteorder == "big"

StrPath = str | os.PathLike[str]


# -- byte shuffling and packed arrays ---------------------------------------------


def _shuffle(data: bytes, width: int) -> bytes:
    """The bytes of ``width``-byte items regrouped by byte position."""
    if width == 1:
        return data
    return b"".join(data[i::width] for i in range(width))


def _unshuffle(data: bytes | memoryview, width: int) -> bytearray:
    """The inverse of :func:`_shuffle`."""
    out = bytearray(len(data))
    n = len(data) // width
    for i in range(width):
        out[i::width] = data[i * n : (i + 1) * n]
    return out


def _pack(values: array) -> bytes:
    """An array's items, little-endian and byte-shuffled."""
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return _shuffle(values.tobytes(), values.itemsize)


def _unpack(typecode: str, data: bytes | memoryview) -> array:
    values = array(typecode)
    values.frombytes(_unshuffle(data, values.itemsize))
    if _BIG_ENDIAN:
        values.byteswap()
    return values


# -- writing ------------------------------------------------------------------------


class _Writer:
    """Appends sections to a binary file, keeping track of the offset."""

    def __init__(self, out: BinaryIO, level: int, events_level: int) -> None:
        self.out = out
        self.levels = {TAG_EVENTS: events_level}  # by tag; else `default`
        self.default = level
        self.offset = 0

    def raw(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)

    def section(self, tag: bytes, thread: int, count: int, payload: bytes) -> int:
        """Write a section; returns its offset."""
        offset = self.offset
        stored, encoding = payload, ENC_STORED
        level = self.levels.get(tag, self.default)
        if payload and level:
            packed = zlib.compress(payload, level)
            if len(packed) < len(payload):
                stored, encoding = packed, ENC_ZLIB
        head = SECTION.pack(
            tag, encoding, thread, count, zlib.crc32(stored), len(stored), len(payload)
        )
        self.raw(head)
        self.raw(stored)
        return offset


def _invalid(reason: str) -> NoReturn:
    raise ValueError(f"cannot write this snapshot as .tprof: {reason}")


def _function_rows(functions: list[Function]) -> list[list[Any]]:
    """The metadata's rows of the functions, checked: ``[kind, name, qualname,
    filename, lineno]`` each."""
    rows = [[f.kind, f.name, f.qualname, f.filename, f.lineno] for f in functions]
    ids_ok = all(map(operator.eq, [f.id for f in functions], range(len(functions))))
    if ids_ok and all(
        kind in ("python", "c")
        and type(name) is str
        and type(qualname) is str
        and type(filename) is str
        and type(lineno) is int
        for kind, name, qualname, filename, lineno in rows
    ):
        return rows
    _check_functions(functions)  # says which one is wrong
    return rows


def _check_functions(functions: list[Function]) -> None:
    for i, f in enumerate(functions):
        if f.id != i:
            _invalid(f"function ids must be 0, 1, 2... in order (function {i} has id {f.id})")
        if f.kind not in ("python", "c"):
            _invalid(f"function {i} has the kind {f.kind!r}")
        _check_fields(f, _FUNCTION_FIELDS, f"function {i}: ")


def _bad_node(parents: array, funcs: array, nfuncs: int) -> int | None:
    """The first node below the root whose parent does not come before it or
    whose function is not one of ``nfuncs``; ``None`` if there is none."""
    n = len(parents)
    if (
        n < 2
        or (
            min(parents[1:]) >= 0
            and all(map(operator.lt, parents[1:], range(1, n)))  # at C speed: a million nodes
            and 0 <= min(funcs[1:])
            and max(funcs[1:]) < nfuncs
        )
    ):
        return None
    return next(i for i in range(1, n) if not (0 <= parents[i] < i and 0 <= funcs[i] < nfuncs))


def _encode_nodes(thread: ThreadProfile, nfuncs: int) -> bytes:
    name = thread.name
    lazy = thread.columns is not None  # no node objects: ids are the order
    try:
        columns = array("q", thread.tree_flat(NODE_FIELDS))
        ids = None if lazy else array("q", _core._gather(thread.nodes, ("id",)))
    except (OverflowError, TypeError) as exc:
        _invalid(f"thread {name!r}: a node field is not a 64-bit integer ({exc})")
    n = thread.tree_size
    parents, funcs = columns[:n], columns[n : 2 * n]
    if not n or parents[0] != -1 or funcs[0] != -1:
        _invalid(f"thread {name!r}: node 0 must be the root (parent -1, func -1)")
    if ids is not None and ids != array("q", range(n)):
        i = next(i for i, nid in enumerate(ids) if nid != i)
        _invalid(f"thread {name!r}: node {i} has id {ids[i]}")
    bad = _bad_node(parents, funcs, nfuncs)
    if bad is not None:
        _invalid(f"thread {name!r}: node {bad} has parent {parents[bad]} and func {funcs[bad]}")
    return _pack(columns)


def _canonical_children(nodes: list[Node]) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in nodes]
    for n in nodes[1:]:
        kids[n.parent].append(n.id)
    return kids


def _encode_children(thread: ThreadProfile) -> bytes | None:
    """The ``KIDS`` payload, or ``None`` when the children are in id order."""
    if thread.columns is not None:  # no node objects: children in id order
        return None
    canonical = _canonical_children(thread.nodes)
    if all(n.children == kids for n, kids in zip(thread.nodes, canonical, strict=True)):
        return None
    flat = array("q")
    for n, kids in zip(thread.nodes, canonical, strict=True):
        if sorted(n.children) != kids:
            _invalid(f"thread {thread.name!r}: node {n.id}'s children do not match the parents")
        flat.extend(n.children)
    return _pack(flat)


def _as_array(typecode: str, values: Any) -> array:
    if isinstance(values, array) and values.typecode == typecode:
        return values
    return array(typecode, values)


def _copied_as_is(piece: EncodedChunk, nfuncs: int) -> bool:
    """An encoded chunk that is a timeline section's payload as it is."""
    return (
        piece.nfuncs <= nfuncs
        and 0 < piece.count <= MAX_CHUNK_EVENTS
        and piece.payload[:1] == bytes([EVTS_VARINTS])
    )


def _sections(
    pieces: Iterable[TimelinePiece], size: int, nfuncs: int, name: str
) -> Iterator[tuple[int, bytes]]:
    """The events of ``pieces`` (thread ``name``'s) as timeline sections:
    ``(count, payload)``.
    Chunks are regrouped in sections of ``size`` events and encoded; a piece
    still encoded as a section holds it (the C core's spilled chunks) is
    copied as it is, after the events before it."""
    funcs = array("i")
    times = array("q")

    def encode(f: array, t: array) -> tuple[int, bytes]:
        try:
            return len(f), _core._encode_events(f, t, nfuncs)
        except ValueError as exc:
            _invalid(f"thread {name!r}: {exc}")

    for piece in pieces:
        if isinstance(piece, EncodedChunk):
            if _copied_as_is(piece, nfuncs):
                if funcs:
                    yield encode(funcs, times)
                    funcs, times = array("i"), array("q")
                yield piece.count, piece.payload
                continue
            try:
                piece = piece.decode()
            except ValueError as exc:
                _invalid(f"thread {name!r}: an encoded timeline chunk is corrupt ({exc})")
        f, t = piece
        f = _as_array("i", f)
        t = _as_array("q", t)
        if len(f) != len(t):
            _invalid("a timeline chunk has more times than functions, or fewer")
        funcs.extend(f)
        times.extend(t)
        while len(funcs) >= size:
            yield encode(funcs[:size], times[:size])
            del funcs[:size]
            del times[:size]
    if funcs:
        yield encode(funcs, times)


_SNAPSHOT_FIELDS = {
    "clock": "str",
    "cpu_mode": "str",
    "engine": "str",
    "pid": "int",
    "duration": "int",
    "python_version": "str",
    "argv": "strs",
    "warnings": "strs",
}
_THREAD_FIELDS = {
    "serial": "int",
    "ident": "int",
    "native_id": "int",
    "name": "str",
    "first_seen": "int",
    "last_seen": "int",
    "wall_time": "int",
    "cpu_time": "int",
    "warnings": "strs",
}
_FUNCTION_FIELDS = {"name": "str", "qualname": "str", "filename": "str", "lineno": "int"}


def _check_fields(obj: Any, fields: dict[str, str], what: str) -> None:
    for name, kind in fields.items():
        value = getattr(obj, name)
        if type(value) is tuple and kind == "strs":
            value = list(value)
        if not _is_kind(value, kind):
            _invalid(f"{what}{name} is {type(value).__name__}, not {_KINDS[kind]}")


def _thread_meta(thread: ThreadProfile) -> dict[str, Any]:
    _check_fields(thread, _THREAD_FIELDS, f"thread {thread.name!r}: ")
    return {
        "serial": thread.serial,
        "ident": thread.ident,
        "native_id": thread.native_id,
        "name": thread.name,
        "first_seen": thread.first_seen,
        "last_seen": thread.last_seen,
        "wall_time": thread.wall_time,
        "cpu_time": thread.cpu_time,
        "warnings": list(thread.warnings),
        **_steps_meta(thread),
        **({"process": thread.process} if thread.process else {}),
    }


_TASK_FIELDS = {
    "name": "str",
    "id": "int",
    "creator": "int",
    "loop": "int",
    "first_seen": "int",
    "last_seen": "int",
    "wall_time": "int",
    "cpu_time": "int",
    "steps": "int",
    "await_time": "int",
}


def _task_meta(task: TaskProfile, nfuncs: int) -> dict[str, Any]:
    """A task's fields but its tree (2.2); those of its thread are its thread's."""
    _check_fields(task, _TASK_FIELDS, f"task {task.name!r}: ")
    if not all(type(f) is int and 0 <= f < nfuncs for f in task.prefix):
        _invalid(f"task {task.name!r}: its prefix names no function")
    spans = [x for span in task.step_spans for x in span]
    if not all(type(x) is int for x in spans) or any(len(s) != 2 for s in task.step_spans):
        _invalid(f"task {task.name!r}: a step span is not two integers")
    meta = {name: getattr(task, name) for name in _TASK_FIELDS}
    meta["prefix"] = list(task.prefix)
    if spans:
        meta["step_spans"] = spans
    return meta


def _write_tree(
    w: _Writer, index: int, thread: ThreadProfile, nfuncs: int, meta: dict[str, Any]
) -> dict[str, Any]:
    """Write the call tree of a thread or a task (its ``NODE`` and ``KIDS``
    sections, marked as thread ``index``'s) and note their offsets in ``meta``."""
    nodes = _encode_nodes(thread, nfuncs)
    size = thread.tree_size
    if size > _U32:
        _invalid(f"thread {thread.name!r} has more than {_U32} nodes")
    meta["nodes"] = w.section(TAG_NODES, index, size, nodes)
    children = _encode_children(thread)
    if children is not None:
        meta["children"] = w.section(TAG_CHILDREN, index, size - 1, children)
    return meta


def _write_lock_ops(w: _Writer, index: int, thread: ThreadProfile) -> int:
    """Write the thread's ``LOCK`` section (2.4); returns its offset."""
    ops = thread.lock_ops
    try:
        columns = array("q", ops.flat())
    except (OverflowError, TypeError) as exc:
        _invalid(f"thread {thread.name!r}: a lock call's field is not a 64-bit integer ({exc})")
    n = len(ops)
    size = thread.tree_size
    if (
        len(columns) != 5 * n
        or not all(0 < node < size for node in columns[3 * n : 4 * n])
        or not all(kind in (LOCK_ACQUIRE, LOCK_RELEASE) for kind in columns[4 * n :])
    ):
        _invalid(f"thread {thread.name!r}: a lock call names no node of its tree or no kind")
    return w.section(TAG_LOCKS, index, n, _pack(columns))


def _steps_meta(thread: ThreadProfile) -> dict[str, Any]:
    """The thread's slow steps of tasks (2.1), if it has any."""
    if not thread.slow_steps:
        return {}
    rows = [
        [s.start, s.duration, s.node, s.where, s.where_own, *([s.task] if s.task else [])]
        for s in thread.slow_steps
    ]
    if not all(type(v) is int for row in rows for v in row):
        _invalid(f"thread {thread.name!r}: a slow step's fields are not integers")
    return {"slow_steps": rows}


def _processes_meta(snapshot: Snapshot) -> dict[str, Any]:
    """The processes of a process tree (2.3), if it has any."""
    rows: list[list[Any]] = []
    for p in snapshot.processes:
        row = [p.pid, p.ppid, list(p.argv), p.start, p.end, p.status, p.recorded]
        if not (
            all(type(v) is int for v in row[:2] + row[3:5])
            and _is_kind(row[2], "strs")
            and type(p.status) is str
            and type(p.recorded) is bool
        ):
            _invalid(f"process {p.pid!r}: its fields are not of their types")
        rows.append(row)
    for t in snapshot.threads:
        if not (type(t.process) is int and 0 <= t.process < max(len(rows), 1)):
            _invalid(f"thread {t.name!r}: its process {t.process!r} is not in the list")
    return {"processes": rows} if rows else {}


def write(
    snapshot: Snapshot, out: BinaryIO, *, level: int = LEVEL, events_level: int = EVENTS_LEVEL
) -> None:
    """Write ``snapshot`` to the binary file ``out`` as ``.tprof``.

    Timelines are read once, chunk by chunk. ``level`` is zlib's compression
    level, ``events_level`` that of the timelines' sections. Raises
    ``ValueError`` for a snapshot that breaks the model's invariants (a
    function whose id is not its index, a node whose parent does not come
    before it...), which no profile recorded by threadprof does.
    """
    if not (isinstance(snapshot.unit, int | float) and math.isfinite(snapshot.unit)):
        _invalid(f"the unit {snapshot.unit!r} is not a finite number")
    if snapshot.unit <= 0:
        _invalid(f"the unit {snapshot.unit!r} is not positive")
    _check_fields(snapshot, _SNAPSHOT_FIELDS, "the snapshot's ")
    if not isinstance(snapshot.start_time, int | float) or not math.isfinite(snapshot.start_time):
        _invalid(f"the start time {snapshot.start_time!r} is not a finite number")
    functions = snapshot.functions
    function_rows = _function_rows(functions)
    w = _Writer(out, level, events_level)
    w.raw(HEADER.pack(MAGIC, VERSION[0], VERSION[1], 0))
    threads_meta = []
    for index, thread in enumerate(snapshot.threads):
        meta = _thread_meta(thread)
        _write_tree(w, index, thread, len(functions), meta)
        if thread.lock_ops:
            meta["lock_ops"] = _write_lock_ops(w, index, thread)
        if thread.tasks:
            meta["tasks"] = [
                _write_tree(w, index, task, len(functions), _task_meta(task, len(functions)))
                for task in thread.tasks
            ]
        timeline = thread.timeline
        if timeline is not None:
            chunks = []
            events = 0
            pieces = timeline.pieces()
            for n, payload in _sections(pieces, CHUNK_EVENTS, len(functions), thread.name):
                chunks.append([w.section(TAG_EVENTS, index, n, payload), n])
                events += n
            meta["timeline"] = {"events": events, "dropped": timeline.dropped, "chunks": chunks}
        threads_meta.append(meta)
    meta = {
        "clock": snapshot.clock,
        "unit": float(snapshot.unit),
        "cpu_mode": snapshot.cpu_mode,
        "engine": snapshot.engine,
        "pid": snapshot.pid,
        "start_time": float(snapshot.start_time),
        "duration": snapshot.duration,
        "python_version": snapshot.python_version,
        "argv": list(snapshot.argv),
        "warnings": list(snapshot.warnings),
        "coroutines": snapshot.coroutines,
        "slow_step": snapshot.slow_step,
        **_processes_meta(snapshot),
        "functions": function_rows,
        "threads": threads_meta,
    }
    # ensure_ascii: lone surrogates (file names that were not UTF-8) survive as \\udcXX
    text = json.dumps(meta, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    meta_offset = w.section(TAG_META, NO_THREAD, 0, text.encode("ascii"))
    w.raw(FOOTER.pack(meta_offset, w.offset + FOOTER.size, END_MAGIC))


# -- reading ------------------------------------------------------------------------


class _File:
    """A ``.tprof`` file open for reading, with the checks every read needs."""

    def __init__(self, path: str, f: BinaryIO, size: int) -> None:
        self.path = path
        self.f = f
        self.size = size
        self.data_end = size  # sections lie in [HEADER.size, data_end)

    def fail(self, reason: str) -> NoReturn:
        raise ProfileFormatError(self.path, reason)

    def read_at(self, offset: int, size: int, what: str) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            self.fail(f"truncated: the {what} at offset {offset} runs past the end of the file")
        try:
            self.f.seek(offset)
            data = self.f.read(size)
        except OSError as exc:
            self.fail(f"read error: {exc.strerror or exc}")
        if len(data) != size:
            self.fail(f"the file became shorter while it was read (at offset {offset})")
        return data

    def section(
        self,
        offset: int,
        tag: bytes,
        thread: int,
        count: int | None,
        raw_size: Callable[[int], tuple[int, int]] | None = None,
    ) -> tuple[int, bytes, int]:
        """Read the section at ``offset``: check it is a ``tag`` section of
        ``thread`` holding ``count`` items (any count when ``None``), whose
        decompressed size lies in the range ``raw_size(count)`` (both
        included) when given. Returns ``(count, payload, end offset)``."""
        name = _SECTION_NAMES[tag]
        if not HEADER.size <= offset <= self.data_end - SECTION.size:
            self.fail(f"the {name} section's offset {offset} is outside the file's data")
        head = self.read_at(offset, SECTION.size, f"{name} section header")
        got_tag, encoding, got_thread, got_count, crc, stored, raw = SECTION.unpack(head)
        where = f"the {name} section at offset {offset}"
        if got_tag != tag:
            self.fail(f"corrupt: expected {where}, found tag {got_tag!r}")
        if got_thread != thread or (count is not None and got_count != count):
            self.fail(f"corrupt: {where} belongs to another thread or has the wrong size")
        if stored > self.data_end - offset - SECTION.size:
            self.fail(f"truncated or corrupt: {where} runs past the end of the data")
        least, most = raw_size(got_count) if raw_size is not None else (0, raw)
        if not least <= raw <= most:
            self.fail(f"corrupt: {where} has the wrong length")
        if encoding == ENC_STORED and stored != raw:
            self.fail(f"corrupt: {where} has the wrong length")
        if encoding == ENC_ZLIB and raw > stored * _MAX_RATIO + 64:
            self.fail(f"corrupt: {where} claims an impossible size")
        if tag in _EAGER_TAGS and raw > stored * EAGER_RATIO + EAGER_SLACK:
            self.fail(
                f"corrupt: {where} would grow {raw // max(stored, 1)} times when "
                "decompressed, which no real profile does"
            )
        if encoding not in (ENC_STORED, ENC_ZLIB):
            self.fail(f"corrupt: {where} has an unknown encoding ({encoding})")
        data = self.read_at(offset + SECTION.size, stored, f"{name} section")
        if zlib.crc32(data) != crc:
            self.fail(f"corrupt: checksum mismatch in {where}")
        end = offset + SECTION.size + stored
        if encoding == ENC_STORED:
            return got_count, data, end
        try:
            z = zlib.decompressobj()
            payload = z.decompress(data, max(raw, 1))
        except zlib.error as exc:
            self.fail(f"corrupt: {where} does not decompress ({exc})")
        if len(payload) != raw or not z.eof or z.unconsumed_tail or z.unused_data:
            self.fail(f"corrupt: {where} does not decompress to its size")
        return got_count, payload, end


def _open(path: str) -> tuple[BinaryIO, os.stat_result]:
    try:
        f = open(path, "rb")  # closed by the caller
    except OSError as exc:
        raise ProfileFormatError(path, exc.strerror or str(exc)) from exc
    try:
        st = os.fstat(f.fileno())
    except OSError as exc:
        f.close()
        raise ProfileFormatError(path, exc.strerror or str(exc)) from exc
    return f, st


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read(
    path: StrPath,
    progress: Callable[[int, int], None] | None = None,
    *,
    columns: bool = False,
) -> Snapshot:
    """Read a ``.tprof`` file. Timelines stay in the file and are read lazily.

    ``progress(done, total)``, if given, is called after each thread's call
    tree is read (``threadprof report``'s progress bar). Each thread's call
    tree is read as :class:`~threadprof.model.NodeColumns`
    (``ThreadProfile.columns``), a sixth of the memory of the node objects,
    which are made when ``ThreadProfile.nodes`` is first read; except where
    the file gives the children in an order of their own, whose trees are made
    at once, unless ``columns`` asks for the columns alone (the order is then
    not read: :mod:`threadprof.diff` reads nothing else).

    Raises :class:`~threadprof.fileformat.ProfileFormatError` for a file that is
    missing, unreadable, not a ``.tprof`` file, truncated, corrupt or of a
    newer major version -- also later, while a timeline is being read, if the
    file turns out to be corrupt there or has changed since.
    """
    text = os.fspath(path)
    f, st = _open(text)
    with f:
        reader = _Reader(_File(text, f, st.st_size), _identity(st))
        reader.progress = progress
        reader.columns = columns
        return reader.snapshot()


class _Reader:
    def __init__(self, file: _File, identity: tuple[int, int, int, int]) -> None:
        self.file = file
        self.identity = identity
        self.progress: Callable[[int, int], None] | None = None
        self.max_ticks = 0  # the largest time (in ticks) of the nodes read
        self.bound_ticks = True  # whether the unit makes that worth knowing
        self.columns = False  # read the call trees as columns only

    def fail(self, reason: str) -> NoReturn:
        self.file.fail(reason)

    def snapshot(self) -> Snapshot:
        file = self.file
        size = file.size
        head = file.read_at(0, min(size, HEADER.size), "header")
        if not head:
            self.fail("the file is empty")
        if not head.startswith(MAGIC[:6]) and not MAGIC.startswith(head):
            self.fail(f"not a threadprof (.tprof) profile: {describe_foreign(head)}")
        if len(head) >= len(MAGIC) and not head.startswith(MAGIC):
            self.fail("corrupt header (damaged by a text-mode transfer?)")
        if size < HEADER.size + SECTION.size + FOOTER.size:
            self.fail(f"truncated: only {size} bytes")
        _magic, major, minor, _flags = HEADER.unpack(head)
        if major > VERSION[0]:
            self.fail(
                f"written by a newer threadprof (format {major}.{minor}); this version "
                f"reads formats up to {VERSION[0]}.x: upgrade threadprof"
            )
        if major < 1:
            self.fail(f"unsupported format version {major}.{minor}")
        foot = file.read_at(size - FOOTER.size, FOOTER.size, "footer")
        meta_offset, length, end = FOOTER.unpack(foot)
        if end != END_MAGIC:
            self.fail("truncated or incomplete: no end marker (was the write interrupted?)")
        if length != size:
            what = "truncated" if length > size else "corrupt: trailing data"
            self.fail(f"{what}: the footer says {length} bytes, the file has {size}")
        file.data_end = size - FOOTER.size
        _, payload, end = file.section(meta_offset, TAG_META, NO_THREAD, 0)
        if end != file.data_end:
            self.fail("corrupt: the metadata is not the last section")
        meta = self._json(payload)
        file.data_end = meta_offset  # the other sections lie before the metadata
        return self._build(meta)

    def _json(self, payload: bytes) -> dict[str, Any]:
        try:
            meta = json.loads(payload.decode("ascii"))
        except (ValueError, RecursionError) as exc:
            self.fail(f"corrupt metadata ({type(exc).__name__})")
        if not isinstance(meta, dict):
            self.fail("corrupt metadata: not a JSON object")
        return meta

    # -- metadata validation -----------------------------------------------------
    def _get(self, obj: dict[str, Any], key: str, kind: str, where: str = "") -> Any:
        if key not in obj:
            self.fail(f"corrupt metadata: {where}{key!r} is missing")
        return _checked(self, obj[key], kind, f"{where}{key!r}")

    def _build(self, meta: dict[str, Any]) -> Snapshot:
        get = self._get
        unit = get(meta, "unit", "number")
        if not (math.isfinite(unit) and unit > 0):
            self.fail("corrupt metadata: 'unit' is not a positive number")
        start_time = get(meta, "start_time", "number")
        if not math.isfinite(start_time):
            self.fail("corrupt metadata: 'start_time' is not a finite number")
        # a 64-bit tick of this unit can exceed 292 years: the nodes' times are checked
        self.bound_ticks = unit * 1e9 > 1
        functions = self._functions(get(meta, "functions", "list"))
        raw_threads = get(meta, "threads", "list")
        threads = []
        for i, t in enumerate(raw_threads):
            threads.append(self._thread(i, t, len(functions)))
            if self.progress is not None:
                self.progress(i + 1, len(raw_threads))
        snapshot = Snapshot(
            clock=get(meta, "clock", "str"),
            unit=float(unit),
            functions=functions,
            threads=threads,
            cpu_mode=get(meta, "cpu_mode", "str"),
            engine=get(meta, "engine", "str"),
            pid=get(meta, "pid", "int"),
            start_time=float(start_time),
            duration=get(meta, "duration", "int"),
            python_version=get(meta, "python_version", "str"),
            argv=get(meta, "argv", "strs"),
            warnings=get(meta, "warnings", "strs"),
            coroutines=get(meta, "coroutines", "str") if "coroutines" in meta else "",
            slow_step=get(meta, "slow_step", "count") if "slow_step" in meta else 0,
            processes=self._processes(meta["processes"]) if "processes" in meta else [],
        )
        for t in threads:
            if t.process >= max(len(snapshot.processes), 1):
                self.fail(f"corrupt metadata: thread {t.serial}: its process is not in the list")
        for t in threads:
            for ticks in (t.first_seen, t.last_seen, t.wall_time, t.cpu_time):
                self.max_ticks = max(self.max_ticks, abs(ticks))
        # an exact comparison of the int with the float: no rounding
        if max(self.max_ticks, abs(snapshot.duration)) > _MAX_NS / (unit * 1e9):
            self.fail("corrupt metadata: 'unit' makes times longer than 292 years")
        return snapshot

    def _processes(self, raw: Any) -> list[Process]:
        out = []
        for row in _checked(self, raw, "list", "'processes'"):
            if not (
                type(row) is list
                and len(row) == 7
                and all(type(v) is int and _INT64[0] <= v <= _INT64[1] for v in row[:2] + row[3:5])
                and _is_kind(row[2], "strs")
                and type(row[5]) is str
                and type(row[6]) is bool
            ):
                self.fail(
                    "corrupt metadata: a process is not [pid, ppid, argv, start, end, "
                    "status, recorded]"
                )
            out.append(Process(*row))
        return out

    def _functions(self, raw: list[Any]) -> list[Function]:
        out = []
        str_ = str
        for i, entry in enumerate(raw):
            # the common case in one test; any doubt goes to the checks that say why
            if (
                type(entry) is list
                and len(entry) == 5
                and (entry[0] == "python" or entry[0] == "c")
                and type(entry[1]) is str_
                and type(entry[2]) is str_
                and type(entry[3]) is str_
                and type(entry[4]) is int
            ):
                out.append(Function(i, *entry))
                continue
            if not (isinstance(entry, list) and len(entry) == 5):
                self.fail(f"corrupt metadata: function {i} is not a list of 5 fields")
            kind, name, qualname, filename, lineno = entry
            where = f"function {i}: "
            if kind not in ("python", "c"):
                self.fail(f"corrupt metadata: {where}unknown kind")
            for value in (name, qualname, filename):
                _checked(self, value, "str", where + "name")
            _checked(self, lineno, "int", where + "line")
            out.append(Function(i, kind, name, qualname, filename, lineno))
        return out

    def _thread(self, index: int, raw: Any, nfuncs: int) -> ThreadProfile:
        where = f"thread {index}: "
        if not isinstance(raw, dict):
            self.fail(f"corrupt metadata: {where}not an object")
        get = self._get
        columns, nodes = self._tree(index, raw, nfuncs, where)
        timeline = None
        raw_tl = raw.get("timeline")
        if raw_tl is not None:
            if not isinstance(raw_tl, dict):
                self.fail(f"corrupt metadata: {where}'timeline' is not an object")
            timeline = self._timeline(index, raw_tl, nfuncs)
        process = get(raw, "process", "count", where) if "process" in raw else 0
        steps = []
        size = len(columns.func) if columns is not None else len(nodes or ())
        if "slow_steps" in raw:
            steps = self._steps(get(raw, "slow_steps", "list", where), size, where)
        return ThreadProfile(
            serial=get(raw, "serial", "int", where),
            ident=get(raw, "ident", "int", where),
            native_id=get(raw, "native_id", "int", where),
            name=get(raw, "name", "str", where),
            first_seen=get(raw, "first_seen", "int", where),
            last_seen=get(raw, "last_seen", "int", where),
            wall_time=get(raw, "wall_time", "int", where),
            cpu_time=get(raw, "cpu_time", "int", where),
            nodes=nodes,
            warnings=get(raw, "warnings", "strs", where),
            timeline=timeline,
            columns=columns,
            slow_steps=steps,
            tasks=self._tasks(index, raw, nfuncs, where, process),
            process=process,
            lock_ops=self._lock_ops(index, raw, where, size),
        )

    def _tree(
        self, index: int, raw: dict[str, Any], nfuncs: int, where: str
    ) -> tuple[NodeColumns | None, list[Node] | None]:
        """The call tree of a thread or a task: as columns, or as node
        objects when its children are not in id order."""
        cols = self._columns(index, self._get(raw, "nodes", "int", where), nfuncs)
        columns = NodeColumns(*cols)
        if "children" not in raw or self.columns:
            return columns, None  # node objects made when they are first needed
        nodes = _core._build_nodes(Node, columns.flat(), NODE_FIELDS)
        self._children(index, self._get(raw, "children", "int", where), nodes)
        return None, nodes

    def _tasks(
        self, index: int, raw: dict[str, Any], nfuncs: int, where: str, process: int
    ) -> list[TaskProfile]:
        tasks = []
        for k, entry in enumerate(
            self._get(raw, "tasks", "list", where) if "tasks" in raw else ()
        ):
            at = f"{where}task {k}: "
            if not isinstance(entry, dict):
                self.fail(f"corrupt metadata: {at}not an object")
            fields = {
                name: self._get(entry, name, kind, at) for name, kind in _TASK_FIELDS.items()
            }
            prefix = self._get(entry, "prefix", "list", at)
            if not all(type(f) is int and 0 <= f < nfuncs for f in prefix):
                self.fail(f"corrupt metadata: {at}its prefix names no function")
            flat = self._get(entry, "step_spans", "list", at) if "step_spans" in entry else []
            if len(flat) % 2 or not all(
                type(x) is int and _INT64[0] <= x <= _INT64[1] for x in flat
            ):
                self.fail(f"corrupt metadata: {at}'step_spans' is not pairs of integers")
            columns, nodes = self._tree(index, entry, nfuncs, at)
            tasks.append(
                TaskProfile(
                    serial=self._get(raw, "serial", "int", where),
                    ident=self._get(raw, "ident", "int", where),
                    native_id=self._get(raw, "native_id", "int", where),
                    nodes=nodes,
                    columns=columns,
                    prefix=prefix,
                    step_spans=list(zip(flat[::2], flat[1::2], strict=True)),
                    process=process,
                    **fields,
                )
            )
        return tasks

    def _lock_ops(self, index: int, raw: dict[str, Any], where: str, nnodes: int) -> LockOps:
        """A thread's ``LOCK`` section (2.4), checked: each call names a node
        of the thread's tree and a kind."""
        if "lock_ops" not in raw:
            return LockOps()
        offset = self._get(raw, "lock_ops", "int", where)
        count, payload, _ = self.file.section(
            offset, TAG_LOCKS, index, None, lambda n: (n * 40, n * 40)
        )
        columns = _unpack("q", payload)
        ops = LockOps(*[columns[i * count : (i + 1) * count] for i in range(5)])
        if not all(0 < node < nnodes for node in ops.node) or not all(
            kind in (LOCK_ACQUIRE, LOCK_RELEASE) for kind in ops.kind
        ):
            self.fail(f"corrupt: {where}a lock call names no node of its tree or no kind")
        return ops

    def _steps(self, rows: list[Any], nnodes: int, where: str) -> list[SlowStep]:
        out = []
        for row in rows:
            if not (
                type(row) is list
                and len(row) in (5, 6)
                and all(type(v) is int and _INT64[0] <= v <= _INT64[1] for v in row)
            ):
                self.fail(f"corrupt metadata: {where}a slow step is not a list of 5 or 6 integers")
            start, duration, node, at, own, *task = row
            if not (0 < node < nnodes and 0 < at < nnodes and duration >= 0):
                self.fail(f"corrupt metadata: {where}a slow step names no node of its tree")
            out.append(SlowStep(start, duration, node, at, own, *task))
        return out

    def _columns(self, index: int, offset: int, nfuncs: int) -> list[array]:
        width = len(NODE_FIELDS) * 8
        count, payload, _ = self.file.section(
            offset, TAG_NODES, index, None, lambda n: (n * width, n * width)
        )
        if count < 1:
            self.fail(f"corrupt: thread {index} has no root node")
        columns = _unpack("q", payload)
        cols = [columns[i * count : (i + 1) * count] for i in range(len(NODE_FIELDS))]
        parents, funcs = cols[0], cols[1]
        if self.bound_ticks:
            for col in cols[4:]:  # the times
                self.max_ticks = max(self.max_ticks, max(col), -min(col))
        if parents[0] != -1 or funcs[0] != -1:
            self.fail(f"corrupt: thread {index}'s node 0 is not a root")
        bad = _bad_node(parents, funcs, nfuncs)
        if bad is not None:
            self.fail(f"corrupt: thread {index}'s node {bad} has a bad parent or function")
        return cols

    def _children(self, index: int, offset: int, nodes: list[Node]) -> None:
        canonical = _canonical_children(nodes)
        _, payload, _ = self.file.section(
            offset, TAG_CHILDREN, index, len(nodes) - 1, lambda n: (n * 8, n * 8)
        )
        flat = _unpack("q", payload)
        pos = 0
        for n, kids in zip(nodes, canonical, strict=True):
            mine = list(flat[pos : pos + len(kids)])
            pos += len(kids)
            if sorted(mine) != kids:
                self.fail(f"corrupt: thread {index}'s children lists do not match the tree")
            n.children = mine

    def _timeline(self, index: int, raw: dict[str, Any], nfuncs: int) -> Timeline:
        where = f"thread {index}'s timeline: "
        events = self._get(raw, "events", "count", where)
        dropped = self._get(raw, "dropped", "count", where)
        chunks = self._get(raw, "chunks", "list", where)
        total = 0
        index_: list[tuple[int, int]] = []
        for entry in chunks:
            if not (
                isinstance(entry, list)
                and len(entry) == 2
                and all(type(v) is int for v in entry)
                and HEADER.size <= entry[0] <= self.file.data_end - SECTION.size
                and 1 <= entry[1] <= MAX_CHUNK_EVENTS
                and (not index_ or entry[0] >= index_[-1][0] + SECTION.size)
            ):
                self.fail(f"corrupt metadata: {where}a bad chunk entry")
            index_.append((entry[0], entry[1]))
            total += entry[1]
        if total != events:
            self.fail(f"corrupt metadata: {where}the chunks do not add up to its events")
        return _lazy_timeline(
            self.file.path, self.identity, index, index_, nfuncs, events, dropped
        )


_KINDS: dict[str, str] = {
    "int": "an integer",
    "count": "a non-negative integer",
    "number": "a number",
    "str": "a string",
    "strs": "a list of strings",
    "list": "a list",
}


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "int":
        return type(value) is int
    if kind == "count":
        return type(value) is int and 0 <= value <= _INT64[1]
    if kind == "number":
        return type(value) in (int, float)
    if kind == "str":
        return type(value) is str
    if kind == "strs":
        return type(value) is list and all(type(v) is str for v in value)
    return type(value) is list


def _checked(reader: _Reader, value: Any, kind: str, what: str) -> Any:
    if not _is_kind(value, kind):
        reader.fail(f"corrupt metadata: {what} is not {_KINDS[kind]}")
    return value


# -- lazy timelines -----------------------------------------------------------------


def _events_size(count: int) -> tuple[int, int]:
    """The least and the most bytes of an ``EVTS`` payload of ``count`` events:
    varints of 1 to 10 bytes a time and 1 to 5 a code, or 12 bytes shuffled."""
    return _EVENTS_HEAD + 2 * count, _EVENTS_HEAD + 15 * count


def _decode_events(
    file: _File, offset: int, count: int, payload: bytes, nfuncs: int
) -> TimelineChunk:
    try:
        funcs_bytes, times_bytes = _core._decode_events(payload, count, nfuncs)
    except ValueError as exc:
        file.fail(f"corrupt: the timeline section at offset {offset} {_CORRUPT_EVENTS[str(exc)]}")
    funcs, times = array("i"), array("q")
    funcs.frombytes(funcs_bytes)
    times.frombytes(times_bytes)
    return funcs, times


def _lazy_timeline(
    path: str,
    identity: tuple[int, int, int, int],
    thread: int,
    chunks: list[tuple[int, int]],
    nfuncs: int,
    events: int,
    dropped: int,
) -> Timeline:
    """A timeline whose every pass reopens ``path`` and reads its sections in turn."""

    def source() -> Iterator[TimelineChunk]:
        f, st = _open(path)
        with f:
            if _identity(st) != identity:
                raise ProfileFormatError(path, "the file has changed since it was opened")
            file = _File(path, f, st.st_size)
            file.data_end = st.st_size - FOOTER.size
            end = 0
            for offset, count in chunks:
                if offset < end:
                    # each section read once: the work stays proportional to the file
                    file.fail(f"corrupt: thread {thread}'s timeline sections overlap")
                _, payload, end = file.section(offset, TAG_EVENTS, thread, count, _events_size)
                yield _decode_events(file, offset, count, payload, nfuncs)

    return Timeline(source, events, dropped)
