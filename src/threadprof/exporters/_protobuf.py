# SPDX-License-Identifier: MIT
"""A minimal protocol-buffers encoder, so that pprof and Perfetto need no dependency.

Only encoding, and only the wire types those formats use: varints (``int32``,
``int64``, ``uint64``, ``bool``, enums; negative values as ten-byte two's
complement, as protobuf does for ``int64``), zigzag for ``sint`` fields, and
length-delimited fields (strings, bytes, embedded messages, packed repeated
varints). A message is built as ``bytes``: the concatenation of its fields, in
any order -- decoders merge repeated fields in the order they appear, which is
what lets the exporters stream a message's repeated fields as they go.

Strings are UTF-8. A lone surrogate (a file name that was not valid UTF-8,
decoded with ``surrogateescape``) cannot be UTF-8, so it is written as its
``\\udcXX`` escape, which keeps the output a valid protobuf.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "LEN",
    "VARINT",
    "field_bytes",
    "field_message",
    "field_packed",
    "field_string",
    "field_varint",
    "key",
    "utf8",
    "varint",
    "zigzag",
]

VARINT = 0  # wire type of varint fields
LEN = 2  # wire type of length-delimited fields

_ONE_BYTE = tuple(bytes((i,)) for i in range(128))
_UINT64 = 1 << 64


def varint(value: int) -> bytes:
    """``value`` as a base-128 varint; a negative value as its 64-bit two's complement."""
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    if value < 0:
        if value < -(1 << 63):
            raise OverflowError(f"{value} does not fit in 64 bits")
        value += _UINT64
    elif value >= _UINT64:
        raise OverflowError(f"{value} does not fit in 64 bits")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(value: int) -> int:
    """The zigzag mapping of a signed 64-bit value (``sint64``): 0, -1, 1, -2 -> 0, 1, 2, 3."""
    return (value << 1) ^ (value >> 63)


def key(field: int, wire_type: int) -> bytes:
    """The key that starts a field: field number and wire type."""
    return varint((field << 3) | wire_type)


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, lone surrogates written as ``\\udcXX``."""
    return text.encode("utf-8", "backslashreplace")


def field_varint(field: int, value: int) -> bytes:
    """A varint field (``int64``, ``uint64``, ``uint32``, ``bool``, enum)."""
    return key(field, VARINT) + varint(value)


def field_bytes(field: int, data: bytes) -> bytes:
    """A length-delimited field holding ``data``."""
    return key(field, LEN) + varint(len(data)) + data


def field_string(field: int, text: str) -> bytes:
    """A ``string`` field."""
    return field_bytes(field, utf8(text))


def field_message(field: int, parts: Iterable[bytes]) -> bytes:
    """An embedded message made of the encoded fields ``parts``."""
    return field_bytes(field, b"".join(parts))


def field_packed(field: int, values: Iterable[int]) -> bytes:
    """A packed repeated varint field (``repeated int64/uint64``, proto3's default)."""
    return field_bytes(field, b"".join(varint(v) for v in values))
