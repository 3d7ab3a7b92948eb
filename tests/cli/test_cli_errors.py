# SPDX-License-Identifier: MIT
"""Usage errors: one line ``threadprof: error: ...`` on stderr, status 2, no
traceback, and the program never runs."""

from __future__ import annotations

import pytest
from cli_helpers import error_lines


def assert_usage_error(proc, *fragments: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("threadprof: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture
def marker_prog(write, workdir):
    """A program that leaves a marker file if it ever runs."""
    write("prog.py", "open('ran', 'w').close()\n")
    return workdir / "ran"


def test_missing_script(launcher):
    line = assert_usage_error(launcher("run", "no_such_script.py"), "no_such_script.py")
    assert "No such file" in line


def test_unknown_module(launcher):
    assert_usage_error(launcher("run", "-m", "no_such_module_xyz"), "no_such_module_xyz")


def test_unknown_submodule_of_missing_package(threadprof):
    assert_usage_error(threadprof("run", "-m", "nopkg_xyz.sub"), "nopkg_xyz")


def test_package_without_main(threadprof, write):
    write("plainpkg/__init__.py", "")
    assert_usage_error(threadprof("run", "-m", "plainpkg"), "plainpkg.__main__")


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--bogus", "prog.py"],
        ["run", "--format", "nope", "-o", "x.out", "prog.py"],
        ["run", "--clock", "sundial", "prog.py"],
        ["run", "-s", "loudness", "prog.py"],
        ["run", "--limit", "-3", "prog.py"],
        ["run", "--limit", "many", "prog.py"],
        ["run", "--format", "chrome", "prog.py"],  # a timeline format without --timeline
        ["run", "-o", "x.pftrace", "prog.py"],  # the same, by extension
        ["run", "-o", "x.data", "prog.py"],  # a name that no format claims
        ["run", "--timeline-limit", "-1", "prog.py"],
        ["run", "-o"],
        ["run", "-q"],  # no script
        ["run", "--"],
        ["run", "-m"],
        ["frobnicate", "prog.py"],
        ["--bogus"],
        [],
    ],
)
def test_bad_command_lines(launcher, marker_prog, args):
    assert_usage_error(launcher(*args))
    assert not marker_prog.exists()


def test_unknown_format_names_the_choices(threadprof, marker_prog):
    line = assert_usage_error(threadprof("run", "--format", "nope", "-o", "x", "prog.py"))
    assert "pstats" in line


@pytest.mark.parametrize(
    "output",
    [
        "missing_dir/out.prof",  # the directory does not exist
        "afile.txt/out.prof",  # a "directory" that is a file
        "adir",  # a directory
        "adir/",
    ],
)
def test_unwritable_output_checked_before_running(launcher, write, workdir, marker_prog, output):
    write("afile.txt", "x")
    (workdir / "adir").mkdir()
    line = assert_usage_error(launcher("run", "-o", output, "prog.py"), "cannot write")
    assert output.rstrip("/") in line
    assert not marker_prog.exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["adir", "afile.txt", "prog.py"]
    assert list((workdir / "adir").iterdir()) == []


def test_help_exits_0(threadprof):
    proc = threadprof("--help")
    assert proc.returncode == 0
    assert "run" in proc.stdout
    proc = threadprof("run", "--help")
    assert proc.returncode == 0
    assert "-m module" in proc.stdout and "pstats" in proc.stdout and "tottime" in proc.stdout
    assert error_lines(proc.stderr) == []


def test_version(threadprof):
    proc = threadprof("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("threadprof ")


def test_help_after_script_belongs_to_the_program(threadprof, write):
    write("prog.py", "import sys; print(sys.argv[1:])\n")
    proc = threadprof("run", "-q", "prog.py", "--help")
    assert proc.returncode == 0
    assert proc.stdout == "['--help']\n"
