# SPDX-License-Identifier: MIT
"""The collapsed (folded) stacks exporter: exact lines for fixed trees."""

from __future__ import annotations

from threadprof.exporters import get_exporter
from threadprof.exporters.collapsed import escape_frame, stacks

MS = 1_000_000  # nanoseconds in a tick of the fixtures' 1 ms unit

MAIN = "main (app.py:10)"
FACT = "fact (app.py:20)"
PING = "ping (app.py:30)"
PONG = "pong (app.py:40)"
HELPER = "helper (app.py:50)"
RUN = "run (app.py:60)"
LEN = "{built-in function len}"


def lines(snapshot) -> list[str]:
    return get_exporter("collapsed").to_bytes(snapshot).decode().splitlines()


def test_exact_lines(tree_snap):
    assert lines(tree_snap) == [
        f"MainThread;{MAIN} {18 * MS}",
        f"MainThread;{MAIN};{FACT} {10 * MS}",
        f"MainThread;{MAIN};{FACT};{FACT} {12 * MS}",
        f"MainThread;{MAIN};{FACT};{FACT};{FACT} {7 * MS}",
        f"MainThread;{MAIN};{FACT};{FACT};{FACT};{LEN} {1 * MS}",
        f"MainThread;{MAIN};{PING} {15 * MS}",
        f"MainThread;{MAIN};{PING};{PONG} {15 * MS}",
        f"MainThread;{MAIN};{PING};{PONG};{PING} {6 * MS}",
        f"MainThread;{MAIN};{PING};{PONG};{PING};{PONG} {4 * MS}",
        f"MainThread;{MAIN};{HELPER} {12 * MS}",
        f"worker-1;{RUN} {5 * MS}",
        # two functions with the same label: one line, 20 + 5
        f"worker-1;{RUN};{HELPER} {25 * MS}",
        f"worker-1;{RUN};{FACT} {20 * MS}",
        f"worker-1;{RUN};{FACT};{FACT} {10 * MS}",
    ]


def test_values_add_up_to_each_thread(tree_snap):
    per_thread: dict[str, int] = {}
    for line in lines(tree_snap):
        stack, value = line.rsplit(" ", 1)  # how flamegraph.pl and inferno split
        thread = stack.split(";")[0]
        per_thread[thread] = per_thread.get(thread, 0) + int(value)
    assert per_thread == {"MainThread": 100 * MS, "worker-1": 60 * MS}


def test_cpu_clock_and_zero_self_time(make_builder):
    b = make_builder(clock="cpu")
    C = b.call
    b.thread("T", [C("main", 1, 100, [C("f", 1, 50, cpu=7)], cpu=7)])
    # main has wall self time but no CPU self time: no line for it
    assert lines(b.build()) == [f"T;{MAIN};f (app.py:20) {7 * MS}"]


def test_threads_with_one_name_share_their_lines(builder):
    C = builder.call
    builder.thread("pool", [C("main", 1, 3)])
    builder.thread("other", [C("main", 1, 1)])
    builder.thread("pool", [C("main", 1, 4)])
    assert lines(builder.build()) == [f"pool;{MAIN} {7 * MS}", f"other;{MAIN} {1 * MS}"]


def test_stacks_mapping(tree_snap):
    result = stacks(tree_snap)
    assert result[f"worker-1;{RUN};{HELPER}"] == 25 * MS
    assert len(result) == 14


def test_escape_frame():
    assert escape_frame("a;b\nc\r%d\u2028e") == "a%3Bb%0Ac%0D%25d%E2%80%A8e"
    assert escape_frame('quote " back\\slash ü tab\t') == 'quote " back\\slash ü tab\t'


def test_empty(builder):
    builder.thread("T", [])
    assert get_exporter("collapsed").to_bytes(builder.build()) == b""
