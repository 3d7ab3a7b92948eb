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
        out[threading.get_ident()] = time.monotonic_ns() - start

    assert not core._clock_calibrated()
    prof = threadprof.Profile(timeline=True, engine=sys.argv[1])
    measured = {}
    prof.enable()
    workers = [threading.Thread(target=spin, args=(30, measured)) for _ in range(2)]
    for w in workers:
        w.start()
    spin(30, measured)
    for w in workers:
        w.join()
    prof.disable()
    snap = prof.snapshot()
    (spin_id,) = [f.id for f in snap.functions if f.name == "spin"]
    (tick_id,) = [f.id for f in snap.functions if f.name == "tick"]
    threads = []
    for t in snap.threads:
        times = []
        spins = []  # (from spin's call to its return, from its first tick to its last)
        for code, time_ in t.timeline:
            times.append(time_)
            if code == spin_id:
                called, first, last = time_, None, None
            elif code == tick_id and first is None:
                first = time_
            elif code == ~tick_id:
                last = time_
            elif code == ~spin_id:
                spins.append((time_ - called, last - first))
        threads.append({"times": times, "spins": spins, "ident": t.ident})
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
    checked = 0
    for t in out["threads"]:
        times = t["times"]
        assert len(times) > 1000
        assert all(b >= a for a, b in itertools.pairwise(times))
        unit = out["unit"] * 1e9
        for outer, inner in t["spins"]:
            # CLOCK_MONOTONIC measured each spin from its first clock read to
            # its last: the recorded spin, call to return, holds that span,
            # and its ticks, first call to last return, lie within it. A
            # thread preempted between a read and an event only widens the
            # gaps, which these one-sided bounds allow.
            measured = out["measured"][str(t["ident"])]
            assert inner * unit <= measured * 1.001 + 200_000
            assert measured * 0.999 - 200_000 <= outer * unit
            checked += 1
    assert checked == 3
