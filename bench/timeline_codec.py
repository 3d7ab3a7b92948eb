# SPDX-License-Identifier: MIT
"""How a .tprof timeline section's encoding and compression trade size for time.

    python bench/timeline_codec.py [--workload mixed] [--scale 1.0]

Records a timeline of one of bench/workloads/ (``threadprof.Profile(
timeline=True)``), encodes its events into timeline section payloads as
``tprof.write`` does (the C core's ``_encode_events``, 16,384 events a
section: format 2.0's varints, or format 1.x's shuffled int64 and int32),
then compresses every payload at zlib levels 1 to 9 (0: stored): bytes per
event on disk and nanoseconds per event of process CPU time, encoding
included, best of ``--repeat``. ``tprof.EVENTS_LEVEL`` and
``tprof.COMPRESSED_EVENTS_LEVEL`` are chosen from this table.
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
    chunks = [
        chunk
        for t in snap.threads
        if t.timeline is not None
        for chunk in tprof._rechunk(t.timeline.chunks(), tprof.CHUNK_EVENTS)
    ]
    events = sum(t.timeline.events for t in snap.threads if t.timeline is not None)
    python = sys.version.split()[0]
    print(f"{args.workload} at scale {args.scale}: {events:,} events, Python {python}")
    print("| encoding | zlib level | bytes/event | ns/event |")
    print("|---|---|---|---|")
    # format 2.0's varints, and format 1.x's shuffled fixed-size numbers
    for name, shuffled in (("varints", False), ("shuffled", True)):
        payloads = [_core._encode_events(f, t, nfuncs, shuffled) for f, t in chunks]
        for level in range(10):
            best = float("inf")
            for _ in range(args.repeat):
                start = time.process_time()
                for f, t in chunks:
                    payload = _core._encode_events(f, t, nfuncs, shuffled)
                    if level:
                        zlib.compress(payload, level)
                best = min(best, time.process_time() - start)
            size = sum(len(zlib.compress(p, level)) if level else len(p) for p in payloads)
            mark = ""
            if not shuffled and level == tprof.EVENTS_LEVEL:
                mark = " (EVENTS_LEVEL)"
            elif not shuffled and level == tprof.COMPRESSED_EVENTS_LEVEL:
                mark = " (--compress)"
            print(f"| {name} | {level}{mark} | {size / events:.2f} | {best * 1e9 / events:.1f} |")


if __name__ == "__main__":
    main()
