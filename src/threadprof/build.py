# SPDX-License-Identifier: MIT
"""What this interpreter is, as the profiles it makes record it."""

from __future__ import annotations

import sys

__all__ = ["python_version"]


def python_version() -> str:
    """``X.Y.Z``, with a ``t`` after it on a free-threaded build running
    without the GIL (``3.13.5t``): what ``Snapshot.python_version`` says."""
    version = sys.version.split()[0]
    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return version + "t" if gil_enabled is not None and not gil_enabled() else version
