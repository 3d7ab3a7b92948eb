# SPDX-License-Identifier: MIT
"""One measurement, in a fresh interpreter: ``python worker.py CONFIG WORKLOAD``.

Run by ``run.py`` with a bench venv's interpreter. Imports the workload and the
profiler, runs the workload once unprofiled at a small scale (to warm up the
specialising interpreter and the caches), then times the profiler's start, one
full run of the workload and the profiler's stop, and prints one JSON object on
stdout. The profiler's own report (snapshot, stats) is built after the timed
region and is not part of the time.

``CONFIG`` is one of :data:`CONFIGS`; ``count`` counts the profile events with
the floor's counting hook instead of timing; ``--collect`` calls the workload
through ``_tpfloor.collect`` so that callgrind measures only the workload (and
sets a switch interval of 1000 s, so that threads change hands only when they
block). threadprof's configs also report ``Profile._memory()`` and, with the
timeline, its events (in memory, spilled) and the spill file's size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads
from wholerun_floor import register_floor

Hooks = tuple[Callable[[], Any], Callable[[], Any], Callable[[], dict[str, Any]]]


def _nothing() -> None:
    return None


def _no_info() -> dict[str, Any]:
    return {}


def config_none() -> Hooks:
    return _nothing, _nothing, _no_info


def config_floor() -> Hooks:
    import _tpfloor

    return _tpfloor.install, _tpfloor.uninstall, _no_info


def config_count() -> Hooks:
    import _tpfloor

    def start() -> None:
        _tpfloor.reset()
        _tpfloor.install(hook="count")

    return start, _tpfloor.uninstall, lambda: {"events": _tpfloor.counts()}


def config_floor_clock() -> Hooks:
    import _tpfloor

    return (lambda: _tpfloor.install(hook="clock")), _tpfloor.uninstall, _no_info


def config_floor_monitoring(callback: str = "mon_noop") -> Hooks:
    mon = sys.monitoring
    tool, mask = register_floor(callback)

    def stop() -> None:
        mon.set_events(tool, 0)

    return (lambda: mon.set_events(tool, mask)), stop, lambda: {"tool_id": tool}


def config_cprofile() -> Hooks:
    import cProfile

    prof = cProfile.Profile()

    def info() -> dict[str, Any]:
        return {"functions": len(prof.getstats())}

    return prof.enable, prof.disable, info


def _threadprof(**kwargs: Any) -> Hooks:
    import threadprof
    from threadprof.api import snapshot_from_raw

    prof = threadprof.Profile(**kwargs)

    def info() -> dict[str, Any]:
        # Profile._memory(): bytes the core holds for this profiler's data (the
        # call trees, the function table, the per-thread state and the timeline
        # chunks in memory, at their capacity); not the spilled timeline chunks
        memory = prof._memory()
        raw = prof._raw_snapshot()
        snap = snapshot_from_raw(raw, prof)
        out: dict[str, Any] = {
            "threads": len(snap.threads),
            "functions": len(snap.functions),
            "engine": getattr(snap, "engine", None),
            "warnings": [str(w) for w in snap.warnings][:5],
            "memory_bytes": memory,
        }
        if kwargs.get("timeline"):
            # the timeline's events as the snapshot counts them, and where they
            # are: in memory (chunks copied into the raw snapshot) or spilled to
            # the profiler's anonymous temporary file (16-byte header a chunk,
            # then its events encoded: offset, events, bytes)
            spilled = in_memory = 0
            for t in raw["threads"]:
                tl = t.get("timeline")
                if tl:
                    spilled += sum(n for _, n, _ in tl["spills"])
                    in_memory += sum(len(times) // 8 for times, _ in tl["chunks"])
            fd = prof._timeline_fd
            out.update(
                timeline_events=sum(t.timeline.events for t in snap.threads if t.timeline),
                timeline_spilled_events=spilled,
                timeline_memory_events=in_memory,
                timeline_spill_bytes=os.fstat(fd).st_size if fd >= 0 else 0,
            )
        return out

    return prof.enable, prof.disable, info


def _yappi(clock: str) -> Hooks:
    import yappi

    yappi.set_clock_type(clock)

    def start() -> None:
        # builtins=True: record C functions too, as cProfile and threadprof do
        yappi.start(builtins=True, profile_threads=True)

    def info() -> dict[str, Any]:
        return {"threads": len(yappi.get_thread_stats())}

    return start, yappi.stop, info


CONFIGS: dict[str, Callable[[], Hooks]] = {
    "none": config_none,
    "floor": config_floor,
    "floor-mon": config_floor_monitoring,
    "floor-clock": config_floor_clock,
    "floor-mon-clock": lambda: config_floor_monitoring("mon_clock"),
    "floor-mon-vc": lambda: config_floor_monitoring("mon_noop_vc"),
    "tp-wall": lambda: _threadprof(),
    "tp-legacy": lambda: _threadprof(engine="legacy"),
    "tp-wall-only": lambda: _threadprof(cpu=False),
    "tp-cpu": lambda: _threadprof(clock="cpu"),
    "tp-timeline": lambda: _threadprof(timeline=True),
    "cprofile": config_cprofile,
    "yappi-wall": lambda: _yappi("wall"),
    "yappi-cpu": lambda: _yappi("cpu"),
    "count": config_count,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", choices=sorted(CONFIGS))
    parser.add_argument("workload", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=0.05, help="scale of the warm-up run")
    parser.add_argument("--collect", action="store_true", help="run under _tpfloor.collect")
    args = parser.parse_args()

    if args.collect:
        # under callgrind: no GIL hand-offs forced by the switch interval, whose
        # number grows with the (valgrind-slowed) run time and so would move the
        # instruction counts from run to run; threads switch when they block
        sys.setswitchinterval(1000.0)
    module = workloads.load(args.workload)
    start, stop, info = CONFIGS[args.config]()
    if args.warmup > 0:
        module.run(args.warmup)

    def work() -> Any:
        return module.run(args.scale)

    if args.collect:
        import _tpfloor

        def timed() -> Any:
            return _tpfloor.collect(work)
    else:
        timed = work

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    start()
    result = timed()
    stop()
    t1 = time.perf_counter()
    cpu1 = time.process_time()

    out = {
        "config": args.config,
        "workload": args.workload,
        "scale": args.scale,
        "python": sys.version.split()[0],
        "seconds": t1 - t0,
        "cpu_seconds": cpu1 - cpu0,
        "result": result,
    }
    out.update(info())
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
