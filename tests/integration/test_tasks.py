# SPDX-License-Identifier: MIT
"""asyncio tasks recorded like threads: a call tree, a name, a creator, a
loop, steps and await time per task, on both engines.

Counts, names, steps and the tree of tasks are exact; await times are
compared with what the program measured around its own awaits."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import sys
import threading
import time

import pytest

import threadprof
from threadprof.model import TaskProfile, task_lines, thread_function_stats, thread_without_tasks


def by_name(snap):
    return {t.name: t for t in snap.tasks()}


def tree_functions(snap, thread):
    """(depth, function name, calls) of a thread's or a task's tree, depth first."""
    return [(d, snap.functions[n.func].name, n.calls) for n, d in thread.walk()]


def stats(snap, thread):
    return {snap.functions[f].name: s for f, s in thread_function_stats(thread).items()}


async def fetch(i, measured):
    t0 = time.perf_counter()
    await asyncio.sleep(0.02)
    sum(range(2000))
    await asyncio.sleep(0.02)
    measured[i] = time.perf_counter() - t0


def test_each_task_has_its_tree_name_creator_and_steps(engine):
    measured = {}

    async def main():
        async with asyncio.TaskGroup() as tg:
            for i in range(10):
                tg.create_task(fetch(i, measured), name=f"fetch-{i}")

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    thread = snap.threads[0]
    tasks = by_name(snap)
    fetches = [tasks[f"fetch-{i}"] for i in range(10)]
    main_task = next(t for t in thread.tasks if stats(snap, t).get("main"))
    assert [t.creator for t in fetches] == [main_task.id] * 10
    assert main_task.creator == 0
    assert len({t.id for t in thread.tasks}) == len(thread.tasks)
    for i, task in enumerate(fetches):
        assert task.steps == 3  # the start, and a resume after each sleep
        assert task.serial == thread.serial and task.ident == thread.ident
        assert task.loop == main_task.loop == 1
        # the task's tree is rooted at its coroutine: one call, its two sleeps
        by = stats(snap, task)
        assert (by["fetch"].calls, by["sleep"].calls) == (1, 2)
        assert by["<built-in method builtins.sum>"].calls == 1
        assert task.tree_columns().calls[1] == 1  # node 1: the coroutine
        assert task.wall_time == task.tree_columns().wall[1]
        assert task.wall_time * snap.unit == pytest.approx(measured[i], rel=0.05)
        # its awaits: the two 20 ms sleeps, and no more than its wall time
        assert 0.039 <= task.await_time * snap.unit <= task.wall_time * snap.unit
        assert task.last_seen - task.first_seen == task.wall_time
        assert task.await_time <= task.wall_time
    # the thread's tree holds the tasks' calls merged: fetch once, 10 calls
    fetch_nodes = [(d, c) for d, name, c in tree_functions(snap, thread) if name == "fetch"]
    assert fetch_nodes == [(fetch_nodes[0][0], 10)]
    assert stats(snap, thread)["fetch"].calls == 10
    # and it is the sum of the tasks' trees for what ran in them
    assert sum(stats(snap, t)["sleep"].calls for t in fetches) == 20
    # taken out at their prefixes, the tasks leave the loop's own calls
    rest = thread_without_tasks(thread)
    assert rest.tasks == []
    assert all(n.calls >= 0 and n.wall >= 0 and n.wall_self >= 0 for n in rest.nodes)
    assert "fetch" not in {name for name, s in stats(snap, rest).items() if s.calls or s.wall}
    each = [thread_function_stats(t) for t in (rest, *thread.tasks)]
    for func, total in thread_function_stats(thread).items():
        parts = [part[func] for part in each if func in part]
        assert total.calls == sum(p.calls for p in parts), func
        assert total.wall_self == sum(p.wall_self for p in parts), func
        assert total.cpu_self == sum(p.cpu_self for p in parts), func


def test_nested_task_groups_make_a_tree_of_tasks(engine):
    async def leaf():
        await asyncio.sleep(0)

    async def outer(k):
        async with asyncio.TaskGroup() as tg:
            for j in range(3):
                tg.create_task(leaf(), name=f"inner-{k}-{j}")

    async def main():
        async with asyncio.TaskGroup() as tg:
            for k in range(2):
                tg.create_task(outer(k), name=f"outer-{k}")

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main(), debug=False)
    snap = p.snapshot()
    tasks = by_name(snap)
    root = next(t for t in snap.tasks() if stats(snap, t).get("main"))
    for k in range(2):
        assert tasks[f"outer-{k}"].creator == root.id
        for j in range(3):
            assert tasks[f"inner-{k}-{j}"].creator == tasks[f"outer-{k}"].id
    # the table's lines: each task under the one that made it
    lines = [
        (depth, [t.name for t in g.threads])
        for g, depth in task_lines(snap.tasks())
        if depth > 0 or g.threads[0] is root
    ]
    assert lines == [
        (0, [root.name]),
        (1, ["outer-0"]),
        (2, ["inner-0-0"]),
        (2, ["inner-0-1"]),
        (2, ["inner-0-2"]),
        (1, ["outer-1"]),
        (2, ["inner-1-0"]),
        (2, ["inner-1-1"]),
        (2, ["inner-1-2"]),
    ]
    # grouped as threads are, by name pattern, from two tasks up
    grouped = [(d, g.key, len(g.threads)) for g, d in task_lines(snap.tasks(), 2) if d > 0]
    assert grouped == [(1, "outer-*", 2), (2, "inner-0-*", 3), (2, "inner-1-*", 3)]


@pytest.mark.skipif(sys.version_info < (3, 14), reason="asyncio.capture_call_graph is 3.14's")
def test_the_tree_of_tasks_matches_capture_call_graph(engine):
    graphs = {}

    def chain(graph):
        names = []
        while graph is not None:
            names.append(graph.future.get_name())
            graph = graph.awaited_by[0] if graph.awaited_by else None
        return names

    async def leaf(name):
        await asyncio.sleep(0)
        graphs[name] = chain(asyncio.capture_call_graph())

    async def middle(k):
        async with asyncio.TaskGroup() as tg:
            for j in range(2):
                tg.create_task(leaf(f"leaf-{k}-{j}"), name=f"leaf-{k}-{j}")

    async def main():
        async with asyncio.TaskGroup() as tg:
            for k in range(2):
                tg.create_task(middle(k), name=f"middle-{k}")

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    by_id = {t.id: t for t in snap.tasks()}

    def creators(task):
        names = []
        while task is not None:
            names.append(task.name)
            task = by_id.get(task.creator)
        return names

    tasks = by_name(snap)
    assert len(graphs) == 4
    for name, awaited_by in graphs.items():
        assert creators(tasks[name]) == awaited_by


def test_cancelled_and_failing_tasks(engine):
    async def waiter(started):
        started.set()
        await asyncio.sleep(3600)

    async def failing():
        await asyncio.sleep(0)
        raise ValueError("no")

    async def main():
        started = asyncio.Event()
        task = asyncio.create_task(waiter(started), name="waiter")
        bad = asyncio.create_task(failing(), name="failing")
        await started.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(ValueError):
            await bad

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    tasks = by_name(snap)
    waiter_task, failing_task = tasks["waiter"], tasks["failing"]
    assert waiter_task.steps == 2  # its start, and the resume that raised CancelledError
    assert failing_task.steps == 2
    assert stats(snap, waiter_task)["waiter"].calls == 1
    assert stats(snap, failing_task)["failing"].calls == 1
    assert waiter_task.await_time * snap.unit >= 0.05
    assert waiter_task.creator == failing_task.creator != 0


def test_to_thread_waits_are_the_tasks_and_the_work_the_threads(engine):
    def work():
        time.sleep(0.05)

    async def job():
        t0 = time.perf_counter()
        await asyncio.to_thread(work)
        return time.perf_counter() - t0

    async def main():
        return await asyncio.create_task(job(), name="job")

    with threadprof.profile(engine=engine) as p:
        took = asyncio.run(main())
    snap = p.snapshot()
    job_task = by_name(snap)["job"]
    assert job_task.wall_time * snap.unit == pytest.approx(took, rel=0.05)
    # the wait for the thread (the step before it started the thread, which
    # may be slow, is not a wait)
    assert 0.045 <= job_task.await_time * snap.unit <= job_task.wall_time * snap.unit
    assert "work" not in stats(snap, job_task)
    worker = next(t for t in snap.threads if "work" in stats(snap, t))
    assert worker.tasks == []


def test_two_loops_in_two_threads_are_kept_apart(engine):
    def run(n, name):
        async def one(i):
            await asyncio.sleep(0)

        async def main():
            await asyncio.gather(
                *(asyncio.create_task(one(i), name=f"{name}-{i}") for i in range(n))
            )

        asyncio.run(main())

    with threadprof.profile(engine=engine) as p:
        threads = [
            threading.Thread(target=run, args=(3, "a"), name="loop-a"),
            threading.Thread(target=run, args=(4, "b"), name="loop-b"),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    snap = p.snapshot()
    a, b = snap.thread("loop-a"), snap.thread("loop-b")
    a_names = sorted(t.name for t in a.tasks if t.name.startswith("a-"))
    b_names = sorted(t.name for t in b.tasks if t.name.startswith("b-"))
    assert (a_names, b_names) == (["a-0", "a-1", "a-2"], ["b-0", "b-1", "b-2", "b-3"])
    assert len({t.loop for t in a.tasks}) == len({t.loop for t in b.tasks}) == 1
    assert {t.loop for t in a.tasks} != {t.loop for t in b.tasks}
    assert len({t.id for t in snap.tasks()}) == len(snap.tasks())


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks are 3.12's")
def test_eager_tasks_are_tasks_too(engine):
    async def child():
        await asyncio.sleep(0)

    async def main():
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
        await asyncio.gather(*(asyncio.create_task(child(), name=f"eager-{i}") for i in range(3)))

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    tasks = by_name(snap)
    root = next(t for t in snap.tasks() if stats(snap, t).get("main"))
    for i in range(3):
        task = tasks[f"eager-{i}"]
        assert (task.creator, task.steps) == (root.id, 2)
        assert stats(snap, task)["child"].calls == 1
    assert stats(snap, snap.threads[0])["child"].calls == 3


def marked(context) -> dict[str, int]:
    """The task id threadprof's context variable holds in a context, by name."""
    return {var.name: value for var, value in context.items() if var.name == "threadprof.task"}


