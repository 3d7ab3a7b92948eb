# SPDX-License-Identifier: MIT
"""The callgrind exporter: exact text, and callgrind_annotate (valgrind) reading it back."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from shared import LEN

import threadprof
from threadprof.exporters import get_exporter
from threadprof.exporters.callgrind import render

MS = 1_000_000  # nanoseconds in a tick of the fixtures' 1 ms unit

CALLGRIND_ANNOTATE = shutil.which("callgrind_annotate") or "/usr/bin/callgrind_annotate"

# per function: (self wall ticks, self cpu ticks), worked out by hand from tree_snap
SELF = {
    "app.py:main (app.py:10)": (18, 25),
    "app.py:fact (app.py:20)": (10 + 12 + 7 + 20 + 10, 4 + 2 + 2 + 20 + 10),
    "~:{built-in function len}": (1, 1),
    "app.py:ping (app.py:30)": (15 + 6, 8 + 0),
    "app.py:pong (app.py:40)": (15 + 4, 8 + 4),
    "app.py:helper (app.py:50)": (12 + 20 + 5, 6 + 20 + 5),  # two functions, one key: merged
    "app.py:run (app.py:60)": (5, 5),
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
        "fn=(1) main (app.py:10)\n"
        "10 4000000 3000000\n"
        "cfl=(1)\n"
        "cfn=(2) f (app.py:20)\n"
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
    assert "fn=(1) main (app.py:10)\n10 4000000 10000000\n" in text


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
    assert rows["app.py:main (app.py:10)"] == (100 * MS, 60 * MS)
    assert rows["app.py:run (app.py:60)"] == (60 * MS, 60 * MS)
    assert rows["app.py:helper (app.py:50)"] == (37 * MS, 31 * MS)
    assert rows["~:{built-in function len}"] == (MS, MS)


def test_call_lines_follow_pstats_callers(tree_snap):
    text = render(tree_snap)
    # fact -> fact: 1 + 1 calls in the main thread, 2 in the worker; inclusive
    # cost of the outermost activations of the pair only: 20 + 10 ticks (cpu 5 + 10)
    fact_block = text.split("fl=(1)\nfn=(2)\n")[1].split("\nfl=")[0]
    assert fact_block.startswith("20 59000000 38000000\ncfl=(1)\ncfn=(2)\n")
    assert "cfn=(2)\ncalls=4 20\n20 30000000 15000000\n" in fact_block
    # run was already running at start: its calls are zero, its costs are not
    assert "fn=(7) run (app.py:60)\n60 5000000 5000000\n" in text


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


@pytest.fixture
def modules_snap(builder):
    """Two files' ``<module>`` and ``main``: one calls the other's."""
    b = builder
    b.func("<module>", "/app/main.py", 1)
    lib_module = b.func("<module>", "/app/lib.py", 1)
    b.func("main", "/app/main.py", 3)
    lib_main = b.func("main", "/app/lib.py", 8)
    C = b.call
    b.thread(
        "MainThread",
        [C("<module>", 1, 100, [C(lib_module, 1, 30, [C(lib_main, 1, 20)]), C("main", 1, 60)])],
    )
    b.thread("worker-1", [C(lib_main, 2, 40)])
    return b.build(pid=4321)


def test_same_names_in_different_files_stay_apart(modules_snap, tmp_path):
    """callgrind_annotate sees four functions, not two that call themselves."""
    path = tmp_path / "callgrind.out.4321"
    get_exporter("callgrind").write(modules_snap, path)
    totals, rows, _ = annotate(path)
    assert totals == (140 * MS, 140 * MS)
    assert rows == {
        "/app/main.py:<module> (/app/main.py:1)": (10 * MS, 10 * MS),
        "/app/lib.py:<module> (/app/lib.py:1)": (10 * MS, 10 * MS),
        "/app/main.py:main (/app/main.py:3)": (60 * MS, 60 * MS),
        "/app/lib.py:main (/app/lib.py:8)": (60 * MS, 60 * MS),
    }
    assert "pid: 4321\n" in path.read_text()


def test_gprof2dot_keeps_every_module_and_main(modules_snap, tmp_path):
    """gprof2dot, which knows functions by name alone, draws four nodes and no
    function calling itself."""
    import gprof2dot

    path = tmp_path / "callgrind.out.1"
    get_exporter("callgrind").write(modules_snap, path)
    proc = subprocess.run(
        [sys.executable, gprof2dot.__file__, "-f", "callgrind", "-n0", "-e0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    names = sorted(re.findall(r'^\s*"([^"]*)" \[', proc.stdout, re.M))
    assert names == [
        "<module> (/app/lib.py:1)",
        "<module> (/app/main.py:1)",
        "main (/app/lib.py:8)",
        "main (/app/main.py:3)",
    ]
    edges = re.findall(r'^\s*"([^"]*)" -> "([^"]*)"', proc.stdout, re.M)
    assert len(edges) == 3
    assert all(a != b for a, b in edges)


def split_parts(text: str) -> list[str]:
    """The parts of a callgrind file, each as a file of its own: the file's
    header lines, then the part (from its ``thread:`` line)."""
    head, *parts = re.split(r"^(?=thread: )", text, flags=re.M)
    return [head + part for part in parts]


def test_a_part_per_thread(modules_snap, tmp_path):
    """separate_threads: a part per thread, as valgrind --separate-threads=yes;
    each part read by callgrind_annotate holds that thread's costs."""
    text = get_exporter("callgrind").to_bytes(modules_snap, options={"separate_threads": True})
    parts = split_parts(text.decode())
    assert len(parts) == 2
    expected = [
        ("MainThread", (100 * MS, 100 * MS), 4),
        ("worker-1", (40 * MS, 40 * MS), 1),
    ]
    for i, (part, (name, total, functions)) in enumerate(zip(parts, expected, strict=True), 1):
        assert f"thread: {i}\npid: 4321\n" in part
        assert f"desc: Thread: {name}\n" in part
        assert part.count("events: ") == 1
        path = tmp_path / f"callgrind.out.4321-{i:02d}"
        path.write_text(part)
        totals, rows, _ = annotate(path)
        assert totals == total
        assert len(rows) == functions
    # the parts add up to the merged file
    _, merged_rows, _ = annotate_text(tmp_path, render(modules_snap))
    assert merged_rows["/app/lib.py:main (/app/lib.py:8)"] == (60 * MS, 60 * MS)


def annotate_text(tmp_path, text: str):
    path = tmp_path / "callgrind.out.merged"
    path.write_text(text)
    return annotate(path)
