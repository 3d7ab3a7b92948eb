# SPDX-License-Identifier: MIT
"""Fault injection in ``threadprof run``: whatever fails while the profile is
written, the user gets one line ``threadprof: error: ...`` (never a
traceback), no half-written file under the output name and no temporary file
left beside it, and the profiled program's own stdout and exit status.

Cases covered elsewhere and not repeated here: an output directory that does
not exist or is a file, checked before the program runs (test_cli_errors.py),
or removed while it runs (test_cli_output.py); a user timer that raises or
stops the profiler (tests/integration/test_api.py, test_hardening.py: the CLI
takes no user timer). The tests that need the C core's fault-injection hooks
run in the test build of tools/sanitize.sh, which includes this file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import error_lines

from threadprof import _core
from threadprof import tprof as tprof_format

STATUS = 7
OUTPUT = "the program's own output\n"

PROG = f"""\
import sys

def f(i):
    return i

for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 10):
    f(i)
EPILOGUE
print({OUTPUT.strip()!r}, flush=True)
sys.exit({STATUS})
"""

needs_hooks = pytest.mark.skipif(
    not _core.TEST_HOOKS,
    reason="needs the fault-injection hooks of a test build (tools/sanitize.sh builds one)",
)
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not sys.platform.startswith("linux"),
    reason="needs root on Linux to mount a file system",
)


def prog(write, epilogue: str = "") -> Path:
    return write("prog.py", PROG.replace("EPILOGUE", epilogue))


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The program ran to its end; threadprof printed one error line and no traceback."""
    assert proc.returncode == STATUS, proc.stderr
    assert proc.stdout == OUTPUT
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = error_lines(proc.stderr)
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@contextlib.contextmanager
def mounted(target: Path, *options: str) -> Iterator[None]:
    target.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", *options, str(target)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


# -- the disk is full -----------------------------------------------------------


def device(workdir: Path, name: str, minor: int) -> str:
    """A character device like /dev/null (minor 3) or /dev/full (7): as root, a
    node of our own under ``workdir`` (a faulty build must never replace the
    system's), else the system's, which a non-root user cannot replace."""
    if os.geteuid() != 0:
        return f"/dev/{name}"
    path = workdir / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except OSError as exc:
        pytest.skip(f"cannot create a device node: {exc}")
    return str(path)


def test_dev_full_is_written_in_place_and_reported(threadprof, write, workdir):
    # /dev/full exists and is a device: it is written in place (never replaced
    # by a rename, which root could do), and every write fails with ENOSPC
    prog(write)
    full = device(workdir, "full", 7)
    before = os.stat(full)
    proc = threadprof("run", "-q", "-o", full, "prog.py")
    assert_clean_failure(proc, f"cannot write {full!r}", "No space left on device")
    after = os.stat(full)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert temp_files(Path(full).parent) == []


def test_dev_null_stays_a_device(threadprof, write, workdir):
    prog(write)
    null = device(workdir, "null", 3)
    proc = threadprof("run", "-q", "-o", null, "prog.py")
    assert proc.returncode == STATUS and proc.stdout == OUTPUT
    assert not error_lines(proc.stderr), proc.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert temp_files(Path(null).parent) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_no_file_beside_a_device_for_a_forked_child(threadprof, write, workdir):
    """-o /dev/null: a forked child writes nothing beside the device (no
    /dev/null.<pid>), and the device stays one."""
    write(
        "forks.py",
        "import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\n",
    )
    null = device(workdir, "null", 3)
    proc = threadprof("run", "-q", "-o", null, "forks.py")
    assert proc.returncode == 0, proc.stderr
    assert not error_lines(proc.stderr), proc.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert [p.name for p in Path(null).parent.iterdir() if p.name.startswith("null.")] == []


@needs_root
def test_full_file_system(threadprof, write, workdir):
    # a 64 KiB tmpfs: the pre-flight check passes (an empty file fits), the
    # profile (a long timeline, ~150 KB) does not
    prog(write)
    small = workdir / "small"
    with mounted(small, "-t", "tmpfs", "-o", "size=64k", "tmpfs"):
        (small / "out.tprof").write_bytes(b"previous")
        proc = threadprof("run", "-q", "--timeline", "-o", "small/out.tprof", "prog.py", "300000")
        assert_clean_failure(proc, "cannot write 'small/out.tprof'", "No space left on device")
        assert (small / "out.tprof").read_bytes() == b"previous"  # the old file is intact
        assert temp_files(small) == []