class NamedTask(asyncio.Task):
    """A Task subclass, as libraries define them."""


@pytest.mark.parametrize("builtins", [True, False])
def test_who_made_a_task_and_what_each_context_holds(engine, builtins):
    # The sys.monitoring engine sees calls of asyncio.Task (with builtins):
    # a task marks its context when it makes a task, so one that makes none
    # keeps its context as it was. Otherwise every task marks its own at its
    # first step. Either way each task is made by the task whose step made it.
    lazy = engine == "monitoring" and builtins
    seen = {}

    async def leaf(name):
        seen[name] = marked(contextvars.copy_context())
        await asyncio.sleep(0)

    async def parent():
        seen["parent-before"] = marked(contextvars.copy_context())
        loop = asyncio.get_running_loop()
        await loop.create_task(leaf("by-loop"), name="by-loop")
        await NamedTask(leaf("subclass"), name="subclass")
        seen["parent-after"] = marked(contextvars.copy_context())

    async def main():
        await asyncio.create_task(parent(), name="parent")
        await asyncio.create_task(leaf("lonely"), name="lonely")

    p = threadprof.Profile(builtins=builtins, coroutines="whole", engine=engine)
    p.enable()
    try:
        asyncio.run(main())
    finally:
        p.disable()
    snap = p.snapshot()
    tasks = by_name(snap)
    root = next(t for t in snap.tasks() if stats(snap, t).get("main"))
    assert root.creator == 0
    assert tasks["parent"].creator == tasks["lonely"].creator == root.id
    assert tasks["by-loop"].creator == tasks["subclass"].creator == tasks["parent"].id
    parent_id = tasks["parent"].id
    if lazy:
        # parent's context holds its creator's mark until it makes a task
        assert seen["parent-before"] == {"threadprof.task": root.id}
        assert seen["lonely"] == {"threadprof.task": root.id}
    else:
        assert seen["parent-before"] == {"threadprof.task": parent_id}
        assert seen["lonely"] == {"threadprof.task": tasks["lonely"].id}
    assert seen["parent-after"] == {"threadprof.task": parent_id}


