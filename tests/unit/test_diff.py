# SPDX-License-Identifier: MIT
"""threadprof.diff: two profiles compared per function, call path and thread,
with cProfile's numbers; threadprof.gates: the --fail-if conditions."""

from __future__ import annotations

import math
import random

import pytest

from threadprof import tprof
from threadprof.diff import METRICS, compare
from threadprof.exporters.pstats import snapshot_to_stats, stats_to_bytes
from threadprof.gates import ConditionError, check, parse_condition
from threadprof.model import Function, Node, Snapshot, ThreadProfile, build_tree, key_stats
from threadprof.readers import PstatsInput, read_profile

MS = 1_000_000  # the builder's tick (1 ms) in nanoseconds


def two(builder_factory, before_threads, after_threads):
    out = []
    for threads in (before_threads, after_threads):
        b = builder_factory()
        for name in ("main", "work", "helper", "gone"):
            b.func(name, "/venv/lib/python3.12/site-packages/pkg/mod.py")
        for name, calls in threads:
            b.thread(name, calls)
        out.append(b.build())
    return out


@pytest.fixture
def make(builder):
    return type(builder)


def test_functions_paths_and_threads_exact(make):
    C = make.call
    before, after = two(
        make,
        [("MainThread", [C("main", 1, 100, [C("work", 2, 60), C("gone", 1, 10)])])],
        [
            ("MainThread", [C("main", 1, 120, [C("work", 3, 90, [C("helper", 1, 5)])])]),
            ("worker", [C("work", 1, 7)]),
        ],
    )
    d = compare(before, after)
    by = {c.func.name: c for c in d.functions}
    work = by["work"]
    assert (work.before.calls, work.after.calls, work.delta("calls")) == (2, 4, 2)
    assert (work.before.wall, work.after.wall) == (60 * MS, 97 * MS)
    assert work.after.wall_self == (85 + 7) * MS
    assert work.relative("calls") == 1.0
    assert by["helper"].status == "added" and by["helper"].relative("calls") == math.inf
    assert by["gone"].status == "removed" and by["gone"].delta("wall") == -10 * MS
    assert by["main"].delta("wall_self") == 0 and by["main"].delta("wall") == 20 * MS
    # the whole profile: calls, and the threads' times summed
    assert (d.total.before.calls, d.total.after.calls) == (4, 6)
    assert d.total.delta("wall") == (120 + 7 - 100) * MS
    # threads by name; one new
    assert [(t.label, t.status) for t in d.threads] == [
        ("MainThread", "both"),
        ("worker", "added"),
    ]
    assert d.threads[0].delta("calls") == 1
    # paths, merged over threads: main > work and the worker's work differ
    top = d.paths.top("wall", 10)
    labels = [[f.name for f in c.path] for c in top]
    assert labels[0] == ["main", "work"] and top[0].delta("wall") == 30 * MS
    assert ["work"] in labels and ["main", "work", "helper"] in labels
    assert ["main", "gone"] in labels
    gone = top[labels.index(["main", "gone"])]
    assert gone.status == "removed" and gone.after is None


def test_threads_of_one_name_pair_in_order(make):
    C = make.call
    before, after = two(
        make,
        [("w", [C("work", 1, 1)]), ("w", [C("work", 2, 1)]), ("x", [C("work", 1, 1)])],
        [("w", [C("work", 5, 1)]), ("w", [C("work", 7, 1)])],
    )
    d = compare(before, after)
    assert [
        (t.label, t.value("calls", "before"), t.value("calls", "after")) for t in d.threads
    ] == [
        ("w", 1, 5),
        ("w", 2, 7),
        ("x", 1, 0),
    ]
    assert d.threads[2].status == "removed"


def test_thread_filter(make):
    C = make.call
    before, after = two(
        make,
        [("MainThread", [C("main", 1, 5)]), ("worker-1", [C("work", 3, 5)])],
        [("MainThread", [C("main", 1, 5)]), ("worker-1", [C("work", 4, 5)])],
    )
    d = compare(before, after, thread="worker-*")
    assert [f.func.name for f in d.functions] == ["work"]
    assert d.total.delta("calls") == 1
    with pytest.raises(ValueError, match="no thread matches"):
        compare(before, after, thread="nothing")


