# SPDX-License-Identifier: MIT
"""pprof's profile format (profile.proto, gzip-compressed), read by ``go tool pprof``,
Pyroscope, Parca, Grafana and speedscope.

Sample types (``sample_types``):

* ``"all"`` (the default): ``wall/nanoseconds``, ``cpu/nanoseconds`` (self
  times) and ``calls/count``, in that order; ``default_sample_type`` and the
  period type are the primary clock (``--clock``). ``go tool pprof
  -sample_index=cpu`` shows the other clock.
* ``"cpu"``: ``cpu/nanoseconds`` and ``calls/count``, period type
  ``cpu/nanoseconds``, as a Go CPU profile has: Pyroscope and Parca file it
  as a CPU profile. (Pyroscope files any profile with a ``wall`` sample type
  as a wall-clock profile, so a profile of both clocks never reaches its CPU
  views.)
* ``"wall"``: ``wall/nanoseconds`` and ``calls/count``, period type
  ``wall/nanoseconds``: the off-CPU view, for a second upload.
* ``"locks"``: the contention profile (:mod:`threadprof.contention`), with
  the sample types and the label of Datadog's lock profiler, so that fleet
  tools show it as they show theirs: ``lock-acquire/count`` and
  ``lock-acquire-wait/nanoseconds`` at the stack of each call that acquired,
  ``lock-release-hold/nanoseconds`` at the stack of the call that began each
  hold, each sample labelled ``lock name`` (``threading.Lock in lookup
  (app.py:20)``) and with its thread's labels; period type
  ``lock-acquire-wait/nanoseconds``. ``max_samples`` does not apply.

Every call-tree node of every thread is one sample: its stack (leaf first, as
pprof wants), its self times and call count, and the labels ``thread`` (the
thread's name), ``thread_id`` (its native id) and ``pid`` (the id of the
thread's process, when the snapshot has it: a process tree's threads are
labelled each with its own). The calls of an asyncio task are its own samples,
with the labels ``task`` (its name) and ``task_id`` too, at their stacks in
the thread (``go tool pprof -tagfocus task=fetch-3``). pprof adds samples up,
so the totals per function, per thread and per stack are those of the
snapshot; ``go tool pprof -tagfocus thread=worker`` selects a thread.

``max_samples`` keeps a large profile under a sample budget (Pyroscope ingests
16,000 samples per profile by default; a million samples take ``go tool
pprof`` most of a minute and gigabytes to open). The samples are aggregated, each
step only if the previous one is not enough, and every total stays exact:

1. threads that differ only by a trailing number (``worker-1``,
   ``worker-2``...) become one thread group, their tasks' samples merged
   with their threads' (no ``task`` label): the label ``thread`` is the
   pattern (``worker-*``), ``threads`` their number, and same stacks merge;
2. all threads merge;
3. the stacks of least time (of the primary clock) are folded into their
   caller, under one ``[functions folded]`` frame per caller.

A comment in the profile says which steps were taken.

There is one Location per function, with one Line at the function's first line
(the profiler records functions, not lines), all in one Mapping named after the
program (so that pprof neither tries to symbolize nor warns that the main
binary is unknown). A Python function has its ``qualname`` as name and
``file:qualname`` as system name; a C function has pstats' label
(``{built-in method builtins.len}``) as name, ``~:`` and that label as system
name, and no file. The system name differs from the name so that pprof's
demangler, which simplifies names that equal their system name, leaves
``<module>``, ``<lambda>`` and ``<genexpr>`` as they are. Functions that share
all of these share a Function and a Location.

The message is encoded by :mod:`threadprof.exporters._protobuf` and streamed
into gzip as it is built; strings are UTF-8, so names survive as they are.
"""

from __future__ import annotations

import gzip
import shlex
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from .. import _core
from ..contention import analyse, lock_name
from ..model import Node, Snapshot, ThreadProfile, thread_group_key, thread_without_tasks
from ._common import creator, function_name, ns_converter, ns_scale
from ._protobuf import (
    field_bytes,
    field_message,
    field_packed,
    field_string,
    field_varint,
    varint,
)

__all__ = ["SAMPLE_TYPES", "dump"]

#: ``(type, unit)`` of each sample value, in order, for each ``sample_types``.
SAMPLE_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "all": (("wall", "nanoseconds"), ("cpu", "nanoseconds"), ("calls", "count")),
    "cpu": (("cpu", "nanoseconds"), ("calls", "count")),
    "wall": (("wall", "nanoseconds"), ("calls", "count")),
    "locks": (
        ("lock-acquire", "count"),
        ("lock-acquire-wait", "nanoseconds"),
        ("lock-release-hold", "nanoseconds"),
    ),
}

