# SPDX-License-Identifier: MIT
"""Seeds and mutators for fuzzing the profile readers through ``threadprof convert``.

Mutations are of two kinds:

* blind: bit flips, overwritten bytes, truncations, insertions and deletions,
  random values in the length and offset fields, other formats' headers,
  splices of two files. Most of these are caught by a section's CRC;
* structure-aware: the file is taken apart into its sections and metadata, a
  decompressed payload or a metadata value is changed, and the file is put
  back together with valid checksums, offsets and footer, so that the reader's
  validation itself is exercised (node tables, timeline encodings, JSON types).

pstats files get the same blind mutations plus marshal-aware ones: type codes
swapped for others (code objects among them), lengths and counts replaced.
Everything is driven by a ``random.Random`` so that a seed gives the same cases.
"""

from __future__ import annotations

import copy
import json
import marshal
import random
import struct
import zlib
from typing import Any

from threadprof import tprof

FOREIGN_HEADERS = [
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00",  # gzip (pprof)
    b'{"traceEvents":[',  # Chrome JSON
    b'{"$schema": "https://www.speedscope.app/file-format-schema.json"',
    b"PK\x03\x04",  # zip
    b"\x80\x04\x95",  # pickle
    b"\x7fELF\x02\x01\x01",  # ELF
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"# callgrind format\nversion: 1\n",
    b"\n\x02\x08\x01",  # protobuf (Perfetto)
    b"\xfb\x00",  # a pstats-looking first byte, then nonsense
    b"{0",  # an empty marshal dict, then more
    b"\x89TPROF\r\n\x02\x00\x00\x00",  # a .tprof of major version 2
    b"\x89TPROF\r\n\x00\x00\x00\x00",  # a .tprof of major version 0
]

INTERESTING_INTS = [0, 1, 2, 7, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1]
INTERESTING_U64 = [*INTERESTING_INTS, 2**32, 2**63 - 1, 2**63, 2**64 - 1]
JSON_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    1.5,
    -0.0,
    float("nan"),
    float("inf"),
    "",
    "x",
    "python",
    "c",
    "\udcff",
    [],
    [0],
    [0, 0],
    [[16, 1]],
    {},
    {"events": 1, "dropped": 0, "chunks": [[16, 1]]},
]


# -- .tprof anatomy -----------------------------------------------------------------


class Parts:
    """A .tprof file taken apart: its sections (raw payloads) and its metadata."""

    def __init__(self, data: bytes) -> None:
        self.header = data[: tprof.HEADER.size]
        meta_offset, _, _ = tprof.FOOTER.unpack(data[-tprof.FOOTER.size :])
        self.sections: list[list[Any]] = []  # [tag, thread, count, raw payload, old offset]
        offset = tprof.HEADER.size
        while offset < meta_offset:
            tag, enc, thread, count, _crc, stored, _raw = tprof.SECTION.unpack_from(data, offset)
            body = data[offset + tprof.SECTION.size : offset + tprof.SECTION.size + stored]
            raw = zlib.decompress(body) if enc == tprof.ENC_ZLIB else body
            self.sections.append([tag, thread, count, raw, offset])
            offset += tprof.SECTION.size + stored
        tag, enc, *_rest, stored, _raw = tprof.SECTION.unpack_from(data, meta_offset)
        body = data[meta_offset + tprof.SECTION.size : meta_offset + tprof.SECTION.size + stored]
        self.meta = json.loads(zlib.decompress(body) if enc == tprof.ENC_ZLIB else body)

    def build(self, rng: random.Random | None = None, mutate_meta: bool = False) -> bytes:
        """The file again, with valid checksums, offsets and footer."""
        out = bytearray(self.header)
        moved: dict[int, int] = {}
        for tag, thread, count, raw, old in self.sections:
            moved[old] = len(out)
            stored = zlib.compress(raw)
            enc = tprof.ENC_ZLIB
            if rng is not None and rng.random() < 0.3:
                stored, enc = raw, tprof.ENC_STORED
            out += tprof.SECTION.pack(
                tag, enc, thread, count, zlib.crc32(stored), len(stored), len(raw)
            )
            out += stored
        meta = json.loads(json.dumps(self.meta))
        for t in meta.get("threads", []):
            if not isinstance(t, dict):
                continue
            for key in ("nodes", "children"):
                if isinstance(t.get(key), int):
                    t[key] = moved.get(t[key], t[key])
            tl = t.get("timeline")
            if isinstance(tl, dict) and isinstance(tl.get("chunks"), list):
                for chunk in tl["chunks"]:
                    if isinstance(chunk, list) and chunk and isinstance(chunk[0], int):
                        chunk[0] = moved.get(chunk[0], chunk[0])
        if mutate_meta and rng is not None:
            meta = mutate_json(meta, rng)
        payload = json.dumps(meta).encode("ascii")
        meta_offset = len(out)
        stored = zlib.compress(payload)
        out += tprof.SECTION.pack(
            tprof.TAG_META,
            tprof.ENC_ZLIB,
            tprof.NO_THREAD,
            0,
            zlib.crc32(stored),
            len(stored),
            len(payload),
        )
        out += stored
        out += tprof.FOOTER.pack(meta_offset, len(out) + tprof.FOOTER.size, tprof.END_MAGIC)
        return bytes(out)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:8]):
            found += _paths(v, (*prefix, i))
    return found


