# SPDX-License-Identifier: MIT
"""Reading saved profiles: threadprof's own ``.tprof`` files and pstats files.

:func:`read_profile` tells the two apart by their first bytes (never by the
file name) and returns either a :class:`~threadprof.model.Snapshot` (a
``.tprof`` file, whose timelines are read lazily from the file) or a
:class:`PstatsInput` (a pstats file: per-function totals and caller edges only).

Every problem with the input -- a missing or unreadable file, a file of another
format, a truncated or corrupt one, one written by a newer threadprof -- is a
:class:`ProfileFormatError`, whose ``str()`` is one line that names the file
and says what is wrong. Nothing that is read is ever executed: no pickle, and
pstats files go through a restricted reader of the few ``marshal`` types that
pstats writes (see :mod:`threadprof.pstatsfile`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from . import pstatsfile, tprof
from .fileformat import ProfileFormatError, StrPath, describe_foreign
from .model import Snapshot

__all__ = ["ProfileFormatError", "PstatsInput", "describe_foreign", "read_profile"]

#: How many bytes :func:`read_profile` looks at to tell the formats apart.
SNIFF_BYTES = 16


@dataclass(frozen=True, slots=True)
class PstatsInput:
    """A pstats file: ``{(file, line, name): (cc, nc, tt, ct, callers)}``.

    It has no threads, no call paths and no timeline, so it converts only to
    the formats that need nothing more than per-function totals and caller ->
    callee edges: :attr:`FORMATS`.
    """

    path: str
    stats: dict[Any, Any]

    #: The output formats that a pstats file has the data for.
    FORMATS: ClassVar[tuple[str, ...]] = ("pstats", "callgrind")

    def snapshot(self) -> Snapshot:
        """A snapshot whose per-function self times and caller -> callee edges
        are the file's (see :func:`threadprof.pstatsfile.stats_to_snapshot`);
        ProfileFormatError for a time whose nanoseconds are no number (a
        finite float of seconds beyond about 1.8e299)."""
        try:
            return pstatsfile.stats_to_snapshot(self.stats)
        except OverflowError as exc:
            raise ProfileFormatError(
                self.path, "not a valid pstats file: a time too long to count in nanoseconds"
            ) from exc


def _looks_like_marshal_dict(head: bytes) -> bool:
    # pstats files are a marshalled dict: TYPE_DICT '{', possibly with FLAG_REF
    # (0x80). JSON text also starts with '{', but is followed by white space, a
    # quote or '}', none of which is a marshal type code.
    if head[:1] not in (b"{", b"\xfb"):
        return False
    return len(head) < 2 or head[1:2] not in b' \t\r\n"}'


def read_profile(
    path: StrPath,
    progress: Callable[[int, int], None] | None = None,
    *,
    columns: bool = False,
) -> Snapshot | PstatsInput:
    """Read a ``.tprof`` or pstats file; raises :class:`ProfileFormatError`.

    ``progress(done, total)`` is called as a ``.tprof`` file's threads are
    read; ``columns`` reads its call trees as columns only (see
    :func:`threadprof.tprof.read`)."""
    text = os.fspath(path)
    try:
        with open(text, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise ProfileFormatError(text, exc.strerror or str(exc)) from exc
    if not head:
        raise ProfileFormatError(text, "the file is empty")
    if head.startswith(tprof.MAGIC[:6]) or tprof.MAGIC.startswith(head):
        return tprof.read(text, progress, columns=columns)
    if _looks_like_marshal_dict(head):
        return PstatsInput(text, pstatsfile.read_stats(text))
    raise ProfileFormatError(
        text, f"not a threadprof (.tprof) or pstats profile: {describe_foreign(head)}"
    )
