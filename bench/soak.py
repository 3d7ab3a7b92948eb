# SPDX-License-Identifier: MIT
"""Soak test: a server-like threaded workload, profiled for a long time.

A pool of worker threads handles "requests" (parse a JSON body, match regular
expressions, update shared state under a lock, sometimes sleep briefly, build
a JSON reply) as fast as the main thread can hand them out. Each mode runs in a
fresh interpreter: first an unprofiled reference phase of one interval, then
the profiled phase, which samples every interval the process's resident memory
(``VmRSS`` from ``/proc/self/status``) and the requests per second, and takes
(and drops) a snapshot, as a long-running service that exports its profile
would. Modes:

- ``stats``: the call tree only (``threadprof.start()``);
- ``timeline``: the timeline too, bounded by ``--timeline-limit`` events per
  thread, in memory.

The verdict: memory is flat when the RSS at the last interval is within
``--rss-tolerance`` percent (or ``--rss-slack-mb``, whichever is larger) of the
RSS at the second interval (the first is warm-up); overhead is flat when the
last interval's throughput is at least ``--rps-tolerance`` percent of the
second's.

    python bench/soak.py                       # 30 minutes per mode, one line a minute
    python bench/soak.py --minutes 2 --interval 10
    python bench/soak.py --json out.json       # also the samples, as JSON

Not run in CI at this length; tests/integration/test_soak.py runs a short one.
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

MODES = ("stats", "timeline")

_WORDS = re.compile(r"[a-z]+")
_EMAIL = re.compile(r"\b[\w.]+@[\w.]+\.[a-z]{2,}\b")
_PATH = re.compile(r"^/api/(?P<kind>\w+)/(?P<id>\d+)$")


class Server:
    """Shared state of the workload: per-kind counters under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.words = 0

    def handle(self, body: str) -> str:
        request = json.loads(body)
        match = _PATH.match(request["path"])
        kind = match.group("kind") if match else "unknown"
        text = request["text"]
        words = len(_WORDS.findall(text))
        emails = _EMAIL.findall(text)
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.words += words
        if request["id"] % 16 == 0:
            time.sleep(0.0005)  # a short wait, as for a backend
        return json.dumps({"kind": kind, "words": words, "emails": len(emails), "ok": True})


def make_requests(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    kinds = ["users", "orders", "items", "search"]
    vocab = ["alpha", "beta", "gamma", "delta", "x@example.com", "long-word", "42", "omega"]
    return [
        json.dumps(
            {
                "id": i,
                "path": f"/api/{rng.choice(kinds)}/{rng.randrange(10_000)}",
                "text": " ".join(rng.choice(vocab) for _ in range(rng.randrange(10, 60))),
                "headers": {"accept": "application/json", "n": i},
            }
        )
        for i in range(n)
    ]


def rss_kb() -> int:
    """The resident set, in KiB, after the C allocator has given back the free
    memory it keeps (glibc's ``malloc_trim``): what is live, not what a
    snapshot's large buffers left cached in the heap (a snapshot copies up to
    the lock calls' 16 MiB budget, and glibc keeps such blocks once its
    threshold for mapping them on their own has risen past their size)."""
    _trim()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _trim() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to give back
        pass


def serve_for(pool: ThreadPoolExecutor, server: Server, bodies: list[str], seconds: float) -> int:
    """Hand out requests in batches for ``seconds``; return how many were handled."""
    handled = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        futures = [pool.submit(server.handle, body) for body in bodies]
        wait(futures)
        for fut in futures:
            fut.result()
        handled += len(futures)
    return handled


def child(args: argparse.Namespace) -> dict[str, Any]:
    """Run one mode in this process; return its samples."""
    import threadprof

    server = Server()
    bodies = make_requests(64)
    samples: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=args.threads, thread_name_prefix="worker") as pool:
        serve_for(pool, server, bodies, min(1.0, args.interval))  # start the threads, warm up
        start = time.monotonic()
        reference = serve_for(pool, server, bodies, args.interval)
        ref_rps = reference / (time.monotonic() - start)
        if args.mode == "timeline":
            threadprof.start(engine=args.engine, timeline_limit=args.timeline_limit)
        else:
            threadprof.start(engine=args.engine)
        try:
            for i in range(args.intervals):
                start = time.monotonic()
                handled = serve_for(pool, server, bodies, args.interval)
                elapsed = time.monotonic() - start
                profiler = threadprof.active()
                assert profiler is not None, "the profiler stopped"
                snap = profiler.snapshot()
                nodes = sum(len(th.nodes) for th in snap.threads)
                lock_ops = sum(len(th.lock_ops) for th in snap.threads)
                del snap
                rps = handled / elapsed
                samples.append(
                    {
                        "interval": i + 1,
                        "rss_kb": rss_kb(),
                        "rps": rps,
                        "relative": rps / ref_rps,
                        "nodes": nodes,
                        "lock_ops": lock_ops,
                    }
                )
                if args.progress:
                    print(f"  {args.mode} {i + 1}: {samples[-1]}", file=sys.stderr, flush=True)
        finally:
            snap = threadprof.stop()
    return {
        "mode": args.mode,
        "reference_rps": ref_rps,
        "samples": samples,
        "warnings": list(snap.warnings),
        "python": sys.version.split()[0],
    }


