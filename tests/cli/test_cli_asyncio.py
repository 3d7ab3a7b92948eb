# SPDX-License-Identifier: MIT
"""``threadprof run`` on asyncio programs: coroutines counted whole in the
pstats file, and the event loop's slow steps in the report and its JSON."""

from __future__ import annotations

import json
import pstats

from shared import BLOCKING_ASYNCIO

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


def test_a_blocking_step_in_the_report_and_its_json(threadprof, write, workdir):
    write("block.py", BLOCKING_ASYNCIO + 'print("done")\n')
    proc = threadprof("run", "--slow-step", "0.25", "-o", "out.tprof", "block.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "done\n"  # the program's output is its own
    lines = proc.stderr.splitlines()
    at = lines.index("Steps of tasks that blocked their event loop 250.0ms or more: 1, all:")
    assert lines[at + 2].split()[2:] == ["handler", "(block.py:6)"]
    assert lines[at + 3].split()[:4] == ["->", "{built-in", "method", "time.sleep}"]
    proc = threadprof("report", "--json", "out.tprof")
    assert proc.returncode == 0, proc.stderr
    (step,) = json.loads(proc.stdout)["slow_steps"]
    assert step["coroutine"]["function"] == "handler"
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
