# SPDX-License-Identifier: MIT
"""What a whole profiled run costs, as users run it, on programs no one here wrote.

    python bench/wholerun.py --python 3.12 --python 3.13 --rounds 5
    python bench/wholerun.py --quick          # 2 rounds, a few programs

The programs are pyperformance's benchmarks (the ``pyperformance`` wheel from
PyPI, pinned by :data:`PYPERFORMANCE`, unpacked under ``bench/.cache/``) that
need nothing but ``pyperf``: CPU-bound, I/O-bound, threaded and asyncio ones
(:data:`PROGRAMS`), each run once as a whole process in pyperf's worker mode
(``run_benchmark.py --worker --loops N --values 1 --warmups 0``), plus an
empty script, where a run is all startup and shutdown.

Each program runs under every configuration of :data:`CONFIGS`, a fresh
process each time, exactly as its users type it: nothing, the no-op floors
(a C hook that does nothing, installed by ``wholerun_floor.py``), ``python -m
cProfile -o``, ``threadprof run -o x.tprof`` (its report printed) and with
``--timeline``, yappi, VizTracer and pyinstrument through their own command
lines. The measure is the process's CPU time (user + system, from ``wait4``),
best of ``--rounds``; the rounds interleave every (program, config) in a
shuffled order so that a noisy machine hits each alike. The report gives, per
configuration, the median over the programs of its time over the unprofiled
run's and the worst program, and the empty script's times in milliseconds.

It uses the venvs of ``bench/run.py`` (``bench/.venvs/<X.Y>``, threadprof
built from the committed HEAD), adding pyperf, VizTracer and pyinstrument.
Results: markdown on stdout and in ``bench/results/<date>-wholerun.md``, raw
numbers beside it in ``.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import run as harness  # bench/run.py: interpreters and venvs

BENCH = harness.BENCH
CACHE = BENCH / ".cache"
PYPERFORMANCE = "1.14.0"
PIN = f"pyperformance=={PYPERFORMANCE}"
PEERS = ["pyperf", "viztracer", "pyinstrument"]

#: program -> (pyperformance benchmark, extra arguments, loops, what it is)
PROGRAMS: dict[str, tuple[str, list[str], int, str]] = {
    "empty": ("", [], 0, "an empty script: startup and shutdown only"),
    "richards": ("richards", [], 1, "CPU: an OS task scheduler simulation (classes, calls)"),
    "nbody": ("nbody", [], 1, "CPU: floating-point arithmetic in loops, few calls"),
    "chaos": ("chaos", [], 1, "CPU: chaos game fractal, many small method calls"),
    "go": ("go", [], 1, "CPU: a Go-playing program"),
    "hexiom": ("hexiom", [], 1, "CPU: a puzzle solver"),
    "raytrace": ("raytrace", [], 1, "CPU: a ray tracer, deep call chains"),
    "float": ("float", [], 1, "CPU: object allocation and float maths"),
    "spectral_norm": ("spectral_norm", [], 1, "CPU: generators and small functions"),
    "deltablue": ("deltablue", [], 4, "CPU: a constraint solver"),
    "nqueens": ("nqueens", [], 1, "CPU: generator expressions, permutations"),
    "generators": ("generators", [], 1, "CPU: a tree walked by generators"),
    "coroutines": ("coroutines", [], 1, "CPU: recursive coroutines"),
    "json_dumps": ("json_dumps", [], 2, "library: json encoding (mostly C)"),
    "regex_v8": ("regex_v8", [], 1, "library: regular expressions (mostly C)"),
    "logging": ("logging", [], 2, "library: the logging package"),
    "pathlib": ("pathlib", [], 1, "I/O: pathlib on a directory of files"),
    "deepcopy": ("deepcopy", [], 4, "library: copy.deepcopy"),
    "sqlite_synth": ("sqlite_synth", [], 1, "I/O: sqlite3 with Python functions"),
    "xml_etree": ("xml_etree", [], 1, "library: ElementTree parse, build, iterate"),
    "async_tree": ("async_tree", ["io"], 1, "asyncio: a tree of tasks awaiting sleeps"),
    "async_generators": ("async_generators", [], 1, "asyncio: async generators"),
    "concurrent_imap": (
        "concurrent_imap",
        [],
        2,
        "threads and processes: a multiprocessing Pool, then a ThreadPool, mapping a function",
    ),
}

#: config -> (label, command prefix; {py} the venv's python, {out} a scratch file)
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "python": ("python", ["{py}"]),
    "floor": ("floor (no-op hook)", ["{py}", "{bench}/wholerun_floor.py", "floor"]),
    "floor-mon": (
        "floor sys.monitoring",
        ["{py}", "{bench}/wholerun_floor.py", "floor-mon"],
    ),
    "cprofile": ("python -m cProfile -o", ["{py}", "-m", "cProfile", "-o", "{out}.prof"]),
    "tp": ("threadprof run", ["{py}", "-m", "threadprof", "run", "-o", "{out}.tprof"]),
    "tp-timeline": (
        "threadprof run --timeline",
        ["{py}", "-m", "threadprof", "run", "--timeline", "-o", "{out}.tprof"],
    ),
    "yappi": (
        "yappi (wall, builtins)",
        ["{py}", "-m", "yappi", "-c", "wall", "-b", "-o", "{out}.pstat", "-f", "pstat"],
    ),
    "viztracer": ("viztracer", ["{py}", "-m", "viztracer", "--quiet", "-o", "{out}.json"]),
    "pyinstrument": ("pyinstrument", ["{py}", "-m", "pyinstrument", "-o", "{out}.txt"]),
}
MONITORING_ONLY = ("floor-mon",)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def benchmarks_dir() -> Path:
    """pyperformance's benchmark programs, downloaded once."""
    root = CACHE / f"pyperformance-{PYPERFORMANCE}"
    marker = root / "pyperformance" / "data-files" / "benchmarks"
    if marker.is_dir():
        return marker
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, PIN],
            check=True,
        )
        (wheel,) = Path(tmp).glob("pyperformance-*.whl")
        with zipfile.ZipFile(wheel) as z:
            z.extractall(root)
    return marker


