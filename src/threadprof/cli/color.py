# SPDX-License-Identifier: MIT
"""Colours for the terminal report, as ``threadprof report`` and ``threadprof
run`` print it: whether to colour (a terminal, ``NO_COLOR`` unset, or the
user's ``--color``), and the ANSI codes of each kind of line."""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["colorize", "use_color"]


def use_color(choice: str, stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Whether to colour: ``always``, ``never``, or ``auto``: ``stream`` is a
    terminal and ``NO_COLOR`` is not set (to anything, as no-color.org says)."""
    env = os.environ if environ is None else environ
    if choice == "always":
        return True
    if choice == "never":
        return False
    if env.get("NO_COLOR", "") != "":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_BOLD, _DIM, _RED, _YELLOW, _CYAN, _RESET = (
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[31m",
    "\x1b[33m",
    "\x1b[36m",
    "\x1b[0m",
)
_TREE_PCT = re.compile(r"^(  )(\s*\d+\.\d%)")


def colorize(text: str) -> str:
    """The plain report with ANSI colours: titles bold, column headers cyan,
    warnings yellow, "… N more" lines dim, tree shares of 20% or more red."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not line:
            out.append(line)
        elif line.startswith("warning: ") or (
            line.startswith("         ") and out and "\x1b[33m" in out[-1]
        ):
            out.append(f"{_YELLOW}{line}{_RESET}")
        elif not line.startswith(" "):
            out.append(f"{_BOLD}{line}{_RESET}")
        elif stripped.split()[:1] in (["thread"], ["ncalls"]):
            out.append(f"{_CYAN}{line}{_RESET}")
        elif "… " in line and line.rstrip().endswith("more"):
            out.append(f"{_DIM}{line}{_RESET}")
        else:
            m = _TREE_PCT.match(line)
            if m and float(m.group(2).strip().rstrip("%")) >= 20:
                line = f"{m.group(1)}{_RED}{m.group(2)}{_RESET}{line[m.end() :]}"
            out.append(line)
    return "\n".join(out) + "\n"
