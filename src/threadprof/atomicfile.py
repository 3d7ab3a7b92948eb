# SPDX-License-Identifier: MIT
"""Safe output files: atomic replacement and a pre-flight writability check.

Every profile that threadprof writes goes through :func:`atomic_open`: the data
is written to a fresh temporary file in the destination directory and renamed
onto the final name only once it is complete and on disk. A reader therefore
sees either the old file or the whole new one, never half a profile, and a
failure (full disk, Ctrl-C, a bug in an exporter) leaves no debris behind.

The temporary file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``: ``O_EXCL``
refuses any existing name, including a symlink that someone planted there, so the
data can never be redirected to another file. Its mode is ``0o666`` less the
umask, as for ``open(path, "w")``, but never world-writable.

A destination that already exists and is not a regular file or a directory (a
character device such as ``/dev/null`` or ``/dev/full``, a FIFO, a socket), or
that names an open descriptor (``/dev/stdout``, ``/proc/self/fd/1``,
``/dev/fd/1``, or a symlink to one of them, whatever the descriptor is open
on), is written in place, as ``open(path, "wb")`` would: renaming a temporary
file onto it would replace the device or the link itself (which a root user
can do in ``/dev``). It is opened without blocking, so a FIFO that nobody
reads is an error, not a hang. A FIFO, socket or symlink that another user
put in a shared sticky directory (``/tmp``) is refused, as Linux's
``protected_fifos`` and ``protected_symlinks`` do: the profile is not handed to
whoever planted it.

A caller can veto the rename at the last moment with :func:`commit_guard`: the
CLI uses it so that a fatal signal whose exception Python swallowed (it arrived
inside a weakref callback or a ``__del__``) still leaves the older file as it was.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
import time
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = [
    "OutputError",
    "atomic_open",
    "atomic_write_bytes",
    "check_writable",
    "commit_guard",
    "is_written_in_place",
]

StrPath = str | os.PathLike[str]

_TEMP_ATTEMPTS = 16
_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class OutputError(Exception):
    """An output file could not be written. ``str()`` is a one-line message."""

    def __init__(self, path: StrPath, reason: str) -> None:
        super().__init__(path, reason)
        self.path = os.fspath(path)
        self.reason = " ".join(str(reason).split())  # one line, whatever the OS said

    def __str__(self) -> str:
        return f"cannot write {self.path!r}: {self.reason}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _split(path: StrPath) -> tuple[str, str]:
    """``(directory, basename)`` of ``path``; the directory is never empty."""
    text = os.fspath(path)
    if not text:
        raise OutputError(text, "empty file name")
    directory, base = os.path.split(text)
    if not base or base in (".", ".."):
        raise OutputError(text, "is a directory")
    return directory or os.curdir, base


def _temp_token() -> str:
    """12 random hex digits for a temporary file's name."""
    return os.urandom(6).hex()


def _create_temp(directory: str, base: str) -> tuple[str, int]:
    """Create a new, empty temporary file next to the destination; return (name, fd)."""
    for _ in range(_TEMP_ATTEMPTS):
        name = os.path.join(directory, f".{base}.{_temp_token()}.tmp")
        try:
            fd = os.open(name, _OPEN_FLAGS, 0o666)
        except FileExistsError:
            continue  # a name collision, or something planted there: take another name
        except OSError:
            raise
        except BaseException:
            # KeyboardInterrupt raised as os.open returns: the file may exist, its fd is lost
            _unlink_quietly(name)
            raise
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & stat.S_IWOTH:
                os.fchmod(fd, mode & ~stat.S_IWOTH)
        except BaseException:
            os.close(fd)
            _unlink_quietly(name)
            raise
        return name, fd
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def _unlink_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


_LINK_HOPS = 40  # as the kernel's limit on nested symlinks


def _is_descriptor(path: str) -> bool:
    """Whether ``path`` is one of the names of an open descriptor."""
    directory = os.path.dirname(os.path.abspath(path))
    return directory in ("/dev/fd", "/proc/self/fd", f"/proc/{os.getpid()}/fd")


def _names_descriptor(path: str) -> bool:
    """Whether ``path``, or a symlink on the way from it, names a descriptor
    (``/dev/stdout`` -> ``/proc/self/fd/1``)."""
    for _ in range(_LINK_HOPS):
        if _is_descriptor(path):
            return True
        try:
            target = os.readlink(path)
        except (OSError, ValueError):
            return False
        path = os.path.join(os.path.dirname(path), target)
    return False


def _special(path: str) -> bool:
    """Whether ``path`` is written in place: it names an open descriptor, or
    exists (symlinks followed) and is a device, FIFO or socket."""
    if _names_descriptor(path):
        return True
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _planted(path: str) -> bool:
    """Whether ``path`` is a FIFO, socket or symlink that another user put in a
    sticky, world-writable directory: its owner is neither us nor the
    directory's (the rule of Linux's ``protected_fifos``/``protected_symlinks``)."""
    try:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISCHR(st.st_mode):
            return False
        parent = os.stat(os.path.dirname(os.path.abspath(path)))
    except (OSError, ValueError):
        return False
    shared = parent.st_mode & stat.S_ISVTX and parent.st_mode & stat.S_IWOTH
    return bool(shared) and st.st_uid not in (os.geteuid(), parent.st_uid)


def is_written_in_place(path: StrPath) -> bool:
    """Whether :func:`atomic_open` writes ``path`` in place: a device, FIFO,
    socket or open descriptor, which no file may be created beside."""
    return _special(os.fspath(path))