def program_argv(name: str, benchmarks: Path, scratch: Path) -> list[str]:
    bm, extra, loops, _ = PROGRAMS[name]
    if not bm:
        empty = scratch / "empty.py"
        empty.write_text("")
        return [str(empty)]
    script = benchmarks / f"bm_{bm}" / "run_benchmark.py"
    worker = ["--worker", "--loops", str(loops), "--values", "1", "--warmups", "0"]
    return [str(script), *worker, "-p", "1", *extra]


def command(config: str, interp: harness.Interp, argv: list[str], out: Path) -> list[str]:
    _, prefix = CONFIGS[config]
    fill = {"py": interp.python, "out": str(out), "bench": str(BENCH)}
    return [part.format(**fill) for part in prefix] + argv


def cpu_time(cmd: list[str], cwd: Path, timeout: float) -> float | None:
    """The process's CPU time in seconds (its children's too), or None if it
    failed or ran longer than ``timeout`` seconds (then its whole process
    group is killed: a profiler that deadlocks a pool is a failure)."""
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=null,
            stderr=null,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    kill()  # what the program left behind
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return None
    return usage.ru_utime + usage.ru_stime


def setup(interp: harness.Interp, args: argparse.Namespace) -> None:
    harness.setup_venv(interp, args)
    stamp = harness._stamp(interp, "wholerun-peers")
    if args.no_install or stamp.exists():
        return
    logfile = interp.venv.parent / f"install-{interp.short}.log"
    for peer in PEERS:
        if not harness._pip(interp, "-q", peer, logfile=logfile):
            log(f"[{interp.short}] {peer} did not install; see {logfile}")
    stamp.write_text("ok\n")


def available(interp: harness.Interp, config: str) -> bool:
    if config in MONITORING_ONLY and not interp.has_monitoring:
        return False
    module = {"yappi": "yappi", "viztracer": "viztracer", "pyinstrument": "pyinstrument"}
    if config in module:
        probe = subprocess.run([interp.python, "-c", f"import {module[config]}"])
        return probe.returncode == 0
    return True


def measure(args: argparse.Namespace) -> dict[str, Any]:
    benchmarks = benchmarks_dir()
    interps = []
    for request in args.python:
        base, version = harness.find_interpreter(request)
        venv = harness.VENVS / harness.short_version(version)
        interp = harness.Interp(request, base, version, venv)
        setup(interp, args)
        interps.append(interp)
    programs = args.programs.split(",")
    configs = args.configs.split(",")
    times: dict[str, dict[str, dict[str, list[float | None]]]] = {
        i.short: {p: {c: [] for c in configs} for p in programs} for i in interps
    }
    runnable = {i.short: [c for c in configs if available(i, c)] for i in interps}
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for r in range(args.rounds):
            cells = [(i, p, c) for i in interps for p in programs for c in runnable[i.short]]
            rnd.shuffle(cells)
            log(f"round {r + 1}/{args.rounds}: {len(cells)} runs")
            for interp, program, config in cells:
                argv = program_argv(program, benchmarks, scratch)
                cmd = command(config, interp, argv, scratch / f"out-{config}")
                t = cpu_time(cmd, scratch, args.timeout)
                if t is None:
                    log(f"  [{interp.short}] {program} under {config} failed: {' '.join(cmd)}")
                times[interp.short][program][config].append(t)
    return {
        "date": dt.date.today().isoformat(),
        "machine": harness.machine_info(),
        "pyperformance": PYPERFORMANCE,
        "rounds": args.rounds,
        "pythons": {i.short: i.version for i in interps},
        "programs": {p: PROGRAMS[p][3] for p in programs},
        "configs": {c: CONFIGS[c][0] for c in configs},
        "times": times,
    }


