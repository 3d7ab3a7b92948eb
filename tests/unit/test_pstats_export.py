# SPDX-License-Identifier: MIT
"""The pstats exporter on hand-built snapshots, with numbers worked out by hand.

The expected values follow cProfile's rules (``Modules/_lsprof.c``): a call is
primitive when its function is not already on the stack; cumulative time counts
only outermost activations; a caller entry applies the same two rules to the
caller -> callee edge. ``test_same_stats_as_cprofile`` checks those rules
against cProfile itself on a program whose clock only moves when it says so.
"""

from __future__ import annotations

import functools
import io
import marshal
import operator
import pstats
import textwrap

import pytest

from threadprof.exporters import (
    NoSuchThreadError,
    exporter_for_path,
    get_exporter,
)
from threadprof.exporters.pstats import snapshot_to_stats, stats_to_bytes

UNIT = 1e-3
LEN = "<built-in function len>"


def key(name: str, line: int) -> tuple[str, int, str]:
    return ("app.py", line, name)


MAIN, FACT, PING, PONG, HELPER, RUN = (
    key("main", 10),
    key("fact", 20),
    key("ping", 30),
    key("pong", 40),
    key("helper", 50),
    key("run", 60),
)
LEN_KEY = ("~", 0, LEN)


@pytest.fixture
def snap(builder):
    """Two threads: direct recursion, mutual recursion, a frame already running
    at start (``run``, 0 calls) and two functions sharing one pstats key."""
    b = builder
    for name, line in (("main", 10), ("fact", 20), ("ping", 30), ("pong", 40), ("helper", 50)):
        b.func(name, "app.py", line)
    b.func("run", "app.py", 60)
    b.cfunc(LEN)
    helper2 = b.func("helper", "app.py", 50)  # another code object, same key
    C = b.call
    # ticks; self time = inclusive - children's inclusive
    b.thread(
        "MainThread",
        [
            C("main", 1, 100, [  # self 18
                C("fact", 1, 30, [  # self 10
                    C("fact", 1, 20, [  # self 12
                        C("fact", 1, 8, [C(LEN, 1, 1)]),  # self 7
                    ]),
                ]),
                C("ping", 2, 40, [  # self 15
                    C("pong", 2, 25, [  # self 15
                        C("ping", 1, 10, [C("pong", 1, 4)]),  # self 6, 4
                    ]),
                ]),
                C("helper", 3, 12),
            ]),
        ],
    )  # fmt: skip
    b.thread(
        "worker-1",
        [
            C("run", 0, 60, [  # already running at start; self 5
                C("helper", 4, 20),
                C("fact", 2, 30, [C("fact", 2, 10)]),  # self 20, 10
                C(helper2, 1, 5),
            ]),
        ],
    )  # fmt: skip
    return b.build()


def seconds(cc, nc, tt, ct, callers):
    """An expected entry written in ticks -> the entry in seconds."""
    return (
        cc,
        nc,
        tt * UNIT,
        ct * UNIT,
        {k: (n, c, t * UNIT, u * UNIT) for k, (n, c, t, u) in callers.items()},
    )


# (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)}) in ticks, worked out by hand.
EXPECTED_TICKS = {
    MAIN: (1, 1, 18, 100, {}),
    # calls 1+1+1 (main thread) + 2+2 (worker); primitive: outermost nodes 1 + 2
    # self 10+12+7+20+10; cumulative: outermost activations 30 + 30
    FACT: (
        3,
        7,
        59,
        60,
        {
            MAIN: (1, 1, 10, 30),
            RUN: (2, 2, 20, 30),
            # main thread: fact->fact twice, the inner one nested in the outer
            # edge (recursive); worker: one outermost edge node with 2 calls
            FACT: (4, 3, 12 + 7 + 10, 20 + 10),
        },
    ),
    LEN_KEY: (1, 1, 1, 1, {FACT: (1, 1, 1, 1)}),
    PING: (2, 3, 21, 40, {MAIN: (2, 2, 15, 40), PONG: (1, 1, 6, 10)}),
    # the inner pong->... edge ping->pong is nested in the outer one: recursive
    PONG: (2, 3, 19, 25, {PING: (3, 2, 19, 25)}),
    # two Function objects share HELPER: summed
    HELPER: (8, 8, 37, 37, {MAIN: (3, 3, 12, 12), RUN: (4 + 1, 4 + 1, 20 + 5, 20 + 5)}),
    RUN: (0, 0, 5, 60, {}),
}