def verdict(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    samples = result["samples"]
    base = samples[1] if len(samples) > 1 else samples[0]
    last = samples[-1]
    growth_kb = last["rss_kb"] - base["rss_kb"]
    allowed_kb = max(base["rss_kb"] * args.rss_tolerance / 100, args.rss_slack_mb * 1024)
    return {
        "rss_base_kb": base["rss_kb"],
        "rss_last_kb": last["rss_kb"],
        "rss_max_kb": max(s["rss_kb"] for s in samples),
        "rss_growth_kb": growth_kb,
        "rss_flat": growth_kb <= allowed_kb,
        "rps_flat": last["rps"] >= base["rps"] * args.rps_tolerance / 100,
    }


def run_mode(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode]
    for name in (
        "interval",
        "intervals",
        "threads",
        "timeline_limit",
        "engine",
        "rss_tolerance",
        "rss_slack_mb",
        "rps_tolerance",
    ):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.progress:
        cmd.append("--progress")
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    result["verdict"] = verdict(result, args)
    return result


def print_table(result: dict[str, Any], args: argparse.Namespace) -> None:
    v = result["verdict"]
    print(
        f"\n{result['mode']} (Python {result['python']}, {args.threads} workers, "
        f"unprofiled: {result['reference_rps']:.0f} requests/s)"
    )
    print(f"{'interval':>8} {'RSS MB':>8} {'req/s':>9} {'vs unprofiled':>14} {'nodes':>7}")
    for s in result["samples"]:
        print(
            f"{s['interval']:>8} {s['rss_kb'] / 1024:>8.1f} {s['rps']:>9.0f} "
            f"{s['relative']:>13.0%} {s['nodes']:>7}"
        )
    print(
        f"RSS {v['rss_base_kb'] / 1024:.1f} MB at interval 2 -> {v['rss_last_kb'] / 1024:.1f} MB "
        f"at the end ({v['rss_growth_kb'] / 1024:+.1f} MB): "
        f"{'flat' if v['rss_flat'] else 'GROWING'}; throughput "
        f"{'flat' if v['rps_flat'] else 'DEGRADING'}"
    )
    for w in result["warnings"]:
        print(f"profiler warning: {w}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0, help="profiled time per mode")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--intervals", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--modes", default=",".join(MODES), help="stats,timeline")
    p.add_argument("--threads", type=int, default=8, help="worker threads")
    p.add_argument("--timeline-limit", type=int, default=10_000, help="events kept per thread")
    p.add_argument("--engine", default="auto", choices=["auto", "legacy", "monitoring"])
    p.add_argument("--rss-tolerance", type=float, default=10.0, help="percent")
    p.add_argument("--rss-slack-mb", type=float, default=4.0, help="MB always allowed")
    p.add_argument("--rps-tolerance", type=float, default=75.0, help="percent")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--progress", action="store_true", help="a line per interval on stderr")
    p.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.intervals:
        args.intervals = max(2, round(args.minutes * 60 / args.interval))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        args.mode = args.child
        json.dump(child(args), sys.stdout)
        return 0
    results = [run_mode(mode, args) for mode in args.modes.split(",")]
    for result in results:
        print_table(result, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    ok = all(r["verdict"]["rss_flat"] and r["verdict"]["rps_flat"] for r in results)
    print(f"\nverdict: {'flat' if ok else 'NOT flat'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
