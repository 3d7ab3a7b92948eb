# SPDX-License-Identifier: MIT
"""threadprof's overhead benchmark: time ratios to the unprofiled run.

    python bench/run.py --python 3.11 --python 3.12 --python 3.13 --repeat 7
    python bench/run.py --quick            # a smoke run: smaller, 3 rounds

For each interpreter it keeps a venv under ``bench/.venvs/<X.Y>/`` with
threadprof (built from the repository's committed HEAD), yappi and the floor
extension (``bench/floor``). Every measurement runs ``bench/worker.py`` in a
fresh subprocess. The configurations (profilers) and workloads of all the
interpreters are interleaved: each round runs every (interpreter, workload,
config) once, in a shuffled order, and the ratios are formed within a round,
so that the noise of a shared machine hits the profiled run and its baseline
alike. The report gives, per cell, the median over the rounds and the
interquartile range.

The event counts come from the floor's counting hook (the same events the
floor and threadprof receive), once per (interpreter, workload, scale), and
give ns per event = (t_profiled - t_unprofiled) / events.

The slow configurations (``tp-cpu`` and ``yappi-cpu``, which read the thread
CPU clock, a system call, on every event, and ``yappi-wall``) would take most
of the run at full scale. They run at ``--slow-scale`` of the work, against an
unprofiled baseline at the same scale, measured in the same rounds.

Both the wall-clock time and the process CPU time of the timed region are
recorded; the report leads with ``--metric`` (default ``cpu-best``: each
config's lowest process CPU time over the rounds over the unprofiled run's
lowest, since interference on a shared host only adds time; see
:data:`METRICS`) and gives the medians of the per-round ratios, in CPU and in
wall-clock time, too.

The report checks the overhead issue's targets (:data:`TARGETS`; for Python
3.12 and 3.13, with the figures for 3.11 too) per Python, workload and metric:
stats mode (``tp-wall-only``) below cProfile, at most 1.25 x the no-op floor of
its engine and at most 1/3 of yappi's wall-clock overhead; wall + CPU
(``tp-wall``) at most 1.3 x wall only; timeline mode (``tp-timeline``) at most
1.5 x stats mode and at most 16 bytes per timeline event (from
``Profile._memory()`` and the spill file's size, as the worker reports them).

callgrind (unless ``--quick``) runs every workload once per config of
:data:`CALLGRIND_CONFIGS` under valgrind, at a small scale, and gives
instructions per event and the same targets computed from them.

Results: a markdown report on stdout and in ``bench/results/<date>.md``, with
all raw numbers in ``bench/results/<date>.json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENVS = BENCH / ".venvs"
RESULTS = BENCH / "results"

sys.path.insert(0, str(BENCH))
from workloads import DESCRIPTIONS, WORKLOADS  # noqa: E402

sys.path.insert(0, str(REPO / "tools" / "pythons"))
from interpreters import discover, select  # noqa: E402

# config -> (label, description); the order is the report's column order
CONFIGS: dict[str, tuple[str, str]] = {
    "floor": ("floor", "no-op C Py_tracefunc in every thread (the legacy hook's floor)"),
    "floor-mon": (
        "floor sys.monitoring",
        "no-op C builtin function registered with sys.monitoring (3.12+)",
    ),
    "floor-mon-vc": (
        "floor sys.monitoring vectorcall",
        "a no-op object whose vectorcall slot does nothing, registered with sys.monitoring:"
        " the same dispatch threadprof's own callbacks get (3.12+)",
    ),
    "tp-wall": (
        "threadprof",
        "threadprof.Profile(): the defaults (wall clock + estimated thread CPU; engine auto:"
        " sys.monitoring on 3.12+, the legacy hook on 3.11)",
    ),
    "tp-legacy": (
        "threadprof legacy",
        'threadprof.Profile(engine="legacy"): the legacy hook in every thread (3.12+; on 3.11'
        " the default is this engine)",
    ),
    "tp-wall-only": ("threadprof cpu=False", "threadprof.Profile(cpu=False): wall clock only"),
    "tp-timeline": (
        "threadprof timeline",
        "threadprof.Profile(timeline=True): the defaults plus every call and return of every"
        " thread with its time (12-byte events; full chunks spill to an anonymous temporary"
        " file)",
    ),
    "tp-cpu": ("threadprof clock=cpu", 'threadprof.Profile(clock="cpu"): thread CPU clock'),
    "cprofile": ("cProfile", "cProfile.Profile() (one thread on 3.11; all, one stack, on 3.12+)"),
    "yappi-wall": ("yappi wall", "yappi, wall clock, builtins=True, profile_threads=True"),
    "yappi-cpu": ("yappi cpu", "yappi, cpu clock, builtins=True, profile_threads=True"),
}
# not in the default set: the floors plus one CLOCK_MONOTONIC read per event, to
# tell how much of a profiler's cost beyond the floor is its clock
EXTRA_CONFIGS: dict[str, tuple[str, str]] = {
    "floor-clock": (
        "floor + clock",
        "the floor's hook reading CLOCK_MONOTONIC once per event (not in the default set)",
    ),
    "floor-mon-clock": (
        "floor sys.monitoring + clock",
        "the sys.monitoring floor reading CLOCK_MONOTONIC once per event (3.12+; not in the"
        " default set)",
    ),
}
ALL_CONFIGS = {**CONFIGS, **EXTRA_CONFIGS}
THREADPROF_CONFIGS = ("tp-wall", "tp-legacy", "tp-wall-only", "tp-timeline", "tp-cpu")
SLOW_CONFIGS = ("tp-cpu", "yappi-wall", "yappi-cpu")
MONITORING_CONFIGS = ("floor-mon", "floor-mon-vc", "floor-mon-clock", "tp-legacy")


@dataclass(frozen=True)
class Target:
    """One check of the overhead issue: ``config``'s overhead (ratio - 1, or
    instructions per event) divided by ``ref``'s is at most ``limit`` (below it
    when ``strict``). ``ref`` FLOOR is the floor of the engine ``config`` used.
    ``limit`` None: a figure given for information, not a target."""

    key: str
    config: str
    ref: str
    limit: float | None
    limit_text: str
    title: str
    strict: bool = False


FLOOR = "<floor of the engine>"
TARGETS = (
    Target("vs-cprofile", "tp-wall-only", "cprofile", 1.0, "< 1", "stats < cProfile", True),
    Target("vs-floor", "tp-wall-only", FLOOR, 1.25, "≤ 1.25", "stats ≤ 1.25 x floor"),
    Target("vs-yappi", "tp-wall-only", "yappi-wall", 1 / 3, "≤ 1/3", "stats ≤ 1/3 yappi wall"),
    Target("cpu", "tp-wall", "tp-wall-only", 1.3, "≤ 1.3", "wall+CPU ≤ 1.3 x wall only"),
    Target("timeline", "tp-timeline", "tp-wall", 1.5, "≤ 1.5", "timeline ≤ 1.5 x stats"),
    Target("vs-floor-vc", "tp-wall-only", "floor-mon-vc", None, "", "stats / floor vectorcall"),
)
TARGET_PYTHONS = ("3.12", "3.13")  # 3.11 gets the figures, not the targets
TIMELINE_BYTES_LIMIT = 16.0  # bytes per timeline event, in memory and spilled
CALLGRIND_CONFIGS = (
    "none",
    "floor",
    "floor-mon",
    "floor-mon-vc",
    "tp-wall",
    "tp-wall-only",
    "tp-timeline",
    "tp-legacy",
    "cprofile",
    "yappi-wall",
)
CALLGRIND_SCALE = 0.01
# per-workload exceptions to CALLGRIND_SCALE. At 0.01, mixed and threaded are 13
# iterations of the mixed loop (about 30,000 events), where the first call of
# each function and the first event of each thread weigh under 2 % (at 4
# iterations they weighed up to 10 %)
CALLGRIND_SCALES: dict[str, float] = {}
# (threadprof config, the config its instructions are compared with function by
# function; FLOOR: the floor of its engine)
CALLGRIND_BREAKDOWN = (("tp-wall", FLOOR), ("tp-legacy", "floor"), ("tp-timeline", "tp-wall"))
VENV_TOOLS = ["setuptools", "wheel", "meson-python", "meson", "ninja"]
# peers, each optional: one that does not install is reported as unavailable
VENV_PEERS = ["yappi"]
WORKER_TIMEOUT = 600
# what the report keeps of a worker's output besides its times (the last round's)
INFO_KEYS = (
    "threads",
    "functions",
    "warnings",
    "engine",
    "memory_bytes",
    "timeline_events",
    "timeline_memory_events",
    "timeline_spilled_events",
    "timeline_spill_bytes",
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- interpreters and venvs ----------------------------------------------------------


@dataclass
class Interp:
    """One interpreter under test and its bench venv."""

    request: str
    base: str  # the interpreter the venv was made from
    version: str  # X.Y.Z
    venv: Path
    unavailable: dict[str, str] = field(default_factory=dict)  # config -> why
    engines: dict[str, str] = field(default_factory=dict)  # threadprof config -> engine used

    @property
    def short(self) -> str:
        return short_version(self.version)

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def has_monitoring(self) -> bool:
        return tuple(int(x) for x in self.version.split(".")[:2]) >= (3, 12)


def short_version(version: str) -> str:
    """X.Y of an X.Y.Z version, or X.Yt of a free-threaded X.Y.Zt."""
    free_threaded = "t" if version.endswith("t") else ""
    return ".".join(version.split(".")[:2]) + free_threaded


def bench_interpreters(requests: list[str], args: argparse.Namespace) -> list[Interp]:
    """The interpreters of ``--python`` requests, each with its bench venv
    made or refreshed (:func:`setup_venv`)."""
    interps = []
    for request in requests:
        base, version = find_interpreter(request)
        interp = Interp(request, base, version, VENVS / short_version(version))
        setup_venv(interp, args)
        interps.append(interp)
    return interps


def find_interpreter(request: str) -> tuple[str, str]:
    """Turn ``3.12``, ``3.13t`` (or a path) into (executable, X.Y.Z[t]): the
    interpreter that tools/run_tests.py would test for that request."""
    chosen, _ = discover()
    local = [i for i in chosen if i.chroot is None]  # a chroot's run inside it
    try:
        (interp, *_) = select(local, [request])
    except SystemExit as exc:
        raise SystemExit(f"no interpreter found for --python {request}: {exc}") from None
    return interp.executable, interp.vstr


def _pip(interp: Interp, *args: str, logfile: Path) -> bool:
    cmd = [interp.python, "-m", "pip", "--disable-pip-version-check", "install", *args]
    with logfile.open("a") as f:
        f.write(f"\n$ {' '.join(cmd)}\n")
        f.flush()
        # the venv's tools (meson, ninja) first on PATH: builds without
        # isolation look them up there, also where the venv is not activated
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(interp.venv / "bin"), env.get("PATH", "")])
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    return proc.returncode == 0


def _stamp(interp: Interp, name: str) -> Path:
    return interp.venv / f".bench-{name}"


def _tree_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def setup_venv(interp: Interp, args: argparse.Namespace) -> None:
    """Create or refresh the venv: tools + yappi, the floor, threadprof."""
    logfile = interp.venv.parent / f"install-{interp.short}.log"
    if not (interp.venv / "bin" / "python").exists():
        log(f"[{interp.short}] creating {interp.venv}")
        interp.venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([interp.base, "-m", "venv", str(interp.venv)], check=True)
    if args.no_install:
        return
    tools = _stamp(interp, "tools")
    if not tools.exists():
        log(f"[{interp.short}] installing {' '.join(VENV_TOOLS)}")
        if not _pip(interp, "-q", *VENV_TOOLS, logfile=logfile):
            raise SystemExit(f"pip install failed; see {logfile}")
        for peer in VENV_PEERS:
            if not _pip(interp, "-q", peer, logfile=logfile):
                log(f"[{interp.short}] {peer} did not install; see {logfile}")
        tools.write_text("ok\n")

    # the floor extension, built from a copy so that bench/floor stays clean
    floor_files = [p for p in (BENCH / "floor").iterdir() if p.is_file()]
    key = _tree_hash(floor_files)
    stamp = _stamp(interp, "floor")
    if not stamp.exists() or stamp.read_text().strip() != key:
        log(f"[{interp.short}] building the floor extension")
        with tempfile.TemporaryDirectory() as tmp:
            for p in floor_files:
                shutil.copy2(p, tmp)
            ok = _pip(
                interp, "-q", "--no-build-isolation", "--force-reinstall", tmp, logfile=logfile
            )
        if not ok:
            raise SystemExit(f"building bench/floor failed; see {logfile}")
        stamp.write_text(key + "\n")

    # threadprof: the committed HEAD of the repository (or its work tree)
    stamp = _stamp(interp, "threadprof")
    if args.threadprof_worktree:
        key = "worktree-" + str(time.time())
    else:
        # the last commit that touched threadprof itself (not bench/ or docs/)
        key = git("log", "-1", "--format=%H", "--", ".", ":(exclude)bench", ":(exclude)docs")
    if not stamp.exists() or stamp.read_text().strip() != key:
        log(f"[{interp.short}] building threadprof ({key[:12]})")
        with tempfile.TemporaryDirectory() as tmp:
            if args.threadprof_worktree:
                src = str(REPO)
            else:
                archive = subprocess.run(
                    ["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"],
                    capture_output=True,
                    check=True,
                ).stdout
                subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
                src = tmp
                # git keeps no empty folders; the build names include/ even while empty
                if not (Path(tmp) / "include").exists():
                    log(f"[{interp.short}] HEAD has no include/ folder; creating it empty")
                    (Path(tmp) / "include").mkdir()
            ok = _pip(
                interp, "-q", "--no-build-isolation", "--force-reinstall", src, logfile=logfile
            )
        if ok:
            stamp.write_text(key + "\n")
        else:
            stamp.unlink(missing_ok=True)
            subprocess.run(
                [interp.python, "-m", "pip", "uninstall", "-q", "-y", "threadprof"],
                capture_output=True,
            )
            log(f"[{interp.short}] threadprof did not build; see {logfile}")


def check_configs(interp: Interp, configs: list[str]) -> None:
    """A tiny run of each config, so that a broken one is reported, not fatal."""
    for config in configs:
        if config in MONITORING_CONFIGS and not interp.has_monitoring:
            interp.unavailable[config] = (
                "the same as threadprof on 3.11"
                if config == "tp-legacy"
                else "no sys.monitoring before 3.12"
            )
            continue
        res = run_worker(interp, config, "threaded", 0.02, warmup=0.0)
        if "error" in res:
            interp.unavailable[config] = res["error"]
            log(f"[{interp.short}] {config} unavailable: {res['error']}")
        elif res.get("engine"):
            interp.engines[config] = res["engine"]


# -- running the worker -----------------------------------------------------------------


def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    return env


def run_worker(
    interp: Interp,
    config: str,
    workload: str,
    scale: float,
    *,
    warmup: float = 0.05,
    prefix: list[str] | None = None,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    cmd = [*(prefix or []), interp.python, str(BENCH / "worker.py"), config, workload]
    cmd += ["--scale", repr(scale), "--warmup", repr(warmup), *(extra or [])]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=worker_env(), timeout=WORKER_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- machine facts ------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"kernel": platform.release(), "arch": platform.machine()}
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
                info[key.strip()] = value.strip()
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    with contextlib.suppress(OSError):
        info["clocksource"] = (
            Path("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .read_text()
            .strip()
        )
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["gcc"] = subprocess.run(
            ["gcc", "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
    return info


def cpu_snapshot() -> dict[str, float]:
    """The machine's busy CPU seconds so far, and this process's children's."""
    import resource

    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "busy": (user + nice + system + irq + softirq) / ticks,
        "steal": steal / ticks,
        "children": usage.ru_utime + usage.ru_stime,
        "time": time.monotonic(),
        "loadavg": float(Path("/proc/loadavg").read_text().split()[0]),
    }


