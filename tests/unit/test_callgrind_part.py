# SPDX-License-Identifier: MIT
"""A callgrind part written in C (``_core._callgrind_part``) against the
Python loop that writes it in Python's integers: the same text."""

from __future__ import annotations

import random

import pytest
from shared import WEIRD_FILE, WEIRD_QUALNAME, random_thread

from threadprof import _core
from threadprof.exporters import callgrind
from threadprof.model import Function, Node, Snapshot, ThreadProfile


def _snapshot(seed: int, clock: str = "wall") -> Snapshot:
    rng = random.Random(seed)
    nfuncs = rng.randrange(1, 15)
    files = ["a.py", "dir/b.py", WEIRD_FILE, "~"]
    functions = [
        Function(
            i,
            "python" if i % 4 else "c",
            f"f{i % 5}",
            WEIRD_QUALNAME if i == 3 else f"q{i % 7}",
            files[i % 4],
            10 * (i % 5),
        )
        for i in range(nfuncs)
    ]
    threads = [random_thread(rng, nfuncs) for _ in range(rng.randrange(1, 4))]
    unit = rng.choice([1e-9, 1e-3, 1 / 3e9, 2.5e-9])
    return Snapshot(clock, unit, functions, threads, argv=["app.py"], pid=7)


def _in_python(monkeypatch) -> None:
    def overflow(*args):
        raise OverflowError("as if a total left 64 bits")

    monkeypatch.setattr(_core, "_callgrind_part", overflow)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_the_c_text_is_the_python_text(seed, clock, monkeypatch):
    snap = _snapshot(seed, clock)
    got = [callgrind.render(snap), callgrind.render(snap, separate_threads=True)]
    _in_python(monkeypatch)
    assert got == [callgrind.render(snap), callgrind.render(snap, separate_threads=True)]


def test_costs_beyond_64_bits_are_written_in_python():
    nodes = [Node(0, -1, -1), Node(1, 0, 0, 1, 1, 2**60, 2**60, 2**60, 2**60)]
    nodes[0].children.append(1)
    functions = [Function(0, "python", "f", "f", "a.py", 1)]
    snap = Snapshot("wall", 1.0, functions, [ThreadProfile(1, 1, 1, "T", 0, 9, 9, 9, nodes)])
    text = callgrind.render(snap)
    assert f"1 {2**60 * 10**9} {2**60 * 10**9}" in text  # nanoseconds of 2**60 seconds


def test_bad_input():
    row = bytes(64)
    funcs = bytes(24)
    own = (5, 7)
    with pytest.raises(ValueError, match="outside"):
        _core._callgrind_part(row, b"", funcs, [], [b"n"], 1, own, own)
    with pytest.raises(ValueError, match="group outside"):
        _core._callgrind_part(row, b"", b"", [b"f"], [b"n"], 1, own, own)
    with pytest.raises(ValueError, match="whole rows"):
        _core._callgrind_part(row[:8], b"", funcs, [b"f"], [b"n"], 1, own, own)
    with pytest.raises(ValueError, match="not a total"):
        _core._callgrind_part(row, b"", funcs, [b"f"], [b"n"], 1, (1, 7), own)
    with pytest.raises(ValueError, match="not positive"):
        _core._callgrind_part(row, b"", funcs, [b"f"], [b"n"], 0, own, own)
    assert _core._callgrind_part(row, b"", funcs, [b"f"], [b"n"], 1, own, own) == (
        b"fl=(1) f\nfn=(1) n\n0 0 0",
        0,
        0,
    )
    assert _core._callgrind_part(b"", b"", b"", [], [], 0.5, own, own) == (b"", 0, 0)
