# SPDX-License-Identifier: MIT
"""threadprof.offcpu: the known waits, and each thread's and function's
off-CPU time split exactly, on hand-built snapshots (ticks of 1 ms)."""

from __future__ import annotations

import pytest

from threadprof.cells import View
from threadprof.contentionview import offcpu_json, offcpu_lines
from threadprof.model import Function
from threadprof.offcpu import has_gil, split, wait_kind


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("<method 'acquire' of '_thread.lock' objects>", "lock"),
        ("<method '__enter__' of '_thread.RLock' objects>", "lock"),
        ("<method '_acquire_restore' of '_thread.RLock' objects>", "lock"),
        ("<method 'release' of '_thread.lock' objects>", None),
        ("<method 'join' of '_thread._ThreadHandle' objects>", "join"),
        ("<method 'get' of '_queue.SimpleQueue' objects>", "queue"),
        ("<method 'put' of '_queue.SimpleQueue' objects>", None),
        ("<built-in method time.sleep>", "sleep"),
        ("<built-in method select.select>", "select"),
        ("<method 'poll' of 'select.epoll' objects>", "select"),
        ("<method 'recv' of '_socket.socket' objects>", "socket"),
        ("<method 'sendall' of '_socket.socket' objects>", "socket"),
        ("<method 'read' of '_io.BufferedReader' objects>", "file"),
        ("<method 'write' of '_io.TextIOWrapper' objects>", "file"),
        ("<built-in method posix.read>", "file"),
        ("<built-in method posix.waitpid>", "subprocess"),
        ("<built-in method builtins.len>", None),
        ("<built-in method time.time>", None),
    ],
)
def test_known_waits(label, kind):
    assert wait_kind(Function(0, "c", label, label, "~", 0)) == kind


def test_a_python_function_is_never_a_wait():
    assert wait_kind(Function(0, "python", "sleep", "sleep", "time.py", 1)) is None


SLEEP = "<built-in method time.sleep>"
ACQ = "<method 'acquire' of '_thread.lock' objects>"
LEN = "<built-in method builtins.len>"


def test_each_thread_and_function_split_exactly(builder):
    C = builder.call
    for name in (SLEEP, ACQ, LEN):
        builder.cfunc(name)
    # worker: 100 wall, 40 CPU; own 10 wall 4 CPU (6 runnable); sleep 30 wall 0 CPU;
    # acquire 50 wall 30 CPU (20 blocked); len 10 wall 6 CPU (4 runnable)
    builder.thread(
        "w-1",
        [
            C("worker", 1, 100, cpu=40, children=[
                C(SLEEP, 1, 30, cpu=0),
                C(ACQ, 2, 50, cpu=30),
                C(LEN, 5, 10, cpu=6),
            ]),
        ],
    )  # fmt: skip
    builder.thread("w-2", [C("worker", 1, 20, cpu=20)])
    snap = builder.build()
    out = split(snap)
    assert out is not None and out.gil
    one, two = out.threads
    assert (one.wall, one.offcpu, one.blocked, one.runnable) == (
        100,
        60,
        {"sleep": 30, "lock": 20},
        10,
    )
    assert (two.offcpu, two.blocked, two.runnable) == (0, {}, 0)
    (worker,) = out.functions
    assert snap.functions[worker.func].name == "worker"
    assert worker.blocked == {0: 30, 1: 20}
    assert (worker.runnable, worker.offcpu) == (10, 60)
    text = "\n".join(offcpu_lines(snap, out, 100, View()))
    assert "Off-CPU time: blocked in known waits, or runnable (for the GIL or a CPU):" in text
    assert "  w-1" in text and "sleep 30.00ms, lock 20.00ms" in text
    assert "w-2" not in text  # no off-CPU time
    data = offcpu_json(snap, out)
    assert data["gil"] is True
    assert data["threads"][0]["blocked"] == {"sleep": 0.030, "lock": 0.020}
    assert data["functions"][0]["blocked"][0] == {
        "call": {"name": SLEEP, "qualname": SLEEP, "file": "~", "line": 0},
        "time": 0.030,
    }


def test_without_cpu_time_there_is_no_split(make_builder):
    b = make_builder(cpu_mode="none")
    b.thread("w", [b.call("f", 1, 10, cpu=0)])
    assert split(b.build()) is None


def test_a_free_threaded_run_has_no_gil(builder):
    builder.thread("w", [builder.call("f", 1, 10, cpu=5)])
    snap = builder.build(python_version="3.13.5t")
    assert not has_gil(snap)
    text = "\n".join(offcpu_lines(snap, split(snap), 100, View()))
    assert "runnable (for a CPU; no GIL)" in text