# -- a read-only directory ------------------------------------------------------


@needs_root
def test_read_only_directory_before_the_run_is_a_usage_error(threadprof, write, workdir):
    prog(write)
    ro = workdir / "ro"
    with mounted(ro, "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs"):
        proc = threadprof("run", "-q", "-o", "ro/out.prof", "prog.py")
        assert proc.returncode == 2
        assert proc.stdout == ""  # checked before the program runs: it never ran
        (line,) = error_lines(proc.stderr)
        assert "cannot write 'ro/out.prof'" in line and "Read-only file system" in line
        assert "Traceback" not in proc.stderr
        assert list(ro.iterdir()) == []


@needs_root
def test_directory_made_read_only_while_the_program_runs(threadprof, write, workdir):
    ro = workdir / "ro"
    prog(
        write, "import subprocess\nsubprocess.run(['mount', '-o', 'remount,ro', 'ro'], check=True)"
    )
    with mounted(ro, "-t", "tmpfs", "-o", "size=1m", "tmpfs"):
        proc = threadprof("run", "-q", "-o", "ro/out.prof", "prog.py")
        assert_clean_failure(proc, "cannot write 'ro/out.prof'", "Read-only file system")
        assert list(ro.iterdir()) == []


# -- the profiler fails ---------------------------------------------------------


def test_program_that_stops_the_profiler_itself(threadprof, write, workdir, engine):
    prog(write, "import threadprof\nthreadprof.stop()")
    proc = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py")
    assert_clean_failure(proc, "the profiler failed, no profile", "not running")
    assert sorted(p.name for p in workdir.iterdir()) == ["prog.py"]


@needs_hooks
def test_memory_error_in_the_final_snapshot(threadprof, write, workdir, engine):
    prog(write, "import threadprof._core\nthreadprof._core._fail_snapshot_after(0)")
    proc = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py")
    assert_clean_failure(proc, "the profiler failed, no profile", "MemoryError")
    assert sorted(p.name for p in workdir.iterdir()) == ["prog.py"]


@needs_hooks
def test_allocation_failure_while_recording_still_writes_a_profile(threadprof, write, workdir):
    prog(write, "import threadprof._core\nthreadprof._core._fail_alloc_after(0)\nf(1)")
    proc = threadprof("run", "-o", "out.prof", "prog.py", "5")
    assert proc.returncode == STATUS and proc.stdout == OUTPUT
    assert "Traceback" not in proc.stderr
    assert (workdir / "out.prof").is_file()
    assert temp_files(workdir) == []


# -- killed while writing -------------------------------------------------------

CALLS = "1000000"  # a timeline of a million calls: the write takes a while
RUN = [sys.executable, "-m", "threadprof", "run", "-q", "--timeline"]


