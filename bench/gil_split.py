# SPDX-License-Identifier: MIT
"""How accurate the off-CPU split is, on workloads with known answers.

    python bench/gil_split.py --python .test-venvs/3.12.1/bin/python --rounds 5

Each measurement runs in a fresh process (``--worker``), profiled with
threadprof's default options, on each engine:

* ``spin-N``: two CPU-bound threads for 0.5 s at a switch interval of N ms:
  with the GIL each is runnable (waiting for it) half of its wall time;
* ``queue``: a consumer blocked on a ``queue.Queue`` whose producer sleeps
  20 ms before each of 10 items: the consumer's wait in locks is 200 ms, the
  producer's sleep 200 ms;
* ``lock``: a thread waits for a lock that another holds for 100 ms.

The report gives, per workload, what threadprof measured against the known
answer: the spinners' runnable share of their wall time (expected 50 %, on a
machine that gives the process a CPU; the share of a CPU the process had is
listed too, since a CPU taken by another process shows as runnable time as
well), and the blocked time of the waiters against the sleeps.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = ["spin-1", "spin-5", "spin-20", "queue", "lock"]
ENGINES = ["monitoring", "legacy"]


def spin(n: int) -> int:
    x = 0
    for i in range(n):
        x += i
    return x


def run_workload(name: str) -> None:
    import queue
    import threading

    if name.startswith("spin-"):
        sys.setswitchinterval(int(name.split("-")[1]) / 1000)
        together = threading.Barrier(2)

        def run() -> None:
            together.wait()
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                spin(20_000)

        threads = [threading.Thread(target=run, name=f"spin-{i}") for i in range(2)]
    elif name == "queue":
        q: queue.Queue[int | None] = queue.Queue()

        def produce() -> None:
            for i in range(10):
                time.sleep(0.02)
                q.put(i)
            q.put(None)

        def consume() -> None:
            while q.get() is not None:
                pass

        threads = [threading.Thread(target=f, name=f.__name__) for f in (consume, produce)]
    else:
        lock = threading.Lock()
        held = threading.Event()

        def holder() -> None:
            lock.acquire()
            held.set()
            time.sleep(0.1)
            lock.release()

        def waiter() -> None:
            held.wait()
            lock.acquire()
            lock.release()

        threads = [threading.Thread(target=f, name=f.__name__) for f in (holder, waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def worker(name: str, engine: str) -> None:
    import threadprof
    from threadprof.offcpu import split

    with threadprof.profile(engine=engine) as p:
        run_workload(name)
    snap = p.snapshot()
    out = split(snap)
    assert out is not None
    rows = {}
    for r in out.threads:
        t = snap.threads[r.thread]
        rows[t.name] = {
            "wall": r.wall * snap.unit,
            "cpu": t.cpu_time * snap.unit,
            "runnable": r.runnable * snap.unit,
            "blocked": {k: v * snap.unit for k, v in r.blocked.items()},
        }
    print(json.dumps({"threads": rows, "gil": out.gil}))


def measure(python: str, name: str, engine: str) -> dict | None:
    cmd = [python, str(Path(__file__).resolve()), "--worker", name, engine]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"{name} {engine} failed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def version_of(python: str) -> str:
    code = "import threadprof.build as b; print(b.python_version())"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def row(name: str, got: dict) -> tuple[str, str]:
    """(what was measured, the known answer) for one run."""
    t = got["threads"]
    if name.startswith("spin-"):
        spins = [v for k, v in t.items() if k.startswith("spin-")]
        shares = "/".join(f"{v['runnable'] / v['wall']:.1%}" for v in spins)
        cpu = sum(v["cpu"] for v in spins) / max(v["wall"] for v in spins)
        known = "50 %" if got["gil"] else "0 on 2 free CPUs"
        return f"runnable {shares} (process had {cpu:.0%} of a CPU)", known
    if name == "queue":
        lock = t["consume"]["blocked"].get("lock", 0.0)
        sleep = t["produce"]["blocked"].get("sleep", 0.0)
        measured = f"consumer blocked in locks {lock * 1e3:.1f} ms, asleep {sleep * 1e3:.1f} ms"
        return measured, "200, 200 ms"
    lock = t["waiter"]["blocked"].get("lock", 0.0)
    return f"waiter blocked in a lock {lock * 1e3:.1f} ms", "100 ms"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "ENGINE"), help=argparse.SUPPRESS)
    p.add_argument("--python", action="append", help="an interpreter with threadprof (repeatable)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", help="write the report here too")
    args = p.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    lines = [
        "# The off-CPU split against known answers: bench/gil_split.py, "
        + time.strftime("%Y-%m-%d"),
        "",
        "| Python | engine | workload | round | measured | known |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for python in args.python or [sys.executable]:
        version = version_of(python)
        engines = ENGINES if not version.startswith("3.11") else ["legacy"]
        for engine in engines:
            for name in WORKLOADS:
                for r in range(args.rounds):
                    got = measure(python, name, engine)
                    if got is not None:
                        measured, known = row(name, got)
                        lines.append(
                            f"| {version} | {engine} | {name} | {r + 1} | {measured} | {known} |"
                        )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