def load_report(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """How busy the machine was with other work while the rounds ran."""
    elapsed = after["time"] - before["time"]
    ours = after["children"] - before["children"]
    busy = after["busy"] - before["busy"]
    return {
        "elapsed_seconds": elapsed,
        "our_cpu_seconds": ours,
        "other_cpu_seconds": max(0.0, busy - ours),
        "steal_seconds": after["steal"] - before["steal"],
        "loadavg_before": before["loadavg"],
        "loadavg_after": after["loadavg"],
    }


def clock_costs() -> dict[str, Any]:
    """Compile bench/clocks/clocks.c and run it."""
    exe = VENVS / "clocks"
    VENVS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "gcc",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
            str(exe),
            str(BENCH / "clocks" / "clocks.c"),
        ],
        check=True,
    )
    return json.loads(
        subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    )


# -- statistics -------------------------------------------------------------------------


def summarize(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {
        "median": statistics.median(values),
        "q1": q1,
        "q3": q3,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def total_events(counts: dict[str, int]) -> int:
    return sum(counts.values())


# -- callgrind --------------------------------------------------------------------------


def floor_of(engines: dict[str, str], config: str) -> str:
    """The floor of the engine that a threadprof config used."""
    return "floor-mon" if engines.get(config) == "monitoring" else "floor"


def callgrind_scale(workload: str) -> float:
    return CALLGRIND_SCALES.get(workload, CALLGRIND_SCALE)


def callgrind(
    interps: list[Interp], configs: list[str], workloads: list[str], outdir: Path, jobs: int
) -> dict[str, Any]:
    """Instructions per event from callgrind, on small runs of every workload.

    Only the workload's run is collected: the main thread inside
    ``_tpfloor.collect`` and every other thread inside CPython's ``thread_run``
    (its whole life; the warm-up's threads are collected too, alike with and
    without a profiler, so they cancel out). The runs are independent and
    deterministic, so ``jobs`` of them run at once."""
    if not shutil.which("valgrind"):
        return {"error": "valgrind not found"}
    results: dict[str, Any] = {
        "scale": CALLGRIND_SCALE,
        "scales": {w: callgrind_scale(w) for w in workloads},
        "by_python": {},
    }
    outdir.mkdir(parents=True, exist_ok=True)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    tasks: list[tuple[Interp, str, str, Path]] = []
    for interp in interps:
        per: dict[str, Any] = results["by_python"].setdefault(interp.short, {})
        for workload in workloads:
            counts = run_worker(interp, "count", workload, callgrind_scale(workload))
            if "error" in counts:
                per[workload] = {"error": counts["error"]}
                continue
            row: dict[str, Any] = {
                "scale": callgrind_scale(workload),
                "events": total_events(counts["events"]),
                "instructions": {},
                "per_event": {},
            }
            per[workload] = rows[interp.short, workload] = row
            for config in CALLGRIND_CONFIGS:
                if config in interp.unavailable or (config != "none" and config not in configs):
                    continue
                out = outdir / f"callgrind.{interp.short}.{workload}.{config}.out"
                out.unlink(missing_ok=True)
                tasks.append((interp, workload, config, out))

    def one(task: tuple[Interp, str, str, Path]) -> tuple[dict[str, Any], float]:
        interp, workload, config, out = task
        prefix = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--collect-atstart=no",
            "--toggle-collect=tpfloor_collect_region",
            "--toggle-collect=thread_run",
        ]
        t0 = time.monotonic()
        scale = callgrind_scale(workload)
        res = run_worker(
            interp, config, workload, scale, warmup=scale, prefix=prefix, extra=["--collect"]
        )
        return res, time.monotonic() - t0

    # the breakdown needs the self instructions of these configs only
    wanted = {c for pair in CALLGRIND_BREAKDOWN for c in pair} | {"floor", "floor-mon"}
    t_start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, task): task for task in tasks}
        for done, fut in enumerate(concurrent.futures.as_completed(futures), 1):
            interp, workload, config, out = futures[fut]
            res, seconds = fut.result()
            row = rows[interp.short, workload]
            log(
                f"[callgrind {interp.short}] {workload} {config}: {seconds:.0f} s"
                f" ({done}/{len(tasks)}, {(time.monotonic() - t_start) / 60:.1f} min)"
            )
            total = None
            if "error" not in res and out.exists():
                for line in out.read_text().splitlines():
                    if line.startswith(("totals:", "summary:")):
                        total = int(line.split()[1])
            row["instructions"][config] = total
            if total is None:
                row.setdefault("errors", {})[config] = res.get("error", "no callgrind output")
                continue
            if res.get("engine"):
                row.setdefault("engines", {})[config] = res["engine"]
            if config in wanted:
                row.setdefault("self", {})[config] = callgrind_self(out)

    for (_py, _workload), row in rows.items():
        events = row["events"]
        base = row["instructions"].get("none")
        for config, total in row["instructions"].items():
            if config != "none" and base and total:
                row["per_event"][config] = (total - base) / events
        # where a threadprof config's instructions beyond its reference's go, per event
        selfs = row.pop("self", {})
        for tp_config, ref in CALLGRIND_BREAKDOWN:
            if ref == FLOOR:
                ref = floor_of(row.get("engines", {}), tp_config)
            if tp_config not in selfs or ref not in selfs:
                continue
            tp, fl = selfs[tp_config], selfs[ref]
            delta = {fn: (tp.get(fn, 0) - fl.get(fn, 0)) / events for fn in set(tp) | set(fl)}
            row.setdefault("minus", {})[tp_config] = {
                "ref": ref,
                "top": sorted(
                    ((round(v, 1), fn) for fn, v in delta.items() if abs(v) >= 1.0),
                    reverse=True,
                )[:12],
            }
    return results