#: Seconds to wait for a reader of a FIFO given as the output, at most.
FIFO_WAIT = 10.0
_PLANTED = "refusing to write through a FIFO, socket or link of another user in a shared directory"


def _open_in_place(text: str) -> int:
    """Open a device, FIFO or descriptor for writing without blocking: a FIFO
    gets :data:`FIFO_WAIT` seconds to find a reader, never a hang. A regular
    file behind a descriptor is truncated as ``open(path, "wb")`` does; the
    writes then block as usual."""
    if _planted(text):
        raise OutputError(text, _PLANTED)
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    deadline = time.monotonic() + FIFO_WAIT
    while True:
        try:
            fd = os.open(text, flags)
            break
        except OSError as exc:
            if exc.errno != getattr(errno, "ENXIO", None) or not stat.S_ISFIFO(_mode(text)):
                raise OutputError(text, _reason(exc)) from exc
            if time.monotonic() >= deadline:  # a FIFO nobody reads
                raise OutputError(
                    text, f"no process opened the FIFO for reading within {FIFO_WAIT:g} s"
                ) from exc
            time.sleep(0.01)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
    except OSError as exc:
        os.close(fd)
        raise OutputError(text, _reason(exc)) from exc
    return fd


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode
    except (OSError, ValueError):
        return 0


@contextlib.contextmanager
def _open_special(text: str) -> Iterator[BinaryIO]:
    fd = _open_in_place(text)
    try:
        with open(fd, "wb") as f:  # not os.fdopen, which imports io
            yield f
            f.flush()
    except OSError as exc:
        raise OutputError(text, _reason(exc)) from exc


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable. Not every platform or file system can open
    # or fsync a directory; the data is already safe, so this is best effort.
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_GUARDS: contextvars.ContextVar[tuple[Callable[[], None], ...]] = contextvars.ContextVar(
    "threadprof_commit_guards", default=()
)


@contextlib.contextmanager
def commit_guard(check: Callable[[], None]) -> Iterator[None]:
    """Within the block, :func:`atomic_open` calls ``check()`` just before it
    renames a complete file onto its name; an exception from ``check`` removes
    the temporary file and propagates, leaving the name untouched."""
    token = _GUARDS.set((*_GUARDS.get(), check))
    try:
        yield
    finally:
        _GUARDS.reset(token)


@contextlib.contextmanager
def atomic_open(path: StrPath) -> Iterator[BinaryIO]:
    """Open ``path`` for writing, atomically.

    Yields a binary file; when the ``with`` block ends normally the data is
    flushed, fsynced and renamed onto ``path`` (replacing a file, or a symlink
    itself, that was there). If the block or the write fails, the temporary
    file is removed and ``path`` is untouched. Operating-system errors become
    :class:`OutputError`; other exceptions from the block propagate unchanged.
    """
    text = os.fspath(path)
    directory, base = _split(text)
    if _special(text):
        with _open_special(text) as f:
            yield f
        return
    try:
        temp, fd = _create_temp(directory, base)
    except OSError as exc:
        raise OutputError(text, _reason(exc)) from exc
    try:
        with open(fd, "wb") as f:  # not os.fdopen, which imports io
            yield f
            f.flush()
            os.fsync(f.fileno())
        for check in _GUARDS.get():
            check()
        os.replace(temp, text)
    except OSError as exc:
        _unlink_quietly(temp)
        raise OutputError(text, _reason(exc)) from exc
    except BaseException:
        _unlink_quietly(temp)
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path: StrPath, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as f:
        f.write(data)


def check_writable(path: StrPath) -> None:
    """Check, before any work is done, that :func:`atomic_open` can write ``path``.

    The directory must exist and accept a new file, and ``path`` must not be a
    directory. The check creates and removes a temporary file, so it also sees
    read-only file systems and permissions as they apply to the current user.
    Raises :class:`OutputError` with the reason.
    """
    text = os.fspath(path)
    directory, base = _split(text)
    if os.path.isdir(text):
        raise OutputError(text, "is a directory")
    if _special(text):
        if _planted(text):
            raise OutputError(text, _PLANTED)
        if not os.access(text, os.W_OK):
            raise OutputError(text, "permission denied")
        return
    if not os.path.exists(directory):
        raise OutputError(text, f"directory {directory!r} does not exist")
    if not os.path.isdir(directory):
        raise OutputError(text, f"{directory!r} is not a directory")
    with _fatal_signals_held():
        try:
            temp, fd = _create_temp(directory, base)
        except OSError as exc:
            raise OutputError(text, _reason(exc)) from exc
        os.close(fd)
        _unlink_quietly(temp)


#: The signals whose default action ends the process before it can remove a file.
_HELD_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


@contextlib.contextmanager
def _fatal_signals_held() -> Iterator[None]:
    """Hold back SIGTERM, SIGHUP and SIGINT in this thread while the block runs,
    and let any that arrived come after it: the pre-flight check's probe file
    exists only in the block, so a signal that ends the process (at its default
    action) never leaves it behind. Where threads cannot mask signals, nothing."""
    import signal  # not at startup: only the command line checks first

    mask = getattr(signal, "pthread_sigmask", None)
    held = {getattr(signal, name) for name in _HELD_SIGNALS if hasattr(signal, name)}
    if mask is None:
        yield
        return
    old = mask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)
