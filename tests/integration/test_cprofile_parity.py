# SPDX-License-Identifier: MIT
"""threadprof.Profile against cProfile.Profile on single-threaded programs.

Both profilers run the same code under the same fake timer (one tick per timer
call), so every function's call counts, primitive calls, callers and times
must be equal, built-ins and methods included.
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import gc
import json
import re

import pytest
from shared import make_timer

import threadprof

# -- the programs -------------------------------------------------------------


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def recursion():
    fib(12)
    is_even(15)
    is_odd(8)


class Boom(Exception):
    pass


def raiser(depth):
    if depth == 0:
        raise Boom("deep")
    return raiser(depth - 1)


def catcher():
    try:
        raiser(4)
    except Boom:
        pass


def propagate():
    catcher()
    try:
        raiser(2)
    except Boom:
        pass
    for _ in range(3):
        try:
            int("not a number")
        except ValueError:
            pass


def gen(n):
    for i in range(n):
        yield i * 2


def consume():
    total = sum(gen(5))
    g = gen(3)
    next(g)
    next(g)
    g.close()
    return total + sum(x for x in gen(4))


async def leaf(i):
    await asyncio.sleep(0)
    return i


async def gather_all():
    return await asyncio.gather(*(leaf(i) for i in range(4)))


def coroutines():
    c = leaf(7)
    try:
        c.send(None)
        c.send(None)
    except StopIteration:
        pass


def builtins_and_methods():
    data = []
    for i in range(20):
        data.append(i)
        len(data)
        isinstance(i, int)
    d = {"a": 1}
    d.get("a")
    d.get("b", 2)
    sorted(data, key=lambda x: -x)
    sorted(data, reverse=True)
    max(*data[:5])
    args = (3, 4)
    kwargs = {"sep": "-"}
    "-".join(map(str, args))
    print_to = []
    print_to.extend(args)
    dict(**kwargs)
    divmod(*args)
    json.dumps({"k": [1, 2]}, sort_keys=True)
    re.sub(r"\d", "#", "a1b2")
    functools.reduce(lambda a, b: a + b, range(5))
    "x".encode("utf-8")  # noqa: UP012 -- the call is what is profiled
    str.upper("abc")


PROGRAMS = {
    "recursion": recursion,
    "exceptions": propagate,
    "generators": consume,
    "coroutines": coroutines,
    "builtins": builtins_and_methods,
}


def run_with(profiler_class, program, **kw):
    """The stats of ``program`` under ``profiler_class``. The collector is
    paused while it runs: a collection would run the gc callbacks of whatever
    the process holds (hypothesis installs one) under one profiler and not
    under the other."""
    prof = profiler_class(make_timer(), 0.001, **kw)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        prof.runcall(program)
    finally:
        if enabled:
            gc.enable()
    prof.create_stats()
    return prof.stats


def strip_profiler_entries(stats):
    """Drop the profilers' own disable() entries, whose names differ."""
    own = {k for k in stats if "disable" in k[2] and "Profiler" in k[2]}
    out = {}
    for func, (cc, nc, tt, ct, callers) in stats.items():
        if func in own:
            continue
        callers = {c: v for c, v in callers.items() if c not in own}
        out[func] = (cc, nc, tt, ct, callers)
    return out


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_counts_callers_and_times_equal_cprofile(name, engine):
    program = PROGRAMS[name]
    program()  # warm up: imports, caches, specialisation
    expected = strip_profiler_entries(run_with(cProfile.Profile, program))
    got = strip_profiler_entries(run_with(threadprof.Profile, program, engine=engine))
    assert set(got) == set(expected)
    for func in expected:
        assert got[func] == expected[func], func


def test_asyncio_gather_counts_equal_cprofile(engine):
    def program():
        asyncio.run(gather_all())

    program()
    expected = strip_profiler_entries(run_with(cProfile.Profile, program))
    got = strip_profiler_entries(run_with(threadprof.Profile, program, engine=engine))
    assert set(got) == set(expected)
    for func in expected:
        assert got[func][:2] == expected[func][:2], func
        assert set(got[func][4]) == set(expected[func][4]), func


def test_builtins_false_records_no_c_functions(engine):
    prof = threadprof.Profile(make_timer(), 0.001, builtins=False, engine=engine)
    prof.runcall(builtins_and_methods)
    prof.create_stats()
    assert prof.stats
    assert all(k[0] != "~" for k in prof.stats)


def test_subcalls_false_records_no_callers():
    prof = threadprof.Profile(subcalls=False)
    prof.runcall(recursion)
    prof.create_stats()
    assert all(v[4] == {} for v in prof.stats.values())
