# SPDX-License-Identifier: MIT
"""Helpers for the CLI tests: every test runs real processes.

``threadprof`` runs the CLI as ``python -m threadprof``; the ``launcher``
fixture also runs it the way the installed ``threadprof`` script does (a
``main()`` call from a file that is not the package's ``__main__``), since the
two leave different entries in ``sys.path[0]`` that the CLI must replace.
``python`` runs a program without threadprof, for comparison.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

TIMEOUT = 120

ENTRY_POINT = "import sys\nfrom threadprof.cli import main\nsys.exit(main())\n"

Runner = Callable[..., subprocess.CompletedProcess[str]]


def _run(cmd: Sequence[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
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