def callgrind_self(out: Path) -> dict[str, int]:
    """Self instructions per function (summed over its inlined pieces) of one output."""
    if not shutil.which("callgrind_annotate"):
        return {}
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out)], capture_output=True, text=True
    ).stdout
    selfs: dict[str, int] = {}
    pattern = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*?):(\S+)(?:\s+\[(.*)\])?\s*$")
    for line in text.splitlines():
        m = pattern.match(line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        func = m.group(3).split("'")[0]  # _PyEval_EvalFrameDefault'2 -> one function
        func = re.sub(r"\.(part|isra|constprop|cold)\.\d+", "", func)
        selfs[func] = selfs.get(func, 0) + int(m.group(1).replace(",", ""))
    return selfs


# -- the report -------------------------------------------------------------------------


def fmt_ratio(s: dict[str, float] | None) -> str:
    if not s:
        return "n/a"
    if s["n"] == 1:
        return f"{s['median']:.2f}"
    return f"{s['median']:.2f} ({s['q1']:.2f}-{s['q3']:.2f})"


def fmt_ns(s: dict[str, float] | None) -> str:
    if not s:
        return "n/a"
    return f"{s['median']:.0f}"


# metric -> (the recorded series, how rounds are combined): "median" is the median
# of the per-round ratios; "best" is the ratio of each config's best (lowest) time
# over the rounds to the unprofiled run's best. On a shared host, interference
# only ever adds time, and it comes in bursts that can slow a whole process by half
# (bench/README.md); the best of N estimates each config's undisturbed cost.
METRICS = {
    "cpu-best": ("cpu_times", "best"),
    "cpu": ("cpu_times", "median"),
    "wall": ("times", "median"),
}
METRIC_NAMES = {
    "cpu-best": "process CPU time, best of the rounds",
    "cpu": "process CPU time, median of the per-round ratios",
    "wall": "wall-clock time, median of the per-round ratios",
}


def metric_order(primary: str) -> list[str]:
    """The metrics in report order: the primary one first."""
    return [primary] + [m for m in METRICS if m != primary]


def best_of(base: list[float | None], times: list[float | None]) -> tuple[float, float] | None:
    """(best time, best unprofiled time) over the rounds, or None."""
    b = [x for x in base if x is not None]
    t = [x for x in times if x is not None]
    return (min(t), min(b)) if b and t else None


def check(target: Target, engines: dict[str, str], value: Any, *, applies: bool) -> dict[str, Any]:
    """One verdict: ``value(config)`` is a config's overhead (or None)."""
    ref = floor_of(engines, target.config) if target.ref == FLOOR else target.ref
    v: dict[str, Any] = {"target": target.key, "config": target.config, "ref": ref}
    if target.limit is not None:
        v["limit"] = target.limit
        v["applies"] = applies
    over, ref_over = value(target.config), value(ref)
    if over is None or ref_over is None:
        v["met"] = None
        v["why"] = f"{target.config if over is None else ref} not measured"
        return v
    v.update(overhead=over, ref_overhead=ref_over)
    if ref_over <= 0:
        v["met"] = None
        v["why"] = f"{ref}'s overhead is {ref_over:.3g}, not > 0"
        return v
    v["factor"] = factor = over / ref_over
    if target.limit is not None:
        v["met"] = factor < target.limit if target.strict else factor <= target.limit
    return v


def timeline_memory(per: dict[str, Any], workload: str) -> dict[str, Any] | None:
    """Bytes per timeline event, from the last round's tp-timeline (and tp-wall) run.

    ``Profile._memory()`` counts the core's memory for the call trees, the
    function table, the per-thread state and the timeline chunks in memory (at
    their capacity); tp-wall's, in the same workload, is the same less the
    timeline. The spilled chunks are the spill file's size (``fstat`` of
    ``Profile._timeline_fd``, a 16-byte header per chunk included)."""
    info = per["workloads"][workload].get("info", {})
    tl, stats = info.get("tp-timeline"), info.get("tp-wall")
    if not tl or not tl.get("timeline_events"):
        return None
    events = tl["timeline_events"]
    spill = tl.get("timeline_spill_bytes", 0)
    out: dict[str, Any] = {
        "events": events,
        "memory_events": tl.get("timeline_memory_events"),
        "spilled_events": tl.get("timeline_spilled_events"),
        "core_bytes": tl["memory_bytes"],
        "spill_bytes": spill,
        "upper_bound": (tl["memory_bytes"] + spill) / events,
    }
    if stats and "memory_bytes" in stats:
        out["stats_core_bytes"] = stats["memory_bytes"]
        out["memory_bytes"] = tl["memory_bytes"] - stats["memory_bytes"]
        out["bytes_per_event"] = (out["memory_bytes"] + spill) / events
    else:  # no tp-wall run to subtract: the call trees count too
        out["bytes_per_event"] = out["upper_bound"]
    out["met"] = out["bytes_per_event"] <= TIMELINE_BYTES_LIMIT
    return out


def time_overhead(
    data: dict[str, Any], per: dict[str, Any], wl: dict[str, Any], metric: str, config: str
) -> float | None:
    """A config's overhead in one workload: its median ratio - 1."""
    if config not in data["configs"] or config in per["unavailable"]:
        return None
    r = wl["stats"].get(config, {}).get(metric, {}).get("ratio")
    return r["median"] - 1 if r else None


def analyse(data: dict[str, Any]) -> None:
    """Add ratios, ns/event and the target verdicts to ``data`` in place, for both
    metrics (process CPU time and wall-clock time)."""
    for py, per in data["by_python"].items():
        for wl in per["workloads"].values():
            wl["stats"] = {}
            wl["base_seconds"] = {}
            for metric, (field_, how) in METRICS.items():
                series = wl.get(field_, {})
                for config in data["configs"]:
                    scale = data["slow_scale"] if config in SLOW_CONFIGS else data["scale"]
                    base_times = series.get(f"none@{scale}", [])
                    times = series.get(f"{config}@{scale}", [])
                    events = wl["events"].get(str(scale))
                    ratios, nsev = [], []
                    pairs = list(zip(base_times, times, strict=False))
                    if how == "best":
                        best = best_of(base_times, times)
                        pairs = [best[::-1]] if best else []
                    for b, t in pairs:
                        if b is None or t is None:
                            continue
                        ratios.append(t / b)
                        if events:
                            nsev.append((t - b) / events * 1e9)
                    wl["stats"].setdefault(config, {"scale": scale})[metric] = {
                        "ratio": summarize(ratios),
                        "ns_per_event": summarize(nsev),
                    }
                base = [t for t in series.get(f"none@{data['scale']}", []) if t is not None]
                if how == "best" and base:
                    base = [min(base)]
                wl["base_seconds"][metric] = summarize(base)
        engines = per.get("engines", {})
        applies = py in TARGET_PYTHONS
        per["targets"] = {}
        for metric in METRICS:
            by_workload: dict[str, list[dict[str, Any]]] = {}
            for workload, wl in per["workloads"].items():
                overhead = functools.partial(time_overhead, data, per, wl, metric)
                by_workload[workload] = [
                    check(t, engines, overhead, applies=applies) for t in TARGETS
                ]
            per["targets"][metric] = by_workload
        per["timeline_memory"] = {
            w: m for w in per["workloads"] if (m := timeline_memory(per, w)) is not None
        }
        for m in per["timeline_memory"].values():
            m["applies"] = applies
    cg = data.get("callgrind")
    if cg and "by_python" in cg:
        for py, cg_per in cg["by_python"].items():
            for row in cg_per.values():
                if "error" in row:
                    continue
                engines = row.get("engines", {})
                row["targets"] = [
                    check(t, engines, row["per_event"].get, applies=py in TARGET_PYTHONS)
                    for t in TARGETS
                ]


def label(config: str) -> str:
    return ALL_CONFIGS[config][0] if config in ALL_CONFIGS else config


def verdict_word(v: dict[str, Any], short: bool = False) -> str:
    if "limit" not in v:
        return "" if short else "(information, not a target)"
    if not v["applies"]:
        return "no target" if short else "(no target on this Python)"
    if short:
        return "met" if v["met"] else "**NOT met**"
    return "→ **met**" if v["met"] else "→ **NOT met**"


def target_cell(v: dict[str, Any]) -> str:
    if v.get("met") is None and "factor" not in v:
        return "n/a"
    return f"{v['factor']:.2f} {verdict_word(v, short=True)}".strip()


def target_line(v: dict[str, Any], target: Target, workload: str, fmt: str = ".2f") -> str:
    name = f"{v['config']} vs {v['ref']}, {workload}"
    if "factor" not in v:
        return f"- {name}: not measurable ({v['why']})"
    limit = f" {target.limit_text}" if target.limit is not None else ""
    return (
        f"- {name}: {v['overhead']:{fmt}} vs {v['ref_overhead']:{fmt}} ="
        f" {v['factor']:.2f} x{limit} {verdict_word(v)}"
    )


def render_targets(data: dict[str, Any], per: dict[str, Any], w: Any) -> None:
    """The overhead issue's targets for one Python: a summary table per metric,
    then every verdict with its numbers."""
    applies = per["version"].rsplit(".", 1)[0] in TARGET_PYTHONS
    order = metric_order(data["metric"])
    w("### Targets\n")
    w(
        "The overhead issue's targets (for Python "
        + " and ".join(TARGET_PYTHONS)
        + ("" if applies else "; this Python gets the figures, no targets")
        + "). The factor is one overhead (ratio - 1, by the metric of the table) divided by"
        " another:\n"
    )
    for t in TARGETS:
        what = {
            "vs-cprofile": "stats mode, wall clock only (`tp-wall-only`), lower than cProfile",
            "vs-floor": "the same, at most 1.25 x the no-op floor of the engine it uses"
            " (`floor-mon` for sys.monitoring, else `floor`)",
            "vs-yappi": "the same, at most 1/3 of yappi's wall-clock overhead (yappi runs at"
            f" scale {data['slow_scale']}, against its own baseline at that scale)",
            "cpu": "wall and CPU time together (`tp-wall`, the default) at most 1.3 x the"
            " wall-only overhead",
            "timeline": "timeline mode (`tp-timeline`) at most 1.5 x stats mode (`tp-wall`)",
            "vs-floor-vc": "for information: `tp-wall-only` against the no-op vectorcall"
            " object registered with sys.monitoring (`floor-mon-vc`), the dispatch"
            " threadprof's callbacks get",
        }[t.key]
        limit = f" ({t.limit_text})" if t.limit is not None else ""
        w(f"- **{t.title}**{limit}: {what}")
    w(
        f"- **timeline bytes/event** (≤ {TIMELINE_BYTES_LIMIT:g}): memory held for the"
        " timeline, in memory and spilled, per timeline event (see below)\n"
    )
    tl_mem = per.get("timeline_memory", {})
    for metric in order:
        w(f"Summary, {METRIC_NAMES[metric]} (factor and verdict):\n")
        titles = [t.title for t in TARGETS] + ["timeline bytes/event"]
        w("| workload | " + " | ".join(titles) + " |")
        w("|---" * (1 + len(titles)) + "|")
        for workload, verdicts in per["targets"][metric].items():
            cells = [target_cell(v) for v in verdicts]
            m = tl_mem.get(workload)
            if m:
                word = verdict_word({"limit": 1, "applies": applies, "met": m["met"]}, True)
                cells.append(f"{m['bytes_per_event']:.2f} {word}")
            else:
                cells.append("n/a")
            w(f"| {workload} | " + " | ".join(cells) + " |")
        w("")
    for metric in order:
        w(f"Verdicts, {METRIC_NAMES[metric]} (overhead vs overhead = factor):\n")
        for t_index, t in enumerate(TARGETS):
            for workload, verdicts in per["targets"][metric].items():
                w(target_line(verdicts[t_index], t, workload))
        w("")
    if tl_mem:
        w(
            "Timeline memory (the last round's `tp-timeline` run): *in memory* is"
            " `Profile._memory()` of that run less `_memory()` of the same round's `tp-wall`"
            " run (the call trees, function table and thread state, the same in both), i.e."
            " the timeline's chunks at their capacity and its spill index; *spilled* is the"
            " size of the spill file (`fstat` of `Profile._timeline_fd`, a 16-byte header per"
            " chunk of up to 16,384 events included); bytes/event = (in memory + spilled) /"
            " the snapshot's timeline events. *Upper bound* counts all of `_memory()`.\n"
        )
        w(
            "| workload | timeline events | of which in memory | spilled | in memory bytes"
            " | spilled bytes | bytes/event | upper bound | target |"
        )
        w("|---" * 9 + "|")
        for workload, m in tl_mem.items():
            word = verdict_word({"limit": 1, "applies": applies, "met": m["met"]}, True)
            in_mem = m.get("memory_bytes")
            w(
                f"| {workload} | {m['events']:,} | {m['memory_events'] or 0:,} |"
                f" {m['spilled_events'] or 0:,} |"
                f" {f'{in_mem:,}' if in_mem is not None else 'n/a (no tp-wall run)'} |"
                f" {m['spill_bytes']:,} | {m['bytes_per_event']:.2f} |"
                f" {m['upper_bound']:.2f} | ≤ {TIMELINE_BYTES_LIMIT:g}: {word} |"
            )
        w("")


def render_callgrind(data: dict[str, Any], cg: dict[str, Any], w: Any) -> None:
    w("## callgrind: instructions per event\n")
    scales = ", ".join(f"{wl} {sc}" for wl, sc in cg.get("scales", {}).items())
    w(
        "(instructions of the profiled run - the unprofiled run) / events, at scale"
        f" {scales}; only the workload's run is collected (the main thread inside the"
        " floor's `collect()`, other threads inside CPython's `thread_run`), with a switch"
        " interval of 1000 s so that threads change hands only when they block.\n"
    )
    cfgs = [cfg for cfg in CALLGRIND_CONFIGS if cfg != "none" and cfg in data["configs"]]
    w("| python | workload | events | " + " | ".join(label(cfg) for cfg in cfgs) + " |")
    w("|---" * (3 + len(cfgs)) + "|")
    for py, per in cg["by_python"].items():
        for workload, row in per.items():
            if "error" in row:
                w(f"| {py} | {workload} | error: {row['error']} |" + " |" * len(cfgs))
                continue
            cells = []
            for cfg in cfgs:
                v = row["per_event"].get(cfg)
                cells.append(f"{v:.0f}" if v is not None else "n/a")
            w(f"| {py} | {workload} | {row['events']:,} | " + " | ".join(cells) + " |")
    w("")
    w(
        "The same targets from instructions per event (a config's instructions per event"
        " / its reference's; cell: numerator / denominator = factor, verdict):\n"
    )
    titles = [t.title for t in TARGETS]
    w("| python | workload | " + " | ".join(titles) + " |")
    w("|---" * (2 + len(titles)) + "|")
    for py, per in cg["by_python"].items():
        for workload, row in per.items():
            if "targets" not in row:
                continue
            cells = []
            for v in row["targets"]:
                if "factor" not in v:
                    cells.append("n/a")
                    continue
                ref = "" if v["ref"] == "floor-mon-vc" else f" ({v['ref']})"
                cells.append(
                    f"{v['overhead']:.0f} / {v['ref_overhead']:.0f}{ref} = {v['factor']:.2f}"
                    f" {verdict_word(v, short=True)}".rstrip()
                )
            w(f"| {py} | {workload} | " + " | ".join(cells) + " |")
    w("")
    for py, per in cg["by_python"].items():
        for tp_config, _ in CALLGRIND_BREAKDOWN:
            diffs = {
                workload: row["minus"][tp_config]
                for workload, row in per.items()
                if tp_config in row.get("minus", {})
            }
            if not diffs:
                continue
            refs = sorted({d["ref"] for d in diffs.values()})
            w(
                f"{label(tp_config)} minus {' / '.join(label(r) for r in refs)}: self"
                f" instructions per event by function, Python {py} (functions that differ by"
                " at least 1 per event in some workload; the top 12 of each):\n"
            )
            table: dict[str, dict[str, float]] = {}
            for workload, d in diffs.items():
                for n, fn in d["top"]:
                    table.setdefault(fn, {})[workload] = n
            order = sorted(table, key=lambda fn: -max(abs(x) for x in table[fn].values()))
            w("| function | " + " | ".join(diffs) + " |")
            w("|---" * (1 + len(diffs)) + "|")
            for fn in order:
                cells = [f"{table[fn][wl]:+.1f}" if wl in table[fn] else "" for wl in diffs]
                w(f"| `{fn}` | " + " | ".join(cells) + " |")
            w("")


def render(data: dict[str, Any]) -> str:
    out: list[str] = []
    w = out.append
    w(f"# threadprof overhead benchmark — {data['date']}\n")
    w(f"Command: `{data['command']}`  ")
    builds = sorted({str(p["threadprof_build"])[:12] for p in data["by_python"].values()})
    w(
        f"threadprof: {', '.join(builds)}; rounds: {data['repeat']}; "
        f"scale: {data['scale']}"
        f" (slow configs: {data['slow_scale']}); wall time of the run: "
        f"{data['elapsed_seconds'] / 60:.1f} min\n"
    )
    m = data["machine"]
    w(
        f"Machine: {m.get('Model name', '?')}, {m.get('CPU(s)', '?')} CPUs"
        f" ({m.get('Hypervisor vendor', 'bare metal')} guest), {m.get('memory_gib', '?')} GiB,"
        f" Linux {m['kernel']}, clocksource {m.get('clocksource', '?')}\n"
    )
    ld = data.get("load")
    if ld:
        w(
            f"Load during the rounds: {ld['elapsed_seconds'] / 60:.1f} min, of which the"
            f" benchmark's processes used {ld['our_cpu_seconds']:.0f} CPU s and other"
            f" processes {ld['other_cpu_seconds']:.0f} CPU s (of"
            f" {ld['elapsed_seconds'] * (os.cpu_count() or 1):.0f} available); steal"
            f" {ld['steal_seconds']:.0f} s; load average {ld['loadavg_before']:.1f} before,"
            f" {ld['loadavg_after']:.1f} after.\n"
        )
    c = data["clocks"]
    w("Cost of one clock read (median ns):\n")
    w("| clock | ns |\n|---|---|")
    for key in (
        "CLOCK_MONOTONIC",
        "CLOCK_MONOTONIC_RAW",
        "CLOCK_MONOTONIC_COARSE",
        "CLOCK_THREAD_CPUTIME_ID",
        "CLOCK_PROCESS_CPUTIME_ID",
        "rdtsc",
        "rdtscp",
        "perf_task_clock_read",
    ):
        if isinstance(c.get(key), (int, float)):
            w(f"| {key} | {c[key]:.1f} |")
    w(f"\n(empty loop {c.get('empty_loop', 0):.1f} ns; TSC {c.get('tsc_ghz', 0):.3f} GHz)\n")
    if "perf_cap_user_time" in c:
        w(
            "perf_task_clock_read is read(2) of the thread's perf_event task clock;"
            f" cap_user_time = {c['perf_cap_user_time']} (1 would let user space"
            " extrapolate it without a system call).\n"
        )

    configs = data["configs"]
    primary = data["metric"]
    order = metric_order(primary)
    w(
        f"Ratios use the time of the timed region (profiler start, workload, profiler"
        f" stop), first by {METRIC_NAMES[primary]}, then by "
        + " and by ".join(METRIC_NAMES[m] for m in order[1:])
        + ". A median cell is the median over the rounds of the per-round ratio"
        " (interquartile range in brackets); a best-of cell is the config's lowest"
        " time over the rounds divided by the unprofiled run's lowest.\n"
    )
    for per in data["by_python"].values():
        w(f"## Python {per['version']}\n")
        if per["unavailable"]:
            for config, why in per["unavailable"].items():
                w(f"- {config}: not measured ({why})")
            w("")
        shown = [cfg for cfg in configs if cfg not in per["unavailable"]]
        if per.get("engines"):
            engines = ", ".join(f"{ALL_CONFIGS[c][0]}: {e}" for c, e in per["engines"].items())
            w(f"threadprof's engines: {engines}; yappi {per['yappi']}.\n")
        labels = " | ".join(ALL_CONFIGS[cfg][0] for cfg in shown)
        for metric in order:
            w(f"Time ratio to the unprofiled run, {METRIC_NAMES[metric]}:\n")
            w(f"| workload | unprofiled s | events | {labels} |")
            w("|---" * (3 + len(shown)) + "|")
            for workload, wl in per["workloads"].items():
                ev = wl["events"].get(str(data["scale"]))
                base = wl["base_seconds"].get(metric)
                cells = [fmt_ratio(wl["stats"][cfg][metric]["ratio"]) for cfg in shown]
                w(
                    f"| {workload} | {base['median'] if base else float('nan'):.3f} | "
                    f"{ev / 1e6 if ev else 0:.2f} M | " + " | ".join(cells) + " |"
                )
            w("")
            if metric == primary:
                w(
                    f"Nanoseconds per profile event ({METRIC_NAMES[metric]}):"
                    " (t_profiled - t_unprofiled) / events.\n"
                )
                w(f"| workload | {labels} |")
                w("|---" * (1 + len(shown)) + "|")
                for workload, wl in per["workloads"].items():
                    cells = [fmt_ns(wl["stats"][cfg][metric]["ns_per_event"]) for cfg in shown]
                    w(f"| {workload} | " + " | ".join(cells) + " |")
                w("")
        render_targets(data, per, w)

    cg = data.get("callgrind")
    if cg and "error" in cg:
        w(f"## callgrind\n\nNot run: {cg['error']}.\n")
    if cg and "by_python" in cg:
        render_callgrind(data, cg, w)

    w("## Configurations\n")
    w("| config | label | what |\n|---|---|---|")
    for cfg in configs:
        label, what = ALL_CONFIGS[cfg]
        slow = f" (at scale {data['slow_scale']})" if cfg in SLOW_CONFIGS else ""
        w(f"| {cfg} | {label} | {what}{slow} |")
    w("\n| workload | what |\n|---|---|")
    for workload in data["workloads"]:
        w(f"| {workload} | {DESCRIPTIONS[workload]} |")
    return "\n".join(out) + "\n"


# -- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="threadprof's overhead benchmark")
    p.add_argument("--python", action="append", help="X.Y or a path (repeatable); default 3.12")
    p.add_argument("--repeat", type=int, default=7, help="rounds (default 7)")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help=f"default: all but {', '.join(EXTRA_CONFIGS)}",
    )
    p.add_argument("--scale", type=float, default=1.0, help="work per run (default 1.0)")
    p.add_argument("--slow-scale", type=float, default=0.07, help="work of the slow configs")
    p.add_argument(
        "--metric",
        choices=tuple(METRICS),
        default="cpu-best",
        help="the time the report leads with (all are reported; default cpu-best)",
    )
    p.add_argument("--quick", action="store_true", help="3 rounds at scale 0.2, no callgrind")
    p.add_argument(
        "--callgrind",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="instructions per event under callgrind (default: on unless --quick)",
    )
    p.add_argument(
        "--callgrind-jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="callgrind runs at once (instruction counts do not mind; default: the CPUs)",
    )
    p.add_argument("--no-install", action="store_true", help="use the venvs as they are")
    p.add_argument(
        "--threadprof-worktree",
        action="store_true",
        help="build threadprof from the work tree instead of the committed HEAD",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the shuffled order")
    p.add_argument("--out", help="results path without extension (default bench/results/<date>)")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat = min(args.repeat, 3)
        args.scale = min(args.scale, 0.2)
        args.slow_scale = min(args.slow_scale, 0.02)
    if args.callgrind is None:
        args.callgrind = not args.quick
    args.python = args.python or ["3.12"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.monotonic()
    workloads = [w for w in args.workloads.split(",") if w]
    configs = [c for c in args.configs.split(",") if c and c != "none"]
    for name in workloads:
        if name not in WORKLOADS:
            raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    for name in configs:
        if name not in ALL_CONFIGS:
            raise SystemExit(f"unknown config {name!r}; choose from {', '.join(ALL_CONFIGS)}")

    interps: list[Interp] = []
    for request in args.python:
        exe, version = find_interpreter(request)
        interps.append(Interp(request, exe, version, VENVS / short_version(version)))
    for interp in interps:
        setup_venv(interp, args)
        check_configs(interp, configs)

    log("measuring clock reads")
    clocks = clock_costs()

    scales = sorted(
        {args.scale} | ({args.slow_scale} if set(configs) & set(SLOW_CONFIGS) else set())
    )
    data: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(
            ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "repeat": args.repeat,
        "scale": args.scale,
        "slow_scale": args.slow_scale,
        "metric": args.metric,
        "seed": args.seed,
        "configs": configs,
        "workloads": workloads,
        "machine": machine_info(),
        "clocks": clocks,
        "by_python": {},
    }
    for interp in interps:
        yappi = subprocess.run(
            [interp.python, "-c", "import importlib.metadata as m; print(m.version('yappi'))"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        data["by_python"][interp.short] = {
            "version": interp.version,
            "interpreter": interp.base,
            "yappi": yappi,
            "threadprof_build": (
                _stamp(interp, "threadprof").read_text().strip()
                if _stamp(interp, "threadprof").exists()
                else None
            ),
            "unavailable": dict(interp.unavailable),
            "engines": dict(interp.engines),
            "workloads": {w: {"events": {}, "times": {}, "cpu_times": {}} for w in workloads},
        }

    log("counting events")
    for interp in interps:
        for workload in workloads:
            for scale in scales:
                res = run_worker(interp, "count", workload, scale)
                wl = data["by_python"][interp.short]["workloads"][workload]
                if "error" in res:
                    log(f"[{interp.short}] counting {workload}: {res['error']}")
                    continue
                wl["events"][str(scale)] = total_events(res["events"])
                wl.setdefault("event_kinds", {})[str(scale)] = res["events"]

    jobs: list[tuple[Interp, str, str, float]] = []
    for interp in interps:
        for workload in workloads:
            for scale in scales:
                jobs.append((interp, workload, "none", scale))
            for config in configs:
                if config in interp.unavailable:
                    continue
                scale = args.slow_scale if config in SLOW_CONFIGS else args.scale
                jobs.append((interp, workload, config, scale))

    rng = random.Random(args.seed)
    errors: list[str] = []
    before = cpu_snapshot()
    for rnd in range(args.repeat):
        order = jobs[:]
        rng.shuffle(order)
        t_round = time.monotonic()
        for interp, workload, config, scale in order:
            res = run_worker(interp, config, workload, scale)
            wl = data["by_python"][interp.short]["workloads"][workload]
            key = f"{config}@{scale}"
            times = wl["times"].setdefault(key, [None] * args.repeat)
            cpu_times = wl["cpu_times"].setdefault(key, [None] * args.repeat)
            if "error" in res:
                errors.append(f"{interp.short} {workload} {config} round {rnd}: {res['error']}")
                log(errors[-1])
            else:
                times[rnd] = res["seconds"]
                cpu_times[rnd] = res["cpu_seconds"]
                extra = {k: v for k, v in res.items() if k in INFO_KEYS}
                if extra:
                    wl.setdefault("info", {})[config] = extra
        spent = time.monotonic() - t_round
        log(
            f"round {rnd + 1}/{args.repeat}: {len(order)} runs in {spent:.0f} s"
            f" (about {spent * (args.repeat - rnd - 1) / 60:.1f} min to go)"
        )
    data["errors"] = errors
    data["load"] = load_report(before, cpu_snapshot())

    date = dt.date.today().isoformat()
    out = Path(args.out) if args.out else RESULTS / (date + ("-quick" if args.quick else ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.callgrind:
        log("callgrind")
        data["callgrind"] = callgrind(
            interps, configs, workloads, VENVS / "callgrind", args.callgrind_jobs
        )

    data["elapsed_seconds"] = time.monotonic() - t_start
    analyse(data)
    report = render(data)
    Path(f"{out}.json").write_text(json.dumps(data, indent=1) + "\n")
    Path(f"{out}.md").write_text(report)
    print(report)
    log(f"wrote {out}.md and {out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
