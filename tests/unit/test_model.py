# SPDX-License-Identifier: MIT
"""The snapshot model: derived tables, merging and thread selection, by hand."""

from __future__ import annotations

import pytest

from threadprof.model import (
    GROUP_MIN,
    EdgeStats,
    Function,
    FunctionStats,
    Node,
    build_tree,
    group_threads,
    merge_threads,
    thread_group_key,
)


@pytest.fixture
def tree(builder):
    """main -> a -> a -> a (direct recursion); main -> p -> q -> p -> q (mutual)."""
    C = builder.call
    for name in ("main", "a", "p", "q"):
        builder.func(name)
    builder.thread(
        "MainThread",
        [
            C("main", 1, 100, cpu=60, children=[
                C("a", 2, 40, cpu=20, children=[
                    C("a", 3, 25, cpu=15, children=[C("a", 1, 5, cpu=5)]),
                ]),
                C("p", 1, 30, cpu=10, children=[
                    C("q", 2, 20, cpu=8, children=[
                        C("p", 1, 12, cpu=4, children=[C("q", 1, 2, cpu=1)]),
                    ]),
                ]),
            ]),
        ],
    )  # fmt: skip
    return builder


MAIN, A, P, Q = range(4)


def test_build_tree_links_and_primitive_calls(tree):
    t = tree.threads[0]
    assert t.root.children == [1]
    assert [(n.id, n.parent, n.func, n.children) for n in t.nodes[1:]] == [
        (1, 0, MAIN, [2, 5]),
        (2, 1, A, [3]),
        (3, 2, A, [4]),
        (4, 3, A, []),
        (5, 1, P, [6]),
        (6, 5, Q, [7]),
        (7, 6, P, [8]),
        (8, 7, Q, []),
    ]
    # calls of a node are primitive unless an ancestor runs the same function
    assert [n.prim_calls for n in t.nodes[1:]] == [1, 2, 0, 0, 1, 2, 0, 0]


def test_build_tree_recomputes_from_parent_links():
    nodes = [Node(0, -1, -1), Node(1, 0, 7, calls=2), Node(2, 1, 7, calls=3), Node(3, 0, 8, 1)]
    nodes[0].children = [99]  # stale: rebuilt from the parent links
    build_tree(nodes)
    assert [n.children for n in nodes] == [[1, 3], [2], [], []]
    assert [n.prim_calls for n in nodes[1:]] == [2, 0, 1]


def test_walk_and_path(tree):
    t = tree.threads[0]
    assert [(n.id, depth) for n, depth in t.walk()] == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 2),
        (6, 3),
        (7, 4),
        (8, 5),
    ]
    assert t.path(8) == [MAIN, P, Q, P, Q]
    assert t.path(0) == []
    assert t.calls == 1 + 2 + 3 + 1 + 1 + 2 + 1 + 1


def test_function_stats(tree):
    stats = tree.build().function_stats()
    assert stats == {
        MAIN: FunctionStats(MAIN, 1, 1, wall=100, wall_self=30, cpu=60, cpu_self=30),
        # a: self 15 + 20 + 5; cumulative: the outermost node only
        A: FunctionStats(A, 6, 2, wall=40, wall_self=40, cpu=20, cpu_self=20),
        # p: outer node (self 10, CPU 2) and the one nested under q (self 10, CPU 3)
        P: FunctionStats(P, 2, 1, wall=30, wall_self=20, cpu=10, cpu_self=5),
        # q: outer (self 8) and inner (self 2); cumulative 20
        Q: FunctionStats(Q, 3, 2, wall=20, wall_self=10, cpu=8, cpu_self=5),
    }


def test_edge_stats(tree):
    edges = tree.build().edge_stats()
    assert edges == {
        (MAIN, A): EdgeStats(MAIN, A, 2, 2, wall=40, wall_self=15, cpu=20, cpu_self=5),
        # a -> a twice on one path: the inner edge is nested in the outer one
        (A, A): EdgeStats(A, A, 4, 3, wall=25, wall_self=25, cpu=15, cpu_self=15),
        (MAIN, P): EdgeStats(MAIN, P, 1, 1, wall=30, wall_self=10, cpu=10, cpu_self=2),
        (P, Q): EdgeStats(P, Q, 3, 2, wall=20, wall_self=10, cpu=8, cpu_self=5),
        (Q, P): EdgeStats(Q, P, 1, 1, wall=12, wall_self=10, cpu=4, cpu_self=3),
    }
    # the root's children have no caller
    assert not any(caller == -1 for caller, _ in edges)