# field numbers of profile.proto
_SAMPLE_TYPE, _SAMPLE, _MAPPING, _LOCATION, _FUNCTION, _STRING_TABLE = 1, 2, 3, 4, 5, 6
_TIME_NANOS, _DURATION_NANOS, _PERIOD_TYPE, _PERIOD = 9, 10, 11, 12
_COMMENT, _DEFAULT_SAMPLE_TYPE = 13, 14
_LABEL = 3  # in Sample
_MAPPING_ID = 1  # the one Mapping

Stack = tuple[int, ...]  # location ids, leaf first
Values = list[int]  # one per sample type


class _Strings:
    """The string table: index 0 is ``""``."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def encode(self) -> bytes:
        return b"".join(field_string(_STRING_TABLE, s) for s in self.index)


def _value_type(strings: _Strings, kind: str, unit: str) -> list[bytes]:
    return [field_varint(1, strings(kind)), field_varint(2, strings(unit))]


def _label(strings: _Strings, key: str, text: str | None = None, num: int = 0) -> bytes:
    if text is not None:
        return field_message(
            _LABEL, [field_varint(1, strings(key)), field_varint(2, strings(text))]
        )
    return field_message(_LABEL, [field_varint(1, strings(key)), field_varint(3, num)])


class _Functions:
    """The Function and Location of each function id, one per distinct name,
    system name, file and line."""

    def __init__(self, snapshot: Snapshot, strings: _Strings) -> None:
        self.location: dict[int, int] = {}
        keyed: dict[tuple[str, str, str, int], int] = {}
        self.functions: list[bytes] = []
        self.locations: list[bytes] = []
        for func in snapshot.functions:
            filename = "" if func.kind == "c" else func.filename
            name = function_name(func)
            key = (name, f"{filename or '~'}:{name}", filename, func.lineno)
            lid = keyed.get(key)
            if lid is None:
                lid = keyed[key] = len(keyed) + 1
                self.add(strings, lid, key)
            self.location[func.id] = lid
        self.count = len(keyed)

    def add(self, strings: _Strings, lid: int, key: tuple[str, str, str, int]) -> None:
        name, system, filename, lineno = key
        fields = [
            field_varint(1, lid),
            field_varint(2, strings(name)),
            field_varint(3, strings(system)),
        ]
        if filename:
            fields.append(field_varint(4, strings(filename)))
        if lineno:
            fields.append(field_varint(5, lineno))
        self.functions.append(field_message(_FUNCTION, fields))
        line = [field_varint(1, lid)]
        if lineno:
            line.append(field_varint(2, lineno))
        self.locations.append(
            field_message(
                _LOCATION,
                [field_varint(1, lid), field_varint(2, _MAPPING_ID), field_message(4, line)],
            )
        )


def _values(types: str, to_ns: Callable[[int], int]) -> Callable[[Node], Values]:
    """A node's sample values for the sample types ``types``."""
    if types == "all":
        return lambda node: [to_ns(node.wall_self), to_ns(node.cpu_self), node.calls]
    if types == "wall":
        return lambda node: [to_ns(node.wall_self), node.calls]
    return lambda node: [to_ns(node.cpu_self), node.calls]


def _node_samples(
    snapshot: Snapshot, thread: ThreadProfile, location: dict[int, int], types: str
) -> Iterator[tuple[Stack, Values]]:
    """Each node of ``thread``: its stack (location ids) and values."""
    values = _values(types, ns_converter(snapshot.unit))
    stacks: dict[int, Stack] = {0: ()}
    for node, _depth in thread.walk():
        stack = stacks[node.id] = (location[node.func], *stacks[node.parent])
        yield stack, values(node)


def _packed_samples(
    snapshot: Snapshot,
    thread: ThreadProfile,
    encoded: dict[int, bytes],
    types: str,
    prefix: list[int] | None = None,
) -> Iterator[tuple[bytes, Values]]:
    """Each node of ``thread``: its stack already packed (the varints of its
    location ids, ``encoded`` per function id) and values. A node's stack is
    its function's varint before its caller's: one concatenation, not one
    varint per frame. A task's stacks go on below its ``prefix``."""
    values = _values(types, ns_converter(snapshot.unit))
    stacks: dict[int, bytes] = {0: b"".join(encoded[f] for f in reversed(prefix or ()))}
    for node, _depth in thread.walk():
        stack = stacks[node.id] = encoded[node.func] + stacks[node.parent]
        yield stack, values(node)


