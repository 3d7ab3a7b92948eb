# SPDX-License-Identifier: MIT
"""Reading pstats files safely, and what can be made of them.

A pstats file (``cProfile -o``, ``Profile.dump_stats``, ``threadprof run -o
x.prof``) is a ``marshal``-ed dict::

    {(file, line, name): (cc, nc, tt, ct, {(file, line, name): caller entry})}

where a caller entry is ``(nc, cc, tt, ct)`` (cProfile) or a call count
(the pure-Python ``profile`` module).

**Why not marshal.loads.** ``marshal`` can build code objects, and a file is
input from anywhere. :func:`read_stats` therefore never calls it: a small
restricted reader of the marshal format accepts only the types that pstats
writes -- dicts, tuples, text strings, integers and floats, and marshal's
back-references to them -- and refuses every other type code (code objects,
bytes, lists, sets, None...) at the byte where it appears, before anything is
built. Every length and count is checked against the bytes left before it is
used, nesting is limited to what pstats needs, integers to 150 bits, and a
back-reference may only name an object that is complete (no cycles). The result
is then validated against the exact shape above, and trailing bytes are
refused. Any deviation is a :class:`~threadprof.fileformat.ProfileFormatError`.

**What a pstats file converts to.** It holds per-function totals and caller ->
callee edges, with no threads, no call paths and no timeline. It converts
exactly to pstats (the validated dict is written back) and to callgrind, whose
content is exactly that: self cost per function and inclusive cost per call
edge. :func:`stats_to_snapshot` builds the snapshot for that: one pseudo-thread
``pstats`` whose tree has, under the root, one node per function holding its
calls and self time, and under each caller's node one node per edge holding
the edge's calls and inclusive time. Its per-function self times and its
edges are the file's; it is not a real call tree, which is why the formats that
show call paths or time (collapsed stacks, speedscope, pprof, Chrome,
Perfetto) and ``.tprof`` are refused for pstats input.
"""

from __future__ import annotations

import math
import os
import struct
from typing import Any, NoReturn

from .fileformat import ProfileFormatError
from .model import Function, Node, Snapshot, ThreadProfile

__all__ = ["MAX_FILE_SIZE", "parse_stats", "read_stats", "stats_to_snapshot"]

#: pstats files larger than this are refused (a real one is a few megabytes).
MAX_FILE_SIZE = 1 << 30
#: Nesting of containers that pstats needs: dict > tuple > dict > tuple > value.
_MAX_DEPTH = 6
#: 15-bit digits of a marshalled integer: 10 is 150 bits, far beyond any count.
_MAX_LONG_DIGITS = 10

_FLAG_REF = 0x80
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")

_PENDING = object()  # a back-reference slot whose object is not complete yet

_STR_LONG = frozenset(b"uatA")  # u32 length
_STR_SHORT = frozenset(b"zZ")  # u8 length
_REFUSED = {
    ord("c"): "a code object",
    ord("s"): "a byte string (a Python 2 file?)",
    ord("["): "a list",
    ord("<"): "a set",
    ord(">"): "a frozenset",
    ord("N"): "None",
    ord("T"): "True",
    ord("F"): "False",
    ord("x"): "a complex number",
    ord("y"): "a complex number",
    ord("S"): "StopIteration",
    ord("."): "Ellipsis",
    ord("0"): "a misplaced end of dict",
}


