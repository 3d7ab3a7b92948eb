# SPDX-License-Identifier: MIT
"""How a .tprof timeline section's compression level trades size for time.

    python bench/timeline_codec.py [--workload mixed] [--scale 1.0]

Records a timeline of one of bench/workloads/ (``threadprof.Profile(
timeline=True)``), encodes its events into timeline section payloads as
``tprof.write`` does (the C core's ``_encode_events``, 16,384 events a
section), then compresses every payload at zlib levels 1 to 9: bytes per
event on disk and nanoseconds per event of process CPU time, best of
``--repeat``. ``tprof.EVENTS_LEVEL`` is chosen from this table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads

import threadprof
from threadprof import _core, tprof


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mixed", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    module = workloads.load(args.workload)
    prof = threadprof.Profile(timeline=True)
    prof.enable()
    module.run(args.scale)
    prof.disable()
    snap = prof.snapshot()
    nfuncs = len(snap.functions)
    start = time.process_time()
    payloads = [
        _core._encode_events(funcs, times, nfuncs)
        for t in snap.threads
        if t.timeline is not None
        for funcs, times in tprof._rechunk(t.timeline.chunks(), tprof.CHUNK_EVENTS)
    ]
    encode = time.process_time() - start
    events = sum(t.timeline.events for t in snap.threads if t.timeline is not None)
    python = sys.version.split()[0]
    print(f"{args.workload} at scale {args.scale}: {events:,} events, Python {python}")
    print(f"encoding (differences, shuffling, checks): {encode * 1e9 / events:.1f} ns/event")
    print("| zlib level | bytes/event | ns/event |")
    print("|---|---|---|")
    for level in range(1, 10):
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()
            size = sum(len(zlib.compress(p, level)) for p in payloads)
            best = min(best, time.process_time() - start)
        mark = " (EVENTS_LEVEL)" if level == tprof.EVENTS_LEVEL else ""
        print(f"| {level}{mark} | {size / events:.2f} | {best * 1e9 / events:.1f} |")


if __name__ == "__main__":
    main()