def expected() -> dict:
    return {k: seconds(*v) for k, v in EXPECTED_TICKS.items()}


def test_stats_match_hand_computed(snap):
    assert snapshot_to_stats(snap) == expected()


def test_entry_types_are_what_pstats_expects(snap):
    for k, (cc, nc, tt, ct, callers) in snapshot_to_stats(snap).items():
        assert isinstance(k, tuple) and len(k) == 3
        assert type(cc) is int and type(nc) is int
        assert type(tt) is float and type(ct) is float
        for ck, entry in callers.items():
            assert len(ck) == 3 and len(entry) == 4


def test_subcalls_false_drops_callers(snap):
    stats = snapshot_to_stats(snap, subcalls=False)
    assert {k: v[:4] for k, v in stats.items()} == {k: v[:4] for k, v in expected().items()}
    assert all(v[4] == {} for v in stats.values())


def test_thread_restriction(snap):
    worker = snap.select_threads("worker-*")
    stats = snapshot_to_stats(snap, threads=worker)
    assert stats == {
        RUN: seconds(0, 0, 5, 60, {}),
        HELPER: seconds(5, 5, 25, 25, {RUN: (5, 5, 25, 25)}),
        FACT: seconds(2, 4, 30, 30, {RUN: (2, 2, 20, 30), FACT: (2, 2, 10, 10)}),
    }


def test_threads_may_be_an_iterator(snap):
    assert snapshot_to_stats(snap, threads=iter(snap.threads)) == expected()


def test_ticks_summed_before_conversion(make_builder):
    # 1 ms + 9 ms in floats is not 10 ms; cProfile sums integers, then scales
    assert 1 * UNIT + 9 * UNIT != 10 * UNIT and 9 * UNIT + 1 * UNIT != 10 * UNIT
    b = make_builder(unit=UNIT)
    C = b.call
    b.thread("a", [C("f", 1, 1)])
    b.thread("b", [C("f", 1, 9)])
    ((cc, nc, tt, ct, _),) = snapshot_to_stats(b.build()).values()
    assert (cc, nc) == (2, 2)
    assert tt == 10 * UNIT and ct == 10 * UNIT


def test_cpu_clock_uses_cpu_fields(make_builder):
    b = make_builder(clock="cpu", unit=UNIT)
    C = b.call
    b.thread("MainThread", [C("main", 1, 100, [C("f", 2, 50, cpu=10)], cpu=40)])
    stats = snapshot_to_stats(b.build())
    assert stats == {
        key("main", 10): seconds(1, 1, 30, 40, {}),
        key("f", 20): seconds(2, 2, 10, 10, {key("main", 10): (2, 2, 10, 10)}),
    }


def test_wall_clock_ignores_cpu_fields(make_builder):
    b = make_builder(clock="wall", unit=UNIT)
    C = b.call
    b.thread("MainThread", [C("main", 1, 100, [C("f", 2, 50, cpu=10)], cpu=40)])
    stats = snapshot_to_stats(b.build())
    assert stats[key("f", 20)][2:4] == (50 * UNIT, 50 * UNIT)
    assert stats[key("main", 10)][2:4] == (50 * UNIT, 100 * UNIT)


def test_empty_snapshot(builder):
    assert snapshot_to_stats(builder.build()) == {}


def test_stats_to_bytes_is_marshal(snap):
    stats = snapshot_to_stats(snap)
    assert marshal.loads(stats_to_bytes(stats)) == stats


