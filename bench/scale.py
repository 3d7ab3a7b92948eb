# SPDX-License-Identifier: MIT
"""How overhead, snapshot and export costs scale. A benchmark, not a test.

    python bench/scale.py [--only threads,snapshot,export,timeline] [--quick]
                          [--threads 1,2,4,8,16,32,64] [--repeat 9] [--json FILE]

1. ``threads``: overhead per event from 1 to 64 threads: the same total work
   (recursive fib calls) split over N threads, unprofiled and under the
   default ``threadprof.Profile()``, in fresh processes, interleaved; the
   overhead per event is (profiled - unprofiled) CPU time / events, from the
   best (lowest) time of each over the repetitions, with the median beside.
2. ``snapshot``: snapshot time against the size of the call tree (about 1k,
   10k, 100k and 300k nodes): a synthetic program with N distinct call paths
   (every ``f_i`` called from every ``g_j``), snapshot taken while running;
   and the time to make the node objects of its call trees (``node
   objects``), which a snapshot leaves as columns until a view reads them.
3. ``export``: then, the profiler stopped, the time each call-tree exporter
   (pstats, callgrind, collapsed, speedscope, pprof, html) takes to write that
   snapshot to a file, through ``Exporter.write`` as ``threadprof convert``
   does. Each tree size runs in a fresh process (2 and 3 share it), after a
   warm-up on a tiny profile so that imports and first-use costs are not
   counted. Each exporter gets its own copy of the snapshot's threads, their
   trees held as columns as a run or a ``.tprof`` gives them; each figure is
   the best of 3, so an exporter that reads the node objects has them made
   already by its first round (add ``node objects``).
4. ``timeline``: timeline export time against the trace size (about 0.5, 1, 2
   and 4 M events): fib calls on 4 threads under ``threadprof.profile(
   timeline=True)``, recorded (the profiled run's wall time), snapshot and
   written to a .tprof file in a fresh process, then converted by
   ``threadprof convert`` to tprof (a re-write), chrome, perfetto and
   speedscope, each conversion in a fresh process (the ``convert`` of
   bench/timeline_formats.py), with its peak RSS. The write and each
   conversion: the best of 3; the recording: one run.

Every table gives the time and the time per unit (ns per node, ns per event):
a per-unit figure that stays flat as the size grows is linear growth.
``--quick`` uses small sizes (threads 1 and 8 once, trees of 1k and 10k nodes,
timelines of 0.2 and 0.4 M events).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from timeline_formats import EXT, convert  # bench/timeline_formats.py (bench/ is on sys.path)

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARTS = ("threads", "snapshot", "export", "timeline")
TREE_FORMATS = ("pstats", "callgrind", "collapsed", "speedscope", "pprof", "html")
TIMELINE_FORMATS = ("tprof", "chrome", "perfetto", "speedscope")
TIMELINE_THREADS = 4
BEST_OF = 3  # snapshots, exports, .tprof writes and conversions: the best of 3
SIZES = {  # (default, --quick)
    "threads": ("1,2,4,8,16,32,64", "1,8"),
    "tree": ("1000,10000,100000,300000", "1000,10000"),
    "timeline": ("500000,1000000,2000000,4000000", "200000,400000"),
}

WORK = 2_000_000  # fib calls in total


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


FIB_N = 20  # 21,891 calls per fib(20)
FIB_CALLS = 21_891


def run_threads(nthreads: int, fibs_per_thread: int) -> None:
    """Start ``nthreads`` threads that each compute ``fib(FIB_N)`` that many times; join them."""
    import threading

    def work() -> None:
        for _ in range(fibs_per_thread):
            fib(FIB_N)

    threads = [threading.Thread(target=work) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def child(nthreads: int, profiled: bool) -> None:
    import threadprof

    per_thread = max(1, WORK // FIB_CALLS // nthreads)
    prof = threadprof.Profile() if profiled else None
    c0 = time.process_time()
    if prof:
        prof.enable()
    run_threads(nthreads, per_thread)
    if prof:
        prof.disable()
    cpu = time.process_time() - c0
    events = 2 * FIB_CALLS * per_thread * nthreads
    print(json.dumps({"cpu": cpu, "events": events}))


def synthetic_program(paths: int) -> list:
    """The ``g_j`` functions of a program with about ``paths`` distinct call paths."""
    ns: dict[str, object] = {}
    side = max(1, int(paths**0.5))
    src = "\n".join(f"def f{i}():\n    pass" for i in range(side))
    src += "\n" + "\n".join(
        f"def g{j}():\n" + "\n".join(f"    f{i}()" for i in range(side)) for j in range(side)
    )
    exec(compile(src, f"<synthetic {paths}>", "exec"), ns)
    return [ns[f"g{j}"] for j in range(side)]


def profile_tree(paths: int) -> tuple[Any, float, float]:
    """Run the synthetic program under ``threadprof.profile()``; return a snapshot
    taken while it runs, the snapshot's time in seconds (best of 3), and the
    time its call trees' node objects take to make (the model's ``Node``s,
    which snapshots leave as columns until a view reads them; best of 3)."""
    import threadprof

    program = synthetic_program(paths)
    with threadprof.profile() as p:
        for g in program:
            g()
        snap, snapshot_s = best_of(p.snapshot)
        fresh = [p.snapshot() for _ in range(BEST_OF)]
    nodes_s = min(best_of(lambda s=s: [t.nodes for t in s.threads], 1)[1] for s in fresh)
    return snap, snapshot_s, nodes_s


def best_of(fn: Callable[[], Any], rounds: int = 0) -> tuple[Any, float]:
    """``fn()``'s result and its shortest time in seconds over ``rounds``
    calls (``BEST_OF`` by default)."""
    times = []
    for _ in range(rounds or BEST_OF):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, min(times)


def tree_child(paths: int, export: bool) -> None:
    """Snapshot time and (with ``export``) every tree exporter's time, as JSON."""
    from threadprof.exporters import get_exporter
    from threadprof.model import replace

    formats = TREE_FORMATS if export else ()
    with tempfile.TemporaryDirectory() as tmp:
        out = {fmt: pathlib.Path(tmp) / f"out{EXT[fmt]}" for fmt in formats}
        warm, _, _ = profile_tree(4)  # imports, templates, first-use caches
        for fmt in formats:
            get_exporter(fmt).write(warm, out[fmt])
        snap, snapshot_s, nodes_s = profile_tree(paths)
        row = {
            "nodes": sum(t.tree_size for t in snap.threads),
            "snapshot": snapshot_s,
            "node objects": nodes_s,
        }
        for fmt in formats:
            # its own copy of the threads, still columns (as a run or a .tprof
            # gives them) unless this exporter makes the node objects itself
            own = replace(snap, threads=[replace(t) for t in snap.threads])
            _, row[fmt] = best_of(functools.partial(get_exporter(fmt).write, own, out[fmt]))
            row[f"{fmt}_bytes"] = out[fmt].stat().st_size
    print(json.dumps(row))