def test_stats_over_chosen_threads(tree):
    C = tree.call
    other = tree.thread("worker", [C("a", 4, 8), C("main", 0, 10, [C("a", 1, 3)])])
    snap = tree.build()
    only = snap.function_stats([other])
    assert only[A] == FunctionStats(A, 5, 5, wall=11, wall_self=11, cpu=11, cpu_self=11)
    assert only[MAIN] == FunctionStats(MAIN, 0, 0, wall=10, wall_self=7, cpu=10, cpu_self=7)
    both = snap.function_stats()
    assert (both[A].calls, both[A].prim_calls, both[A].wall) == (11, 7, 51)
    assert snap.edge_stats([other]) == {
        (MAIN, A): EdgeStats(MAIN, A, 1, 1, wall=3, wall_self=3, cpu=3, cpu_self=3)
    }


def test_merged_unites_paths(tree):
    C = tree.call
    tree.threads[0].warnings.append("w-main")
    tree.thread(
        "worker",
        [C("main", 2, 50, [C("a", 1, 10), C("q", 1, 5)])],
        first_seen=5,
        wall_time=60,
        cpu_time=7,
    ).warnings.append("w-worker")
    snap = tree.build()
    m = snap.merged("everything")
    assert m.name == "everything" and m.serial == -1
    by_path = {tuple(m.path(n.id)): n for n, _ in m.walk()}
    assert set(by_path) == {
        (MAIN,),
        (MAIN, A),
        (MAIN, A, A),
        (MAIN, A, A, A),
        (MAIN, P),
        (MAIN, P, Q),
        (MAIN, P, Q, P),
        (MAIN, P, Q, P, Q),
        (MAIN, Q),
    }
    assert (by_path[(MAIN,)].calls, by_path[(MAIN,)].wall) == (3, 150)
    assert (by_path[(MAIN, A)].calls, by_path[(MAIN, A)].wall) == (3, 50)
    assert by_path[(MAIN, A, A)].prim_calls == 0  # recomputed on the merged tree
    assert by_path[(MAIN, Q)].prim_calls == 1
    assert m.root.wall == 150
    assert (m.first_seen, m.last_seen) == (0, 100)  # main: 0..100, worker: 5..65
    assert (m.wall_time, m.cpu_time) == (100 + 60, 60 + 7)
    assert m.warnings == ["w-main", "w-worker"]
    # merging by path keeps every ancestor set, so the totals do not change
    assert snap.function_stats([m]) == snap.function_stats()
    assert snap.edge_stats([m]) == snap.edge_stats()
    assert merge_threads([]).nodes == [Node(0, -1, -1)]


@pytest.fixture
def threads_snap(builder):
    C = builder.call
    builder.thread("MainThread", [C("f", 1, 1)], ident=111, native_id=9001)
    builder.thread("worker-1", [C("f", 1, 1)], ident=222, native_id=9002)
    builder.thread("worker-2", [C("f", 1, 1)], ident=333, native_id=9003)
    builder.thread("444", [C("f", 1, 1)], ident=555, native_id=9005)  # a name of digits
    return builder.build()


def names(threads) -> list[str]:
    return [t.name for t in threads]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (222, ["worker-1"]),  # ident as int
        ("333", ["worker-2"]),  # ident as digits
        ("9001", ["MainThread"]),  # native id when no ident matches
        ("444", ["444"]),  # neither: the name
        ("MainThread", ["MainThread"]),
        ("worker-*", ["worker-1", "worker-2"]),
        ("worker-[2]", ["worker-2"]),
        ("*", ["MainThread", "worker-1", "worker-2", "444"]),
        ("Worker-*", []),  # case-sensitive
        ("nobody", []),
        (7, []),
    ],
)
def test_select_threads(threads_snap, key, expected):
    assert names(threads_snap.select_threads(key)) == expected


def test_thread_and_filter_threads(threads_snap):
    assert threads_snap.thread("worker-*").name == "worker-1"
    with pytest.raises(KeyError):
        threads_snap.thread("nobody")
    sub = threads_snap.filter_threads("worker-*")
    assert names(sub.threads) == ["worker-1", "worker-2"]
    assert sub.functions is threads_snap.functions
    assert (sub.clock, sub.unit, sub.duration) == (
        threads_snap.clock,
        threads_snap.unit,
        threads_snap.duration,
    )
    assert len(threads_snap.threads) == 4  # the original is unchanged
    with pytest.raises(KeyError):
        threads_snap.filter_threads("nobody")


@pytest.mark.parametrize(
    ("clock", "primary"), [("wall", "wall"), ("cpu", "cpu"), ("user", "wall")]
)
def test_primary(make_builder, clock, primary):
    assert make_builder(clock=clock).build().primary == primary


def test_seconds(make_builder):
    assert make_builder(unit=1e-9).build().seconds(1_500_000_000) == 1.5


