# SPDX-License-Identifier: MIT
"""The profiler's exit hook: how ``threadprof run`` learns of ``os._exit``
without replacing it. Each scenario runs in a fresh interpreter, since it ends
the process with ``os._exit``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import threadprof

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

SCRIPT = """
import os, sys, threadprof

engine, how = sys.argv[1], sys.argv[2]
calls = []

def hook():
    p = threadprof.active()
    if p is None:
        calls.append("not running")
        return
    snap = threadprof.stop()  # the hook may stop the profiler
    names = sorted({f.name for f in snap.functions})
    print(os.getpid() == child_pid_box[0], "work" in names, flush=True)
    if how == "raise":
        raise RuntimeError("a failing hook")

def work():
    return sum(range(100))

child_pid_box = [0]
p = threadprof.start(engine=engine)
p._set_exit_hook(hook)
if how == "none":
    p._set_exit_hook(None)
len("a C call that is not os._exit")
pid = os.fork()
if pid == 0:
    child_pid_box[0] = os.getpid()
    work()
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status), flush=True)
threadprof.stop()
"""


def run(engine: str, how: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), engine, how],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hook_runs_at_os_exit_in_the_child_and_may_stop(engine):
    done = run(engine, "stop")
    # the child's hook ran once, before it exited with its own status, and its
    # snapshot held the child's calls; the parent's len() did not call it
    assert done.stdout.splitlines() == ["True True", "child 7"], done.stderr
    assert done.returncode == 0, done.stderr


def test_a_failing_hook_is_reported_and_the_child_still_exits(engine):
    done = run(engine, "raise")
    assert done.stdout.splitlines() == ["True True", "child 7"], done.stderr
    assert "RuntimeError: a failing hook" in done.stderr


def test_no_hook_after_none(engine):
    done = run(engine, "none")
    assert done.stdout.splitlines() == ["child 7"], done.stderr


def test_the_hook_must_be_callable():
    p = threadprof.Profile()
    with pytest.raises(TypeError, match="callable"):
        p._set_exit_hook(42)
    p._set_exit_hook(None)
