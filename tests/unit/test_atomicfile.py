# SPDX-License-Identifier: MIT
"""Atomic output files and the pre-flight check."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from threadprof import atomicfile
from threadprof.atomicfile import OutputError, atomic_open, atomic_write_bytes, check_writable


@pytest.fixture
def umask():
    """Set the process umask for one test; restores the old one."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_umask(mask: int) -> None:
        os.umask(mask)

    yield set_umask
    os.umask(saved)


def test_write_and_replace(tmp_path):
    path = tmp_path / "out.prof"
    atomic_write_bytes(path, b"first")
    atomic_write_bytes(str(path), b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["out.prof"]  # no temporary file left


def test_streaming(tmp_path):
    path = tmp_path / "out.bin"
    with atomic_open(path) as f:
        f.write(b"a")
        f.write(b"b")
        assert not path.exists()  # nothing visible before the end
    assert path.read_bytes() == b"ab"


def test_failure_in_block_leaves_old_file(tmp_path):
    path = tmp_path / "out.prof"
    path.write_bytes(b"old")
    with pytest.raises(ZeroDivisionError), atomic_open(path) as f:
        f.write(b"partial")
        1 / 0  # noqa: B018
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.prof"]


def test_os_error_in_block_becomes_output_error(tmp_path):
    path = tmp_path / "out.prof"
    with pytest.raises(OutputError) as info, atomic_open(path):
        raise OSError(28, "No space left on device")
    assert str(info.value) == f"cannot write {str(path)!r}: No space left on device"
    assert os.listdir(tmp_path) == []


def test_missing_directory(tmp_path):
    path = tmp_path / "nope" / "out.prof"
    with pytest.raises(OutputError) as info:
        atomic_write_bytes(path, b"x")
    message = str(info.value)
    assert "\n" not in message and "No such file or directory" in message
    assert info.value.path == str(path)


def test_symlink_at_destination_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "out.prof"
    link.symlink_to(victim)
    atomic_write_bytes(link, b"profile")
    assert not link.is_symlink() and link.read_bytes() == b"profile"
    assert victim.read_bytes() == b"precious"


def test_planted_symlink_at_temp_name_is_not_followed(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    names = iter(["planted", "fresh"])
    monkeypatch.setattr(atomicfile, "_temp_token", lambda: next(names))
    (tmp_path / ".out.prof.planted.tmp").symlink_to(victim)
    atomic_write_bytes(tmp_path / "out.prof", b"profile")
    assert victim.read_bytes() == b"precious"
    assert (tmp_path / "out.prof").read_bytes() == b"profile"
    assert sorted(os.listdir(tmp_path)) == [".out.prof.planted.tmp", "out.prof", "victim"]


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0, 0o664)])
def test_mode_honours_umask_never_world_writable(tmp_path, umask, mask, mode):
    umask(mask)
    path = tmp_path / "out.prof"
    atomic_write_bytes(path, b"x")
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_check_writable_accepts_new_and_existing_files(tmp_path):
    check_writable(tmp_path / "new.prof")
    (tmp_path / "old.prof").write_bytes(b"old")
    check_writable(tmp_path / "old.prof")
    assert sorted(os.listdir(tmp_path)) == ["old.prof"]  # the probe file is gone


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_fatal_signal_during_the_check_leaves_no_probe_file(tmp_path, signame):
    # the signal arrives while the probe file exists: it is held until the
    # probe is gone, then ends the process by its default action
    script = f"""
import os, signal, sys
from threadprof import atomicfile
made = atomicfile._create_temp
def create(directory, base):
    name, fd = made(directory, base)
    os.kill(os.getpid(), signal.{signame})
    return name, fd
atomicfile._create_temp = create
atomicfile.check_writable(sys.argv[1])
print("checked", flush=True)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out.tprof")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -getattr(signal, signame), proc.stderr
    assert proc.stdout == ""
    assert os.listdir(tmp_path) == []


def test_check_writable_relative_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_writable("out.prof")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("missing/out.prof", "does not exist"),
        ("afile/out.prof", "is not a directory"),
        ("adir", "is a directory"),
        ("adir/", "is a directory"),
        ("", "empty file name"),
    ],
)
def test_check_writable_rejects(tmp_path, relative, reason):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    target = f"{tmp_path}{os.sep}{relative}" if relative else ""  # keeps a trailing /
    with pytest.raises(OutputError, match=reason) as info:
        check_writable(target)
    assert "\n" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["adir", "afile"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_written_in_place_not_replaced(tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    check_writable(fifo)
    atomic_write_bytes(fifo, b"profile")
    reader.join(timeout=30)
    assert received == [b"profile"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the FIFO, not a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(atomicfile, "FIFO_WAIT", 0.2)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="no process opened the FIFO for reading"):
        atomic_write_bytes(fifo, b"profile")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd")
def test_a_link_to_a_descriptor_is_written_through_never_replaced(tmp_path):
    """/dev/stdout is a symlink to /proc/self/fd/1: replacing it with a file
    (which root can do) would break the system. Whatever the descriptor is
    open on -- here a regular file -- it is written in place."""
    target = tmp_path / "redirected"
    with open(target, "wb") as f:
        f.write(b"old and longer than the profile")
        f.flush()
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{f.fileno()}")
        check_writable(link)
        atomic_write_bytes(link, b"profile")
    assert link.is_symlink()
    assert target.read_bytes() == b"profile"  # truncated, as open(path, "wb") does
    assert sorted(p.name for p in tmp_path.iterdir()) == ["redirected", "stdout"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to plant as another user")
@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_what_another_user_planted_in_a_shared_directory_is_refused(tmp_path, kind):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # as /tmp
    planted = shared / "profile.tprof"
    if kind == "fifo":
        os.mkfifo(planted)
    else:
        os.mkfifo(tmp_path / "theirs")
        planted.symlink_to(tmp_path / "theirs")
    os.lchown(planted, 65534, 65534)  # nobody's
    for attempt in (check_writable, lambda p: atomic_write_bytes(p, b"profile")):
        with pytest.raises(OutputError, match="refusing to write through"):
            attempt(planted)


def test_keyboard_interrupt_as_the_temp_file_is_created_leaves_nothing(tmp_path, monkeypatch):
    real_open = os.open

    def open_then_interrupted(*args, **kwargs):
        real_open(*args, **kwargs)  # the file is created, then Ctrl-C lands
        raise KeyboardInterrupt

    monkeypatch.setattr(atomicfile.os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "out.prof", b"x")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_a_commit_guard_that_raises_keeps_the_older_file(tmp_path):
    """A guard's exception at the commit point removes the finished temporary
    file and leaves the name as it was; outside the block no guard runs."""
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous")
    calls = []

    def veto() -> None:
        calls.append(1)
        raise KeyboardInterrupt

    with atomicfile.commit_guard(veto):
        with pytest.raises(KeyboardInterrupt):
            atomicfile.atomic_write_bytes(target, b"new")
    assert calls == [1]
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    atomicfile.atomic_write_bytes(target, b"new")
    assert calls == [1]
    assert target.read_bytes() == b"new"
