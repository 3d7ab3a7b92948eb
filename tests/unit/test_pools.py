# SPDX-License-Identifier: MIT
"""threadprof.pools on hand-built snapshots: each pool's busy, blocked and
idle time, exact, and its tasks per worker (ticks of 1 ms)."""

from __future__ import annotations

from threadprof.contentionview import pool_json, pool_lines
from threadprof.pools import pools

THREAD_PY = "/usr/lib/python3.13/concurrent/futures/thread.py"
QUEUE_PY = "/usr/lib/python3.13/queue.py"
GET = "<method 'get' of '_queue.SimpleQueue' objects>"
ACQ = "<method 'acquire' of '_thread.lock' objects>"
SLEEP = "<built-in method time.sleep>"


def test_a_thread_pool_executor_s_workers(builder):
    b = builder
    C = b.call
    b.func("_worker", THREAD_PY, qualname="_worker")
    b.func("run", THREAD_PY, qualname="_WorkItem.run")
    b.func("job", "app.py")
    for name in (GET, ACQ, SLEEP):
        b.cfunc(name)

    def worker(name, runs, idle, blocked, busy):
        # wall = idle (in get) + blocked (in acquire) + busy (job's own, on CPU)
        job = C("job", runs, blocked + busy, cpu=busy, children=[C(ACQ, runs, blocked, cpu=0)])
        b.thread(
            name,
            [
                C("_worker", 1, idle + blocked + busy, cpu=busy, children=[
                    C(GET, runs + 1, idle, cpu=0),
                    C("run", runs, blocked + busy, cpu=busy, children=[job]),
                ]),
            ],
        )  # fmt: skip

    worker("ThreadPoolExecutor-0_0", 3, idle=10, blocked=20, busy=70)
    worker("ThreadPoolExecutor-0_1", 5, idle=30, blocked=0, busy=70)
    b.thread("MainThread", [C("job", 1, 5)])
    snap = b.build()
    (pool,) = pools(snap)
    assert (pool.key, pool.threads) == ("ThreadPoolExecutor-0_*", [0, 1])
    assert (pool.wall, pool.busy, pool.blocked, pool.idle) == (200, 140, 20, 40)
    assert pool.tasks == [3, 5]
    text = "\n".join(pool_lines(snap, [pool], 100))
    assert "  ThreadPoolExecutor-0_*" in text
    assert text.rstrip().endswith("2    70%      10%    20%  3 / 4.0 / 5")
    (data,) = pool_json(snap, [pool])
    assert [t["thread"] for t in data["threads"]] == [
        "ThreadPoolExecutor-0_0",
        "ThreadPoolExecutor-0_1",
    ]
    assert (data["busy"], data["blocked"], data["idle"], data["tasks"]) == (
        0.14,
        0.02,
        0.04,
        [3, 5],
    )


def test_a_family_that_takes_work_from_a_queue(builder):
    C = builder.call
    builder.func("get", QUEUE_PY, qualname="Queue.get")
    builder.cfunc(ACQ)
    for i in range(3):
        get = C("get", 4 + i, 30, cpu=0, children=[C(ACQ, 4, 30, cpu=0)])
        builder.thread(f"worker-{i}", [C("loop", 1, 50, cpu=20, children=[get])])
    builder.thread("lonely-1", [C("loop", 1, 10)])
    (pool,) = pools(builder.build())
    assert pool.key == "worker-*"
    assert (pool.busy, pool.blocked, pool.idle) == (60, 0, 90)
    assert pool.tasks == [4, 5, 6]


def test_no_group_no_pool(builder):
    builder.thread("MainThread", [builder.call("f", 1, 10)])
    builder.thread("Thread-1 (serve)", [builder.call("f", 1, 10)])
    snap = builder.build()
    assert pools(snap) == []
    assert pool_lines(snap, [], 100) == []
