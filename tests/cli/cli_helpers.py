# SPDX-License-Identifier: MIT
"""Functions shared by the CLI tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import os
import pstats
import re

_REPORT_START = re.compile(r"^threadprof: (\d+ processes, )?\d+ threads?, ", re.MULTILINE)


def report_part(stderr: str) -> str:
    """The report, from its first line on ("" if there is none)."""
    found = _REPORT_START.search(stderr)
    return stderr[found.start() :] if found else ""


def before_report(stderr: str) -> str:
    """What was printed to stderr before the report (the program's own output)."""
    found = _REPORT_START.search(stderr)
    return stderr[: found.start()] if found else stderr


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("threadprof: error:")]


def report_count(stderr: str) -> int:
    """How many reports were printed."""
    return len(_REPORT_START.findall(stderr))


def calls_in(path: str | os.PathLike[str], script: str | os.PathLike[str]) -> dict[str, int]:
    """``{function name: calls}`` of the pstats file ``path``, for the functions
    defined in ``script`` that were called (functions merely running have 0)."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return {
        name: nc
        for (filename, _line, name), (_cc, nc, *_rest) in stats.items()
        if nc and _same(filename, script)
    }


def callers_of(
    path: str | os.PathLike[str], script: str | os.PathLike[str], name: str
) -> dict[str, int]:
    """``{caller name: calls}`` of the function ``name`` defined in ``script``."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    (entry,) = [v for (f, _l, n), v in stats.items() if n == name and _same(f, script)]
    return {caller[2]: value[1] for caller, value in entry[4].items()}


def _same(filename: str, script: str | os.PathLike[str]) -> bool:
    return os.path.realpath(filename) == os.path.realpath(script)
