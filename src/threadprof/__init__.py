# SPDX-License-Identifier: MIT
"""threadprof: a deterministic profiler for CPython that sees every thread.

``threadprof.Profile`` can replace ``cProfile.Profile``; ``threadprof.start()``,
``threadprof.stop()`` and ``threadprof.profile()`` give the thread-aware API,
whose snapshots are the plain objects of :mod:`threadprof.model`.
"""

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
    "merge_threads",
    "profile",
    "snapshot_from_raw",
    "start",
    "stop",
]
