# SPDX-License-Identifier: MIT
"""The restricted pstats reader: what pstats writes is read, nothing else is."""

from __future__ import annotations

import cProfile
import marshal
import profile
import pstats
import struct

import pytest

from threadprof.exporters import get_exporter
from threadprof.pstatsfile import parse_stats, read_stats, stats_to_snapshot
from threadprof.readers import ProfileFormatError, PstatsInput, read_profile


def fact(n):
    return 1 if n < 2 else n * fact(n - 1)


def workload():
    for i in range(20):
        fact(12)
        sorted([i, 3, 1])


def cprofile_stats():
    p = cProfile.Profile()
    p.runcall(workload)
    p.create_stats()
    return p.stats


KEY = ("app.py", 10, "f")
ENTRY = "the entry of f (app.py:10) is not (calls, calls, time, time, callers)"
CALLER_KEY = "a caller key of f (app.py:10) that is not (file, line, name)"
CALLER = "a caller entry of f (app.py:10) is not (calls, calls, time, time)"
GOOD = {KEY: (1, 2, 0.5, 1.5, {("app.py", 1, "main"): (2, 1, 0.5, 1.5)})}


def reason(data: bytes) -> str:
    with pytest.raises(ProfileFormatError) as info:
        parse_stats(data, "in.prof")
    message = str(info.value)
    assert message.startswith("cannot read 'in.prof': not a valid pstats file: ")
    assert "\n" not in message
    return message.removeprefix("cannot read 'in.prof': not a valid pstats file: ")


def test_cprofile_files_are_read_exactly(tmp_path):
    p = cProfile.Profile()
    p.runcall(workload)
    path = tmp_path / "c.prof"
    p.dump_stats(str(path))
    assert read_stats(path) == pstats.Stats(str(path)).stats
    loaded = read_profile(path)
    assert isinstance(loaded, PstatsInput)
    assert loaded.stats == pstats.Stats(str(path)).stats


def test_profile_module_files_with_integer_callers(tmp_path):
    p = profile.Profile()
    p.runcall(workload)
    path = tmp_path / "p.prof"
    p.dump_stats(str(path))
    stats = read_stats(path)
    assert stats == pstats.Stats(str(path)).stats
    assert any(type(c) is int for entry in stats.values() for c in entry[4].values())


@pytest.mark.parametrize("version", range(marshal.version + 1))
def test_every_marshal_version(version):
    stats = cprofile_stats()
    assert parse_stats(marshal.dumps(stats, version)) == stats


def test_threadprof_pstats_export_is_read(builder):
    C = builder.call
    builder.thread("t", [C("main", 1, 100, [C("f", 3, 40, [C("f", 2, 10)]), C("g", 1, 5)])])
    data = get_exporter("pstats").to_bytes(builder.build())
    assert parse_stats(data) == marshal.loads(data)


def test_big_and_negative_integers_and_text_floats():
    stats = {("a.py", 2**40, "f"): (2**100, 3, -0.5, 1e300, {})}
    assert parse_stats(marshal.dumps(stats)) == stats
    # version 0 writes floats as text (type code 'f')
    assert parse_stats(marshal.dumps(stats, 0)) == stats


def test_an_empty_stats_dict():
    assert parse_stats(marshal.dumps({})) == {}


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (compile("x = 1", "evil.py", "exec"), "a code object (refused)"),
        ([1, 2], "a list (refused)"),
        (None, "None (refused)"),
        (b"bytes", "a byte string (a Python 2 file?) (refused)"),
        ({1, 2}, "a set (refused)"),
        (frozenset([1]), "a frozenset (refused)"),
        (True, "True (refused)"),
        (1j, "a complex number (refused)"),
        (..., "Ellipsis (refused)"),
    ],
)
def test_other_types_are_refused_where_they_appear(value, refused):
    data = marshal.dumps({KEY: (1, 1, 0.0, 0.0, {("x", 1, "y"): value})})
    message = reason(data)
    assert message.startswith(refused + " at byte ")
    assert int(message.rsplit(" ", 1)[1]) > 0  # where in the file


def test_a_code_object_at_the_top_is_refused_before_anything_is_built():
    data = marshal.dumps(compile("import os; os.system('false')", "x", "exec"))
    assert reason(data) == "a code object (refused) at byte 0"


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ([], "a list (refused) at byte 0"),
        ({1: 2}, "a function key that is not (file, line, name)"),
        ({("a", "1", "f"): GOOD[KEY]}, "a function key that is not (file, line, name)"),
        ({("a", True, "f"): GOOD[KEY]}, "True (refused) at byte 6"),
        ({KEY: (1, 2, 0.5, 1.5)}, ENTRY),
        ({KEY: (1, -2, 0.5, 1.5, {})}, ENTRY),
        ({KEY: (1, 2, float("nan"), 1.5, {})}, ENTRY),
        ({KEY: (1, 2, 0.5, float("inf"), {})}, ENTRY),
        ({KEY: (1, 2, 0.5, 1.5, {1: 2})}, CALLER_KEY),
        ({KEY: (1, 2, 0.5, 1.5, {KEY: (1, 2, 3)})}, CALLER),
        ({KEY: (1, 2, 0.5, 1.5, {KEY: -1})}, CALLER),
        ("text", "not a pstats stats dict"),
    ],
)  # fmt: skip
def test_wrong_shapes_are_refused(stats, message):
    assert reason(marshal.dumps(stats)) == message


