# SPDX-License-Identifier: MIT
"""The pstats file written in C (``_core._pstats_marshal``) against marshal's
bytes of the stats dictionary that the model computes: the same dictionary,
its keys and every caller dictionary in the same order."""

from __future__ import annotations

import marshal
import pstats
import random

import pytest
from shared import WEIRD_FILE, random_thread

from threadprof import _core
from threadprof.exporters.pstats import snapshot_to_bytes, snapshot_to_stats, stats_to_bytes
from threadprof.model import Function, Node, Snapshot, ThreadProfile


def _snapshot(seed: int, clock: str = "wall") -> Snapshot:
    rng = random.Random(seed)
    nfuncs = rng.randrange(1, 15)
    # a few functions share a pstats key; some files hold what only escapes write
    files = ["a.py", "dir/b.py", WEIRD_FILE]
    functions = [
        Function(i, "python" if i % 4 else "c", f"f{i % 5}", f"q{i}", files[i % 3], 10 * (i % 5))
        for i in range(nfuncs)
    ]
    threads = [random_thread(rng, nfuncs) for _ in range(rng.randrange(1, 4))]
    return Snapshot(clock, rng.choice([1e-9, 1e-3, 1 / 3e9]), functions, threads)


def _same(got: dict, want: dict) -> None:
    assert got == want
    assert list(got) == list(want)
    for k, entry in want.items():
        assert list(got[k][4]) == list(entry[4]), k


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_the_file_holds_the_model_s_stats(seed, clock):
    snap = _snapshot(seed, clock)
    data = snapshot_to_bytes(snap)
    _same(marshal.loads(data), snapshot_to_stats(snap))
    _same(marshal.loads(data), marshal.loads(stats_to_bytes(snapshot_to_stats(snap))))


def test_counts_beyond_32_bits_and_pstats_reads_the_file(tmp_path):
    nodes = [Node(0, -1, -1), Node(1, 0, 0, 2**40, 2**40, 5 * 2**33, 2**33, 7, 3)]
    nodes[0].children.append(1)
    nodes.append(Node(2, 1, 1, 2**31, 2**31 - 1, 4 * 2**33, 4 * 2**33, 4, 4))
    nodes[1].children.append(2)
    functions = [Function(0, "python", "f", "f", "a.py", 1), Function(1, "c", "g", "g", "~", 0)]
    snap = Snapshot("wall", 1e-9, functions, [ThreadProfile(1, 1, 1, "T", 0, 9, 9, 9, nodes)])
    data = snapshot_to_bytes(snap)
    _same(marshal.loads(data), snapshot_to_stats(snap))
    path = tmp_path / "x.prof"
    path.write_bytes(data)
    stats = pstats.Stats(str(path)).stats
    assert stats[("a.py", 1, "f")][:2] == (2**40, 2**40)
    assert stats[("~", 0, "g")][4] == {
        ("a.py", 1, "f"): (2**31, 2**31, 4 * 2**33 * 1e-9, 4 * 2**33 * 1e-9)
    }


def test_bad_input():
    row = bytes(64)
    with pytest.raises(ValueError, match="no marshalled key"):
        _core._pstats_marshal(row, b"", [], 1.0, 5, 4)
    with pytest.raises(ValueError, match="no marshalled key"):
        _core._pstats_marshal(b"", row, [], 1.0, 5, 4)
    with pytest.raises(ValueError, match="rows of eight"):
        _core._pstats_marshal(row[:9], b"", [b"N"], 1.0, 5, 4)
    with pytest.raises(ValueError, match="not a total"):
        _core._pstats_marshal(row, b"", [b"N"], 1.0, 8, 4)
    with pytest.raises(TypeError):
        _core._pstats_marshal(row, b"", (b"N",), 1.0, 5, 4)
    assert marshal.loads(_core._pstats_marshal(b"", b"", [], 1.0, 5, 4)) == {}
