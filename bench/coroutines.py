# SPDX-License-Identifier: MIT
"""What counting coroutine and generator calls whole costs.

    python bench/coroutines.py --python 3.12 --python 3.13 --rounds 7

Two workloads, each run in a fresh process per measurement (``--worker``):

* ``gather``: an ``asyncio.gather`` of 10,000 coroutines, each awaiting a
  coroutine that awaits ``asyncio.sleep(0)`` and computing between awaits;
* ``pipeline``: chained generators (``yield from``, filters, chunks).

under: nothing, cProfile, threadprof counting per resume (``coroutines=
"resume"``, cProfile's counting) and whole (``"whole"``, the default of
``threadprof run``), on each engine, and yappi (wall clock). Rounds interleave
the configurations in a shuffled order; each cell's figure is its lowest
process CPU time over the rounds (interference on a shared host only adds
time). The report gives each configuration's overhead (its time over the
unprofiled run's, less 1) and ``whole`` over ``resume``, the ratio of their
overheads. The venvs are bench/run.py's (``bench/.venvs/<X.Y>``).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as harness  # noqa: E402  bench/run.py: interpreters and venvs

CONFIGS = [
    "none",
    "cprofile",
    "tp-resume",
    "tp-whole",
    "tp-whole-notasks",
    "tp-resume-legacy",
    "tp-whole-legacy",
    "yappi-wall",
]
WORKLOADS = ["gather", "pipeline"]
COROUTINES = 10_000
AWAITS = 3


# -- the worker: one measurement in this process -----------------------------


def gather_workload() -> int:
    import asyncio

    async def leaf(k: int) -> int:
        await asyncio.sleep(0)
        return sum(range(k % 50))

    async def task(k: int) -> int:
        total = 0
        for i in range(AWAITS):
            total += await leaf(k + i)
        return total

    async def main() -> int:
        return sum(await asyncio.gather(*(task(k) for k in range(COROUTINES))))

    return asyncio.run(main())


def pipeline_workload() -> int:
    from workloads.generators import pipeline  # bench/workloads: the same pipeline

    return sum(pipeline(500) for _ in range(400))


def profiler(config: str):
    """(start, stop) of a configuration."""
    if config == "none":
        return (lambda: None), (lambda: None)
    if config == "cprofile":
        import cProfile

        p = cProfile.Profile()
        return p.enable, p.disable
    if config.startswith("tp-"):
        import threadprof

        _, counting, *rest = config.split("-")
        p = threadprof.Profile(
            coroutines=counting,
            engine="legacy" if "legacy" in rest else "auto",
            tasks="notasks" not in rest,
        )
        return p.enable, p.disable
    if config == "yappi-wall":
        import yappi

        yappi.set_clock_type("wall")
        return (lambda: yappi.start(builtins=True)), yappi.stop
    raise SystemExit(f"unknown config {config}")


def worker(config: str, workload: str) -> None:
    work = {"gather": gather_workload, "pipeline": pipeline_workload}[workload]
    start, stop = profiler(config)
    c0 = time.process_time()
    start()
    work()
    stop()
    print(json.dumps({"cpu": time.process_time() - c0}))


# -- the driver ------------------------------------------------------------------


def measure(python: str, config: str, workload: str) -> float | None:
    cmd = [python, str(Path(__file__).resolve()), "--worker", config, workload]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        harness.log(f"{config} {workload} failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["cpu"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", nargs=2, metavar=("CONFIG", "WORKLOAD"), help=argparse.SUPPRESS)
    p.add_argument("--python", action="append", help="X.Y or a path (repeatable); default 3.12")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--no-install", action="store_true", help="use the venvs as they are")
    p.add_argument("--threadprof-worktree", action="store_true", help="install the work tree")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="write the report here too")
    p.add_argument("--workload", action="append", choices=WORKLOADS, help="default: all")
    p.add_argument("--config", action="append", choices=CONFIGS, help="default: all")
    args = p.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    interps = harness.bench_interpreters(args.python or ["3.12"], args)
    rnd = random.Random(args.seed)
    times: dict[tuple[str, str, str], list[float]] = {}
    for r in range(args.rounds):
        cells = [
            (i, c, w)
            for i in interps
            for c in CONFIGS
            for w in WORKLOADS
            if (i.has_monitoring or not c.startswith("tp-") or c.endswith("legacy"))
            and w in (args.workload or WORKLOADS)
            and c in (args.config or CONFIGS)
        ]
        rnd.shuffle(cells)
        harness.log(f"round {r + 1}/{args.rounds}: {len(cells)} runs")
        for interp, config, workload in cells:
            t = measure(interp.python, config, workload)
            if t is not None:
                times.setdefault((interp.short, workload, config), []).append(t)
    lines = [
        f"# Coroutines counted whole: bench/coroutines.py, {time.strftime('%Y-%m-%d')}",
        "",
        f"{harness.machine_info().get('Model name', '')}, 2 cores shared; best of "
        f"{args.rounds} rounds of process CPU time; gather: {COROUTINES:,} coroutines "
        f"x {AWAITS} awaits",
        "",
        "| Python | workload | config | CPU s | overhead | whole / resume |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for interp in interps:
        for workload in WORKLOADS:
            base = min(times.get((interp.short, workload, "none"), [float("nan")]))
            over = {}
            for config in CONFIGS:
                got = times.get((interp.short, workload, config))
                if not got:
                    continue
                best = min(got)
                over[config] = best / base - 1
                ratio = ""
                if config.startswith("tp-whole"):
                    resume = over.get(config.replace("whole", "resume").replace("-notasks", ""))
                    if resume:
                        ratio = f"{over[config] / resume:.2f}"
                lines.append(
                    f"| {interp.short} | {workload} | {config} | {best:.3f} | "
                    f"{over[config]:+.0%} | {ratio} |"
                )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