def test_written_file_reads_back_with_pstats(snap, tmp_path):
    path = tmp_path / "out.prof"
    get_exporter("pstats").write(snap, path)
    st = pstats.Stats(str(path))
    assert st.stats == expected()
    assert st.total_calls == sum(v[1] for v in EXPECTED_TICKS.values()) == 23
    assert st.prim_calls == sum(v[0] for v in EXPECTED_TICKS.values()) == 17
    out = io.StringIO()
    st.stream = out
    st.sort_stats("cumulative").print_stats()
    st.print_callers()
    st.print_callees()
    text = out.getvalue()
    assert "7/3" in text  # fact: all calls / primitive calls
    assert "app.py:60(run)" in text  # the zero-call frame is listed
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_write_with_thread_selection(snap, tmp_path):
    path = tmp_path / "worker.pstats"
    get_exporter("pstats").write(snap, path, thread="worker-1")
    st = pstats.Stats(str(path))
    assert set(st.stats) == {RUN, HELPER, FACT}
    assert st.stats[FACT][:2] == (2, 4)


def test_write_with_unknown_thread_writes_nothing(snap, tmp_path):
    path = tmp_path / "out.prof"
    with pytest.raises(NoSuchThreadError) as info:
        get_exporter("pstats").write(snap, path, thread="nope*")
    assert str(info.value) == "no thread matches 'nope*'"
    assert list(tmp_path.iterdir()) == []


def test_to_bytes_same_as_file(snap, tmp_path):
    exporter = get_exporter("pstats")
    path = tmp_path / "x.prof"
    exporter.write(snap, path)
    assert path.read_bytes() == exporter.to_bytes(snap)


def test_registry():
    exporter = get_exporter("pstats")
    assert exporter.name == "pstats"
    assert exporter_for_path("a/b/out.prof") is exporter
    assert exporter_for_path("OUT.PSTATS") is exporter
    assert exporter_for_path("out.txt") is None
    assert exporter_for_path(".prof") is None  # a hidden file, no extension
    with pytest.raises(ValueError, match="unknown format 'nope'"):
        get_exporter("nope")


PROGRAM = textwrap.dedent(
    """\
    def leaf():
        clock[0] += 1

    def fact(n):
        clock[0] += 3
        if n:
            fact(n - 1)
        else:
            leaf()

    def ping(n):
        clock[0] += 2
        if n:
            pong(n - 1)

    def pong(n):
        clock[0] += 5
        if n:
            ping(n - 1)

    def main():
        clock[0] += 11
        fact(2)
        ping(3)
        ping(0)
    """
)


def test_same_stats_as_cprofile(make_builder):
    """cProfile and the exporter agree on a program whose clock only moves when it
    says so (so the ticks of every node are known exactly)."""
    import cProfile

    clock = [0]
    ns: dict = {"clock": clock}
    exec(compile(PROGRAM, "prog.py", "exec"), ns)
    prof = cProfile.Profile(functools.partial(operator.getitem, clock, 0), 1.0)
    prof.runcall(ns["main"])
    prof.create_stats()
    names = ("leaf", "fact", "ping", "pong", "main")
    ours_keys = {ns[n].__code__.co_firstlineno: n for n in names}

    def only_prog(stats):
        return {
            k: (*v[:4], {c: e for c, e in v[4].items() if c[0] == "prog.py"})
            for k, v in stats.items()
            if k[0] == "prog.py"
        }

    b = make_builder(unit=1.0)
    for line, name in sorted(ours_keys.items()):
        b.func(name, "prog.py", line)
    C = b.call
    # self ticks: main 11, fact 3, leaf 1, ping 2, pong 5
    b.thread(
        "MainThread",
        [
            C("main", 1, 37, [
                C("fact", 1, 10, [C("fact", 1, 7, [C("fact", 1, 4, [C("leaf", 1, 1)])])]),
                C("ping", 2, 16, [C("pong", 1, 12, [C("ping", 1, 7, [C("pong", 1, 5)])])]),
            ]),
        ],
    )  # fmt: skip
    ours = snapshot_to_stats(b.build())
    theirs = only_prog(prof.stats)
    assert set(theirs) == set(ours)
    assert ours == theirs
