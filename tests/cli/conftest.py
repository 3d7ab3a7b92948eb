# SPDX-License-Identifier: MIT
"""Helpers for the CLI tests: every test runs real processes.

``threadprof`` runs the CLI as ``python -m threadprof``; the ``launcher``
fixture also runs it the way the installed ``threadprof`` script does (a
``main()`` call from a file that is not the package's ``__main__``), since the
two leave different entries in ``sys.path[0]`` that the CLI must replace.
``python`` runs a program without threadprof, for comparison. ``signalled``
starts either one, waits for the program to print ``ready``, sends it a signal
from outside and returns how it ended.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from shared import FREE_THREADED

TIMEOUT = 120

# CPython 3.13t can lose a signal whose Python handler falls due just as the
# main thread starts to block on a lock: the handler then never runs. Without
# threadprof, a five-line program that prints, then waits on an Event, and is
# sent SIGTERM once it printed hangs in about half of the runs (3.13.15t; never
# with the GIL). There the tests send a signal that had no effect once more.
LOSES_SIGNALS = FREE_THREADED and sys.version_info[:2] == (3, 13)
RESEND_AFTER = 20.0

ENTRY_POINT = "import sys\nfrom threadprof.cli import main\nsys.exit(main())\n"

Runner = Callable[..., subprocess.CompletedProcess[str]]


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and CPython then
    # installs no KeyboardInterrupt handler: give the programs the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(cmd: Sequence[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_default_sigint,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh, resolved working directory for the process under test."""
    d = tmp_path.resolve() / "work"
    d.mkdir()
    return d


@pytest.fixture
def write(workdir: Path) -> Callable[[str, str], Path]:
    """``write("name.py", source)``: create a file (dedented) under ``workdir``."""

    def write(name: str, source: str) -> Path:
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture
def threadprof(workdir: Path) -> Runner:
    """``threadprof("run", "x.py", ...)``: ``python -m threadprof ...`` in ``workdir``."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _run([sys.executable, "-m", "threadprof", *args], cwd or workdir)

    return run


@pytest.fixture
def python(workdir: Path) -> Runner:
    """``python("x.py", ...)``: the same program without threadprof."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _run([sys.executable, *args], cwd or workdir)

    return run


@pytest.fixture(params=["python -m threadprof", "entry point"])
def launcher(request: pytest.FixtureRequest, workdir: Path) -> Runner:
    """The CLI started either way it can be started."""
    if request.param == "entry point":
        script = workdir.parent / "bin" / "threadprof"
        script.parent.mkdir()
        script.write_text(ENTRY_POINT)
        prefix = [sys.executable, str(script)]
    else:
        prefix = [sys.executable, "-m", "threadprof"]

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _run([*prefix, *args], cwd or workdir)

    return run


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # the child processes inherit the environment: keep it neutral
    for name in ("PYTHONSAFEPATH", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONWARNINGS"):
        monkeypatch.delenv(name, raising=False)
    if os.environ.get("PYTHONPATH", "").strip() == "":
        monkeypatch.delenv("PYTHONPATH", raising=False)


def _default_signals() -> None:
    # whatever the test runner's dispositions (a background job ignores SIGINT),
    # the program starts as from an interactive shell; SIG_IGN would survive exec
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def _wait_for_line(proc: subprocess.Popen[bytes], line: bytes, timeout: float) -> bytes:
    """What ``proc`` printed on stdout up to and including ``line``."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while line not in seen.splitlines(keepends=True):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError(f"the program never printed {line!r}; it printed {seen!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"the program ended before {line!r}; it printed {seen!r}")
            seen += chunk
    return seen


@pytest.fixture
def signalled(workdir: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """``signalled(SIGTERM, "run", "prog.py")``: ``python -m threadprof run prog.py``
    (``cli=False``: ``python prog.py``), signalled once it printed ``ready``.

    ``preexec`` replaces the default signal dispositions it starts with;
    ``then`` is written to the program's stdin after the signal was sent.
    Returns the process's status, stdout and stderr; a program that does not
    end within the timeout is killed and fails the test.
    """
    procs: list[subprocess.Popen[bytes]] = []

    def run(
        signum: int,
        *args: str,
        cli: bool = True,
        preexec: Callable[[], None] = _default_signals,
        then: bytes = b"",
    ) -> subprocess.CompletedProcess[str]:
        prefix = [sys.executable, "-m", "threadprof"] if cli else [sys.executable]
        err_path = workdir.parent / f"stderr-{len(procs)}.txt"
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [*prefix, *args],
                cwd=workdir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                preexec_fn=preexec,
            )
        procs.append(proc)
        out = _wait_for_line(proc, b"ready\n", TIMEOUT)
        proc.send_signal(signum)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            if LOSES_SIGNALS:
                try:
                    rest, _ = proc.communicate(then, timeout=RESEND_AFTER)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signum)  # the first one was lost (above)
                    rest, _ = proc.communicate(then, timeout=TIMEOUT)
            else:
                rest, _ = proc.communicate(then, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"the program did not end after {signal.Signals(signum).name}")
        return subprocess.CompletedProcess(
            proc.args, proc.returncode, (out + rest).decode(), err_path.read_text()
        )

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
