# SPDX-License-Identifier: MIT
"""``threadprof run`` on asyncio programs: coroutines counted whole in the
pstats file, the tasks in the report and its JSON, and the event loop's slow
steps."""

from __future__ import annotations

import json
import pstats

from shared import BLOCKING_ASYNCIO

from threadprof.model import thread_without_tasks
from threadprof.readers import read_profile

FETCH = """
    import asyncio

    async def fetch(i):
        await asyncio.sleep(0.05)
        s = sum(range(20000))
        await asyncio.sleep(0.05)

    async def main():
        await asyncio.gather(*(fetch(i) for i in range(10)))

    asyncio.run(main())
"""


def by_name(stats: pstats.Stats) -> dict[str, tuple]:
    return {name: v for (_file, _line, name), v in stats.stats.items()}  # type: ignore[attr-defined]


def test_the_issue_example_in_pstats(threadprof, write, workdir):
    write("fetch.py", FETCH)
    proc = threadprof("run", "-q", "-o", "out.prof", "fetch.py")
    assert proc.returncode == 0, proc.stderr
    fetch = by_name(pstats.Stats(str(workdir / "out.prof")))["fetch"]
    calls, _prim, _tottime, cumtime = fetch[:4]
    assert calls == 10
    assert cumtime >= 1.0  # ten calls of at least two 50 ms sleeps each
    # cProfile's counting, on request
    proc = threadprof("run", "-q", "--coroutines", "resume", "-o", "resume.prof", "fetch.py")
    assert proc.returncode == 0, proc.stderr
    fetch = by_name(pstats.Stats(str(workdir / "resume.prof")))["fetch"]
    assert fetch[0] == 30 and fetch[3] < 0.5


def test_the_issue_example_shows_ten_tasks_awaiting(threadprof, write, workdir):
    write("fetch.py", FETCH)
    proc = threadprof("run", "-o", "out.tprof", "fetch.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("asyncio tasks: "))
    assert lines[at].startswith("asyncio tasks: 13 in 1 thread, 1 event loop")
    assert lines[at + 1].split() == ["task", "thread", "steps", "wall", "CPU", "await"]
    rows = [line.split() for line in lines[at + 2 : at + 15]]
    # asyncio.run's main task, the ten tasks gather made under it (three steps
    # each), and the two that shut the loop down
    fetches = [row for row in rows if row[2] == "3"]
    assert len(fetches) == 10
    assert all(lines[at + 2 + rows.index(row)].startswith("    Task-") for row in fetches)
    assert all(row[1] == "MainThread" for row in fetches)
    # the JSON of the same run: each task awaited its two 50 ms sleeps
    tasks = json.loads(threadprof("report", "--json", "out.tprof").stdout)["tasks"]
    main = next(t for t in tasks if t["creator"] is None and t["steps"] == 2)
    made = [t for t in tasks if t["creator"] == main["id"]]
    assert len(made) == 10
    assert all(t["steps"] == 3 and 0.099 <= t["await"] <= t["wall"] for t in made)
    # and the table's share of wall time awaiting is each task's, exactly
    snap = read_profile(workdir / "out.tprof")
    ids = {t["id"] for t in made}
    shares = [f"{t.await_time / t.wall_time * 100:.0f}%" for t in snap.tasks() if t.id in ids]
    assert sorted(row[-1] for row in fetches) == sorted(shares)
    # the tasks sit at their prefixes in the thread's tree, which the launcher
    # is cut from: taken out there, they leave no fetch call behind
    thread = snap.threads[0]
    names = {f.id: f.name for f in snap.functions}
    assert all(names[t.prefix[0]] == "<module>" for t in thread.tasks)
    rest = thread_without_tasks(thread)
    fetch_id = next(f.id for f in snap.functions if f.name == "fetch")
    assert [n.calls for n in rest.nodes if n.func == fetch_id] == [0]
    assert all(n.calls >= 0 and n.wall >= 0 and n.wall_self >= 0 for n in rest.nodes)
    # --no-tasks: none recorded, the calls as before
    proc = threadprof("run", "--no-tasks", "-o", "plain.prof", "fetch.py")
    assert proc.returncode == 0, proc.stderr
    assert "asyncio tasks" not in proc.stderr
    assert by_name(pstats.Stats(str(workdir / "plain.prof")))["fetch"][0] == 10


def test_a_blocking_step_in_the_report_and_its_json(threadprof, write, workdir):
    write("block.py", BLOCKING_ASYNCIO + 'print("done")\n')
    proc = threadprof("run", "--slow-step", "0.25", "-o", "out.tprof", "block.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "done\n"  # the program's output is its own
    lines = proc.stderr.splitlines()
    at = lines.index("Steps of tasks that blocked their event loop 250.0ms or more: 1, all:")
    # the fourth task gather made (asyncio.run's main task is Task-1)
    assert lines[at + 2].split()[2:] == ["handler", "(block.py:6)", "[task", "Task-5]"]
    assert lines[at + 3].split()[:4] == ["->", "{built-in", "method", "time.sleep}"]
    proc = threadprof("report", "--json", "out.tprof")
    assert proc.returncode == 0, proc.stderr
    (step,) = json.loads(proc.stdout)["slow_steps"]
    assert step["coroutine"]["function"] == "handler"
    assert step["task_name"] == "Task-5" and step["task"] is not None
    assert step["where"]["function"] == "<built-in method time.sleep>"
    assert step["duration"] >= step["where_own"] >= 0.3
    # the launcher's frames are cut: the path starts at the program
    assert step["path"][0]["function"] == "<module>"
    assert step["path"][0]["file"] == str(workdir / "block.py")
    # --slow-step 0 lists none
    proc = threadprof("run", "-q", "--slow-step", "0", "-o", "none.tprof", "block.py")
    assert proc.returncode == 0, proc.stderr
    proc = threadprof("report", "--json", "none.tprof")
    assert json.loads(proc.stdout)["slow_steps"] == []
