# SPDX-License-Identifier: MIT
"""What recording lock calls costs (the contention report's data).

    python bench/locks.py --python 3.12 --python 3.13 --rounds 7 --callgrind

Four single-thread workloads of lock calls, each run in a fresh process per
measurement (``--worker``):

* ``lock``: ``lock.acquire(); lock.release()`` on an uncontended
  ``threading.Lock``, 200,000 times;
* ``rlock``: the same on an ``RLock``;
* ``queue``: 20,000 ``put`` and ``get`` pairs on a ``queue.Queue`` (each
  takes the queue's lock through its conditions: several lock calls);
* ``simplequeue``: 100,000 ``put`` and ``get`` pairs on a
  ``queue.SimpleQueue`` (a ``ThreadPoolExecutor``'s queue: each is a lock
  call of its own).

under: nothing, cProfile, threadprof without lock calls recorded
(``locks=False``: stats mode) and with them (the default), on each engine, and
yappi (wall clock). Rounds interleave the configurations in a shuffled order;
each cell's figure is its lowest process CPU time over the rounds. The report
gives each configuration's cost per lock call over the unprofiled run, and
what recording costs per lock call: threadprof's default less ``locks=False``.

``--callgrind`` also counts instructions (valgrind's callgrind, noise-free):
each of the two threadprof configurations run at the workload's size and at
twice it, so that startup cancels out, per lock call. The venvs are
bench/run.py's (``bench/.venvs/<X.Y>``).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as harness  # noqa: E402  bench/run.py: interpreters and venvs

CONFIGS = [
    "none",
    "cprofile",
    "tp-nolocks",
    "tp-locks",
    "tp-nolocks-legacy",
    "tp-locks-legacy",
    "yappi-wall",
]
WORKLOADS = {"lock": 200_000, "rlock": 200_000, "queue": 20_000, "simplequeue": 100_000}


# -- the worker: one measurement in this process -----------------------------


def workload(name: str, n: int) -> None:
    import queue
    import threading

    if name in ("lock", "rlock"):
        lock = threading.Lock() if name == "lock" else threading.RLock()
        acquire, release = lock.acquire, lock.release
        for _ in range(n):
            acquire()
            release()
    elif name == "simplequeue":
        sq: queue.SimpleQueue[int] = queue.SimpleQueue()
        put, get = sq.put, sq.get
        for i in range(n):
            put(i)
            get()
    else:
        q: queue.Queue[int] = queue.Queue()
        for i in range(n):
            q.put(i)
            q.get()


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

        p = threadprof.Profile(
            engine="legacy" if config.endswith("legacy") else "auto",
            locks="nolocks" not in config,
        )
        return p.enable, p.disable
    if config == "yappi-wall":
        import yappi

        yappi.set_clock_type("wall")
        return (lambda: yappi.start(builtins=True)), yappi.stop
    raise SystemExit(f"unknown config {config}")


def worker(config: str, name: str, n: int) -> None:
    start, stop = profiler(config)
    workload(name, 1000)  # warm the code and the profiler's tree
    c0 = time.process_time()
    start()
    workload(name, n)
    stop()
    print(json.dumps({"cpu": time.process_time() - c0}))


def count(name: str, n: int) -> None:
    """The lock calls the workload makes, as threadprof records them."""
    import threadprof

    with threadprof.profile() as p:
        workload(name, n)
    calls = sum(len(t.lock_ops) for t in p.snapshot().threads)
    print(json.dumps({"lock_calls": calls}))


# -- the driver ------------------------------------------------------------------


def run_json(cmd: list[str]) -> dict | None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        harness.log(f"{' '.join(cmd[-3:])} failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(python: str, config: str, name: str) -> float | None:
    me = str(Path(__file__).resolve())
    got = run_json([python, me, "--worker", config, name, str(WORKLOADS[name])])
    return None if got is None else float(got["cpu"])


def lock_calls(python: str, name: str, n: int) -> int:
    got = run_json([python, str(Path(__file__).resolve()), "--count", name, str(n)])
    if got is None:
        raise SystemExit(f"cannot count the lock calls of {name}")
    return int(got["lock_calls"])


def instructions(python: str, config: str, name: str, n: int) -> int | None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            python,
            str(Path(__file__).resolve()),
            "--worker",
            config,
            name,
            str(n),
        ]
        if run_json(cmd) is None or not out.exists():
            return None
        for line in out.read_text().splitlines():
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--worker", nargs=3, metavar=("CONFIG", "WORKLOAD", "N"), help=argparse.SUPPRESS
    )
    p.add_argument("--count", nargs=2, metavar=("WORKLOAD", "N"), help=argparse.SUPPRESS)
    p.add_argument("--python", action="append", help="X.Y or a path (repeatable); default 3.12")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--callgrind", action="store_true", help="count instructions too")
    p.add_argument("--no-install", action="store_true", help="use the venvs as they are")
    p.add_argument("--threadprof-worktree", action="store_true", help="install the work tree")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="write the report here too")
    args = p.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return
    if args.count:
        count(args.count[0], int(args.count[1]))
        return
    interps = harness.bench_interpreters(args.python or ["3.12"], args)
    calls = {
        (i.short, w): lock_calls(i.python, w, n) for i in interps for w, n in WORKLOADS.items()
    }
    rnd = random.Random(args.seed)
    times: dict[tuple[str, str, str], list[float]] = {}
    for r in range(args.rounds):
        cells = [
            (i, c, w)
            for i in interps
            for c in CONFIGS
            for w in WORKLOADS
            if i.has_monitoring or not c.startswith("tp-") or c.endswith("legacy")
        ]
        rnd.shuffle(cells)
        harness.log(f"round {r + 1}/{args.rounds}: {len(cells)} runs")
        for interp, config, name in cells:
            t = measure(interp.python, config, name)
            if t is not None:
                times.setdefault((interp.short, name, config), []).append(t)
    lines = [
        f"# Lock calls recorded: bench/locks.py, {time.strftime('%Y-%m-%d')}",
        "",
        f"{harness.machine_info().get('Model name', '')}, 2 cores shared; best of "
        f"{args.rounds} rounds of process CPU time; ns per lock call over the "
        "unprofiled run; 'recording' is threadprof's default less locks=False",
        "",
        "| Python | workload | lock calls | config | CPU s | ns per lock call | recording |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for interp in interps:
        for name in WORKLOADS:
            n = calls[interp.short, name]
            base = min(times.get((interp.short, name, "none"), [float("nan")]))
            best = {
                c: min(v) for (py, w, c), v in times.items() if py == interp.short and w == name
            }
            for config in CONFIGS:
                if config not in best:
                    continue
                extra = ""
                if config.startswith("tp-locks"):
                    off = best.get(config.replace("locks", "nolocks"))
                    if off is not None:
                        extra = f"{(best[config] - off) / n * 1e9:+.0f} ns"
                lines.append(
                    f"| {interp.short} | {name} | {n:,} | {config} | {best[config]:.3f} | "
                    f"{(best[config] - base) / n * 1e9:.0f} | {extra} |"
                )
    if args.callgrind and shutil.which("valgrind"):
        lines += [
            "",
            "Instructions per lock call (callgrind; each run at the workload's size "
            "and at twice it, the difference over the calls it adds):",
            "",
            "| Python | workload | locks=False | locks=True | recording |",
            "| --- | --- | --- | --- | --- |",
        ]
        for interp in interps:
            if not interp.has_monitoring:
                continue
            for name, size in WORKLOADS.items():
                small = size // 20
                added = lock_calls(interp.python, name, 2 * small) - lock_calls(
                    interp.python, name, small
                )
                per = {}
                for config in ("tp-nolocks", "tp-locks"):
                    a = instructions(interp.python, config, name, small)
                    b = instructions(interp.python, config, name, 2 * small)
                    per[config] = None if a is None or b is None else (b - a) / added
                if None in per.values():
                    continue
                lines.append(
                    f"| {interp.short} | {name} | {per['tp-nolocks']:.0f} | {per['tp-locks']:.0f} "
                    f"| {per['tp-locks'] - per['tp-nolocks']:+.0f} |"
                )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
