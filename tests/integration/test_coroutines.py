# SPDX-License-Identifier: MIT
"""Calls of generators, coroutines and async generators counted whole
(``coroutines="whole"``): one call from the first start to the return, a
coroutine's awaits in its wall time and charged to the call that awaited, a
generator's time at its consumer kept out of its own.

Under a fake timer that advances one tick per read (the recorder reads it once
per event), every time below is known in advance; the comments count the
ticks.
"""

from __future__ import annotations

import contextlib
import sys
import types

import pytest
from shared import BLOCKING_ASYNCIO, make_timer

import threadprof


def profile(func, coroutines="whole", engine="auto"):
    prof = threadprof.Profile(
        make_timer(), 1.0, builtins=False, engine=engine, coroutines=coroutines
    )
    prof.runcall(func)
    return prof.snapshot()


def tree_of(snap, thread="MainThread"):
    th = snap.thread(thread)
    out = {}
    for node, _depth in th.walk():
        path = "/".join(snap.functions[f].name for f in th.path(node.id))
        out[path] = (node.calls, node.wall, node.wall_self)
    return out


def work():
    pass


def idle():
    pass


def gen():
    yield 1
    yield 2


def consume():
    for _ in gen():
        work()


def test_a_generator_is_one_call_and_its_consumer_keeps_its_time(engine):
    tree = tree_of(profile(consume, engine=engine))
    # consume=2, gen starts=3, yields=4, work 5-6, gen resumes=7, yields=8,
    # work 9-10, gen resumes=11, returns=12, consume returns=13
    assert tree["consume"] == (1, 11, 6)
    assert tree["consume/gen"] == (1, 3, 3)
    assert tree["consume/work"] == (2, 2, 2)


def test_resume_counting_is_cprofiles(engine):
    tree = tree_of(profile(consume, coroutines="resume", engine=engine))
    assert tree["consume"] == (1, 11, 6)
    assert tree["consume/gen"] == (3, 3, 3)


@types.coroutine
def pause():
    yield


async def leaf():
    await pause()


async def top():
    await leaf()
    work()


def step(coro, exc=None):
    """Resume ``coro`` until it suspends or ends, with ``exc`` thrown in if
    given (no Python code of the test's own runs meanwhile: no ticks)."""
    try:
        coro.send(None) if exc is None else coro.throw(exc)
    except StopIteration:
        return "returned"
    except Stop:
        return "raised"
    return "suspended"


class Stop(Exception):
    pass


def drive():
    c = top()
    assert step(c) == "suspended"
    idle()
    assert step(c) == "returned"


def test_an_await_chain_charges_the_wait_to_the_innermost_call(engine):
    tree = tree_of(profile(drive, engine=engine))
    # drive=2; step=3: top, leaf, pause start=4, 5, 6 and yield=7, 8, 9 (the
    # chain suspends), step returns=10; idle 11-12; step=13: top, leaf,
    # pause resume=14, 15, 16; pause returns=17, leaf=18; work 19-20; top
    # returns=21; step returns=22, drive=23
    assert tree["drive"] == (1, 21, 21 - 16 - 1)
    assert tree["drive/idle"] == (1, 1, 1)
    # each call's wall time spans its awaits: pause 6-17, leaf 5-18, top 4-21
    assert tree["drive/step/top/leaf/pause"] == (1, 11, 11)
    assert tree["drive/step/top/leaf"] == (1, 13, 13 - 11)
    assert tree["drive/step/top"] == (1, 17, 17 - 13 - 1)
    assert tree["drive/step/top/work"] == (1, 1, 1)
    # top's wait (9-14), which step did not share, is not in step's time
    assert tree["drive/step"] == (2, 7 + 9, 7 + 9 - 5 - 7)


def calls_of(snap):
    stats = snap.function_stats()
    return {snap.functions[fid].name: s.calls for fid, s in stats.items()}


def test_an_await_chain_counted_per_resume(engine):
    calls = calls_of(profile(drive, coroutines="resume", engine=engine))
    assert (calls["top"], calls["leaf"], calls["pause"], calls["work"]) == (2, 2, 2, 1)
    calls = calls_of(profile(drive, engine=engine))
    assert (calls["top"], calls["leaf"], calls["pause"], calls["work"]) == (1, 1, 1, 1)


async def guarded():
    try:
        await pause()
    except Stop:
        work()
        raise


def cancel():
    c = guarded()
    assert step(c) == "suspended"
    idle()
    assert step(c, Stop()) == "raised"


