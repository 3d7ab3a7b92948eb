# SPDX-License-Identifier: MIT
"""The callgrind exporter: exact text, and callgrind_annotate (valgrind) reading it back."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from shared import LEN

import threadprof
from threadprof.exporters import get_exporter
from threadprof.exporters.callgrind import render

MS = 1_000_000  # nanoseconds in a tick of the fixtures' 1 ms unit

CALLGRIND_ANNOTATE = shutil.which("callgrind_annotate") or "/usr/bin/callgrind_annotate"

# per function: (self wall ticks, self cpu ticks), worked out by hand from tree_snap
SELF = {
    "app.py:main:10": (18, 25),
    "app.py:fact:20": (10 + 12 + 7 + 20 + 10, 4 + 2 + 2 + 20 + 10),
    "~:{built-in function len}": (1, 1),
    "app.py:ping:30": (15 + 6, 8 + 0),
    "app.py:pong:40": (15 + 4, 8 + 4),
    "app.py:helper:50": (12 + 20 + 5, 6 + 20 + 5),  # two functions, one key: merged
    "app.py:run:60": (5, 5),
}


def annotate(path, *options):
    """Run callgrind_annotate; return (totals, {file:function: costs}), costs in ns."""
    proc = subprocess.run(
        [CALLGRIND_ANNOTATE, "--auto=no", "--threshold=100", *options, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no "malformed line" warnings
    number = r"([\d,]+|\.)(?: \(\s*[\d.]+%\))?"
    row = re.compile(rf"^\s*{number}\s+{number}\s+(\S.*)$")
    totals = None
    rows = {}
    for line in proc.stdout.splitlines():
        m = row.match(line)
        if not m:
            continue
        costs = tuple(0 if v == "." else int(v.replace(",", "")) for v in m.group(1, 2))
        if m.group(3) == "PROGRAM TOTALS":
            totals = costs
        else:
            assert m.group(3) not in rows
            rows[m.group(3)] = costs
    return totals, rows, proc.stdout


def small_snapshot(builder):
    b = builder
    b.func("main")
    b.func("f")
    b.cfunc(LEN)
    C = b.call
    b.thread("A", [C("main", 1, 10, [C("f", 2, 6, [C(LEN, 1, 1)], cpu=5)], cpu=8)])
    b.thread("B", [C("f", 1, 3, cpu=2)])
    return b.build()


def test_exact_text(builder):
    text = render(small_snapshot(builder))
    assert text == (
        "# callgrind format\n"
        "version: 1\n"
        f"creator: threadprof {threadprof.__version__}\n"
        "cmd: app.py\n"
        "desc: Clock: wall (CPU time: exact)\n"
        "desc: Threads: 2 merged\n"
        "positions: line\n"
        "events: Wall_ns CPU_ns\n"
        "summary: 13000000 10000000\n"
        "\n"
        "fl=(1) app.py\n"
        "fn=(1) main:10\n"
        "10 4000000 3000000\n"
        "cfl=(1)\n"
        "cfn=(2) f:20\n"
        "calls=2 20\n"
        "10 6000000 5000000\n"
        "fl=(1)\n"
        "fn=(2)\n"
        "20 8000000 6000000\n"
        "cfl=(2) ~\n"
        "cfn=(3) {built-in function len}\n"
        "calls=1 0\n"
        "20 1000000 1000000\n"
        "fl=(2)\n"
        "fn=(3)\n"
        "0 1000000 1000000\n"
        "\n"
        "totals: 13000000 10000000\n"
    )


def test_cpu_clock_puts_cpu_first(make_builder):
    b = make_builder(clock="cpu")
    C = b.call
    b.thread("A", [C("main", 1, 10, cpu=4)])
    text = render(b.build())
    assert "events: CPU_ns Wall_ns\n" in text
    assert "summary: 4000000 10000000\n" in text
    assert "fn=(1) main:10\n10 4000000 10000000\n" in text


def test_unit_conversion_is_exact(make_builder):
    b = make_builder(unit=1e-9)
    C = b.call
    b.thread("A", [C("main", 1, 2**53 + 1)])  # more than a float holds
    assert f"summary: {2**53 + 1} {2**53 + 1}\n" in render(b.build())


def test_callgrind_annotate_reads_totals_and_self_costs(tree_snap, tmp_path):
    path = tmp_path / "callgrind.out.1"
    get_exporter("callgrind").write(tree_snap, path)
    totals, rows, stdout = annotate(path)
    wall = sum(w for w, _ in SELF.values())
    cpu = sum(c for _, c in SELF.values())
    assert (wall, cpu) == (160, 120)  # all threads: 100 + 60 wall, 60 + 60 CPU
    assert totals == (wall * MS, cpu * MS)
    assert rows == {k: (w * MS, c * MS) for k, (w, c) in SELF.items()}
    assert "Events recorded:  Wall_ns CPU_ns" in stdout
    assert "Profiled target:  app.py" in stdout


def test_callgrind_annotate_inclusive_costs(tree_snap, tmp_path):
    path = tmp_path / "x.callgrind"
    get_exporter("callgrind").write(tree_snap, path)
    _, rows, _ = annotate(path, "--inclusive=yes")
    # functions outside any recursion: self + what their calls cost
    assert rows["app.py:main:10"] == (100 * MS, 60 * MS)
    assert rows["app.py:run:60"] == (60 * MS, 60 * MS)
    assert rows["app.py:helper:50"] == (37 * MS, 31 * MS)
    assert rows["~:{built-in function len}"] == (MS, MS)


def test_call_lines_follow_pstats_callers(tree_snap):
    text = render(tree_snap)
    # fact -> fact: 1 + 1 calls in the main thread, 2 in the worker; inclusive
    # cost of the outermost activations of the pair only: 20 + 10 ticks (cpu 5 + 10)
    fact_block = text.split("fl=(1)\nfn=(2)\n")[1].split("\nfl=")[0]
    assert fact_block.startswith("20 59000000 38000000\ncfl=(1)\ncfn=(2)\n")
    assert "cfn=(2)\ncalls=4 20\n20 30000000 15000000\n" in fact_block
    # run was already running at start: its calls are zero, its costs are not
    assert "fn=(7) run:60\n60 5000000 5000000\n" in text


def test_annotate_available():
    # the read-back check must run, never skip: valgrind is a CI dependency
    assert shutil.which(CALLGRIND_ANNOTATE) is not None


@pytest.mark.parametrize("argv", [[], ["a b.py", "--x=1\n2"]])
def test_cmd_line(builder, argv):
    builder.thread("A", [builder.call("main", 1, 1)])
    text = render(builder.build(argv=argv))
    if not argv:
        assert "\ncmd:" not in text
    else:
        assert "cmd: 'a b.py' '--x=1%0A2'\n" in text
