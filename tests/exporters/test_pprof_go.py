# SPDX-License-Identifier: MIT
"""The pprof export read by ``go tool pprof`` itself (Debian's golang-go):
the names it shows, the totals per function and per sample type, its thread
labels, and no warning about a main binary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from threadprof.exporters import get_exporter

GO = shutil.which("go")
pytestmark = pytest.mark.skipif(
    GO is None and not shutil.which("apt-get"), reason="needs go (apt-get install golang-go)"
)
MS = 1_000_000


def pprof(path, *args: str) -> tuple[str, str]:
    """``go tool pprof ARGS PATH``: its stdout and stderr."""
    assert GO is not None, "go tool pprof is missing: apt-get install golang-go"
    proc = subprocess.run(
        [GO, "tool", "pprof", *args, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        # the user's GOCACHE: newer Go builds `go tool pprof` on first use and keeps it there
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


def top(path, *args: str) -> dict[str, tuple[float, float]]:
    """``-top`` with nothing dropped: flat and cum per function name (the unit's numbers)."""
    out, _ = pprof(path, "-top", "-nodecount=100000", "-nodefraction=0", "-edgefraction=0", *args)
    rows: dict[str, tuple[float, float]] = {}
    row = re.compile(r"^\s*([\d.]+)\w*\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)\w*\s+[\d.]+%\s+(.*)$")
    for line in out.splitlines():
        m = row.match(line)
        if m:
            rows[m[3]] = (float(m[1]), float(m[2]))
    return rows


@pytest.fixture
def named_snap(builder):
    """Two files' ``<module>``, a lambda and a genexpr, with distinct times."""
    b = builder
    b.func("<module>", "/app/main.py", 1)
    b.func("<module>", "/app/lib.py", 1)
    mod_lib = len(b.functions) - 1
    b.func("<lambda>", "/app/main.py", 5, qualname="main.<locals>.<lambda>")
    b.func("<genexpr>", "/app/main.py", 5, qualname="main.<locals>.<lambda>.<locals>.<genexpr>")
    b.cfunc("<built-in method builtins.sum>")
    C = b.call
    b.thread(
        "MainThread",
        [
            C("<module>", 1, 100, [
                C(mod_lib, 1, 7),
                C("<lambda>", 2, 60, [
                    C("<built-in method builtins.sum>", 2, 50, [C("<genexpr>", 40, 30)]),
                ]),
            ]),
        ],
    )  # fmt: skip
    b.thread("worker-1", [C("<lambda>", 1, 20, [C("<genexpr>", 10, 15)])])
    return b.build(pid=1234, argv=["/app/main.py"])


def test_go_tool_pprof_shows_every_name_and_exact_totals(named_snap, tmp_path):
    path = tmp_path / "p.pb.gz"
    get_exporter("pprof").write(named_snap, path)
    _, err = pprof(path, "-top")
    assert "Main binary filename not available" not in err
    calls = top(path, "-sample_index=calls")
    assert "<unknown>" not in calls
    # the two <module>s are two functions: pprof tells them apart by file
    wall = top(path, "-sample_index=wall", "-unit=ms")
    expected_self = {
        "main.<locals>.<lambda>": 10 + 5,
        "main.<locals>.<lambda>.<locals>.<genexpr>": 30 + 15,
        "{built-in method builtins.sum}": 20,
    }
    for name, flat in expected_self.items():
        assert wall[name][0] == flat, (name, wall)
    assert calls["main.<locals>.<lambda>.<locals>.<genexpr>"][0] == 50
    assert calls["main.<locals>.<lambda>"][0] == 3
    modules = top(path, "-sample_index=wall", "-unit=ms", "-show_from=<module>", "-lines")
    assert sorted(v[1] for k, v in modules.items() if k.startswith("<module>")) == [7, 100]


def test_go_tool_pprof_filters_by_thread_label(named_snap, tmp_path):
    path = tmp_path / "p.pb.gz"
    get_exporter("pprof").write(named_snap, path)
    worker = top(path, "-sample_index=wall", "-unit=ms", "-tagfocus=thread=worker-1")
    assert worker["main.<locals>.<lambda>.<locals>.<genexpr>"] == (15, 15)
    assert "<module>" not in worker
    out, _ = pprof(path, "-tags")
    assert "worker-1" in out and "MainThread" in out and "1234" in out


def test_go_tool_pprof_reads_the_cpu_profile_as_cpu(named_snap, tmp_path):
    path = tmp_path / "cpu.pb.gz"
    get_exporter("pprof").write(named_snap, path, options={"sample_types": "cpu"})
    out, _ = pprof(path, "-top")
    assert "Type: cpu" in out
    assert "wall" not in pprof(path, "-raw")[0].split("Samples:")[1].splitlines()[0]


def test_go_tool_pprof_reads_an_aggregated_profile(named_snap, tmp_path):
    path = tmp_path / "small.pb.gz"
    get_exporter("pprof").write(named_snap, path, options={"max_samples": 3})
    raw, _ = pprof(path, "-raw")
    assert "aggregated to at most 3 samples" in raw
    wall = top(path, "-sample_index=wall", "-unit=ms")
    # the grand total is kept: 100 + 20 ms of root calls
    assert sum(flat for flat, _ in wall.values()) == 120


def test_go_tool_pprof_filters_by_task_label(builder, tmp_path):
    C = builder.call
    t = builder.thread(
        "MainThread",
        [C("run", 1, 1000, [C("_run", 3, 900, [C("fetch", 2, 200, [C("sleep", 4, 194)])])])],
    )
    for i in range(2):
        builder.task(
            t,
            f"fetch-{i}",
            [C("fetch", 1, 100, [C("sleep", 2, 97)])],
            id=i + 1,
            prefix=["run", "_run"],
        )
    path = tmp_path / "p.pb.gz"
    get_exporter("pprof").write(builder.build(), path)
    one = top(path, "-sample_index=wall", "-unit=ms", "-tagfocus=task=fetch-1")
    assert one == {"fetch": (3, 100), "sleep": (97, 97), "_run": (0, 100), "run": (0, 100)}
    assert top(path, "-sample_index=calls", "-tagfocus=task=fetch-1")["fetch"][0] == 1
    every = top(path, "-sample_index=wall", "-unit=ms")
    assert (every["fetch"], every["sleep"], every["_run"]) == ((6, 200), (194, 194), (700, 900))
    outside = top(path, "-sample_index=wall", "-unit=ms", "-tagignore=task=fetch")
    assert "fetch" not in outside and outside["_run"] == (700, 700)
    out, _ = pprof(path, "-tags")
    assert "fetch-0" in out and "fetch-1" in out


def test_go_tool_pprof_filters_by_process(make_builder, tmp_path):
    from threadprof.merge import merge_processes
    from threadprof.model import Process

    parts = []
    for pid, wall in ((501, 40), (502, 25)):
        b = make_builder()
        b.thread("MainThread", [b.call("work", 1, wall, [b.call("leaf", 3, wall // 5)])])
        parts.append((Process(pid, 500 if pid == 502 else 1, ["app.py"], 0, 0), b.build(pid=pid)))
    path = tmp_path / "tree.pb.gz"
    get_exporter("pprof").write(merge_processes(parts), path)
    out, _ = pprof(path, "-tags")
    assert "501" in out and "502" in out
    child = top(path, "-sample_index=wall", "-unit=ms", "-tagfocus=pid=502")
    assert child["work"] == (20, 25)
    assert child["leaf"] == (5, 5)
    both = top(path, "-sample_index=calls")
    assert both["leaf"][0] == 6


def test_the_lock_profile_as_datadog_names_it(builder, tmp_path):
    """sample_types="locks": lock-acquire, lock-acquire-wait and
    lock-release-hold, labelled "lock name", totals exact in go tool pprof."""
    from threadprof.model import LOCK_ACQUIRE, LOCK_RELEASE, LockOps

    b = builder
    C = b.call
    acq, rel = (
        "<method 'acquire' of '_thread.lock' objects>",
        "<method 'release' of '_thread.lock' objects>",
    )
    for i in range(2):
        b.thread(f"w-{i}", [C("worker", 1, 100, [C(acq, 1, 1), C(rel, 1, 1)])])
    # w-0 holds 1..10; w-1 asks at 2 and gets it at 11 (waits 9), holds to 15
    b.threads[0].lock_ops = LockOps.of_rows(
        [(0, 1, 7, 2, LOCK_ACQUIRE), (10, 10, 7, 3, LOCK_RELEASE)]
    )
    b.threads[1].lock_ops = LockOps.of_rows(
        [(2, 11, 7, 2, LOCK_ACQUIRE), (15, 15, 7, 3, LOCK_RELEASE)]
    )
    path = tmp_path / "locks.pb.gz"
    get_exporter("pprof").write(b.build(), str(path), options={"sample_types": "locks"})
    name = "threading.Lock in worker (app.py:10)"
    for index, flat, unit in (
        ("lock-acquire", 2, "-unit="),  # a count
        ("lock-acquire-wait", 10, "-unit=ms"),  # 1 + 9 ms
        ("lock-release-hold", 13, "-unit=ms"),  # 9 + 4 ms
    ):
        rows = top(path, f"-sample_index={index}", unit)
        assert rows[acq][0] == flat, (index, rows)
        assert rows["worker"] == (0, flat)
    out, _ = pprof(path, "-sample_index=lock-acquire-wait", "-unit=ms", "-tags")
    assert f"{name}" in out and "w-1" in out
