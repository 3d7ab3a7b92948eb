# SPDX-License-Identifier: MIT
"""Golden call trees under a fake timer: exact counts and exact times.

The timer advances by one tick per call and the recorder reads it once per
recorded event, so every time below is known in advance.
"""

from __future__ import annotations

from shared import make_timer

import threadprof


def c():
    pass


def b():
    c()
    c()


def a():
    b()


def rec(n):
    if n:
        rec(n - 1)


def tree_of(prof, thread="MainThread"):
    snap = prof.snapshot()
    th = snap.thread(thread)
    out = {}
    for node, _depth in th.walk():
        path = "/".join(snap.functions[f].name for f in th.path(node.id))
        out[path] = (node.calls, node.prim_calls, node.wall, node.wall_self)
    return out


def test_nested_calls_exact_ticks(engine):
    prof = threadprof.Profile(make_timer(), 1.0, engine=engine)
    prof.runcall(a)
    tree = tree_of(prof)
    # ticks: enable=1, call a=2, call b=3, call c=4, ret c=5, call c=6,
    # ret c=7, ret b=8, ret a=9, call disable=10, disable's own read=11
    assert tree["a"] == (1, 1, 7, 2)
    assert tree["a/b"] == (1, 1, 5, 3)
    assert tree["a/b/c"] == (2, 2, 2, 2)
    snap = prof.snapshot()
    assert snap.unit == 1.0
    assert snap.clock == "user"


def test_recursion_exact_ticks_and_primitive_calls(engine):
    prof = threadprof.Profile(make_timer(), 0.5, engine=engine)
    prof.runcall(rec, 2)
    tree = tree_of(prof)
    # call rec(2)=2, rec(1)=3, rec(0)=4, returns at 5, 6, 7
    assert tree["rec"] == (1, 1, 5, 2)
    assert tree["rec/rec"] == (1, 0, 3, 2)
    assert tree["rec/rec/rec"] == (1, 0, 1, 1)
    snap = prof.snapshot()
    stats = snap.function_stats()
    fid = next(f.id for f in snap.functions if f.name == "rec")
    s = stats[fid]
    # cumulative time counts the outermost activation only, like cProfile
    assert (s.calls, s.prim_calls, s.wall, s.wall_self) == (3, 1, 5, 5)
    assert snap.seconds(s.wall) == 2.5


def test_c_functions_with_fake_timer(engine):
    def uses_len():
        len("abc")
        len([1])

    prof = threadprof.Profile(make_timer(), 1.0, engine=engine)
    prof.runcall(uses_len)
    tree = tree_of(prof)
    # call uses_len=2, c_call len=3, c_return=4, c_call=5, c_return=6, ret=7
    assert tree["uses_len"] == (1, 1, 5, 3)
    assert tree["uses_len/<built-in method builtins.len>"] == (2, 2, 2, 2)


def test_exception_through_frames_exact_ticks(engine):
    def inner():
        raise KeyError("x")

    def middle():
        inner()

    def outer():
        try:
            middle()
        except KeyError:
            pass

    prof = threadprof.Profile(make_timer(), 1.0, engine=engine)
    prof.runcall(outer)
    tree = tree_of(prof)
    # call outer=2, middle=3, inner=4, inner unwinds=5, middle unwinds=6, ret=7
    assert tree["outer"] == (1, 1, 5, 2)
    assert tree["outer/middle"] == (1, 1, 3, 2)
    assert tree["outer/middle/inner"] == (1, 1, 1, 1)


def test_generator_resumes_count_as_calls(engine):
    def g():
        yield 1
        yield 2

    def drive():
        for _ in g():
            pass

    prof = threadprof.Profile(make_timer(), 1.0, engine=engine)
    prof.runcall(drive)
    tree = tree_of(prof)
    # three resumes: two yields and the final return
    assert tree["drive/g"][0] == 3
    # call drive=2; g: 3-4, 5-6, 7-8; drive returns at 9
    assert tree["drive"] == (1, 1, 7, 4)
    assert tree["drive/g"] == (3, 3, 3, 3)
