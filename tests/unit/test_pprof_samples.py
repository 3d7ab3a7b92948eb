# SPDX-License-Identifier: MIT
"""A pprof profile's samples written in C (``_core._pprof_samples``) against
the Python loop that writes them in Python's integers: the same bytes."""

from __future__ import annotations

import gzip
import io
import random
from array import array

import pytest
from shared import random_thread

from threadprof import _core
from threadprof.exporters import pprof
from threadprof.model import Function, Node, Snapshot, TaskProfile, ThreadProfile


def _snapshot(seed: int) -> Snapshot:
    rng = random.Random(seed)
    nfuncs = rng.randrange(1, 15)
    functions = [
        Function(i, "python" if i % 4 else "c", f"f{i % 5}", f"q{i}", "a.py", i % 6)
        for i in range(nfuncs)
    ]
    threads = [random_thread(rng, nfuncs) for _ in range(rng.randrange(1, 4))]
    unit = rng.choice([1e-9, 1e-3, 1 / 3e9, 2.5e-9])
    return Snapshot("wall", unit, functions, threads, argv=["app.py"], pid=7)


def _dump(snap: Snapshot, types: str) -> bytes:
    out = io.BytesIO()
    pprof.dump(snap, out, sample_types=types)
    return gzip.decompress(out.getvalue())


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("types", ["all", "wall", "cpu"])
def test_the_c_samples_are_the_python_samples(seed, types, monkeypatch):
    snap = _snapshot(seed)
    got = _dump(snap, types)

    def overflow(*args):
        raise OverflowError("as if a time left 64 bits")

    monkeypatch.setattr(_core, "_pprof_samples", overflow)
    assert got == _dump(snap, types)


def test_a_task_s_stacks_go_on_below_its_prefix(monkeypatch):
    snap = _snapshot(3)
    thread = snap.threads[0]
    nodes = [Node(0, -1, -1), Node(1, 0, 2, 1, 1, 5, 5, 4, 4)]
    nodes[0].children.append(1)
    task = TaskProfile(1, 1, 1, "Task-1", 0, 9, 5, 4, nodes, id=1, prefix=[0, 1])
    thread.tasks = [task]
    got = _dump(snap, "all")
    monkeypatch.setattr(_core, "_pprof_samples", lambda *a: (_ for _ in ()).throw(OverflowError))
    assert got == _dump(snap, "all")


def test_times_beyond_64_bits_are_written_in_python():
    nodes = [Node(0, -1, -1), Node(1, 0, 0, 1, 1, 2**60, 2**60, 2**60, 2**60)]
    nodes[0].children.append(1)
    functions = [Function(0, "python", "f", "f", "a.py", 1)]
    snap = Snapshot("wall", 1.0, functions, [ThreadProfile(1, 1, 1, "T", 0, 9, 9, 9, nodes)])
    assert pprof._c_samples(snap, snap.threads[0], array("q", [1]), "all", [], None) is None
    with pytest.raises(OverflowError):  # nor in pprof's int64 values
        _dump(snap, "all")


def test_bad_input():
    # 3 nodes; columns parent, func, calls, wall_self, cpu_self
    flat = array("q", [-1, 0, 0, -1, 0, 1, 0, 1, 1, 0, 2, 3, 0, 4, 5])
    with pytest.raises(ValueError, match="no location"):
        _core._pprof_samples(flat, array("q", [1]), b"", b"", 0, 1)
    assert _core._pprof_samples(flat, array("q", [1, 2]), b"", b"", 0, 1)
    with pytest.raises(ValueError, match="not int64 columns"):
        _core._pprof_samples(flat.tobytes()[:-8], array("q", [1, 2]), b"", b"", 0, 1)
    with pytest.raises(ValueError, match="types"):
        _core._pprof_samples(flat, array("q", [1, 2]), b"", b"", 3, 1)
    with pytest.raises(ValueError, match="not positive"):
        _core._pprof_samples(flat, array("q", [1, 2]), b"", b"", 0, 0)
    bad = array("q", flat)
    bad[1] = 2  # a parent after its child
    with pytest.raises(ValueError):
        _core._pprof_samples(bad, array("q", [1, 2]), b"", b"", 0, 1)
