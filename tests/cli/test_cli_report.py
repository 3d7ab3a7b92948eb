# SPDX-License-Identifier: MIT
"""``threadprof report FILE``: the report of a saved profile, on hand-built
snapshots written to .tprof files; its options, colours, JSON and errors."""

from __future__ import annotations

import io
import json
import marshal
import os
import subprocess
import sys

import pytest

from threadprof import cli, tprof
from threadprof.cli.color import colorize, use_color
from threadprof.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
from threadprof.cli.progress import Progress


@pytest.fixture
def profile(builder, tmp_path):
    """A .tprof file of two threads; ticks of 1 ms."""
    b = builder
    C = b.call
    b.func("main", "/srv/app/main.py", 10)
    b.func("fact", "/srv/app/mathx.py", 5)
    b.func("io_wait", "/srv/app/net.py", 42, qualname="Client.io_wait")
    b.func("run", "/usr/lib/python3.12/threading.py", 999, qualname="Thread.run")
    b.thread(
        "MainThread",
        [C("main", 1, 1000, cpu=600, children=[
            C("fact", 1, 300, [C("fact", 2, 200)]),
            C("io_wait", 3, 400, cpu=10),
        ])],
        ident=140000000000001,
        native_id=4001,
        wall_time=1200,
        cpu_time=600,
    )  # fmt: skip
    b.thread(
        "worker-1",
        [C("run", 0, 500, cpu=100, children=[C("io_wait", 5, 450, cpu=50)])],
        ident=140000000000002,
        native_id=4002,
        wall_time=500,
        cpu_time=100,
        first_seen=100,
    )
    path = tmp_path / "app.tprof"
    with open(path, "wb") as f:
        tprof.write(b.build(duration=1200), f)
    return str(path)