def _random_snapshot(
    seed: int, unit: float = 1e-3, size: int = 60, nfuncs: int = 9, nkeys: int = 7
) -> Snapshot:
    """Threads of random trees: recursion (direct and through others), frames
    running at the start (no calls) over recursive chains, two functions of
    one pstats key."""
    rnd = random.Random(seed)
    funcs = [
        Function(i, "python", f"f{i % nkeys}", f"f{i % nkeys}", "m.py", i % nkeys)
        for i in range(nfuncs)
    ]
    threads = []
    for t in range(3):
        nodes = [Node(0, -1, -1)]
        for i in range(1, size):
            parent = rnd.randrange(max(0, i - 8), i)
            func = rnd.randrange(len(funcs))
            on_path = set()
            p = parent
            while p > 0:
                on_path.add(nodes[p].func)
                p = nodes[p].parent
            calls = (
                0
                if (parent == 0 or nodes[parent].calls == 0) and rnd.random() < 0.3
                else rnd.randrange(1, 5)
            )
            prim = 0 if func in on_path else calls
            wall = rnd.randrange(0, 1000)
            nodes.append(Node(i, parent, func, calls, prim, wall, wall // 3, wall // 2, wall // 5))
        build_tree(nodes)
        threads.append(ThreadProfile(t, t, t, f"t{t % 2}", 0, 10, 5000 + t, 2000 + t, nodes))
    return Snapshot("wall", unit, funcs, threads, duration=9000)


@pytest.mark.parametrize("seed", range(8))
def test_function_totals_are_the_models(seed, tmp_path):
    """Each side's per-function totals are model.key_stats': cProfile's rules
    for recursion included, and the same read from a .tprof as columns."""
    before, after = _random_snapshot(seed), _random_snapshot(seed + 100)
    path = tmp_path / "after.tprof"
    with open(path, "wb") as f:
        tprof.write(after, f)
    for d in (compare(before, after), compare(before, lambda: read_profile(path, columns=True))):
        for which, snap in (("before", before), ("after", after)):
            want = {
                k: (s.calls, s.prim_calls, s.wall, s.wall_self, s.cpu, s.cpu_self)
                for k, s in key_stats(snap).items()
            }
            got = {}
            for c in d.functions:
                side = getattr(c, which)
                if side is not None:
                    got[c.func.pstats_key] = (
                        side.calls,
                        side.prim_calls,
                        side.wall // MS,
                        side.wall_self // MS,
                        side.cpu // MS,
                        side.cpu_self // MS,
                    )
            assert got == want


def test_columns_read_equals_nodes_read(tmp_path):
    snap = _random_snapshot(3)
    path = tmp_path / "p.tprof"
    with open(path, "wb") as f:
        tprof.write(snap, f)
    lean = read_profile(path, columns=True)
    full = read_profile(path)
    for a, b in zip(lean.threads, full.threads, strict=True):
        assert a.columns is not None and a.tree_size == len(b.nodes)
        assert a.calls == b.calls
        cols = b.tree_columns()
        for name in (
            "parent",
            "func",
            "calls",
            "prim_calls",
            "wall",
            "wall_self",
            "cpu",
            "cpu_self",
        ):
            assert getattr(a.columns, name) == getattr(cols, name)


def test_units_are_nanoseconds(make):
    C = make.call
    before, after = two(make, [("T", [C("work", 1, 3)])], [("T", [C("work", 1, 3)])])
    after.unit = 1e-9  # 3 ns against 3 ms
    d = compare(before, after)
    (work,) = [c for c in d.functions if c.func.name == "work"]
    assert (work.before.wall, work.after.wall) == (3 * MS, 3)
    before.unit = 1.5e-10
    with pytest.raises(ValueError, match="whole nanoseconds"):
        compare(before, after)


def test_pstats_against_tprof(make, tmp_path):
    C = make.call
    before, after = two(
        make,
        [("MainThread", [C("main", 1, 100, [C("work", 2, 60)])])],
        [("MainThread", [C("main", 1, 100, [C("work", 5, 70)])])],
    )

    path = tmp_path / "before.prof"
    path.write_bytes(stats_to_bytes(snapshot_to_stats(before)))
    old = read_profile(path)
    assert isinstance(old, PstatsInput)
    d = compare(old, after)
    assert d.paths is None and d.threads is None and not d.has_cpu
    (work,) = [c for c in d.functions if c.func.name == "work"]
    assert (work.before.calls, work.after.calls) == (2, 5)
    assert (work.before.wall, work.after.wall) == (60 * MS, 70 * MS)
    assert d.total.before.calls == 3
    same = compare(old, old)
    assert all(c.delta(m) == 0 for c in same.functions for m in METRICS)


# -- gates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "glob", "op", "value", "relative"),
    [
        ("calls(mypkg.*) > 0", "calls", "mypkg.*", ">", 0, False),
        ("cpu > 10%", "cpu", None, ">", 0.1, True),
        ("wall_self(*) >= 50ms", "wall_self", "*", ">=", 50e6, False),
        (" offcpu < -1.5 ", "offcpu", None, "<", -1.5e9, False),
        ("calls( x/y.py ) != 0", "calls", "x/y.py", "!=", 0, False),
        ("wall == 2us", "wall", None, "==", 2000, False),
    ],
)
def test_conditions_parse(text, metric, glob, op, value, relative):
    c = parse_condition(text)
    assert (c.metric, c.glob, c.op, c.relative) == (metric, glob, op, relative)
    assert c.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("calls >", "cannot read the condition"),
        ("bogus > 1", "unknown metric 'bogus'"),
        ("wall_self > 1ms", "own time"),
        ("calls() > 1", "empty function pattern"),
        ("calls > 5ms", "calls take no unit"),
        ("cpu >> 1", "cannot read"),
    ],
)
def test_bad_conditions(text, message):
    with pytest.raises(ConditionError, match=message):
        parse_condition(text)