class _Unmarshal:
    """The restricted marshal reader (see the module docstring)."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        self.pos = 0
        self.refs: list[Any] = []

    def fail(self, reason: str, at: int | None = None) -> NoReturn:
        where = self.pos if at is None else at
        raise ProfileFormatError(self.path, f"not a valid pstats file: {reason} at byte {where}")

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            self.fail("truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def length(self, n: int, item_size: int = 1) -> int:
        """``n``, checked: that many items of at least ``item_size`` bytes fit."""
        if n * item_size > len(self.data) - self.pos:
            self.fail("a length beyond the end of the file")
        return n

    def load(self, depth: int = 0) -> Any:
        start = self.pos
        if depth > _MAX_DEPTH:
            self.fail("nesting deeper than a pstats file has", start)
        code = self.u8()
        flag, t = code & _FLAG_REF, code & ~_FLAG_REF
        if t == ord("r"):
            index = self.u32()
            if index >= len(self.refs) or self.refs[index] is _PENDING:
                self.fail("a back-reference to nothing", start)
            return self.refs[index]
        slot = -1
        if flag:
            slot = len(self.refs)
            self.refs.append(_PENDING)
        value = self._value(t, depth, start)
        if slot >= 0:
            self.refs[slot] = value
        return value

    def _value(self, t: int, depth: int, start: int) -> Any:
        if t == ord("i"):
            return _I32.unpack(self.take(4))[0]
        if t == ord("l"):
            return self._long(start)
        if t == ord("g"):
            return _F64.unpack(self.take(8))[0]
        if t == ord("f"):
            text = self.take(self.u8())
            try:
                return float(text.decode("ascii"))
            except ValueError:
                self.fail("a malformed float", start)
        if t in _STR_LONG or t in _STR_SHORT:
            n = self.u32() if t in _STR_LONG else self.u8()
            raw = self.take(self.length(n))
            try:
                if t in b"ut":
                    return raw.decode("utf-8", "surrogatepass")
                return raw.decode("ascii")
            except UnicodeDecodeError:
                self.fail("a malformed string", start)
        if t in (ord("("), ord(")")):
            n = self.length(self.u32() if t == ord("(") else self.u8())
            return tuple(self.load(depth + 1) for _ in range(n))
        if t == ord("{"):
            out: dict[Any, Any] = {}
            while True:
                if self.pos >= len(self.data):
                    self.fail("truncated")
                if self.data[self.pos] == ord("0"):
                    self.pos += 1
                    return out
                key_at = self.pos
                key = self.load(depth + 1)
                value = self.load(depth + 1)
                try:
                    out[key] = value
                except TypeError:
                    self.fail("an unhashable dict key", key_at)
        what = _REFUSED.get(t, f"the unknown type code 0x{t:02x}")
        self.fail(f"{what} (refused)", start)

    def _long(self, start: int) -> int:
        n = _I32.unpack(self.take(4))[0]
        size = abs(n)
        if size > _MAX_LONG_DIGITS:
            self.fail("an integer too large for a pstats file", start)
        raw = self.take(2 * size)
        value = 0
        for i in range(size - 1, -1, -1):
            digit = raw[2 * i] | raw[2 * i + 1] << 8
            if digit >= 1 << 15 or (i == size - 1 and digit == 0):
                self.fail("a malformed integer", start)
            value = value << 15 | digit
        return -value if n < 0 else value


# -- validation ------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_count(v: Any) -> bool:
    return type(v) is int and v >= 0


def _is_time(v: Any) -> bool:
    return (type(v) is float and math.isfinite(v)) or type(v) is int


def _is_key(k: Any) -> bool:
    return (
        type(k) is tuple
        and len(k) == 3
        and type(k[0]) is str
        and _is_int(k[1])
        and type(k[2]) is str
    )


def _check_shape(stats: Any, fail: Any, size: int) -> None:
    if type(stats) is not dict:
        fail("not a pstats stats dict")
    edges = 0
    for key, entry in stats.items():
        if not _is_key(key):
            fail("a function key that is not (file, line, name)")
        if not (
            type(entry) is tuple
            and len(entry) == 5
            and _is_count(entry[0])
            and _is_count(entry[1])
            and _is_time(entry[2])
            and _is_time(entry[3])
            and type(entry[4]) is dict
        ):
            name = f"{key[2]} ({key[0]}:{key[1]})"
            fail(f"the entry of {name} is not (calls, calls, time, time, callers)")
        edges += len(entry[4])
    # marshal can share one callers dict between many entries, which pstats
    # never writes: a small file would then stand for a quadratic number of
    # edges. Each caller entry of a real file takes more than a byte.
    if edges > size:
        fail(f"{edges} caller entries in {size} bytes: callers shared between functions")
    for key, entry in stats.items():
        name = f"{key[2]} ({key[0]}:{key[1]})"
        for ckey, centry in entry[4].items():
            if not _is_key(ckey):
                fail(f"a caller key of {name} that is not (file, line, name)")
            if _is_count(centry):
                continue  # the profile module's callers: a call count
            if not (
                type(centry) is tuple
                and len(centry) == 4
                and _is_count(centry[0])
                and _is_count(centry[1])
                and _is_time(centry[2])
                and _is_time(centry[3])
            ):
                fail(f"a caller entry of {name} is not (calls, calls, time, time)")


def parse_stats(data: bytes, path: str = "<bytes>") -> dict[Any, Any]:
    """The stats dict of a pstats file's content; raises ProfileFormatError."""
    reader = _Unmarshal(path, data)
    stats = reader.load()
    if reader.pos != len(data):
        reader.fail("trailing data after the stats")

    def fail(reason: str) -> NoReturn:
        raise ProfileFormatError(path, f"not a valid pstats file: {reason}")

    _check_shape(stats, fail, len(data))
    return stats  # type: ignore[no-any-return]