#: The columns that ``_core._pprof_samples`` reads, and its code of each
#: choice of sample types.
_SAMPLE_FIELDS = ("parent", "func", "calls", "wall_self", "cpu_self")
_TYPES_CODE = {"all": 0, "wall": 1, "cpu": 2}


def _c_samples(
    snapshot: Snapshot,
    thread: ThreadProfile,
    locs: array,
    types: str,
    labels: list[bytes],
    prefix: list[int] | None,
) -> bytes | None:
    """The Sample messages of :func:`_packed_samples` with their ``labels``,
    written in C (``_core._pprof_samples``); ``None`` for a time beyond 64
    bits (a model built by hand)."""
    below = array("q", [locs[f] for f in reversed(prefix or ())])
    try:
        flat = thread.tree_flat(_SAMPLE_FIELDS)
        tail = b"".join(labels)
        scale = ns_scale(snapshot.unit)
        return _core._pprof_samples(flat, locs, below, tail, _TYPES_CODE[types], scale)
    except (OverflowError, TypeError):
        return None


def _merge(into: dict[Stack, Values], samples: Iterable[tuple[Stack, Values]]) -> None:
    for stack, values in samples:
        row = into.get(stack)
        if row is None:
            into[stack] = list(values)
        else:
            for i, v in enumerate(values):
                row[i] += v


def _fold(merged: dict[Stack, Values], budget: int, folded_frame: int) -> dict[Stack, Values]:
    """``merged`` in at most ``budget`` samples: the stacks of least inclusive
    time go into a ``folded_frame`` leaf under their nearest kept caller.

    The stacks are ranked by inclusive time, callers before callees at equal
    time, so that every prefix of the ranking is a tree; keeping the ``k``
    first costs ``k`` samples, one folded leaf per kept stack that loses a
    callee and one at the top if a top-level stack goes. That count is worked
    out for every ``k`` at once, and the largest ``k`` that fits is kept: a
    linear pass, however deep the stacks."""
    todo = list(merged)
    while todo:  # every caller of a stack is a stack (a node is a sample), but make sure
        caller = todo.pop()[1:]
        if caller and caller not in merged:
            merged[caller] = [0] * len(next(iter(merged.values())))
            todo.append(caller)
    stacks = list(merged)
    index = {st: i for i, st in enumerate(stacks)}
    n = len(stacks)
    parent = [index[st[1:]] if len(st) > 1 else -1 for st in stacks]
    by_depth = sorted(range(n), key=lambda i: len(stacks[i]))
    inclusive = [merged[st][0] for st in stacks]
    for i in reversed(by_depth):
        if parent[i] >= 0:
            inclusive[parent[i]] += inclusive[i]
    rank = [0] * n
    for r, i in enumerate(sorted(range(n), key=lambda i: (-inclusive[i], len(stacks[i])))):
        rank[i] = r

    # samples(k) = k + #(kept stacks with a callee not kept) + (a top-level stack not kept)
    last_callee = [-1] * n
    last_top = -1
    for i in range(n):
        if parent[i] < 0:
            last_top = max(last_top, rank[i])
        else:
            last_callee[parent[i]] = max(last_callee[parent[i]], rank[i])
    losing = [0] * (n + 2)  # a kept stack loses a callee for rank < k <= its last callee's rank
    for i in range(n):
        if last_callee[i] >= 0:
            losing[rank[i] + 1] += 1
            losing[last_callee[i] + 1] -= 1
    kept = running = 0
    for k in range(n + 1):
        running += losing[k]
        if k + running + (k <= last_top) <= budget:
            kept = k

    nearest = [-1] * n  # each stack's nearest kept stack (itself if kept), -1: none
    out: dict[Stack, Values] = {}
    for i in by_depth:
        if rank[i] < kept:
            nearest[i] = i
            target = stacks[i]
        else:
            nearest[i] = nearest[parent[i]] if parent[i] >= 0 else -1
            target = (folded_frame, *(stacks[nearest[i]] if nearest[i] >= 0 else ()))
        row = out.get(target)
        values = merged[stacks[i]]
        if row is None:
            out[target] = list(values)
        else:
            for v, x in enumerate(values):
                row[v] += x
    return out