def best(values: list[float | None]) -> float | None:
    done = [v for v in values if v is not None]
    return min(done) if done else None


def render(data: dict[str, Any]) -> str:
    lines = [
        f"## Whole runs on real programs ({data['date']})",
        "",
        f"pyperformance {data['pyperformance']}'s programs as whole processes, best of "
        f"{data['rounds']} rounds of process CPU time; "
        f"{data['machine'].get('Model name', platform.machine())}, "
        f"{data['machine'].get('CPU(s)', '?')} CPUs, Linux {data['machine'].get('kernel')}.",
        "",
    ]
    configs = [c for c in data["configs"] if c != "python"]
    for short, per_program in data["times"].items():
        lines += [
            f"### Python {data['pythons'][short]}",
            "",
            "| configuration | median over programs | worst (program) | empty script | failed |",
            "|---|---|---|---|---|",
        ]
        empty = per_program.get("empty", {})
        base_empty = best(empty.get("python", []))
        empty_ms = f"{base_empty * 1000:.0f} ms" if base_empty else "-"
        lines.append(f"| python | 1.00 | 1.00 | {empty_ms} | |")
        for config in configs:
            ratios = []
            failed = [
                p
                for p, cells in per_program.items()
                if cells.get(config) and best(cells[config]) is None
            ]
            for program, cells in per_program.items():
                if program == "empty":
                    continue
                base, mine = best(cells.get("python", [])), best(cells.get(config, []))
                if base and mine:
                    ratios.append((mine / base, program))
            e = best(empty.get(config, []))
            empty_cell = f"{e * 1000:.0f} ms" if e else "-"
            label = data["configs"][config]
            if not ratios:
                lines.append(f"| {label} | - | - | {empty_cell} | {', '.join(failed)} |")
                continue
            median = statistics.median(r for r, _ in ratios)
            worst, program = max(ratios)
            lines.append(
                f"| {label} | {median:.2f} | {worst:.2f} ({program}) | {empty_cell} "
                f"| {', '.join(failed)} |"
            )
        lines += ["", *_pairs(per_program), ""]
    return "\n".join(lines)


#: (config, reference, what the issue asks of their ratio)
PAIRS = (
    ("tp-timeline", "tp", "threadprof run --timeline over threadprof run"),
    ("tp", "cprofile", "threadprof run over python -m cProfile -o"),
)


def _pairs(per_program: dict[str, dict[str, list[float | None]]]) -> list[str]:
    """A line per :data:`PAIRS`: the median and worst ratio of two configs' times."""
    out = []
    for config, reference, what in PAIRS:
        ratios = []
        for program, cells in per_program.items():
            mine, ref = best(cells.get(config, [])), best(cells.get(reference, []))
            if mine and ref:
                ratios.append((mine / ref, program))
        if ratios:
            median = statistics.median(r for r, _ in ratios)
            worst, program = max(ratios)
            out.append(
                f"- {what}: median {median:.2f}, worst {worst:.2f} ({program}), "
                f"over {len(ratios)} programs"
            )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--python", action="append", help="X.Y or a path (repeatable); default 3.12")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--programs", default=",".join(PROGRAMS))
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--quick", action="store_true", help="2 rounds of a few programs")
    p.add_argument("--no-install", action="store_true", help="use the venvs as they are")
    p.add_argument(
        "--threadprof-worktree",
        action="store_true",
        help="build threadprof from the work tree instead of the committed HEAD",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--timeout", type=float, default=120, help="seconds before a run counts as failed"
    )
    p.add_argument("--out", help="results path without extension")
    p.add_argument("--render", metavar="JSON", help="only print the report of an earlier run")
    args = p.parse_args(argv)
    args.python = args.python or ["3.12"]
    if args.quick:
        args.rounds = min(args.rounds, 2)
        args.programs = "empty,richards,json_dumps,async_tree,concurrent_imap"
    if "python" not in args.configs.split(","):
        args.configs = "python," + args.configs
    return args


def main() -> None:
    args = parse_args()
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return
    data = measure(args)
    text = render(data)
    out = Path(args.out) if args.out else harness.RESULTS / f"{data['date']}-wholerun"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    out.with_suffix(".md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