def test_function_labels():
    py = Function(0, "python", "run", "Worker.run", "/srv/app.py", 12)
    c = Function(1, "c", "<built-in method builtins.len>", "", "~", 0)
    assert py.pstats_key == ("/srv/app.py", 12, "run")
    assert py.display == "Worker.run (/srv/app.py:12)"
    assert c.pstats_key == ("~", 0, "<built-in method builtins.len>")
    assert c.display == "{built-in method builtins.len}"


# -- thread groups (every view groups threads this way) --


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ThreadPoolExecutor-0_12", "ThreadPoolExecutor-0_*"),
        ("Thread-5 (worker)", "Thread-* (worker)"),
        ("Thread-5 (worker2)", "Thread-* (worker2)"),
        ("Thread-12 (<lambda>)", "Thread-* (<lambda>)"),
        ("worker-3", "worker-*"),
        ("asyncio_0", "asyncio_*"),
        ("pool-1-thread-3", "pool-1-thread-*"),
        ("Dummy-7", "Dummy-*"),
        ("42", "*"),
        ("MainThread", "MainThread"),
        ("x12y", "x12y"),
        ("worker (3)", "worker (3)"),
        ("worker-12", "worker-*"),
        ("Thread-5 (serve)", "Thread-* (serve)"),
        ("hasher_0", "hasher_*"),
        ("", ""),
        ("7", "*"),
    ],
)
def test_thread_group_key(name, key):
    assert thread_group_key(name) == key


def test_group_threads_order_and_minimum(builder):
    def add(name):
        builder.thread(name, [builder.call("f", 1, 1)])

    for name in ["MainThread", "w-1", "x-1", "w-2", "x-2", "w-3", "x-3", "w-4", "solo"]:
        add(name)
    lines = group_threads(builder.build().threads, 4)
    # four w-* share a line where the first of them was; three x-* stay apart
    assert [[t.name for t in line.threads] for line in lines] == [
        ["MainThread"],
        ["w-1", "w-2", "w-3", "w-4"],
        ["x-1"],
        ["x-2"],
        ["x-3"],
        ["solo"],
    ]
    # by default, only groups of more than 16
    assert GROUP_MIN == 17
    assert len(group_threads(builder.build().threads)) == 9


def test_merge_snapshots_matches_functions_and_keeps_threads_apart(make_builder):
    """Two processes' snapshots: one function table (matched by name, file and
    line, whatever the ids), every thread kept, named after its process."""
    from threadprof.merge import merge_snapshots

    a = make_builder()
    a.func("main", "app.py", 1)
    a.func("work", "app.py", 5)
    a.thread("MainThread", [a.call("main", 1, 10, [a.call("work", 3, 6)])])
    b = make_builder()
    b.func("work", "app.py", 5)  # the other way round: ids differ
    b.func("main", "app.py", 1)
    b.func("other", "lib.py", 9)
    b.thread("MainThread", [b.call("main", 1, 20, [b.call("work", 2, 4), b.call("other", 1, 1)])])
    merged = merge_snapshots([a.build(pid=1), b.build(pid=2)], ["gw0:", "gw1:"])
    assert [(f.name, f.filename) for f in merged.functions] == [
        ("main", "app.py"),
        ("work", "app.py"),
        ("other", "lib.py"),
    ]
    assert [t.name for t in merged.threads] == ["gw0:MainThread", "gw1:MainThread"]
    assert [t.serial for t in merged.threads] == [0, 1]
    stats = merged.function_stats()
    assert {merged.functions[f].name: s.calls for f, s in stats.items()} == {
        "main": 2,
        "work": 5,
        "other": 1,
    }
    assert merged.pid == 0  # two processes
    with pytest.raises(ValueError, match="cannot merge"):
        merge_snapshots([a.build(), make_builder(clock="cpu").build()])


def test_merged_snapshots_keep_their_tasks_apart(make_builder):
    from threadprof.merge import merge_snapshots

    snaps = []
    for name in ("a", "b"):
        b = make_builder()
        C = b.call
        if name == "b":
            b.func("other", "other.py", 1)  # "run" gets another id in b than in a
        t = b.thread("MainThread", [C("run", 1, 10, [C(f"main_{name}", 1, 8)])])
        b.task(t, "Task-1", [C(f"main_{name}", 1, 8)], id=1, prefix=["run"])
        b.task(t, "child", [C(f"main_{name}", 1, 2)], id=2, creator=1, prefix=["run"])
        snaps.append(b.build())
    merged = merge_snapshots(snaps, ["a: ", "b: "])
    tasks = merged.tasks()
    assert [(t.id, t.creator, t.serial) for t in tasks] == [
        (1, 0, 0),
        (2, 1, 0),
        (3, 0, 1),
        (4, 3, 1),
    ]
    names = {f.id: f.name for f in merged.functions}
    assert [names[t.nodes[1].func] for t in tasks] == ["main_a", "main_a", "main_b", "main_b"]
    assert [[names[f] for f in t.prefix] for t in tasks] == [["run"]] * 4