def mutate_json(meta: Any, rng: random.Random) -> Any:
    """``meta`` with one to three values replaced, removed or duplicated."""
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(meta) if p]
        if not paths:
            return copy.deepcopy(rng.choice(JSON_VALUES))
        path = rng.choice(paths)
        parent = meta
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.25 and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif action < 0.4 and isinstance(parent[key], int) and not isinstance(parent[key], bool):
            parent[key] += rng.choice([-1, 1, 16, -16, 1000, 2**32])
        else:
            parent[key] = copy.deepcopy(rng.choice(JSON_VALUES))
    return meta


def mutate_payload(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    if not data or rng.random() < 0.2:
        return bytes(data) + bytes(rng.randint(1, 16))
    choice = rng.random()
    if choice < 0.5:
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif choice < 0.75:
        pos = rng.randrange(len(data))
        data[pos : pos + 8] = struct.pack("<q", rng.choice([-1, 0, 1, 2**31, -(2**63), 2**63 - 1]))
    else:
        del data[rng.randrange(len(data)) :]
    return bytes(data)


def structured_tprof(data: bytes, rng: random.Random) -> bytes:
    parts = Parts(data)
    choice = rng.random()
    if choice < 0.45 or not parts.sections:
        return parts.build(rng, mutate_meta=True)
    section = rng.choice(parts.sections)
    if choice < 0.8:
        section[3] = mutate_payload(section[3], rng)
    elif choice < 0.9:
        section[2] = rng.choice(INTERESTING_INTS)  # the count
    else:
        section[1] = rng.choice([0, 1, 2, 0xFFFFFFFF])  # the thread
    return parts.build(rng)


# -- blind mutations ---------------------------------------------------------------


def _field_offsets(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of the length, count and offset fields of a .tprof file."""
    fields = [(8, 2), (10, 2)]
    try:
        meta_offset, _, _ = tprof.FOOTER.unpack(data[-tprof.FOOTER.size :])
        fields += [(len(data) - 24, 8), (len(data) - 16, 8)]
        offset = tprof.HEADER.size
        while offset <= meta_offset and offset + tprof.SECTION.size <= len(data):
            # thread, count, crc at +8, +12, +16; stored, raw at +20, +28
            fields += [(offset + 8, 4), (offset + 12, 4), (offset + 20, 8), (offset + 28, 8)]
            stored = struct.unpack_from("<Q", data, offset + 20)[0]
            offset += tprof.SECTION.size + stored
    except struct.error:
        pass
    return fields


def blind(data: bytes, rng: random.Random, foreign: list[bytes]) -> bytes:
    out = bytearray(data)
    choice = rng.random()
    if choice < 0.2:  # bit flips
        for _ in range(rng.randint(1, 8)):
            if out:
                out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif choice < 0.35:  # truncation
        del out[rng.randrange(len(out) + 1) :]
    elif choice < 0.5:  # a length, count or offset field set to a random value
        offset, width = rng.choice(_field_offsets(data))
        values = INTERESTING_U64 if width == 8 else INTERESTING_INTS
        value = rng.choice([*values, rng.getrandbits(8 * width)]) % (1 << (8 * width))
        out[offset : offset + width] = value.to_bytes(width, "little")
    elif choice < 0.6:  # bytes overwritten
        pos = rng.randrange(max(len(out), 1))
        n = rng.randint(1, 16)
        out[pos : pos + n] = bytes(rng.choice([0, 0xFF, rng.randrange(256)]) for _ in range(n))
    elif choice < 0.7:  # bytes inserted or removed
        pos = rng.randrange(len(out) + 1)
        if rng.random() < 0.5:
            out[pos:pos] = rng.randbytes(rng.randint(1, 64))
        else:
            del out[pos : pos + rng.randint(1, 64)]
    elif choice < 0.8:  # another format's header
        head = rng.choice(FOREIGN_HEADERS)
        out[: len(head)] = head
    elif choice < 0.9:  # a splice of two files
        other = rng.choice(foreign)
        cut = rng.randrange(len(out) + 1)
        out[cut:] = other[rng.randrange(len(other) + 1) :]
    else:  # random bytes after a valid magic
        out[tprof.HEADER.size :] = rng.randbytes(rng.randint(0, 200))
    return bytes(out)


# -- pstats -------------------------------------------------------------------------

_MARSHAL_CODES = b"0NFTS.ifglxystr([{}<>ucaAzZ):?"


def pstats_mutation(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    out = bytearray(data)
    choice = rng.random()
    if choice < 0.35:  # a type code replaced (code objects, lists... must be refused)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(out))
            out[pos] = rng.choice(_MARSHAL_CODES) | (0x80 if rng.random() < 0.3 else 0)
    elif choice < 0.5:  # a 32-bit length or count
        pos = rng.randrange(max(len(out) - 4, 1))
        out[pos : pos + 4] = rng.choice(INTERESTING_INTS).to_bytes(4, "little")
    elif choice < 0.6:  # a marshalled foreign object inserted
        value = rng.choice(
            [compile("x=1", "f", "exec"), [1], {1, 2}, None, b"b", 1j, (1,) * 40, "s" * 300]
        )
        pos = rng.randrange(len(out) + 1)
        out[pos:pos] = marshal.dumps(value)
    else:
        return blind(data, rng, seeds)
    return bytes(out)


# -- seeds --------------------------------------------------------------------------


def _seed_snapshots() -> list[Any]:
    from threadprof.model import Function, Node, Snapshot, ThreadProfile, Timeline, build_tree

    functions = [
        Function(0, "python", "main", "main", "app.py", 1),
        Function(1, "python", "f", 'Cls."f"\n;%', "dir \\ ü.py", 20),
        Function(2, "c", "<built-in function len>", "<built-in function len>", "~", 0),
        Function(3, "python", "g\udcff", "g", "\udcffx.py", 30),
    ]

    def tree(*spec: tuple[int, int, int, int]) -> list[Any]:
        """(parent, func, calls, wall) per node after the root."""
        nodes = [Node(0, -1, -1)]
        for i, (parent, func, calls, wall) in enumerate(spec, 1):
            nodes.append(Node(i, parent, func, calls, 0, wall, wall // 2, wall // 3, wall // 4))
        return build_tree(nodes)

    def thread(serial: int, name: str, nodes: list[Any], events: Any = None) -> Any:
        timeline = None if events is None else Timeline.from_events(events, dropped=serial - 1)
        return ThreadProfile(
            serial, 1000 + serial, 2000 + serial, name, 0, 100, 100, 60, nodes, ["w"], timeline
        )

    main_events = [(0, 0), (1, 5), (2, 6), (~2, 7), (~1, 9), (1, 10), (~1, 20), (3, 21)]
    main_events += [(~3, 30), (~0, 40)]
    worker_events = [(~1, 3), (1, 5), (3, 6), (~3, 8), (~1, 11), (1, 12)]
    kids = tree((0, 0, 1, 100), (1, 1, 2, 50), (1, 3, 1, 20), (2, 2, 5, 9))
    kids[1].children.reverse()  # a KIDS section
    common = {"clock": "wall", "unit": 1e-9, "functions": functions, "argv": ["app.py", "x"]}
    return [
        Snapshot(threads=[], **{**common, "functions": []}),
        Snapshot(
            threads=[
                thread(1, "MainThread", tree((0, 0, 1, 100), (1, 1, 3, 40), (2, 2, 6, 9))),
                thread(2, "worker-1", tree((0, 3, 0, 70), (1, 1, 2, 30))),
            ],
            warnings=["a warning"],
            **common,
        ),
        Snapshot(
            threads=[
                thread(1, "MainThread", tree((0, 0, 1, 40), (1, 1, 2, 25)), main_events),
                thread(2, "wörker;\n2", kids, worker_events),
                thread(3, "idle", tree((0, 2, 1, 5))),
            ],
            engine="monitoring",
            pid=42,
            start_time=1.5,
            duration=100,
            python_version="3.12.1",
            **common,
        ),
    ]


def tprof_seeds() -> list[bytes]:
    """Small .tprof files: no thread; call trees only; timelines in many small
    chunks, a KIDS section, odd names. Written with 3-event timeline chunks so
    that a small file has many sections."""
    import io

    saved = tprof.CHUNK_EVENTS
    tprof.CHUNK_EVENTS = 3
    try:
        seeds = []
        for snap in _seed_snapshots():
            buf = io.BytesIO()
            tprof.write(snap, buf)
            seeds.append(buf.getvalue())
        return seeds
    finally:
        tprof.CHUNK_EVENTS = saved


def pstats_seeds() -> list[bytes]:
    """cProfile's, the profile module's and threadprof's pstats files, and an empty one."""
    import cProfile
    import io
    import profile

    from threadprof.exporters import get_exporter

    def work() -> int:
        return sum(len(str(i)) for i in range(5))

    seeds = []
    for make in (cProfile.Profile, profile.Profile):
        p = make()
        p.runcall(work)
        p.create_stats()
        seeds.append(marshal.dumps(p.stats))
    seeds.append(get_exporter("pstats").to_bytes(_seed_snapshots()[1]))
    seeds.append(marshal.dumps({}))
    buf = io.BytesIO()
    get_exporter("pstats").dump(_seed_snapshots()[2], buf)
    seeds.append(marshal.dumps(marshal.loads(buf.getvalue()), 2))  # no back-references
    return seeds