def timeline_child(events: int, dest: str) -> None:
    """Record about ``events`` timeline events, write them to ``dest`` (.tprof); JSON."""
    import threadprof
    from threadprof.exporters import get_exporter

    per_thread = max(1, round(events / (2 * FIB_CALLS) / TIMELINE_THREADS))
    t0 = time.perf_counter()
    with threadprof.profile(timeline=True) as p:
        run_threads(TIMELINE_THREADS, per_thread)
    t1 = time.perf_counter()
    snap = p.snapshot()
    snapshot_s = time.perf_counter() - t1
    _, write_s = best_of(functools.partial(get_exporter("tprof").write, snap, dest))
    total = sum(t.timeline.events for t in snap.threads if t.timeline)
    print(
        json.dumps({"events": total, "record": t1 - t0, "snapshot": snapshot_s, "write": write_s})
    )


def run_child(*args: str) -> dict:
    """Run this script with ``args`` in a fresh interpreter; its last line, as JSON."""
    out = subprocess.run(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_table(title: str, unit: str, sizes: list[int], rows: list[tuple[str, list]]) -> None:
    """``rows`` of (label, seconds per size) as ms and ns per ``unit`` under each size."""
    print(title)
    print(f"{'':<18}" + "".join(f"{f'{n:,} {unit}s':>22}" for n in sizes))
    print(f"{'':<18}" + f"{'ms':>12} {'ns/' + unit:>9}" * len(sizes))
    for label, seconds in rows:
        cells = (
            f"{s * 1e3:>12.1f} {s / n * 1e9:>9.0f}" for s, n in zip(seconds, sizes, strict=True)
        )
        print(f"{label:<18}" + "".join(cells))


def threads_part(counts: list[int], repeat: int) -> list[dict]:
    """Best of ``repeat`` (the lowest CPU time of each configuration, as
    bench/run.py leads with: interference from the host only adds time) and the
    median, per thread count."""
    print(f"overhead per event by thread count (best of {repeat}; median in brackets)")
    print(f"{'threads':>7} {'ratio':>6} {'ns/event':>9} {'(median)':>9}")
    rows = []
    for n in counts:
        base, prof = [], []
        events = 0
        for _ in range(repeat):
            b = run_child("--child", str(n), "0")
            p = run_child("--child", str(n), "1")
            base.append(b["cpu"])
            prof.append(p["cpu"])
            events = p["events"]
        lb, lp = min(base), min(prof)
        mb, mp = statistics.median(base), statistics.median(prof)
        row = {
            "threads": n,
            "ratio": lp / lb,
            "ns_per_event": (lp - lb) / events * 1e9,
            "median_ratio": mp / mb,
            "median_ns_per_event": (mp - mb) / events * 1e9,
        }
        rows.append(row)
        print(
            f"{n:>7} {row['ratio']:>6.2f} {row['ns_per_event']:>9.1f}"
            f" ({row['median_ns_per_event']:>7.1f})"
        )
    return rows


def tree_part(sizes: list[int], export: bool) -> list[dict]:
    rows = [run_child("--tree-child", str(n), str(int(export))) for n in sizes]
    nodes = [r["nodes"] for r in rows]
    print_table(
        "snapshot (while running) and export time by call-tree size",
        "node",
        nodes,
        [
            (op, [r[op] for r in rows])
            for op in ("snapshot", "node objects", *(TREE_FORMATS if export else ()))
        ],
    )
    if export:
        last = rows[-1]
        per_node = ", ".join(f"{f} {last[f + '_bytes'] / last['nodes']:.0f}" for f in TREE_FORMATS)
        print(f"output bytes per node at {last['nodes']:,} nodes: {per_node}")
    return rows


def timeline_part(sizes: list[int]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        src = work / "run.tprof"
        for n in sizes:
            row = run_child("--timeline-child", str(n), str(src))
            row["tprof_bytes"] = src.stat().st_size
            for fmt in TIMELINE_FORMATS:
                dest = work / f"out{EXT[fmt]}"
                runs = [convert(src, fmt, dest) for _ in range(BEST_OF)]
                best = min(runs, key=lambda r: r["seconds"])
                row[fmt] = {**best, "status": max(r["status"] for r in runs)}
                dest.unlink(missing_ok=True)
            rows.append(row)
    events = [r["events"] for r in rows]
    table = [
        ("record (wall)", [r["record"] for r in rows]),
        ("snapshot", [r["snapshot"] for r in rows]),
        ("write .tprof", [r["write"] for r in rows]),
    ]
    table += [(f"convert {fmt}", [r[fmt]["seconds"] for r in rows]) for fmt in TIMELINE_FORMATS]
    print_table(
        f"timeline record, write and convert time by trace size ({TIMELINE_THREADS} threads)",
        "event",
        events,
        table,
    )
    print("peak RSS of each conversion, MiB")
    for fmt in TIMELINE_FORMATS:
        print(f"{fmt:<18}" + "".join(f"{r[fmt]['peak_rss_mib']:>22.1f}" for r in rows))
    failed = [
        f"{fmt} at {r['events']:,}" for r in rows for fmt in TIMELINE_FORMATS if r[fmt]["status"]
    ]
    if failed:
        print("FAILED conversions (non-zero exit): " + ", ".join(failed))
    return rows


def header() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "src")
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "commit": git("rev-parse", "--short", "HEAD")
        + (" + uncommitted changes in src/" if dirty else ""),
        "command": " ".join([sys.executable, *sys.argv]),
    }
    for key, value in meta.items():
        print(f"# {key}: {value}")
    return meta


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(PARTS), help="parts to run: " + ",".join(PARTS))
    ap.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    ap.add_argument("--threads", help=f"thread counts (default {SIZES['threads'][0]})")
    ap.add_argument("--repeat", type=int, help="repetitions of the threads part (default 9)")
    ap.add_argument("--tree-sizes", help=f"call paths (default {SIZES['tree'][0]})")
    ap.add_argument("--timeline-sizes", help=f"events (default {SIZES['timeline'][0]})")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--tree-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--timeline-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(int(args.child[0]), bool(int(args.child[1])))
        return
    if args.tree_child:
        tree_child(int(args.tree_child[0]), bool(int(args.tree_child[1])))
        return
    if args.timeline_child:
        timeline_child(int(args.timeline_child[0]), args.timeline_child[1])
        return
    parts = args.only.split(",")
    if unknown := set(parts) - set(PARTS):
        ap.error(f"unknown parts: {', '.join(sorted(unknown))} (choose from {', '.join(PARTS)})")
    pick = int(args.quick)
    results: dict = {"meta": header()}
    if "threads" in parts:
        print()
        repeat = args.repeat or (1 if args.quick else 9)
        results["threads"] = threads_part(ints(args.threads or SIZES["threads"][pick]), repeat)
    if "snapshot" in parts or "export" in parts:
        print()
        sizes = ints(args.tree_sizes or SIZES["tree"][pick])
        results["tree"] = tree_part(sizes, "export" in parts)
    if "timeline" in parts:
        print()
        results["timeline"] = timeline_part(ints(args.timeline_sizes or SIZES["timeline"][pick]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