def dump(
    snapshot: Snapshot,
    out: BinaryIO,
    *,
    sample_types: str = "all",
    max_samples: int | None = None,
) -> None:
    """Write every thread of ``snapshot`` as a gzip-compressed pprof profile:
    the ``sample_types`` of :data:`SAMPLE_TYPES`, in at most ``max_samples``
    samples (see the module's docstring)."""
    if sample_types not in SAMPLE_TYPES:
        raise ValueError(
            f"unknown sample types {sample_types!r} (choose from {', '.join(SAMPLE_TYPES)})"
        )
    if max_samples is not None and max_samples < 1:
        raise ValueError("max_samples must be at least 1")
    strings = _Strings()
    to_ns = ns_converter(snapshot.unit)
    funcs = _Functions(snapshot, strings)
    encoded = {fid: varint(lid) for fid, lid in funcs.location.items()}
    locs = array("q", [0]) * (max(funcs.location, default=-1) + 1)  # by function id
    for fid, lid in funcs.location.items():
        if fid >= 0:
            locs[fid] = lid
    pid = [_label(strings, "pid", num=snapshot.pid)] if snapshot.pid else []
    notes: list[str] = []

    # gzip's fastest level, as Go's runtime/pprof writes its own profiles
    # (BestSpeed): level 9, the default here, took a third of the export
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as gz:
        for kind, unit in SAMPLE_TYPES[sample_types]:
            gz.write(field_message(_SAMPLE_TYPE, _value_type(strings, kind, unit)))

        def write(samples: Iterable[tuple[bytes, Values]], labels: list[bytes]) -> None:
            tail = b"".join(labels)
            chunk: list[bytes] = []
            for stack, values in samples:
                body = field_bytes(1, stack) + field_packed(2, values) + tail
                chunk.append(field_bytes(_SAMPLE, body))
                if len(chunk) >= 4096:
                    gz.write(b"".join(chunk))
                    chunk.clear()
            gz.write(b"".join(chunk))

        nodes = sum(len(t.nodes) - 1 for t in snapshot.threads)
        if sample_types == "locks":
            _write_locks(snapshot, funcs, strings, write)
        elif max_samples is None or nodes <= max_samples:
            for thread in snapshot.threads:
                thread_pid = snapshot.pid_of(thread)
                labels = [
                    _label(strings, "thread", thread.name),
                    _label(strings, "thread_id", num=thread.native_id),
                    *([_label(strings, "pid", num=thread_pid)] if thread_pid else []),
                ]
                rest = thread_without_tasks(thread) if thread.tasks else thread
                trees: list[tuple[ThreadProfile, list[bytes], list[int] | None]] = [
                    (rest, labels, None)
                ]
                for task in thread.tasks:
                    tagged = [
                        *labels,
                        _label(strings, "task", task.name),
                        _label(strings, "task_id", num=task.id),
                    ]
                    trees.append((task, tagged, task.prefix))
                for tree, tags, prefix in trees:
                    data = _c_samples(snapshot, tree, locs, sample_types, tags, prefix)
                    if data is None:  # times beyond 64 bits: Python's ints
                        write(_packed_samples(snapshot, tree, encoded, sample_types, prefix), tags)
                    else:
                        gz.write(data)
        else:
            _write_aggregated(
                snapshot, funcs, strings, sample_types, max_samples, pid, write, notes
            )

        gz.write(field_message(_MAPPING, _mapping(snapshot, strings)))
        gz.write(b"".join(funcs.locations))
        gz.write(b"".join(funcs.functions))
        if snapshot.start_time:
            gz.write(field_varint(_TIME_NANOS, round(snapshot.start_time * 1e9)))
        if snapshot.duration:
            gz.write(field_varint(_DURATION_NANOS, to_ns(snapshot.duration)))
        period = {"all": snapshot.primary, "locks": "lock-acquire-wait"}.get(
            sample_types, sample_types
        )
        gz.write(field_message(_PERIOD_TYPE, _value_type(strings, period, "nanoseconds")))
        gz.write(field_varint(_PERIOD, 1))
        comments = [creator(), f"clock: {snapshot.clock}, CPU time: {snapshot.cpu_mode}"]
        if snapshot.argv:
            comments.append(f"command: {shlex.join(snapshot.argv)}")
        comments += notes
        for text in comments:
            gz.write(field_varint(_COMMENT, strings(text)))
        gz.write(field_varint(_DEFAULT_SAMPLE_TYPE, strings(period)))
        gz.write(strings.encode())