def test_corrupt_bytes():
    good = marshal.dumps(GOOD)
    assert reason(good + b"\x00") == f"trailing data after the stats at byte {len(good)}"
    assert reason(good[:-1]) == f"truncated at byte {len(good) - 1}"
    assert reason(b"{") == "truncated at byte 1"
    # a tuple claiming 2**32 - 1 items in a 10-byte file: refused before allocating
    assert (
        reason(b"{(" + b"\xff\xff\xff\xff" + b"0")
        == "a length beyond the end of the file at byte 6"
    )
    # a string claiming 4 GiB
    assert reason(b"{u\xff\xff\xff\xff") == "a length beyond the end of the file at byte 6"
    # a back-reference to an object that does not exist, and to an unfinished one
    assert reason(b"{r\x05\x00\x00\x00") == "a back-reference to nothing at byte 1"
    assert (
        reason(b"\xfb(\x01\x00\x00\x00r\x00\x00\x00\x000")
        == "a back-reference to nothing at byte 6"
    )
    # a huge integer, an unnormalized one, bad text
    assert reason(b"{l\x00\x01\x00\x00") == "an integer too large for a pstats file at byte 1"
    assert reason(b"{l\x01\x00\x00\x00\x00\x00") == "a malformed integer at byte 1"
    assert reason(b"{u\x01\x00\x00\x00\xff") == "a malformed string at byte 1"
    assert reason(b"{a\x01\x00\x00\x00\xff") == "a malformed string at byte 1"
    assert reason(b"{f\x03abc") == "a malformed float at byte 1"
    assert reason(b"{\x01") == "the unknown type code 0x01 (refused) at byte 1"


def test_nesting_is_limited():
    deep: object = 1
    for _ in range(10):
        deep = (deep,)
    message = reason(marshal.dumps({KEY: deep}))
    assert message.startswith("nesting deeper than a pstats file has at byte ")


def test_an_unhashable_key_is_refused():
    # {(1, {}): 0}: marshal cannot write it, so it is built by hand
    data = b"{" + b")\x02" + b"i\x01\x00\x00\x00" + b"{0" + b"i\x00\x00\x00\x00" + b"0"
    assert reason(data) == "an unhashable dict key at byte 1"


def test_shared_strings_through_back_references():
    name = "".join(["sha", "red"])  # one object, referenced twice: marshal writes 'r'
    stats = {("f.py", 1, name): (1, 1, 0.0, 0.0, {("f.py", 2, name): (1, 1, 0.0, 0.0)})}
    data = marshal.dumps(stats)
    assert b"r" in data[10:]
    assert parse_stats(data) == stats


# -- what a pstats file converts to -----------------------------------------------


def test_callgrind_from_pstats_holds_the_files_numbers():
    stats = {
        ("app.py", 1, "main"): (1, 1, 0.25, 1.0, {}),
        ("app.py", 10, "f"): (3, 4, 0.5, 0.75, {
            ("app.py", 1, "main"): (3, 3, 0.4, 0.7),
            ("app.py", 10, "f"): (1, 0, 0.1, 0.05),
        }),
        ("~", 0, "<built-in function len>"): (2, 2, 0.001, 0.001, {
            ("app.py", 10, "f"): (2, 2, 0.001, 0.001),
        }),
    }  # fmt: skip
    snap = stats_to_snapshot(stats)
    text = get_exporter("callgrind").to_bytes(snap).decode()
    body = text[text.index("fl=") :]
    assert body.split("\n") == [
        "fl=(1) app.py",
        "fn=(1) main (app.py:1)",
        "1 250000000 0",
        "cfl=(1)",
        "cfn=(2) f (app.py:10)",
        "calls=3 10",
        "1 700000000 0",
        "fl=(1)",
        "fn=(2)",
        "10 500000000 0",
        "cfl=(1)",
        "cfn=(2)",
        "calls=1 10",
        "10 50000000 0",
        "cfl=(2) ~",
        "cfn=(3) {built-in function len}",
        "calls=2 0",
        "10 1000000 0",
        "fl=(2)",
        "fn=(3)",
        "0 1000000 0",
        "",
        "totals: 751000000 0",
        "",
    ]
    # every function's calls add up to its total, as in the file
    fs = snap.function_stats()
    assert [fs[i].calls for i in range(3)] == [1, 4, 2]


def test_callers_that_are_not_functions_of_the_file():
    stats = {("a.py", 1, "f"): (1, 1, 0.5, 0.5, {("b.py", 7, "ghost"): (1, 1, 0.5, 0.5)})}
    snap = stats_to_snapshot(stats)
    assert [f.name for f in snap.functions] == ["f", "ghost"]
    assert get_exporter("callgrind").to_bytes(snap)


def test_header_bytes_are_what_the_sniffer_expects():
    # cProfile's files start with a dict whose FLAG_REF bit is set
    assert marshal.dumps(cprofile_stats())[:1] in (b"{", b"\xfb")
    assert struct.calcsize("<i") == 4


def test_shared_callers_are_refused():
    """One callers dict of 3,000 entries shared by 3,000 functions: a 100 KB
    file that stands for 9 million edges. Refused from the entries' sizes,
    before any caller is looked at."""
    keys = [(f"f{i}.py", i, f"fn{i}") for i in range(3000)]
    shared = {k: (1, 1, 0.0, 0.0) for k in keys}
    data = marshal.dumps({k: (1, 1, 0.0, 0.0, shared) for k in keys})
    assert len(data) < 200_000
    with pytest.raises(ProfileFormatError, match="callers shared between functions"):
        parse_stats(data)
