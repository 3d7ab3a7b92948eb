# SPDX-License-Identifier: MIT
"""cProfile's rule for recursion, walked by the C core (``_core._outermost``):
the flags against a direct reading of the rule (a node is outermost if no
ancestor below the root has its key), on random trees."""

from __future__ import annotations

import random
from array import array

import pytest
from shared import random_thread

from threadprof import _core


def by_definition(parents: list[int], keys: list[int]) -> bytes:
    flags = bytearray(len(parents))
    for v in range(1, len(parents)):
        a = parents[v]
        while a > 0 and keys[a] != keys[v]:
            a = parents[a]
        flags[v] = a == 0
    return bytes(flags)


@pytest.mark.parametrize("seed", range(30))
def test_flags_follow_the_rule(seed):
    rng = random.Random(seed)
    n = rng.randrange(1, 600)
    parents = [0] + [rng.randrange(max(0, v - rng.choice((1, 5, 50))), v) for v in range(1, n)]
    keys = [rng.randrange(rng.choice((1, 3, 40))) * rng.choice((1, -(2**40))) for _ in range(n)]
    got = _core._outermost(array("q", parents), array("q", keys))
    assert got == by_definition(parents, keys)


def test_a_deep_recursion_is_outermost_once():
    n = 200_000  # deeper than any recursion in C: the walk is iterative
    parents = array("q", [0, *range(n - 1)])
    got = _core._outermost(parents, array("q", [7] * n))
    assert got == b"\x00\x01" + b"\x00" * (n - 2)


def test_bad_columns_raise():
    with pytest.raises(ValueError, match="parent must come before"):
        _core._outermost(array("q", [0, 1]), array("q", [0, 0]))
    with pytest.raises(ValueError, match="one 8-byte integer per node"):
        _core._outermost(array("q", [0, 0]), array("q", [0]))
    assert _core._outermost(array("q"), array("q")) == b""


def _random_thread(seed: int, big: int = 1):
    return random_thread(random.Random(seed), 12, big)


@pytest.mark.parametrize("seed", range(20))
def test_totals_in_c_match_the_rule_node_by_node(seed):
    from threadprof import model

    thread = _random_thread(seed)
    functions = model.thread_function_stats(thread)
    assert functions == model._function_stats_by_node(thread.nodes)
    assert list(functions) == list(model._function_stats_by_node(thread.nodes))
    edges = model.thread_edge_stats(thread)
    assert edges == model._edge_stats_by_node(thread.nodes)
    assert list(edges) == list(model._edge_stats_by_node(thread.nodes))


def test_totals_beyond_64_bits_are_summed_in_python():
    from threadprof import model

    thread = _random_thread(3, big=2**60)  # sums overflow 64 bits
    assert model._c_totals(thread, False) is None
    assert model.thread_function_stats(thread) == model._function_stats_by_node(thread.nodes)
    assert model.thread_edge_stats(thread) == model._edge_stats_by_node(thread.nodes)
    assert max(s.wall_self for s in model.thread_function_stats(thread).values()) > 2**63


def test_totals_of_bad_columns_raise():
    with pytest.raises(ValueError, match="seven 8-byte integers"):
        _core._totals(bytes(8 * 6), False)
    cols = array("q", [-1, 1] + [-1, 0] + [0] * 10)  # node 1's parent is itself
    with pytest.raises(ValueError, match="parent must come before"):
        _core._totals(cols, False)
