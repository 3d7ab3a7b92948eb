# SPDX-License-Identifier: MIT
"""The .tprof file's size and speed on a recorded timeline.

    python bench/tprof_io.py [--events N]

Records a threaded JSON workload with ``timeline=True`` until about N events
(default 1,000,000), then reports: bytes per event on disk, the write
throughput (snapshot -> .tprof), the read throughput (every timeline chunk
read back from the file) and the conversion to Perfetto from the file, in
events per second, with the peak Python memory of each step (tracemalloc).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import tracemalloc

import threadprof
from threadprof import tprof
from threadprof.exporters import get_exporter


def workload(rounds: int) -> None:
    def work() -> None:
        for i in range(rounds):
            json.loads(json.dumps({"i": i, "s": str(i), "l": [i, i + 1]}))

    threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(3)]
    for t in threads:
        t.start()
    work()
    for t in threads:
        t.join()


def measure(label: str, events: int, fn, memory: bool = True):
    """Time ``fn`` (without tracemalloc, which slows allocation down), then
    measure its peak Python memory in a second run."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = ""
    if memory:
        tracemalloc.start()
        fn()
        peak = f"   peak {tracemalloc.get_traced_memory()[1] / 1e6:6.1f} MB"
        tracemalloc.stop()
    print(f"{label:<28} {events / seconds / 1e6:6.2f} M events/s ({seconds:.2f} s){peak}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    rounds = max(1, args.events // 4 // 30)  # about 30 events per round and thread
    threadprof.start(timeline=True)
    workload(rounds)
    snap = threadprof.stop()
    events = sum(t.timeline.events for t in snap.threads if t.timeline is not None)
    print(f"{events} timeline events in {len(snap.threads)} threads")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.tprof")

        def write() -> None:
            with open(path, "wb") as f:
                tprof.write(snap, f)

        measure("write .tprof", events, write)
        size = os.path.getsize(path)
        print(
            f"{'size on disk':<28} {size / events:6.2f} bytes/event ({size} bytes; 12 in memory)"
        )

        def read() -> int:
            back = tprof.read(path)
            return sum(len(f) for t in back.threads if t.timeline for f, _ in t.timeline.chunks())

        assert measure("read .tprof (all chunks)", events, read) == events
        measure(
            ".tprof -> perfetto",
            events,
            lambda: get_exporter("perfetto").write(tprof.read(path), os.path.join(d, "b.pftrace")),
            memory=False,
        )


if __name__ == "__main__":
    main()
