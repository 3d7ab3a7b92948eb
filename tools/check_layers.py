#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that the C core's includes point down its layers (docs/design.md).

Each file of src/_core belongs to a layer (a .c file to its header's); a file
may include headers of its own layer or of layers below, never above. Prints
each violation and exits 1 if there is any, 0 otherwise."""

from __future__ import annotations

import pathlib
import re
import sys

CORE = pathlib.Path(__file__).resolve().parent.parent / "src" / "_core"

# bottom first
LAYERS = [
    # building blocks that know nothing of profiling
    [
        "compat",
        "sync",
        "arena",
        "bytebuf",
        "nsscale",
        "clock",
        "store",
        "susptab",
        "functable",
        "varints",
        "timeline",
        "names",
        "modstate",
    ],
    # the loops of files, exports and trees, for the Python layers
    [
        "columns",
        "eventcodec",
        "eventrender",
        "outermost",
        "gather",
        "nodebuild",
        "subtree",
        "regroup",
        "pageview",
        "marshalstats",
        "callgrindtext",
        "pprofsamples",
        "merge",
        "tasksplit",
    ],
    ["state"],  # what a profiler records into
    ["threads"],  # thread records, the thread-local tag, busy accounting
    ["slowpath", "lockops", "tasks", "frames", "suspend", "attach", "moncb"],  # an event's paths
    ["recorder"],  # the profile functions
    ["engine", "legacy", "monitoring"],  # how events reach the recorder
    ["snapshot", "codewatch"],  # recorded data as Python objects; dying code
    ["profiler"],  # the Profiler type
    ["capi", "lifetime", "sigwatch", "gcgate", "module"],  # the module, its lifetime and the C API
]

LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}


def main() -> int:
    bad = []
    for path in sorted(CORE.glob("*.[ch]")):
        if path.stem not in LEVEL:
            bad.append(f"{path.name}: in no layer (add it to tools/check_layers.py)")
            continue
        own = LEVEL[path.stem]
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r'#include "(\w+)\.h"', line)
            if m is None or m.group(1) not in LEVEL:
                continue  # the public API header, system headers
            if LEVEL[m.group(1)] > own:
                bad.append(f"{path.name}:{n}: includes {m.group(1)}.h, a layer above it")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
