# SPDX-License-Identifier: MIT
"""threadprof: a deterministic profiler for CPython that sees every thread.

``threadprof.Profile`` can replace ``cProfile.Profile``; ``threadprof.start()``,
``threadprof.stop()`` and ``threadprof.profile()`` give the thread-aware API,
whose snapshots are the plain objects of :mod:`threadprof.model`.
"""

import os as _os

from ._version import __version__
from .api import (
    Profile,
    ProfilerError,
    active,
    attach_current_thread,
    detach_current_thread,
    profile,
    snapshot_from_raw,
    start,
    stop,
)
from .model import (
    EdgeStats,
    Function,
    FunctionStats,
    Node,
    Snapshot,
    ThreadProfile,
    merge_threads,
)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext threadprof`` in IPython or Jupyter: the ``%threadprof`` and
    ``%%threadprof`` magics (docs/jupyter.md)."""
    from .magic import load

    load(ipython)


def get_include() -> str:
    """The directory holding ``threadprof.h``, the C API header for embedders."""
    here = _os.path.dirname(_os.path.abspath(__file__))
    installed = _os.path.join(here, "include")
    if _os.path.isfile(_os.path.join(installed, "threadprof.h")):
        return installed
    # a source checkout (an editable install): the header's own directory
    return _os.path.join(_os.path.dirname(_os.path.dirname(here)), "include")


__all__ = [
    "EdgeStats",
    "Function",
    "FunctionStats",
    "Node",
    "Profile",
    "ProfilerError",
    "Snapshot",
    "ThreadProfile",
    "__version__",
    "active",
    "attach_current_thread",
    "detach_current_thread",
    "get_include",
    "load_ipython_extension",
    "merge_threads",
    "profile",
    "snapshot_from_raw",
    "start",
    "stop",
]
