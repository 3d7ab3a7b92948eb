# SPDX-License-Identifier: MIT
"""Does recording scale with the threads on a free-threaded CPython?

N CPU-bound threads (N = the machine's cores by default) each run the same
call-heavy work. A configuration's *speed-up* is N times the time one thread
takes alone, divided by the time the N threads take together: N when the
threads run truly in parallel, 1 when something serialises them. A profiler's
*kept* fraction is its speed-up divided by the unprofiled speed-up: 1.0 means
profiling costs the threads no parallelism at all. The target of issue 12 is
threadprof in stats mode keeping at least 0.85.

*cpu together* is the CPU time a thread takes for its work while the others
run theirs, over the CPU time it takes alone: 1.0 when the threads share no
written memory, more when a cache line bounces between cores or a lock spins.
A thread's CPU clock stops while the host runs someone else, so this figure
is steady where the wall-clock speed-up is not on a shared machine.

Each measurement runs in a fresh interpreter (this file with ``--worker``);
the rounds interleave the configurations, and each figure is the best over
the rounds and the ``--inner`` repeats inside each worker (interference only
ever adds time).

    python3.13t bench/ft_scaling.py                       # all configs, 5 rounds
    python3.13t bench/ft_scaling.py --rounds 9 --json out.json

Configurations: ``none``, ``tp-monitoring`` and ``tp-legacy`` (threadprof's
stats mode with each engine), ``tp-timeline`` (monitoring plus a timeline),
``tp-monitoring-py`` (monitoring with ``builtins=False``: no CALL events),
``floor-mon``, ``floor-mon-py`` and ``floor-legacy`` (the no-op floors of
``bench/floor``: a C callable registered with sys.monitoring for the events
of each monitoring config that returns at once, and a no-op ``Py_tracefunc``
in every thread; what each engine's events cost before any profiler runs),
and ``viztracer`` (VizTracer, which takes one lock per event
on a free-threaded build). A configuration whose profiler is not installed
is reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import sysconfig
import threading
import time
from typing import Any

CONFIGS = (
    "none",
    "floor-mon",
    "floor-mon-py",
    "floor-legacy",
    "tp-monitoring",
    "tp-monitoring-py",
    "tp-legacy",
    "tp-timeline",
    "viztracer",
)

# the sys.monitoring events of threadprof's engine, with builtins=True and
# without (no CALL events: C functions go unrecorded)
MON_EVENTS_PY = ("PY_START", "PY_RESUME", "PY_THROW", "PY_RETURN", "PY_YIELD", "PY_UNWIND")
MON_EVENTS = (*MON_EVENTS_PY, "CALL", "C_RETURN", "C_RAISE")

# the floor of the events each threadprof config takes: its speed-up over the
# floor's is what threadprof's own recording keeps
FLOOR_OF = {
    "tp-monitoring": "floor-mon",
    "tp-timeline": "floor-mon",
    "tp-monitoring-py": "floor-mon-py",
    "tp-legacy": "floor-legacy",
}


# -- the work -----------------------------------------------------------------


def leaf(x: int) -> int:
    return x * 3 + 1


def middle(n: int) -> int:
    total = 0
    for i in range(n):
        total += leaf(i) & 7
    return total


def work(calls: int) -> int:
    """About `calls` Python calls (two events each), no allocation to share."""
    total = 0
    for _ in range(calls // 50):
        total += middle(49)
    return total


def timed_threads(n: int, calls: int) -> tuple[float, float]:
    """Wall time for n threads each doing `calls` calls, started together, and
    the CPU time the threads used, on average per thread."""
    barrier = threading.Barrier(n + 1)
    done = threading.Barrier(n + 1)
    cpu: list[float] = []

    def body() -> None:
        barrier.wait()
        c0 = time.thread_time()
        work(calls)
        cpu.append(time.thread_time() - c0)
        done.wait()

    threads = [threading.Thread(target=body, name=f"worker-{i}") for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    done.wait()
    elapsed = time.perf_counter() - t0
    for t in threads:
        t.join()
    return elapsed, sum(cpu) / len(cpu)


# -- one configuration in a fresh interpreter ----------------------------------


def start_profiler(config: str) -> Any:
    if config == "none":
        return None
    if config.startswith("tp-"):
        import threadprof

        kwargs: dict[str, Any] = {"cpu": False}
        if config == "tp-legacy":
            kwargs["engine"] = "legacy"
        elif config == "tp-monitoring-py":
            kwargs["builtins"] = False
        elif config == "tp-timeline":
            kwargs["timeline"] = True
        prof = threadprof.Profile(**kwargs)
        prof.enable()
        return prof
    if config == "floor-legacy":
        import _tpfloor

        _tpfloor.install()
        return _tpfloor
    if config.startswith("floor-mon"):
        import _tpfloor

        mon = sys.monitoring
        tool = next(i for i in (3, 4, 1, 0, 5) if mon.get_tool(i) is None)
        mon.use_tool_id(tool, "ft-scaling-floor")
        mask = 0
        for name in MON_EVENTS_PY if config == "floor-mon-py" else MON_EVENTS:
            event = getattr(mon.events, name)
            mon.register_callback(tool, event, _tpfloor.mon_noop_vc)
            mask |= event
        mon.set_events(tool, mask)
        return tool
    if config == "viztracer":
        from viztracer import VizTracer

        tracer = VizTracer(verbose=0, tracer_entries=5_000_000, log_async=False)
        tracer.start()
        return tracer
    raise SystemExit(f"ft_scaling: unknown config {config!r}")


def stop_profiler(config: str, prof: Any) -> None:
    if prof is None:
        return
    if config.startswith("tp-"):
        prof.disable()
        prof.snapshot()  # the profile must be whole, not just recorded
    elif config == "floor-legacy":
        prof.uninstall()
    elif config.startswith("floor-mon"):
        sys.monitoring.set_events(prof, 0)
        sys.monitoring.free_tool_id(prof)
    else:
        prof.stop()
        prof.clear()


def worker(config: str, threads: int, calls: int, inner: int) -> dict[str, Any]:
    prof = start_profiler(config)
    ones = [timed_threads(1, calls) for _ in range(inner)]
    manys = [timed_threads(threads, calls) for _ in range(inner)]
    stop_profiler(config, prof)
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return {
        "one": min(w for w, _ in ones),
        "many": min(w for w, _ in manys),
        "one_cpu": min(c for _, c in ones),
        "many_cpu": min(c for _, c in manys),
        "gil": gil,
    }


def available(config: str) -> bool:
    try:
        if config.startswith("tp-"):
            import threadprof  # noqa: F401
        elif config.startswith("floor-"):
            import _tpfloor  # noqa: F401
        elif config == "viztracer":
            import viztracer  # noqa: F401
    except ImportError:
        return False
    return True


# -- the driver -------------------------------------------------------------------


def run_worker(config: str, threads: int, calls: int, inner: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            config,
            "--threads",
            str(threads),
            "--calls",
            str(calls),
            "--inner",
            str(inner),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"ft_scaling: {config} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--calls", type=int, default=400_000, help="Python calls per thread")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--inner", type=int, default=3, help="repeats inside a worker")
    ap.add_argument("--config", action="append", choices=CONFIGS)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--worker", metavar="CONFIG", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.threads, args.calls, args.inner)))
        return 0

    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    if not free_threaded:
        print("ft_scaling: note: this CPython has a GIL; threads cannot run in parallel")
    configs = [c for c in (args.config or CONFIGS) if available(c)]
    skipped = [c for c in (args.config or CONFIGS) if c not in configs]
    samples: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    for r in range(args.rounds):
        for c in configs:
            samples[c].append(run_worker(c, args.threads, args.calls, args.inner))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    # best of the rounds, as in bench/run.py: interference from the host only
    # ever adds time, so the fastest round is the one closest to the truth
    def best(c: str, key: str) -> float:
        return min(s[key] for s in samples[c])

    speedups = {c: args.threads * best(c, "one") / best(c, "many") for c in configs}
    # CPU time per thread together over alone: what sharing memory costs the
    # threads (a cache line bouncing between cores shows here; time the host
    # takes away does not, since a thread's CPU clock stops when it waits)
    cpu_factor = {c: best(c, "many_cpu") / best(c, "one_cpu") for c in configs}
    base = speedups.get("none", 0)
    rows = []
    for c in configs:
        sp = speedups[c]
        floor = speedups.get(FLOOR_OF.get(c, ""))
        rows.append(
            {
                "config": c,
                "one_thread_s": best(c, "one"),
                "speedup": sp,
                "kept": sp / base if base else None,
                "kept_of_floor": sp / floor if floor else None,
                "cpu_together": cpu_factor[c],
                "gil_enabled": any(s["gil"] for s in samples[c]),
            }
        )
    header = (
        f"{platform.python_implementation()} {platform.python_version()}"
        f"{' free-threaded' if free_threaded else ''}, {args.threads} threads, "
        f"{args.calls} calls each, {args.rounds} rounds, {time.strftime('%Y-%m-%d')}"
    )
    print(header)
    print(
        f"{'config':<17} {'1 thread (s)':>12} {'speed-up':>9} {'kept':>6} {'of floor':>8}"
        f" {'cpu together':>12}  GIL"
    )
    for row in rows:
        kept = f"{row['kept']:.2f}" if row["kept"] is not None else "-"
        of_floor = f"{row['kept_of_floor']:.2f}" if row["kept_of_floor"] is not None else "-"
        print(
            f"{row['config']:<17} {row['one_thread_s']:>12.3f} {row['speedup']:>9.2f} "
            f"{kept:>6} {of_floor:>8} {row['cpu_together']:>12.2f}"
            f"  {'on' if row['gil_enabled'] else 'off'}"
        )
    for c in skipped:
        print(f"{c:<17} skipped: not installed")
    if args.json:
        payload = {
            "python": sys.version,
            "free_threaded": free_threaded,
            "threads": args.threads,
            "calls": args.calls,
            "rounds": args.rounds,
            "machine": platform.machine(),
            "date": time.strftime("%Y-%m-%d"),
            "rows": rows,
            "skipped": skipped,
            "samples": samples,
        }
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(payload, f, indent=1)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
