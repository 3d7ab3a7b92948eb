# SPDX-License-Identifier: MIT
"""Functions shared by the CLI tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import re

_REPORT_START = re.compile(r"^threadprof: \d+ threads?, ", re.MULTILINE)


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
