# SPDX-License-Identifier: MIT
"""threadprof's own lossless format, ``.tprof``: the exporter's side.

The format itself -- layout, versioning, the reader -- is :mod:`threadprof.tprof`.
``threadprof run`` writes it by default (``threadprof.tprof``) and
``threadprof convert`` turns it into any other format later.
"""

from __future__ import annotations

from ..model import Snapshot
from ..tprof import COMPRESSED_EVENTS_LEVEL, EVENTS_LEVEL, write

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["dump"]


def dump(snapshot: Snapshot, out: BinaryIO, *, compress: bool = False) -> None:
    """Write every thread of ``snapshot`` (trees, timelines, metadata) as
    ``.tprof``; with ``compress``, the timelines zlib-compressed too."""
    write(snapshot, out, events_level=COMPRESSED_EVENTS_LEVEL if compress else EVENTS_LEVEL)
