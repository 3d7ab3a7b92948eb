# SPDX-License-Identifier: MIT
"""The wall clock's switch from CLOCK_MONOTONIC to the TSC.

A process's first profiler reads CLOCK_MONOTONIC while the TSC's rate is
measured (TPROF_CLOCK_SPAN, 5 ms), then the TSC for good. These runs span the
switch, each in a fresh interpreter (a process switches once), with threads
calling a tiny function all the while: every thread's times must never go
back, and durations must agree with CLOCK_MONOTONIC's on both sides of it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import json, sys, threading, time
    import threadprof, threadprof._core as core

    def tick():
        pass

    def spin(ms, out):
        # at least `ms` and at least 1,000 calls: on a loaded machine a thread
        # may get little of the CPU in that time
        start = time.monotonic_ns()
        end = start + ms * 1_000_000
        calls = 0
        while time.monotonic_ns() < end or calls < 1000:
            tick()
            calls += 1
        out.append(time.monotonic_ns() - start)

    assert not core._clock_calibrated()
    prof = threadprof.Profile(timeline=True, engine=sys.argv[1])
    measured = []
    prof.enable()
    workers = [threading.Thread(target=spin, args=(30, measured)) for _ in range(2)]
    for w in workers:
        w.start()
    spin(30, measured)
    for w in workers:
        w.join()
    prof.disable()
    snap = prof.snapshot()
    spin_ids = {f.id for f in snap.functions if f.name == "spin"}
    threads = []
    for t in snap.threads:
        times = [time for _func, time in t.timeline]
        walls = [n.wall for n in t.nodes if n.func in spin_ids]
        threads.append({"times": times, "spin": walls})
    print(json.dumps({
        "source": core.clock_source(),
        "calibrated": core._clock_calibrated(),
        "unit": snap.unit,
        "measured": measured,
        "threads": threads,
    }))
    """
)


@pytest.mark.parametrize("engine", ["legacy", "monitoring"])
def test_times_never_go_back_and_agree_with_clock_monotonic_across_the_switch(tmp_path, engine):
    if engine == "monitoring" and sys.version_info < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    done = subprocess.run(
        [sys.executable, str(script), engine], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["calibrated"] == (out["source"] == "tsc")
    spins = []
    for t in out["threads"]:
        times = t["times"]
        assert len(times) > 1000
        assert all(b >= a for a, b in itertools.pairwise(times))
        spins += t["spin"]
    assert len(spins) == 3
    # each spin's recorded wall time is what CLOCK_MONOTONIC measured inside
    # it, to within the few calls and clock reads around the measurement
    for recorded, measured in zip(sorted(spins), sorted(out["measured"]), strict=True):
        assert (
            measured * 0.999 - 200_000
            <= recorded * out["unit"] * 1e9
            <= measured * 1.001 + 200_000
        )