def test_a_task_made_by_a_loop_callback(engine):
    # Outside any task's step: made by no task where calls of asyncio.Task are
    # seen; else by the task in whose context the callback was scheduled.
    async def child():
        await asyncio.sleep(0)

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        await asyncio.create_task(child(), name="first")
        loop.call_soon(lambda: done.set_result(loop.create_task(child(), name="from-callback")))
        await (await done)

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    tasks = by_name(snap)
    root = next(t for t in snap.tasks() if stats(snap, t).get("main"))
    assert tasks["first"].creator == root.id
    assert tasks["from-callback"].creator == (0 if engine == "monitoring" else root.id)


def test_a_coroutine_run_by_hand_inside_a_task_is_not_a_task(engine):
    async def inner():
        return 1

    async def main():
        coro = inner()
        try:
            coro.send(None)
        except StopIteration:
            pass

    with threadprof.profile(engine=engine) as p:
        asyncio.run(main())
    snap = p.snapshot()
    assert [
        t for t in snap.tasks() if "inner" in stats(snap, t) and "main" not in stats(snap, t)
    ] == []


@pytest.mark.parametrize("options", [{"tasks": False}, {"coroutines": "resume"}])
def test_tasks_off(engine, options):
    async def main():
        await asyncio.create_task(asyncio.sleep(0))

    with threadprof.profile(engine=engine, **options) as p:
        asyncio.run(main())
    snap = p.snapshot()
    assert snap.tasks() == []
    assert stats(snap, snap.threads[0])["main"].calls >= 1