def _default_signals() -> None:
    # a background job starts with SIGINT ignored, and SIG_IGN survives exec
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _signal_once_writing(
    proc: subprocess.Popen[bytes], workdir: Path, signum: int, timeout: float
) -> bool:
    """Send ``signum`` as soon as a temporary file appears in ``workdir``;
    whether it was sent (the process may end first)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if temp_files(workdir):
            proc.send_signal(signum)
            return True
        time.sleep(0.001)
    return False


def _kill_during_the_write(workdir: Path, signum: int) -> tuple[subprocess.Popen[bytes], bool]:
    """Run the program, wait until it has ended and the profile's temporary
    file exists, then send ``signum``. Returns the process (ended) and whether
    the signal arrived while the temporary file was there."""
    proc = subprocess.Popen(
        [*RUN, "-o", "out.tprof", "prog.py", CALLS],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=_default_signals,
    )
    try:
        assert proc.stdout is not None
        # the pre-flight check also makes a temporary file: wait for the end of
        # the program, after which only the write makes one
        assert proc.stdout.readline().decode() == OUTPUT
        mid_write = _signal_once_writing(proc, workdir, signum, 60)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc, mid_write


def _complete(path: Path) -> bool:
    snap = tprof_format.read(path)
    return any(th.name == "MainThread" for th in snap.threads)


def test_sigkill_during_the_write_never_leaves_half_a_file(write, workdir):
    prog(write)
    (workdir / "out.tprof").write_bytes(b"previous")
    proc, mid_write = _kill_during_the_write(workdir, signal.SIGKILL)
    out = (workdir / "out.tprof").read_bytes()
    if mid_write:
        assert proc.returncode == -signal.SIGKILL
        # the old file, untouched; SIGKILL cannot be caught, so the temporary
        # file may stay (a hidden .out.tprof.*.tmp), never under the final name
        assert out == b"previous"
    else:  # the write won the race: then it is whole
        assert out == b"previous" or _complete(workdir / "out.tprof")


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_sigterm_during_the_write_finishes_it_then_dies(write, workdir, signame):
    signum = getattr(signal, signame)
    prog(write)
    (workdir / "out.tprof").write_bytes(b"previous")
    proc, _ = _kill_during_the_write(workdir, signum)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    # documented: a signal during the write ends the process once it is written
    assert proc.returncode == -signum, stderr
    assert "Traceback" not in stderr
    assert _complete(workdir / "out.tprof")
    assert temp_files(workdir) == []


def test_sigint_during_the_write_abandons_it_cleanly(write, workdir):
    prog(write)
    (workdir / "out.tprof").write_bytes(b"previous")
    proc, mid_write = _kill_during_the_write(workdir, signal.SIGINT)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    assert "Traceback" not in stderr
    assert temp_files(workdir) == []
    if mid_write:
        assert proc.returncode == -signal.SIGINT, stderr
        assert len(error_lines(stderr)) == 1, stderr
        out = workdir / "out.tprof"
        assert out.read_bytes() == b"previous" or _complete(out)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("command", ["convert", "report"])
def test_a_fatal_signal_during_convert_or_report_leaves_no_debris(
    write, workdir, signame, command
):
    """SIGTERM or SIGHUP while convert or report --html writes: the temporary
    file is removed, an older file under the name kept, and the process dies
    by the signal."""
    signum = getattr(signal, signame)
    prog(write)
    made = subprocess.run(
        [*RUN, "-o", "in.tprof", "prog.py", CALLS], cwd=workdir, capture_output=True
    )
    assert made.returncode == STATUS, made.stderr
    out = workdir / ("out.pftrace" if command == "convert" else "out.html")
    out.write_bytes(b"previous")
    args = ["convert", "in.tprof", "-o", out.name]
    if command == "report":
        args = ["report", "in.tprof", "--html", "-o", out.name]
    proc = subprocess.Popen(
        [sys.executable, "-m", "threadprof", *args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=_default_signals,
    )
    mid_write = _signal_once_writing(proc, workdir, signum, 120)
    _, stderr = proc.communicate(timeout=120)
    assert temp_files(workdir) == []
    assert b"Traceback" not in stderr
    if mid_write:
        assert proc.returncode == -signum, stderr
        assert out.read_bytes() == b"previous"


SWALLOWED = """\
import signal, sys, weakref
from threadprof.atomicfile import atomic_open
from threadprof.cli.common import dying_cleanly

class Owner:
    pass

def callback(ref):
    signal.raise_signal(signal.SIG{name})
    for _ in range(1000):  # the handler runs here, and Python ignores its exception
        pass

with dying_cleanly():
    with atomic_open("out.bin") as f:
        f.write(b"new")
        owner = Owner()
        ref = weakref.ref(owner, callback)
        del owner
        f.write(b" and more")
print("after the block", flush=True)
"""


@pytest.mark.parametrize("signame", ["TERM", "HUP"])
def test_a_fatal_signal_whose_exception_python_swallows_still_ends_the_write(
    write, workdir, signame
):
    """A SIGTERM handled inside a weakref callback, where Python prints and
    drops the handler's exception: the finished file is still not renamed onto
    the older one, nothing is printed, and the process dies by the signal."""
    write("swallow.py", SWALLOWED.format(name=signame))
    (workdir / "out.bin").write_bytes(b"previous")
    proc = subprocess.run(
        [sys.executable, "swallow.py"],
        cwd=workdir,
        capture_output=True,
        preexec_fn=_default_signals,
        timeout=60,
    )
    assert proc.returncode == -getattr(signal, "SIG" + signame), proc.stderr
    assert proc.stdout == b""
    assert proc.stderr == b""
    assert (workdir / "out.bin").read_bytes() == b"previous"
    assert temp_files(workdir) == []