def read_stats(path: str | os.PathLike[str]) -> dict[Any, Any]:
    """Read and validate a pstats file (see the module docstring)."""
    text = os.fspath(path)
    try:
        with open(text, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_SIZE:
                raise ProfileFormatError(text, f"too large for a pstats file ({size} bytes)")
            data = f.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        raise ProfileFormatError(text, exc.strerror or str(exc)) from exc
    return parse_stats(data, text)


# -- a snapshot for the formats that a pstats file allows -------------------------

_NS = 1e-9


def _ticks(seconds: float) -> int:
    return round(seconds / _NS)


def stats_to_snapshot(stats: dict[Any, Any], name: str = "pstats") -> Snapshot:
    """The snapshot of a validated stats dict (see the module docstring).

    Times become integer nanoseconds (``unit`` 1e-9, wall clock, no CPU time).
    """
    ids: dict[tuple[str, int, str], int] = {}
    functions: list[Function] = []

    def fid(key: tuple[str, int, str]) -> int:
        found = ids.get(key)
        if found is None:
            filename, lineno, fname = key
            c = filename == "~" and lineno == 0
            found = ids[key] = len(functions)
            functions.append(
                Function(found, "c" if c else "python", fname, fname, filename, lineno)
            )
        return found

    for key in stats:
        fid(key)
    for entry in stats.values():
        for ckey in entry[4]:
            fid(ckey)

    root = Node(0, -1, -1)
    nodes = [root]
    top: dict[int, Node] = {}
    for key, (cc, nc, tt, ct, _callers) in stats.items():
        node = Node(len(nodes), 0, fid(key), nc, cc, _ticks(ct), _ticks(tt))
        nodes.append(node)
        top[node.func] = node
    for key, (_cc, _nc, _tt, _ct, callers) in stats.items():
        callee = fid(key)
        for ckey, centry in callers.items():
            caller = fid(ckey)
            if caller not in top:
                node = Node(len(nodes), 0, caller)
                nodes.append(node)
                top[caller] = node
            calls, prim, ct = (
                (centry, centry, 0.0) if type(centry) is int else (*centry[:2], centry[3])
            )
            nodes.append(Node(len(nodes), top[caller].id, callee, calls, prim, _ticks(ct)))
            # the calls were counted on the callee's own node: keep the totals exact
            top[callee].calls -= calls
            top[callee].prim_calls -= prim
    for n in nodes[1:]:
        nodes[n.parent].children.append(n.id)
    wall = sum(n.wall_self for n in nodes)
    thread = ThreadProfile(
        serial=1,
        ident=0,
        native_id=0,
        name=name,
        first_seen=0,
        last_seen=wall,
        wall_time=wall,
        cpu_time=0,
        nodes=nodes,
    )
    return Snapshot(
        clock="wall",
        unit=_NS,
        functions=functions,
        threads=[thread],
        cpu_mode="none",
        duration=wall,
    )