def _write_locks(
    snapshot: Snapshot,
    funcs: _Functions,
    strings: _Strings,
    write: Callable[[Iterable[tuple[bytes, Values]], list[bytes]], None],
) -> None:
    """The samples of ``sample_types="locks"``: per lock, per thread and per
    call, its acquires and their wait, and the holds it began."""
    to_ns = ns_converter(snapshot.unit)
    stacks: dict[tuple[int, int], bytes] = {}

    def stack(thread: int, node: int) -> bytes:
        key = (thread, node)
        if key not in stacks:
            path = snapshot.threads[thread].path(node)
            stacks[key] = b"".join(varint(funcs.location[f]) for f in reversed(path))
        return stacks[key]

    for lock in analyse(snapshot).locks:
        name = _label(strings, "lock name", lock_name(snapshot, lock))
        calls = set(lock.waits_by_call) | set(lock.holds_by_call)
        for thread, node in sorted(calls):
            t = snapshot.threads[thread]
            pid = snapshot.pid_of(t)
            labels = [
                name,
                _label(strings, "thread", t.name),
                _label(strings, "thread_id", num=t.native_id),
                *([_label(strings, "pid", num=pid)] if pid else []),
            ]
            count, wait = lock.waits_by_call.get((thread, node), (0, 0))
            _, hold = lock.holds_by_call.get((thread, node), (0, 0))
            write([(stack(thread, node), [count, to_ns(wait), to_ns(hold)])], labels)


def _mapping(snapshot: Snapshot, strings: _Strings) -> list[bytes]:
    """The one Mapping: the program, with functions, files and lines resolved."""
    program = snapshot.argv[0] if snapshot.argv else "python"
    return [
        field_varint(1, _MAPPING_ID),
        field_varint(5, strings(program)),
        field_varint(7, 1),  # has_functions
        field_varint(8, 1),  # has_filenames
        field_varint(9, 1),  # has_line_numbers
    ]


def _write_aggregated(
    snapshot: Snapshot,
    funcs: _Functions,
    strings: _Strings,
    types: str,
    budget: int,
    pid: list[bytes],
    write: Callable[[Iterable[tuple[bytes, Values]], list[bytes]], None],
    notes: list[str],
) -> None:
    """The samples of ``snapshot`` aggregated into at most ``budget``."""
    location = funcs.location
    codes = {lid: varint(lid) for lid in range(1, funcs.count + 2)}

    def packed(samples: Iterable[tuple[Stack, Values]]) -> Iterator[tuple[bytes, Values]]:
        for stack, values in samples:
            yield b"".join(codes[lid] for lid in stack), values

    # threads grouped by name, in each process apart
    groups: dict[tuple[int, str], list[ThreadProfile]] = {}
    for thread in snapshot.threads:
        key = (snapshot.pid_of(thread), thread_group_key(thread.name))
        groups.setdefault(key, []).append(thread)
    by_group: dict[tuple[int, str], dict[Stack, Values]] = {}
    for key, members in groups.items():
        merged = by_group[key] = {}
        for thread in members:
            _merge(merged, _node_samples(snapshot, thread, location, types))
    if sum(len(m) for m in by_group.values()) <= budget:
        notes.append(
            f"aggregated to at most {budget} samples: threads grouped by name "
            "(label thread is the group's pattern)"
        )
        for key, merged in by_group.items():
            members = groups[key]
            labels = [
                _label(strings, "thread", key[1]),
                _label(strings, "threads", num=len(members)),
            ]
            if len(members) == 1:
                labels.append(_label(strings, "thread_id", num=members[0].native_id))
            if key[0]:
                labels.append(_label(strings, "pid", num=key[0]))
            write(packed(merged.items()), labels)
        return
    merged = {}
    for group in by_group.values():
        _merge(merged, group.items())
    labels = [
        _label(strings, "thread", "all threads"),
        _label(strings, "threads", num=len(snapshot.threads)),
        *pid,
    ]
    if len(merged) <= budget:
        notes.append(f"aggregated to at most {budget} samples: all threads merged")
        write(packed(merged.items()), labels)
        return
    frame = funcs.count + 1
    folded = _fold(merged, budget, frame)
    notes.append(
        f"aggregated to at most {budget} samples: all threads merged, the stacks of least "
        f"time folded into their callers ({len(merged)} stacks became {len(folded)} samples)"
    )
    funcs.add(strings, frame, ("[functions folded]", "~:[functions folded]", "", 0))
    write(packed(folded.items()), labels)
