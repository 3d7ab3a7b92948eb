# SPDX-License-Identifier: MIT
"""The cells of the terminal views: times, shares, text cut to a width and
functions labelled, shared by the report (:mod:`threadprof.report`) and its
sections in modules of their own (:mod:`threadprof.contentionview`)."""

from __future__ import annotations

from ._record import Frozen
from .model import Function
from .paths import file_kind, short_path

__all__ = ["PLAIN", "View", "fit", "fit_left", "format_seconds", "label", "percent", "printable"]


def format_seconds(seconds: float) -> str:
    """``seconds`` in s, ms, us or ns with four significant digits: ``1.234s``,
    ``12.35ms``, ``250.0us``; ``0`` for zero; ``1.23e+04s`` from 10,000 s on.
    Never more than 9 characters for times below 10**100 s."""
    if seconds == 0:
        return "0"
    if abs(seconds) >= 9999.5:
        return f"{seconds:.3g}s"  # 1.23e+04s: stays within the column
    scales = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
    for scale, suffix in scales:
        # 0.99995: what rounds up to 1000 of a unit is shown in the next one
        if abs(seconds) >= scale * 0.99995 or suffix == "ns":
            a = abs(seconds / scale)
            digits = 3 if a < 9.9995 else 2 if a < 99.995 else 1 if a < 999.95 else 0
            return f"{seconds / scale:.{digits}f}{suffix}"
    raise AssertionError("unreachable")


def percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "-"
    share = min(max(part / whole, 0.0), 1.0)
    return f"{share * 100:.0f}%"


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, with ``...`` where it was cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 3, 0)] + "..."


def fit_left(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return "..." + text[len(text) - max(width - 3, 0) :]


class View(Frozen):
    """How functions are shown: whole paths or short ones, library frames or not."""

    __slots__ = ("full_paths", "hide_library")
    full_paths: bool
    hide_library: bool

    def __init__(self, full_paths: bool = False, hide_library: bool = False) -> None:
        self._set(full_paths, hide_library)

    def path(self, filename: str) -> str:
        return filename if self.full_paths else short_path(filename)

    def hidden(self, func: Function) -> bool:
        return self.hide_library and file_kind(func.filename) in ("stdlib", "library")


PLAIN = View()  # every path in short, library frames shown


def label(func: Function, width: int, view: View = PLAIN) -> str:
    """``qualname (file:line)`` or the C label, made to fit ``width``: a C label
    keeps its start; a Python one first loses the outer parts of its qualname
    (``Client.fetch`` -> ``fetch``), which its file and line still identify,
    then the start of its path, then its start."""
    if func.kind == "c":
        return fit(func.display, width)
    path, line = view.path(func.filename), f":{func.lineno})"
    where = f" ({path}{line}"
    parts = func.qualname.split(".")
    while len(parts) > 1 and len(".".join(parts)) + len(where) > width:
        del parts[0]
    name = ".".join(parts)
    room = width - len(name) - len(" (") - len(line)
    if len(where) > width - len(name) and room >= 8:
        # the name stays whole: the path loses its start
        where = f" ({fit_left(path, room)}{line}"
    return fit_left(name + where, width)


def printable(text: str) -> str:
    """``text`` with control characters escaped, so that it stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