def test_a_throw_resumes_the_innermost_call_first(engine):
    tree = tree_of(profile(cancel, engine=engine))
    # cancel=2; step=3: guarded, pause start=4, 5, yield=6, 7, step
    # returns=8; idle 9-10; step=11: the throw resumes pause=12, which
    # unwinds=13, then guarded=14: work 15-16, guarded unwinds=17; step
    # returns=18, cancel=19
    assert tree["cancel/step/guarded/pause"] == (1, 8, 8)  # 5-13: waited 6-12
    assert tree["cancel/step/guarded/work"] == (1, 1, 1)
    # guarded spans 4-17. Its own time: its segments 4-7 and 14-17, less
    # pause's first segment (5-6) and work, plus its wait (7-14) less
    # pause's (6-12). Pause's last segment (12-13) ran while guarded was
    # still suspended, so it counts as time of the caller on the stack.
    assert tree["cancel/step/guarded"] == (1, 13, (3 - 1) + (3 - 1) + (7 - 6))
    assert tree["cancel/step"] == (2, 5 + 7, (5 - 3) + (7 - 1 - 3))


async def agen():
    await pause()
    yield 1
    yield 2


async def iterate():
    async for _ in agen():
        work()


def drive_agen():
    c = iterate()
    assert step(c) == "suspended"
    idle()
    assert step(c) == "returned"


def test_an_async_generator_waits_in_its_awaits_not_at_its_consumer(engine):
    tree = tree_of(profile(drive_agen, engine=engine))
    # drive_agen=2; step=3: iterate=4, agen=5, pause=6 start; pause, agen,
    # iterate yield 7, 8, 9; step returns=10; idle 11-12; step=13: iterate,
    # agen, pause resume 14, 15, 16; pause returns=17; agen yields 1=18;
    # work 19-20; agen resumes=21, yields 2=22; work 23-24; agen resumes=25,
    # returns=26; iterate returns=27; step=28, drive_agen=29
    assert tree["drive_agen/step/iterate/agen/pause"] == (1, 11, 11)  # 6-17
    # agen: 5-8 and 15-18 running, its wait 8-15 (in iterate's chain), then
    # 21-22 and 25-26 running; its time at iterate (18-21, 22-25) is not its
    agen_wall = 3 + 7 + 3 + 1 + 1
    assert tree["drive_agen/step/iterate/agen"] == (1, agen_wall, agen_wall - 11)
    assert tree["drive_agen/step/iterate/work"] == (2, 2, 2)
    assert tree["drive_agen/step/iterate"][:2] == (1, 23)  # 4-27


@contextlib.contextmanager
def managed():
    work()
    yield
    work()


def use():
    with managed():
        idle()


def test_a_generator_resumed_by_another_caller_runs_in_its_tree(engine):
    snap = profile(use, engine=engine)
    assert calls_of(snap)["managed"] == 1
    th = snap.thread("MainThread")
    # started in __enter__, ended in __exit__: a node in each, one call
    places = {}
    for node, _depth in th.walk():
        path = [snap.functions[f].name for f in th.path(node.id)]
        if path[-1] == "managed":
            places[path[-2]] = (
                node.calls,
                [snap.functions[th.nodes[c].func].name for c in node.children],
            )
    assert places == {"__enter__": (1, ["work"]), "__exit__": (0, ["work"])}
    # and every node's time is its own plus its children's
    for node in th.nodes[1:]:
        assert node.wall == node.wall_self + sum(th.nodes[c].wall for c in node.children)


KEPT = []


def start_and_leave():
    c = top()
    assert step(c) == "suspended"
    KEPT.append(c)  # still suspended when profiling stops


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
def test_a_wait_in_progress_when_profiling_stops_ends_there():
    engine = "monitoring"  # legacy events do not tell a wait from an end
    prof = threadprof.Profile(make_timer(), 1.0, builtins=False, engine=engine, coroutines="whole")
    prof.runcall(start_and_leave)
    tree = tree_of(prof.snapshot())
    KEPT.pop().close()
    # start_and_leave=2; step=3: top, leaf, pause start=4, 5, 6 and yield=7,
    # 8, 9; step returns=10; start_and_leave=11; the stop reads 12: the chain
    # waited from its yields to 12, each wait the innermost call's own
    assert tree["start_and_leave/step/top/leaf/pause"] == (1, 1 + (12 - 7), 1 + (12 - 7))
    assert tree["start_and_leave/step/top/leaf"] == (
        1,
        3 + (12 - 8),
        (3 - 1) + (12 - 8) - (12 - 7),
    )
    assert tree["start_and_leave/step/top"] == (1, 5 + (12 - 9), (5 - 3) + (12 - 9) - (12 - 8))


