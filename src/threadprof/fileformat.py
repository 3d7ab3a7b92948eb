# SPDX-License-Identifier: MIT
"""What every reader of saved profiles shares: the error they raise and a
guess at what a foreign file holds.

A leaf: it imports nothing of threadprof, so :mod:`threadprof.readers`,
:mod:`threadprof.tprof` and :mod:`threadprof.pstatsfile` all build on it and
none of them needs another to load.
"""

from __future__ import annotations

import os

__all__ = ["ProfileFormatError", "StrPath", "describe_foreign"]

StrPath = str | os.PathLike[str]


class ProfileFormatError(Exception):
    """A profile file cannot be read. ``str()`` is one line naming the file."""

    def __init__(self, path: StrPath, reason: str) -> None:
        super().__init__(path, reason)
        self.path = os.fspath(path)
        self.reason = " ".join(str(reason).split())  # one line, whatever was said

    def __str__(self) -> str:
        return f"cannot read {self.path!r}: {self.reason}"


def describe_foreign(head: bytes) -> str:
    """A short guess at what a file that is not a profile holds, from its first bytes."""
    if not head:
        return "the file is empty"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file (a pprof profile?)"
    if head.startswith(b"PK\x03\x04"):
        return "a zip file"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "JSON text (a Chrome trace or speedscope file?)"
    if head.startswith(b"# callgrind format") or head.startswith(b"events:"):
        return "a callgrind file"
    if head.startswith(b"\x80") and len(head) > 1 and head[1] <= 5:
        return "a pickle (never loaded)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"unknown binary data (starts with {head[:8].hex(' ')})"
    if text.isprintable() or all(c.isprintable() or c in "\t\r\n" for c in text):
        return "text (collapsed stacks?)"
    return f"unknown data (starts with {head[:8].hex(' ')})"
