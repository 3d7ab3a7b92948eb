# SPDX-License-Identifier: MIT
"""The hand-written protobuf encoder, decoded by the ``protobuf`` package."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadprof.exporters._protobuf import (
    LEN,
    VARINT,
    field_bytes,
    field_message,
    field_packed,
    field_string,
    field_varint,
    key,
    utf8,
    varint,
    zigzag,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def wire(protoc, tmp_path_factory):
    return protoc(DATA / "wire_test.proto", tmp_path_factory.mktemp("wire"))


def decode(wire, data: bytes):
    msg = wire.Scalars()
    msg.ParseFromString(data)
    return msg


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (2**63 - 1, b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
        (2**64 - 1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
        (-1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    ],
)
def test_varint_bytes(value, encoded):
    assert varint(value) == encoded


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_varint_out_of_range(value):
    with pytest.raises(OverflowError):
        varint(value)


def test_zigzag():
    assert [zigzag(v) for v in (0, -1, 1, -2, 2, 2**63 - 1, -(2**63))] == [
        0,
        1,
        2,
        3,
        4,
        2**64 - 2,
        2**64 - 1,
    ]


def test_key():
    assert key(1, VARINT) == b"\x08"
    assert key(2, LEN) == b"\x12"
    assert key(2047, VARINT) == b"\xf8\x7f"


@pytest.mark.parametrize("value", [0, 1, 300, 2**40, 2**63 - 1, -1, -300, -(2**63)])
def test_int64_round_trip(wire, value):
    assert decode(wire, field_varint(1, value)).i64 == value


@pytest.mark.parametrize("value", [0, 1, 2**32, 2**64 - 1])
def test_uint64_round_trip(wire, value):
    assert decode(wire, field_varint(2, value)).u64 == value


@pytest.mark.parametrize("value", [0, -1, 1, -(2**63), 2**63 - 1, 123456789])
def test_sint64_round_trip(wire, value):
    assert decode(wire, field_varint(3, zigzag(value))).s64 == value


def test_large_field_number_and_bool(wire):
    msg = decode(wire, field_varint(2047, 4_000_000_000) + field_varint(4, 1))
    assert msg.u32 == 4_000_000_000
    assert msg.flag is True


@pytest.mark.parametrize(
    "text", ["", "plain", 'quote " backslash \\ newline \n nul \x00', "ünïcödé 名前 🐍"]
)
def test_string_round_trip(wire, text):
    assert decode(wire, field_string(5, text)).text == text


def test_lone_surrogate_stays_valid_utf8(wire):
    # a file name decoded with surrogateescape: written as its escape
    assert utf8("a\udcffb") == b"a\\udcffb"
    assert decode(wire, field_string(5, "a\udcffb")).text == "a\\udcffb"


def test_bytes_round_trip(wire):
    data = bytes(range(256)) * 3
    assert decode(wire, field_bytes(6, data)).data == data


def test_packed_and_unpacked_repeated(wire):
    values = [0, 1, -1, 2**62, 300]
    msg = decode(wire, field_packed(7, values) + b"".join(field_varint(8, v) for v in values))
    assert list(msg.packed) == values
    assert list(msg.unpacked) == values


def test_repeated_fields_in_pieces_are_concatenated(wire):
    # what lets the exporters stream: a repeated field written in several places
    data = field_packed(7, [1, 2]) + field_varint(1, 5) + field_packed(7, [3])
    msg = decode(wire, data)
    assert list(msg.packed) == [1, 2, 3]
    assert msg.i64 == 5


def test_nested_messages(wire):
    child = [field_varint(1, 7), field_string(5, "kid")]
    data = field_message(9, child) + field_message(10, child) + field_message(10, [])
    msg = decode(wire, data)
    assert (msg.child.i64, msg.child.text) == (7, "kid")
    assert [(c.i64, c.text) for c in msg.children] == [(7, "kid"), (0, "")]
    # and the encoding is the canonical one
    assert msg.SerializeToString() == data