def test_a_task_still_waiting_at_the_stop_ends_there(engine):
    if engine == "legacy":
        pytest.skip("the legacy engine ends no wait at the stop (docs/asyncio.md)")
    release = threading.Event()
    started = threading.Event()

    def loop_thread():
        async def sleeper():
            started.set()
            while not release.is_set():
                await asyncio.sleep(0.01)

        asyncio.run(sleeper())

    t = threading.Thread(target=loop_thread)
    p = threadprof.start(engine=engine)
    t.start()
    started.wait()
    time.sleep(0.05)
    threadprof.stop()
    release.set()
    t.join()
    snap = p.snapshot()
    (task,) = snap.thread(t.ident).tasks
    assert task.steps >= 2
    assert task.await_time * snap.unit >= 0.04
    assert isinstance(task, TaskProfile)


def test_with_a_timeline_each_step_is_a_span(engine):
    measured = {}

    async def main():
        async with asyncio.TaskGroup() as tg:
            for i in range(4):
                tg.create_task(fetch(i, measured), name=f"fetch-{i}")

    with threadprof.profile(engine=engine, timeline=True) as p:
        asyncio.run(main())
    snap = p.snapshot()
    for task in snap.tasks():
        spans = task.step_spans
        assert len(spans) == task.steps, task.name
        assert all(s <= e for s, e in spans)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        assert task.first_seen == spans[0][0] and spans[-1][1] <= task.last_seen
        # a task's wall time is its steps and its waits, exactly
        assert sum(e - s for s, e in spans) + task.await_time == task.wall_time, task.name
    without = threadprof.profile(engine=engine)
    with without:
        asyncio.run(main())
    assert all(t.step_spans == [] for t in without.profiler.snapshot().tasks())


def test_past_the_most_tasks_a_thread_records_the_rest_are_its_own_calls():
    async def leaf():
        pass

    async def main():
        await asyncio.gather(*(leaf() for _ in range(100_005)))

    with threadprof.profile() as p:
        asyncio.run(main())
    snap = p.snapshot()
    thread = snap.threads[0]
    assert len(thread.tasks) == 100_000  # asyncio.run's own task among them
    assert stats(snap, thread)["leaf"].calls == 100_005
    leaf_id = next(f.id for f in snap.functions if f.name == "leaf")
    in_tasks = 0
    for task in thread.tasks:
        cols = task.tree_columns()
        in_tasks += sum(c for f, c in zip(cols.func, cols.calls, strict=True) if f == leaf_id)
    assert in_tasks == 100_000 - 1
    (warning,) = [w for w in thread.warnings if "asyncio tasks" in w]
    # the rest: 6 gathered, then asyncio.run's two that shut the loop down
    assert warning.startswith("8 more asyncio tasks ran than the 100,000 recorded")


def test_a_slow_step_names_its_task(engine):
    async def handler():
        await asyncio.sleep(0)
        time.sleep(0.15)  # blocks the loop

    async def main():
        await asyncio.create_task(handler(), name="blocker")

    with threadprof.profile(engine=engine, slow_step=0.1) as p:
        asyncio.run(main())
    snap = p.snapshot()
    ((thread, step),) = snap.slow_steps()
    assert step.task == by_name(snap)["blocker"].id
    assert snap.functions[thread.path(step.node)[-1]].name == "handler"


def test_snapshots_while_tasks_run_in_other_threads(engine):
    stop = threading.Event()

    def loop_thread(name):
        async def worker():
            # not sleep(0): two loops that never block hand the GIL to each
            # other at every select() and starve the main thread for seconds
            while not stop.is_set():
                await asyncio.sleep(0.001)

        async def main():
            await asyncio.gather(
                *(asyncio.create_task(worker(), name=f"{name}-{i}") for i in range(20))
            )

        asyncio.run(main())

    with threadprof.profile(engine=engine) as p:
        threads = [threading.Thread(target=loop_thread, args=(n,), name=n) for n in "ab"]
        for t in threads:
            t.start()
        for _ in range(20):
            for task in p.snapshot().tasks():  # read while they are written
                assert task.steps >= 1 and task.tree_size >= 1
            time.sleep(0.005)
        stop.set()
        for t in threads:
            t.join()
    snap = p.snapshot()
    for n in "ab":
        names = sorted(t.name for t in snap.thread(n).tasks if t.name.startswith(n + "-"))
        assert names == sorted(f"{n}-{i}" for i in range(20))