def report(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(["report", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def test_report_prints_the_report_to_stdout(profile, capsys):
    status, out, err = report(capsys, profile, "--width", "80")
    assert (status, err) == (EXIT_OK, "")
    assert out.splitlines() == [
        "threadprof: 2 threads, 12 calls, 1.200s (wall clock, CPU time exact)",
        "",
        "  thread                       ident native id      wall       CPU off-CPU calls",
        "  MainThread         140000000000001      4001    1.200s   600.0ms     50%     7",
        "  worker-1           140000000000002      4002   500.0ms   100.0ms     80%     5",
        "",
        "  lifetime                                      first      last  wall share",
        "  MainThread                                        0    1.200s  ███████     71%",
        "  worker-1                                    100.0ms   600.0ms  ███         29%",
        "",
        "All 4 functions in all threads, sorted by tottime (wall time):",
        "  ncalls   tottime   percall   cumtime  off-CPU  function",
        "       8   850.0ms   106.2ms   850.0ms      93%  Client.io_wait (net.py:42)",
        # equal times: in pstats' stdname order
        "       1   300.0ms   300.0ms    1.000s       3%  main (main.py:10)",
        "     3/1   300.0ms   100.0ms   300.0ms       0%  fact (mathx.py:5)",
        "       0   50.00ms             500.0ms       0%  Thread.run (threading.py:999)",
        "",
        # the functions that ran, not the waits that lead the table above
        "Top 4 functions in all threads by own CPU time:",
        "  ncalls   own CPU   tottime  off-CPU  function",
        "     3/1   300.0ms   300.0ms       0%  fact (mathx.py:5)",
        "       1   290.0ms   300.0ms       3%  main (main.py:10)",
        "       8   60.00ms   850.0ms      93%  Client.io_wait (net.py:42)",
        "       0   50.00ms   50.00ms       0%  Thread.run (threading.py:999)",
        "",
        # what the time off the CPU was: here no known wait, so runnable
        "Off-CPU time: blocked in known waits, or runnable (for the GIL or a CPU):",
        "  threads (all)      off-CPU   blocked  runnable  blocked in",
        "  MainThread         400.0ms         0   400.0ms",
        "  worker-1           400.0ms         0   400.0ms",
        "",
        "  function, and the waits it called                  off-CPU   blocked  runnable",
        "  Client.io_wait (net.py:42)                         790.0ms         0   790.0ms",
        "  main (main.py:10)                                  10.00ms         0   10.00ms",
    ]


def test_report_tree_and_thread(profile, capsys):
    status, out, _ = report(capsys, profile, "--tree", "--limit", "0", "--thread", "worker-*")
    assert status == EXIT_OK
    lines = out.splitlines()
    start = lines.index("Call tree of 'worker-1' (500.0ms wall, paths below 1% collapsed):")
    assert lines[start + 1 :] == [
        "  100.0%   500.0ms  └─ Thread.run (threading.py:999)",
        "   90.0%   450.0ms     └─ Client.io_wait (net.py:42)",
    ]
    assert "Call tree of 'MainThread'" not in out


def test_report_threshold(profile, capsys):
    status, out, _ = report(capsys, profile, "--tree", "--limit", "0", "--threshold", "30")
    assert status == EXIT_OK
    lines = out.splitlines()
    start = lines.index("Call tree of 'MainThread' (1.200s wall, paths below 30% collapsed):")
    assert lines[start + 1 : start + 4] == [
        "   83.3%    1.000s  └─ main (main.py:10)",
        "   33.3%   400.0ms     ├─ Client.io_wait (net.py:42)",
        "   25.0%   300.0ms     └─ … 1 more",
    ]


def test_report_sort_include_exclude(profile, capsys):
    status, out, _ = report(
        capsys, profile, "-s", "offcpu", "--include", "/srv/*", "--exclude", "fact"
    )
    assert status == EXIT_OK
    lines = out.splitlines()
    start = lines.index("All 2 functions in all threads, sorted by offcpu (wall time):")
    end = lines.index("Off-CPU time: blocked in known waits, or runnable (for the GIL or a CPU):")
    assert [line[49:] for line in lines[start + 2 : end - 1]] == [
        "Client.io_wait (net.py:42)",
        "main (main.py:10)",
    ]
    _, out, _ = report(capsys, profile, "-s", "cpu", "--limit", "1")
    assert "Top 1 of 4 functions in all threads, sorted by cpu (wall time):" in out
    top = out.splitlines().index("Top 1 of 4 functions in all threads, sorted by cpu (wall time):")
    assert out.splitlines()[top + 2].endswith("fact (mathx.py:5)")  # all 300 ms on CPU


def test_report_per_thread(profile, capsys):
    _, out, _ = report(capsys, profile, "--per-thread", "--limit", "1")
    assert "Top 1 of 3 functions in 'MainThread' (ident 140000000000001), by tottime:" in out
    assert "Top 1 of 2 functions in 'worker-1' (ident 140000000000002), by tottime:" in out


def test_report_fits_80_columns(profile, capsys):
    _, out, _ = report(capsys, profile, "--tree", "--per-thread", "--width", "80")
    assert all(len(line) <= 80 for line in out.splitlines())
    # not a terminal: 80 columns by default
    _, default, _ = report(capsys, profile, "--tree", "--per-thread")
    assert default == out


def test_report_json(profile, capsys):
    status, out, _ = report(capsys, profile, "--json", "--tree", "--per-thread", "--limit", "2")
    assert status == EXIT_OK
    data = json.loads(out)
    assert set(data) == {
        "clock", "cpu_mode", "duration", "sort", "threads", "functions", "warnings", "slow_steps",
        "tasks", "per_thread", "trees", "processes", "contention", "offcpu", "pools",
    }  # fmt: skip
    assert data["tasks"] == []
    assert data["processes"] == []
    assert data["contention"] == []
    assert [t["name"] for t in data["threads"]] == ["MainThread", "worker-1"]
    assert data["threads"][0]["offcpu_share"] == 0.5
    assert [f["qualname"] for f in data["functions"]] == ["Client.io_wait", "main"]
    assert [t["name"] for t in data["trees"]] == ["MainThread", "worker-1"]
    worker = data["trees"][1]["tree"]
    assert worker[0]["qualname"] == "Thread.run"
    assert worker[0]["children"][0]["percent"] == 90.0
    _, plain, _ = report(capsys, profile, "--json")
    assert "trees" not in json.loads(plain) and "per_thread" not in json.loads(plain)


def test_report_colours(profile, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, plain, _ = report(capsys, profile)  # stdout is not a terminal
    assert "\x1b[" not in plain
    _, never, _ = report(capsys, profile, "--color", "never")
    assert never == plain
    _, coloured, _ = report(capsys, profile, "--color", "always")
    assert coloured.startswith("\x1b[1mthreadprof: 2 threads")
    assert coloured == colorize(plain)
    monkeypatch.setenv("NO_COLOR", "1")
    _, always, _ = report(capsys, profile, "--color", "always")
    assert always == coloured  # an explicit --color always wins over NO_COLOR


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_color():
    assert use_color("auto", _Tty(), {}) is True
    assert use_color("auto", _Tty(), {"NO_COLOR": "1"}) is False
    assert use_color("auto", _Tty(), {"NO_COLOR": ""}) is True  # no-color.org: set and not empty
    assert use_color("auto", io.StringIO(), {}) is False
    assert use_color("always", io.StringIO(), {"NO_COLOR": "1"}) is True
    assert use_color("never", _Tty(), {}) is False


def test_colorize_strips_back_to_the_plain_text():
    import re

    text = "threadprof: x\n\n  thread  ident\n  MainThread  1\n   33.3%   1.0s  ├─ f\n"
    coloured = colorize(text)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == text
    assert "  \x1b[31m 33.3%\x1b[0m   1.0s" in coloured


def test_report_html(profile, tmp_path, capsys):
    out = tmp_path / "report.html"
    status, stdout, err = report(capsys, profile, "--html", "-o", str(out))
    assert (status, stdout) == (EXIT_OK, "")
    assert err == f"threadprof: wrote the HTML report to {out}\n"
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_report_pstats_file(tmp_path, capsys):
    path = tmp_path / "old.prof"
    path.write_bytes(marshal.dumps({("a.py", 1, "f"): (2, 2, 0.5, 0.5, {})}))
    status, out, _ = report(capsys, str(path), "--limit", "5")
    assert status == EXIT_OK
    assert "f (a.py:1)" in out


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "No such file or directory"),
        (b"", "the file is empty"),
        (b"hello, world\n", "not a threadprof (.tprof) or pstats profile"),
    ],
)
def test_report_bad_input(tmp_path, capsys, content, fragment):
    path = tmp_path / "in.tprof"
    if content is not None:
        path.write_bytes(content)
    status, out, err = report(capsys, str(path))
    assert (status, out) == (EXIT_BAD_INPUT, "")
    assert err == f"threadprof: error: cannot read {str(path)!r}: {err.split(': ', 3)[3]}"
    assert err.count("\n") == 1 and fragment in err


def test_report_truncated(profile, capsys):
    with open(profile, "rb") as f:
        data = f.read()
    with open(profile, "wb") as f:
        f.write(data[: len(data) // 2])
    status, _, err = report(capsys, profile)
    assert status == EXIT_BAD_INPUT
    assert err.startswith(f"threadprof: error: cannot read {profile!r}: ")
    assert err.count("\n") == 1


def test_report_usage_errors(profile, capsys):
    status, _, err = report(capsys, profile, "--thread", "nobody")
    assert (status, err) == (EXIT_USAGE, "threadprof: error: no thread matches 'nobody'\n")
    status, _, err = report(capsys, profile, "--html")
    assert (status, err) == (
        EXIT_USAGE,
        "threadprof: error: --html needs -o FILE, the file to write\n",
    )
    status, _, err = report(capsys, profile, "-s", "bogus")
    assert status == EXIT_USAGE and "invalid choice" in err
    status, _, err = report(capsys, profile, "--threshold", "150")
    assert status == EXIT_USAGE and "between 0 and 100" in err


def test_progress_line():
    p = Progress("reading app.tprof", io.StringIO())
    assert p.line("|", 1.25) == "threadprof: reading app.tprof | 1.2s"
    p.update(3, 4)
    assert p.line("|", 2.0) == "threadprof: reading app.tprof [###############-----] 3/4 2.0s"
    assert len(Progress("x" * 200).line("|", 1.0)) == 79


def test_progress_on_a_terminal_only(profile, monkeypatch):
    import threading

    from threadprof.cli import progress
    from threadprof.readers import read_profile

    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    tty = _Tty()
    drawn = threading.Event()
    real_write = tty.write

    def write(text: str) -> int:
        drawn.set()
        return real_write(text)

    tty.write = write  # type: ignore[method-assign]
    with Progress("reading app.tprof", tty) as bar:
        read_profile(profile, bar.update)
        assert (bar.done, bar.total) == (2, 2)
        assert drawn.wait(10)
    text = tty.getvalue()
    assert text.startswith("\rthreadprof: reading app.tprof ")
    assert text.endswith("\r\x1b[K")  # erased at the end
    plain = io.StringIO()
    with Progress("reading app.tprof", plain) as bar:
        read_profile(profile, bar.update)
    assert plain.getvalue() == ""


def test_a_full_or_closed_stdout_is_one_error_line(profile, tmp_path):
    """stdout that fails (a full disk) or is closed: one error line, status 1."""
    for closed in (False, True):
        with open("/dev/full", "w") as full:
            proc = subprocess.run(
                [sys.executable, "-m", "threadprof", "report", profile],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=(lambda: os.close(1)) if closed else None,
                cwd=tmp_path,
            )
        assert proc.returncode == 1
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("threadprof: error: cannot print"), lines


def test_names_a_stdout_cannot_encode_are_escaped(builder, tmp_path):
    builder.thread("wörker", [builder.call("ünï", 1, 5)])
    path = tmp_path / "x.tprof"
    with open(path, "wb") as f:
        tprof.write(builder.build(), f)
    proc = subprocess.run(
        [sys.executable, "-m", "threadprof", "report", str(path)],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"\\xfcn\\xef" in proc.stdout and b"w\\xf6rker" in proc.stdout


def test_report_full_paths_and_hide_library(profile, capsys):
    _, out, _ = report(capsys, profile, "--width", "100")
    assert "Thread.run (threading.py:999)" in out
    _, out, _ = report(capsys, profile, "--width", "100", "--full-paths")
    assert "main (/srv/app/main.py:10)" in out
    _, out, _ = report(capsys, profile, "--hide-library", "--tree")
    assert "Thread.run" not in out
    assert "main (main.py:10)" in out
    _, out, _ = report(capsys, profile, "--hide-library", "--json")
    assert all(f["function"] != "run" for f in json.loads(out)["functions"])
