# SPDX-License-Identifier: MIT
"""threadprof: a deterministic profiler for CPython that sees every thread.

``threadprof.Profile`` can replace ``cProfile.Profile``; ``threadprof.start()``,
``threadprof.stop()`` and ``threadprof.profile()`` give the thread-aware API,
whose snapshots are the plain objects of :mod:`threadprof.model`.
"""

import os as _os

from . import _core as _core  # the C core, as PyCapsule_Import finds it
from ._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
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

#: Where each name of the public API lives. The package imports each module
#: when one of its names is first used: a process that only profiles (the
#: processes ``threadprof run`` follows) never loads the model.
_HOMES = {
    **dict.fromkeys(
        (
            "Profile",
            "ProfilerError",
            "active",
            "attach_current_thread",
            "detach_current_thread",
            "profile",
            "snapshot_from_raw",
            "start",
            "stop",
        ),
        "api",
    ),
    **dict.fromkeys(
        ("EdgeStats", "Function", "FunctionStats", "Node", "Snapshot", "ThreadProfile"),
        "model",
    ),
    "merge_threads": "model",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'threadprof' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


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
