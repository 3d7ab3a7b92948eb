# SPDX-License-Identifier: MIT
"""Totals of several threads summed by groups of functions (``_core._regroup``,
``model.grouped_totals``): what pstats files, callgrind files and the report's
function tables are made of, against the model's node-by-node totals."""

from __future__ import annotations

import random
from array import array

import pytest
from shared import random_thread

from threadprof import _core, model
from threadprof.model import Function, Snapshot


def _snapshot(seed: int, big: int = 1) -> Snapshot:
    rng = random.Random(seed)
    nfuncs = rng.randrange(1, 15)
    # a few functions share a pstats key (same file, line and name)
    functions = [
        Function(i, "python", f"f{i % 5}", f"q{i}", "a.py", 10 * (i % 5)) for i in range(nfuncs)
    ]
    threads = [random_thread(rng, nfuncs, big) for _ in range(rng.randrange(1, 4))]
    return Snapshot("wall", 1e-9, functions, threads)


def _by_model(snap: Snapshot, group: array, edges: bool) -> list[int]:
    """The rows by definition: the model's per-function (or per-pair) totals of
    each thread, added up by group, sorted."""
    sums: dict[int, list[int]] = {}
    for t in snap.threads:
        table = model.thread_edge_stats(t) if edges else model.thread_function_stats(t)
        for k, s in table.items():
            g = (group[k[0]] << 32 | group[k[1]]) if edges else group[k]
            row = sums.setdefault(g, [g, 0, 0, 0, 0, 0, 0, 0])
            for j, v in enumerate(
                (s.calls, s.prim_calls, s.wall, s.wall_self, s.cpu, s.cpu_self), 2
            ):
                row[j] += v
    return [v for g in sorted(sums) for v in sums[g]]


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("edges", [False, True])
def test_grouped_totals_are_the_model_s_totals_added_by_group(seed, edges):
    snap = _snapshot(seed)
    group, firsts = model.pstats_groups(snap.functions)
    assert [firsts[g].pstats_key for g in group] == [f.pstats_key for f in snap.functions]
    got = model.grouped_totals(snap, None, group, edges)
    assert isinstance(got, memoryview)  # summed in C
    assert list(got) == _by_model(snap, group, edges)
    # one thread alone
    one = model.grouped_totals(snap, snap.threads[:1], group, edges)
    assert list(one) == _by_model(
        Snapshot("wall", 1e-9, snap.functions, snap.threads[:1]), group, edges
    )


@pytest.mark.parametrize("edges", [False, True])
def test_sums_beyond_64_bits_are_added_in_python(edges):
    snap = _snapshot(3, big=2**61)
    group, _ = model.pstats_groups(snap.functions)
    got = model.grouped_totals(snap, None, group, edges)
    assert isinstance(got, list)
    assert got == _by_model(snap, group, edges)
    assert max(got) > 2**63


def test_regroup_errors():
    row = array("q", [3, 0, 1, 1, 5, 5, 5, 5])
    assert _core._regroup([row, row], array("q", [0, 0, 0, 9]), False) == bytes(
        array("q", [9, 0, 2, 2, 10, 10, 10, 10])
    )
    assert _core._regroup([], array("q"), True) == b""
    with pytest.raises(ValueError, match="no group"):
        _core._regroup([row], array("q", [0, 0, 0]), False)
    with pytest.raises(ValueError, match="rows of eight"):
        _core._regroup([row[:7]], array("q", [0] * 4), False)
    with pytest.raises(ValueError, match="one 8-byte integer per function"):
        _core._regroup([row], b"\x00" * 9, False)
    with pytest.raises(OverflowError, match="64 bits"):
        big = array("q", [0, 0, 2**62, 0, 0, 0, 0, 0])
        _core._regroup([big, big], array("q", [0]), False)
    with pytest.raises(OverflowError, match="32 bits"):
        _core._regroup([array("q", [1, 0, 1, 1, 1, 1, 1, 1])], array("q", [0, 2**33]), True)
    with pytest.raises(TypeError):
        _core._regroup((row,), array("q", [0] * 4), False)
