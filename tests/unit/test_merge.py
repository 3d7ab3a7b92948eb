# SPDX-License-Identifier: MIT
"""Call trees united by path from the root in C (``_core._merge``, which
``merge_threads`` uses), against the node-by-node merge of the model."""

from __future__ import annotations

import random
from array import array

import pytest
from shared import random_thread

from threadprof import _core, model
from threadprof.model import RAW_FIELDS, merge_threads


def _shape(nodes):
    """Each node as its path of functions with its fields, in pre-order: the
    merged tree whatever its numbering."""
    out = []

    def visit(nid, path):
        n = nodes[nid]
        path = (*path, n.func)
        out.append((path, n.calls, n.prim_calls, n.wall, n.wall_self, n.cpu, n.cpu_self))
        for c in n.children:
            visit(c, path)

    visit(0, ())
    return out


@pytest.mark.parametrize("seed", range(20))
def test_the_merge_in_c_is_the_model_s_merge(seed):
    rng = random.Random(seed)
    threads = [random_thread(rng, rng.randrange(1, 9)) for _ in range(rng.randrange(1, 5))]
    merged = merge_threads(threads)
    assert merged.columns is not None  # merged in C, no node objects yet
    want = model._merge_nodes(threads)
    assert _shape(merged.nodes) == _shape(want)
    assert len(merged.nodes) == len(want)
    # children in the order of their first use, as the model's merge gives them
    assert [[merged.nodes[c].func for c in n.children] for n in merged.nodes] == [
        [want[c].func for c in n.children] for n in want
    ]


def test_sums_beyond_64_bits_are_merged_in_python():
    rng = random.Random(5)
    threads = [random_thread(rng, 4, big=2**62) for _ in range(3)]
    merged = merge_threads(threads)
    assert merged.columns is None and merged.nodes == model._merge_nodes(threads)


def test_merge_errors():
    root = [-1, -1, 0, 5, 5, 5, 5]

    def flat(rows):
        return array("q", [row[j] for j in range(len(RAW_FIELDS)) for row in rows])

    one = flat([root, [0, 3, 1, 1, 1, 1, 1]])
    assert _core._merge([one, one]) == bytes(
        flat([[-1, -1, 0, 10, 10, 10, 10], [0, 3, 2, 2, 2, 2, 2]])
    )
    assert _core._merge([]) == bytes(flat([[-1, -1, 0, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="parent must come before"):
        _core._merge([flat([root, [1, 3, 1, 1, 1, 1, 1]])])
    with pytest.raises(ValueError, match="seven 8-byte integers"):
        _core._merge([one[:-1]])
    with pytest.raises(ValueError, match="seven 8-byte integers"):
        _core._merge([b""])
    with pytest.raises(OverflowError, match="31 bits"):
        _core._merge([flat([root, [0, 2**31, 1, 1, 1, 1, 1]])])
    with pytest.raises(OverflowError, match="64 bits"):
        big = flat([root, [0, 3, 2**62, 0, 0, 0, 0]])
        _core._merge([big, big])
    with pytest.raises(TypeError):
        _core._merge((one,))
