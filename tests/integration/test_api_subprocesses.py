# SPDX-License-Identifier: MIT
"""``threadprof.profile(subprocesses=True)``: the Python processes started in
the block (spawned, forked, a subprocess) are profiled and are processes of
the block's snapshot, with exact calls; the environment is put back and no
file is left behind. Run in a process of its own, as a program would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

PROGRAM = """\
import json, multiprocessing, os, subprocess, sys
import threadprof
from threadprof.model import thread_function_stats

def square(x):
    return x * x

def total(n):
    return sum(map(square, range(n)))

def job():
    for i in range(4):
        square(i)

def sample():
    pool = multiprocessing.get_context("spawn").Pool(2)
    print(sum(pool.map(total, range(6))), flush=True)
    pool.close()  # not terminate(): a worker killed as it starts is not followed
    pool.join()
    proc = multiprocessing.get_context("fork").Process(target=job)
    proc.start()
    proc.join()
    subprocess.run([sys.executable, "-c", "print('sub')"], check=True)

def summary(snap):
    calls = {}
    for t in snap.threads:
        for f, s in thread_function_stats(t).items():
            name = snap.functions[f].name
            if s.calls and name in ("square", "total", "job", "sample"):
                key = f"{name}@{'root' if snap.pid_of(t) == os.getpid() else 'child'}"
                calls[key] = calls.get(key, 0) + s.calls
    return {
        "processes": [p.ppid == os.getpid() or p.pid == os.getpid() for p in snap.processes],
        "calls": calls,
    }

if __name__ == "__main__":
    before = dict(os.environ)
    if sys.argv[1] == "with":
        with threadprof.profile(subprocesses=True) as p:
            sample()
        snap = p.snapshot()
    else:
        decorated = threadprof.profile(subprocesses=True)(sample)
        decorated()
        snap = decorated.snapshot
    print(json.dumps({**summary(snap), "env": dict(os.environ) == before}))
"""


@pytest.mark.parametrize("form", ["with", "decorator"])
def test_profile_follows_the_processes_it_starts(tmp_path, form):
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(PROGRAM))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.run(
        [sys.executable, str(prog), form],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp)},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    first, sub, result = proc.stdout.splitlines()
    assert (first, sub) == ("50", "sub")
    data = json.loads(result)
    # the root, two spawned workers, a forked child, a subprocess; all its own
    assert data["processes"] == [True] * 5
    assert data["calls"] == {
        "sample@root": 1,
        "total@child": 6,
        "square@child": 15 + 4,
        "job@child": 1,
    }
    assert data["env"] is True  # THREADPROF_FOLLOW and PYTHONPATH put back
    assert os.listdir(tmp) == []
    assert proc.stderr == ""