def test_a_generator_suspended_when_profiling_stops_counts_only_what_ran(engine):
    def leave():
        it = gen()
        next(it)
        KEPT.append(it)

    prof = threadprof.Profile(make_timer(), 1.0, builtins=True, engine=engine, coroutines="whole")
    prof.runcall(leave)
    KEPT.pop().close()
    tree = tree_of(prof.snapshot())
    # next's C call=3, gen starts=4, yields=5; its time at its consumer is
    # not its own, up to the stop either
    (path,) = [p for p in tree if p.endswith("/gen")]
    assert tree[path] == (1, 1, 1)


# -- the steps of tasks ------------------------------------------------------------


def slow():
    work()
    work()
    work()


async def busy():
    await pause()
    slow()


def drive_busy():
    c = busy()
    assert step(c) == "suspended"
    assert step(c) == "returned"


def steps_of(snap):
    th = snap.thread("MainThread")
    names = [f.name for f in snap.functions]
    return [
        (
            s.start,
            s.duration,
            [names[f] for f in th.path(s.node)],
            [names[f] for f in th.path(s.where)],
            s.where_own,
        )
        for s in th.slow_steps
    ]


@pytest.mark.parametrize("coroutines", ["whole", "resume"])
def test_the_steps_of_a_task_at_least_slow_step_long_are_listed(engine, coroutines):
    prof = threadprof.Profile(
        make_timer(), 1.0, builtins=False, engine=engine, coroutines=coroutines, slow_step=3
    )
    prof.runcall(drive_busy)
    snap = prof.snapshot()
    # enable=1; drive_busy=2; step=3: busy starts=4 (a step: its caller is
    # not a coroutine), pause=5, they yield=6, 7 (the step ends: 3 ticks);
    # step returns=8; step=9: busy resumes=10 (a step), pause=11, returns=12;
    # slow=13, work 14-15, 16-17, 18-19, slow returns=20 (own 4); busy
    # returns=21 (the step ends: 11 ticks); step=22, drive_busy=23
    assert steps_of(snap) == [
        (4 - 1, 3, ["drive_busy", "step", "busy"], ["drive_busy", "step", "busy"], 3 - 1),
        (
            10 - 1,
            11,
            ["drive_busy", "step", "busy"],
            ["drive_busy", "step", "busy", "slow"],
            7 - 3,
        ),
    ]
    assert snap.slow_step == 3
    assert snap.coroutines == coroutines
    # the longest first, across threads
    assert [s.duration for _t, s in snap.slow_steps()] == [11, 3]


def test_steps_shorter_than_slow_step_are_not_listed(engine):
    for least, count in ((4, 1), (11, 1), (12, 0), (0, 0)):
        prof = threadprof.Profile(
            make_timer(), 1.0, builtins=False, engine=engine, slow_step=least
        )
        prof.runcall(drive_busy)
        assert len(prof.snapshot().thread("MainThread").slow_steps) == count, least


def test_a_step_that_blocks_the_event_loop(engine):
    with threadprof.profile(engine=engine, slow_step=0.25) as p:
        exec(compile(BLOCKING_ASYNCIO, "block.py", "exec"), {"__name__": "block"})
    snap = p.snapshot()
    ((thread, step),) = snap.slow_steps()
    names = [f.name for f in snap.functions]
    assert names[thread.path(step.node)[-1]] == "handler"
    assert names[thread.path(step.where)[-1]] == "<built-in method time.sleep>"
    # at least the sleep; the sleep is the call with the most own time in it
    assert step.duration * snap.unit >= 0.3
    assert step.where_own * snap.unit >= 0.3
    assert step.where_own <= step.duration


def test_a_generator_resumed_in_another_thread_counts_once(engine):
    import threading

    it = gen()

    def first():
        next(it)

    def rest():
        for _ in it:
            pass

    with threadprof.profile(engine=engine) as p:
        a = threading.Thread(target=first, name="first")
        a.start()
        a.join()
        b = threading.Thread(target=rest, name="rest")
        b.start()
        b.join()
    snap = p.snapshot()
    calls = {t.name: calls_of(snap.filter_threads(t.name)).get("gen", 0) for t in snap.threads}
    # started in one thread, resumed in the other: one call, in the first;
    # the legacy engine cannot tell a resume it did not see suspend from a
    # start, and counts one in the other thread too
    assert (calls["first"], calls["rest"]) == (1, 1 if engine == "legacy" else 0)


def test_a_generator_closed_while_suspended_ends_its_call(engine):
    def abandon():
        for _ in range(3):
            it = gen()
            next(it)
            del it  # closed by its deallocation: GeneratorExit thrown in

    prof = threadprof.Profile(make_timer(), 1.0, builtins=False, engine=engine, coroutines="whole")
    prof.runcall(abandon)
    assert calls_of(prof.snapshot())["gen"] == 3
