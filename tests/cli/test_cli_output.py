# SPDX-License-Identifier: MIT
"""``-o FILE``: the pstats file has the exact call counts, per thread with ``--thread``."""

from __future__ import annotations

import os
import pstats

import pytest
from cli_helpers import error_lines, report_part

PROGRAM = """\
import sys, threading

def work(n):
    return sum(range(n))

def worker():
    for _ in range(7):
        work(100)

t = threading.Thread(target=worker, name="worker")
t.start()
for _ in range(5):
    work(100)
t.join()
"""


@pytest.fixture
def prog(write):
    return write("prog.py", PROGRAM)


def work_entries(path, prog) -> list[tuple]:
    stats = pstats.Stats(str(path)).stats
    return [
        v for (f, _line, name), v in stats.items() if name == "work" and os.path.samefile(f, prog)
    ]


def test_pstats_counts_all_threads(threadprof, prog, workdir):
    proc = threadprof("run", "-o", "out.prof", "prog.py")
    assert proc.returncode == 0, proc.stderr
    ((cc, nc, tt, ct, callers),) = work_entries(workdir / "out.prof", prog)
    assert (cc, nc) == (12, 12)
    assert tt <= ct
    by_caller = {k[2]: v[:2] for k, v in callers.items()}
    assert by_caller == {"<module>": (5, 5), "worker": (7, 7)}
    assert "wrote the pstats profile to out.prof" in proc.stderr


def test_launcher_frames_are_not_in_the_profile(threadprof, prog, workdir):
    threadprof("run", "-o", "out.prof", "prog.py")
    stats = pstats.Stats(str(workdir / "out.prof")).stats
    files = {f for f, _line, _name in stats}
    assert not any(f.endswith(os.path.join("threadprof", "cli.py")) for f in files)
    assert not any("runpy" in f for f in files)
    module = [v for (f, _l, n), v in stats.items() if n == "<module>" and f == str(prog)]
    assert len(module) == 1
    cc, nc, _tt, _ct, callers = module[0]
    assert (cc, nc, callers) == (1, 1, {})


@pytest.mark.parametrize(
    ("thread", "calls"),
    [("worker", 7), ("MainThread", 5), ("work*", 7), ("*", 12)],
)
def test_thread_restriction(threadprof, prog, workdir, thread, calls):
    proc = threadprof("run", "-o", "out.prof", "--thread", thread, "prog.py")
    assert proc.returncode == 0, proc.stderr
    ((cc, nc, *_),) = work_entries(workdir / "out.prof", prog)
    assert (cc, nc) == (calls, calls)
    assert f"matching {thread!r}" in report_part(proc.stderr)


def test_thread_without_match_keeps_status(threadprof, write, workdir):
    write("prog.py", "import sys\nsys.exit(4)\n")
    proc = threadprof("run", "-o", "out.prof", "--thread", "nobody", "prog.py")
    assert proc.returncode == 4
    assert error_lines(proc.stderr) == ["threadprof: error: no thread matches 'nobody'"]
    assert not (workdir / "out.prof").exists()
    assert report_part(proc.stderr)  # the report still shows every thread


def test_dot_pstats_is_pstats(threadprof, prog, workdir):
    proc = threadprof("run", "-o", "out.pstats", "prog.py")
    assert proc.returncode == 0, proc.stderr
    ((_cc, nc, *_),) = work_entries(workdir / "out.pstats", prog)
    assert nc == 12


@pytest.mark.parametrize("name", ["out.data", "noext", "out.json"])
def test_a_name_no_format_claims_is_a_usage_error(threadprof, prog, workdir, name):
    """Not a pstats file written in silence: the error names the known names
    (test_cli_errors.py checks that the program does not run)."""
    proc = threadprof("run", "-o", name, "prog.py")
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert line.startswith(
        f"threadprof: error: cannot tell the format of {name!r} from its name: give --format, "
        "or a name ending in .tprof, .prof, .pstats, .callgrind,"
    )
    assert line.endswith(" or callgrind.out.*")
    assert not (workdir / name).exists()


def test_explicit_format(threadprof, prog, workdir):
    proc = threadprof("run", "--format", "pstats", "-o", "out.txt", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert work_entries(workdir / "out.txt", prog)


def test_existing_output_is_replaced(threadprof, prog, workdir):
    (workdir / "out.prof").write_bytes(b"old")
    proc = threadprof("run", "-o", "out.prof", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert work_entries(workdir / "out.prof", prog)
    assert sorted(p.name for p in workdir.iterdir()) == ["out.prof", "prog.py"]


def test_write_failure_after_the_run_keeps_the_program_status(threadprof, write, workdir):
    # the program removes the output directory: the pre-flight check passed,
    # the final write fails
    (workdir / "outdir").mkdir()
    write("prog.py", "import shutil, sys\nshutil.rmtree('outdir')\nsys.exit(3)\n")
    proc = threadprof("run", "-o", "outdir/out.prof", "prog.py")
    assert proc.returncode == 3
    errors = error_lines(proc.stderr)
    assert len(errors) == 1 and "cannot write 'outdir/out.prof'" in errors[0]
    assert "Traceback" not in proc.stderr
    assert report_part(proc.stderr)
