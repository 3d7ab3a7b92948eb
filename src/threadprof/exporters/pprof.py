# SPDX-License-Identifier: MIT
"""pprof's profile format (profile.proto, gzip-compressed), read by ``go tool pprof``,
Pyroscope, Parca, Grafana and speedscope.

Three sample types, in this order: ``wall/nanoseconds``, ``cpu/nanoseconds``
(self times) and ``calls/count``; ``default_sample_type`` is the primary clock
(``--clock``). Every call-tree node of every thread is one sample: its stack
(leaf first, as pprof wants), its self wall and CPU time and its call count,
and two labels, ``thread`` (the thread's name) and ``thread_id`` (its native
id). pprof adds samples up, so the totals per function, per thread and per
stack are those of the snapshot; ``go tool pprof -tagfocus thread=worker``
selects a thread.

There is one Location per function, with one Line at the function's first line
(the profiler records functions, not lines). A Python function has its
``qualname`` as name, its ``co_name`` as system name, its file and first line;
a C function has pstats' label (``{built-in method builtins.len}``) and no file.
Functions that share all of these share a Function and a Location.

The message is encoded by :mod:`threadprof.exporters._protobuf` and streamed
into gzip as it is built; strings are UTF-8, so names survive as they are.
"""

from __future__ import annotations

import gzip
import shlex
from typing import BinaryIO

from ..model import Snapshot, ThreadProfile
from ._common import creator, function_name, ns_converter
from ._protobuf import field_message, field_packed, field_string, field_varint

__all__ = ["SAMPLE_TYPES", "dump"]

#: ``(type, unit)`` of each sample value, in order.
SAMPLE_TYPES = (("wall", "nanoseconds"), ("cpu", "nanoseconds"), ("calls", "count"))

# field numbers of profile.proto
_SAMPLE_TYPE, _SAMPLE, _LOCATION, _FUNCTION, _STRING_TABLE = 1, 2, 4, 5, 6
_TIME_NANOS, _DURATION_NANOS, _PERIOD_TYPE, _PERIOD = 9, 10, 11, 12
_COMMENT, _DEFAULT_SAMPLE_TYPE = 13, 14
_LABEL = 3  # in Sample


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


def _thread_labels(strings: _Strings, thread: ThreadProfile) -> bytes:
    """The sample labels ``thread`` (name) and ``thread_id`` (native id), encoded."""
    name = [field_varint(1, strings("thread")), field_varint(2, strings(thread.name))]
    tid = [field_varint(1, strings("thread_id")), field_varint(3, thread.native_id)]
    return field_message(_LABEL, name) + field_message(_LABEL, tid)


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write every thread of ``snapshot`` as a gzip-compressed pprof profile."""
    strings = _Strings()
    to_ns = ns_converter(snapshot.unit)

    # pprof Function / Location id (the same number) of each function id
    location: dict[int, int] = {}
    keyed: dict[tuple[str, str, str, int], int] = {}
    functions: list[bytes] = []
    locations: list[bytes] = []
    for func in snapshot.functions:
        filename = "" if func.kind == "c" else func.filename
        key = (function_name(func), func.name, filename, func.lineno)
        lid = keyed.get(key)
        if lid is None:
            lid = keyed[key] = len(keyed) + 1
            fields = [
                field_varint(1, lid),
                field_varint(2, strings(key[0])),
                field_varint(3, strings(key[1])),
            ]
            if filename:
                fields.append(field_varint(4, strings(filename)))
            if func.lineno:
                fields.append(field_varint(5, func.lineno))
            functions.append(field_message(_FUNCTION, fields))
            line = [field_varint(1, lid)]
            if func.lineno:
                line.append(field_varint(2, func.lineno))
            locations.append(
                field_message(_LOCATION, [field_varint(1, lid), field_message(4, line)])
            )
        location[func.id] = lid

    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        for kind, unit in SAMPLE_TYPES:
            gz.write(field_message(_SAMPLE_TYPE, _value_type(strings, kind, unit)))
        for thread in snapshot.threads:
            labels = _thread_labels(strings, thread)
            stacks: dict[int, list[int]] = {0: []}
            chunk: list[bytes] = []
            for node, _depth in thread.walk():
                stack = stacks[node.id] = [location[node.func], *stacks[node.parent]]
                values = (to_ns(node.wall_self), to_ns(node.cpu_self), node.calls)
                chunk.append(
                    field_message(
                        _SAMPLE, [field_packed(1, stack), field_packed(2, values), labels]
                    )
                )
                if len(chunk) >= 4096:
                    gz.write(b"".join(chunk))
                    chunk.clear()
            gz.write(b"".join(chunk))

        gz.write(b"".join(locations))
        gz.write(b"".join(functions))
        if snapshot.start_time:
            gz.write(field_varint(_TIME_NANOS, round(snapshot.start_time * 1e9)))
        if snapshot.duration:
            gz.write(field_varint(_DURATION_NANOS, to_ns(snapshot.duration)))
        gz.write(
            field_message(_PERIOD_TYPE, _value_type(strings, snapshot.primary, "nanoseconds"))
        )
        gz.write(field_varint(_PERIOD, 1))
        comments = [creator(), f"clock: {snapshot.clock}, CPU time: {snapshot.cpu_mode}"]
        if snapshot.argv:
            comments.append(f"command: {shlex.join(snapshot.argv)}")
        for text in comments:
            gz.write(field_varint(_COMMENT, strings(text)))
        gz.write(field_varint(_DEFAULT_SAMPLE_TYPE, strings(snapshot.primary)))
        gz.write(strings.encode())
