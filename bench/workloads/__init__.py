# SPDX-License-Identifier: MIT
"""Benchmark workloads.

Each workload is a module with ``run(scale=1.0)`` doing a fixed, deterministic
amount of work (about 0.3 s unprofiled at scale 1.0 on the reference machine);
``scale`` multiplies the amount of work, so that ``--quick`` and callgrind can
run smaller versions of the same code. The modules import everything they need
at import time, so that ``run()`` measures work, not imports.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# workload name -> module name (``builtins`` would shadow the real module)
WORKLOADS = {
    "fib": "fib",
    "builtins": "builtin_calls",
    "mixed": "mixed",
    "threaded": "threaded",
    "generators": "generators",
}

DESCRIPTIONS = {
    "fib": "recursive fib: Python calls and returns only",
    "builtins": "tight loops over len, isinstance, list.append, dict.get: C calls",
    "mixed": "json, re, sorting with key functions, string formatting, small classes",
    "threaded": "the mixed workload split over 4 threads",
    "generators": "generator pipelines and an asyncio.gather of coroutines",
}


def load(name: str) -> ModuleType:
    """Import the module of workload ``name``."""
    return importlib.import_module(f"{__name__}.{WORKLOADS[name]}")
