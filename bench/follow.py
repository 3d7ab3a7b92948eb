# SPDX-License-Identifier: MIT
"""What following child processes costs (docs/processes.md): a program that
starts N Python processes -- a spawn pool, a forkserver pool, a fork pool,
N ``subprocess`` runs of ``python -c pass`` -- each doing almost nothing, run

* unprofiled (``python prog.py``),
* under ``threadprof run --no-follow`` (the program's process profiled alone),
* under ``threadprof run`` (every child followed and merged),

and the CPU time of the whole process tree measured (user + system of the
run and every descendant it waited for, from ``RUSAGE_CHILDREN``; a
forkserver is stopped and waited for in every configuration). The cost
of following a child is (followed - no-follow) / N: what the child's startup
(importing threadprof, starting the profiler, profiling its own start), its
end (writing its profile) and the merge in the program's process add. Rounds
are interleaved; the medians of each configuration are reported, and the
cost per child as the median of the rounds' own differences (each round's
runs are close in time, so a noisy machine moves both alike), with its
quartiles; ``vs plain`` is (followed - unprofiled) / N, which also charges
the program's own profiling to its children.

    python bench/follow.py --python .test-venvs/3.12.1/bin/python --children 8 --rounds 7
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

PROGRAM = """\
import multiprocessing, subprocess, sys

def noop(x):
    return x

if __name__ == "__main__":
    kind, n = sys.argv[1], int(sys.argv[2])
    if kind == "subprocess":
        for _ in range(n):
            subprocess.run([sys.executable, "-c", "pass"], check=True)
    else:
        with multiprocessing.get_context(kind).Pool(n) as pool:
            pool.map(noop, range(n), chunksize=1)
        if kind == "forkserver":
            # stopped and waited for, as `threadprof run` does at its end: else
            # the server outlives the run and its CPU time (and its
            # children's) is counted in no configuration but that one
            from multiprocessing import forkserver
            forkserver._forkserver._stop()
"""

KINDS = ("spawn", "forkserver", "fork", "subprocess")
CONFIGS = ("plain", "no-follow", "follow")


def command(python: str, config: str, prog: str, kind: str, n: int) -> list[str]:
    if config == "plain":
        return [python, prog, kind, str(n)]
    extra = ["--no-follow"] if config == "no-follow" else []
    return [python, "-m", "threadprof", "run", "-q", "-o", os.devnull, *extra, prog, kind, str(n)]


def tree_cpu(cmd: list[str], cwd: str) -> tuple[float, float]:
    """CPU seconds of the process tree ``cmd`` starts, and its wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter to measure, with threadprof installed (default: this one)",
    )
    parser.add_argument("--children", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--json", help="write the medians here too")
    args = parser.parse_args()
    # absolute (the runs are in a directory of their own), symlinks kept (a venv's)
    python = os.path.abspath(args.python) if os.sep in args.python else args.python
    kinds = args.kinds.split(",")
    n = args.children
    with tempfile.TemporaryDirectory() as work:
        prog = os.path.join(work, "prog.py")
        with open(prog, "w") as f:
            f.write(textwrap.dedent(PROGRAM))
        samples: dict[tuple[str, str], list[float]] = {(k, c): [] for k in kinds for c in CONFIGS}
        for _ in range(args.rounds):
            for kind in kinds:
                for config in CONFIGS:
                    cpu, _wall = tree_cpu(command(python, config, prog, kind, n), work)
                    samples[kind, config].append(cpu)
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"Python {version}, {n} children, {args.rounds} rounds, medians of the tree's CPU time")
    print(
        f"{'children':<11} {'plain':>9} {'no-follow':>10} {'follow':>9} {'per child':>10}"
        f" {'quartiles':>15} {'vs plain':>9}"
    )
    out = {}
    for kind in kinds:
        med = {c: statistics.median(samples[kind, c]) for c in CONFIGS}
        diffs = sorted(
            (f - nf) / n
            for f, nf in zip(samples[kind, "follow"], samples[kind, "no-follow"], strict=True)
        )
        per_child = statistics.median(diffs)
        q1, _, q3 = statistics.quantiles(diffs, n=4) if len(diffs) > 1 else (per_child,) * 3
        # the same against the unprofiled run: the program's own profiling included
        vs_plain = statistics.median(
            (f - p) / n
            for f, p in zip(samples[kind, "follow"], samples[kind, "plain"], strict=True)
        )
        out[kind] = {
            **med,
            "per_child": per_child,
            "per_child_quartiles": [q1, q3],
            "per_child_vs_plain": vs_plain,
        }
        print(
            f"{kind:<11} {med['plain'] * 1e3:7.1f}ms {med['no-follow'] * 1e3:8.1f}ms "
            f"{med['follow'] * 1e3:7.1f}ms {per_child * 1e3:8.1f}ms "
            f"{q1 * 1e3:6.1f}-{q3 * 1e3:5.1f}ms {vs_plain * 1e3:7.1f}ms"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": version, "children": n, "rounds": args.rounds, "medians": out}, f)


if __name__ == "__main__":
    main()