def test_conditions_check(make):
    C = make.call
    before, after = two(
        make,
        [("MainThread", [C("main", 1, 100, [C("work", 2, 60)])])],
        [("MainThread", [C("main", 1, 100, [C("work", 3, 60), C("helper", 1, 1)])])],
    )
    d = compare(before, after)

    def failing(text):
        return [
            v.row.func.name if v.row.func else v.row.kind
            for v in check(d, [parse_condition(text)])
        ]

    assert failing("calls(*) > 0") == ["work", "helper"]
    assert failing("calls(pkg.mod.work) > 0") == ["work"]  # the dotted name
    assert failing("calls(pkg/mod.py) > 0") == ["work", "helper"]  # the short path
    assert failing("calls(main) > 0") == []
    assert failing("calls(*) > 1") == []
    assert failing("calls(work) > 49%") == ["work"]
    assert failing("calls(work) > 51%") == []
    assert failing("calls(helper) > 1000%") == ["helper"]  # from zero: infinitely more
    assert failing("calls > 0") == ["total"]
    assert failing("wall != 0") == []  # the thread's time: 100 ms in both
    assert failing("wall_self(main) < 0") == ["main"]  # 40 ms, then 39
    assert failing("wall_self(main) < -2ms") == []


@pytest.mark.parametrize("seed", range(6))
def test_a_profile_against_itself(seed):
    """The second profile's trees map onto runs of the first one's paths
    (summed a run at a time): every total is the model's, every change zero."""
    snap = _random_snapshot(seed, size=400, nfuncs=300, nkeys=150)
    first = snap._with_threads(snap.threads[::-1])  # the paths made in another order
    d = compare(first, snap)
    want = {
        k: (s.calls, s.prim_calls, s.wall, s.wall_self, s.cpu, s.cpu_self)
        for k, s in key_stats(snap).items()
    }
    for which in ("before", "after"):
        got = {
            c.func.pstats_key: tuple(
                getattr(getattr(c, which), f) // (MS if f.startswith(("wall", "cpu")) else 1)
                for f in ("calls", "prim_calls", "wall", "wall_self", "cpu", "cpu_self")
            )
            for c in d.functions
        }
        assert got == want
    assert all(c.delta(m) == 0 for c in d.functions for m in METRICS)
    assert d.paths.top("calls", 5) == [] and d.paths.top("wall", 5) == []
