# SPDX-License-Identifier: MIT
"""Where a profiled function's file lives, for the reports: a short path to
show, and whether it is the program's own code, the standard library or a
third-party library.

Both are read from the path alone, as the profiled interpreter recorded it
(the report may run elsewhere, under another Python):

* the standard library: a file under ``lib/python3.X/`` (or ``3.Xt``) that is
  not in a ``site-packages`` or ``dist-packages`` directory, and the frozen
  modules (``<frozen importlib._bootstrap>``);
* a library: a file under ``site-packages`` or ``dist-packages``;
* the program: anything else (C functions, ``~``, have no file and are
  neither).

A function matches a glob pattern (``--include``, ``threadprof diff``'s
conditions) by its file (whole, short or base name), its name, its qualified
name or its dotted name (``json.decoder.JSONDecoder.decode``: the short path
as a module, then the qualified name).

A short path is the path below those directories (``concurrent/futures/thread.py``,
``requests/sessions.py``), the path relative to the current directory for a
file below it, and the file's name otherwise. Names in angle brackets stay as
they are.
"""

from __future__ import annotations

import fnmatch
import os
import re

from .model import Function

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Literal

    FileKind = Literal["program", "stdlib", "library", "none"]
else:
    FileKind = str  # the Literal above, for type checkers

__all__ = ["FileKind", "file_kind", "function_matches", "module_name", "short_path"]

_PACKAGES = re.compile(r"[/\\](?:site|dist)-packages[/\\]")
_STDLIB = re.compile(r"[/\\]lib[/\\]python3\.\d+t?[/\\](?:lib-dynload[/\\])?")


def file_kind(filename: str) -> FileKind:
    """``"stdlib"``, ``"library"``, ``"program"``, or ``"none"`` for a C function's ``~``."""
    if filename == "~":
        return "none"
    if filename.startswith("<frozen "):
        return "stdlib"
    if _PACKAGES.search(filename):
        return "library"
    if _STDLIB.search(filename):
        return "stdlib"
    return "program"


def short_path(filename: str, cwd: str | None = None) -> str:
    """``filename`` made short (see the module's docstring); ``cwd`` defaults
    to the current directory."""
    if filename.startswith("<") or filename == "~":
        return filename
    found = list(_PACKAGES.finditer(filename)) or list(_STDLIB.finditer(filename))
    if found:
        return filename[found[-1].end() :]
    if os.path.isabs(filename):
        base = cwd if cwd is not None else _cwd()
        if base and filename.startswith(base.rstrip(os.sep) + os.sep):
            return filename[len(base.rstrip(os.sep)) + 1 :]
    return os.path.basename(filename) or filename


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # removed under us
        return ""


def module_name(filename: str) -> str:
    """The dotted module name of a short path: ``json/decoder.py`` ->
    ``json.decoder``, ``pkg/__init__.py`` -> ``pkg``; ``""`` for no file."""
    if filename.startswith("<") or filename == "~":
        return ""
    path = short_path(filename).replace("\\", "/")
    stem = path[:-3] if path.endswith(".py") else path.rsplit(".", 1)[0] if "." in path else path
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def function_matches(func: Function, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``func`` matches one of the glob ``patterns`` (see the module's docstring)."""
    if not patterns:
        return False
    module = module_name(func.filename)
    names = {
        func.filename,
        os.path.basename(func.filename),
        short_path(func.filename),
        func.name,
        func.qualname,
        f"{module}.{func.qualname}" if module else func.qualname,
    }
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)
