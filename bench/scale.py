# SPDX-License-Identifier: MIT
"""How overhead and snapshot cost scale. A benchmark, not a test.

    python bench/scale.py [--threads 1,2,4,8,16,32,64] [--repeat 5]

1. Overhead per event from 1 to 64 threads: the same total work (recursive
   fib calls) split over N threads, unprofiled and under the default
   ``threadprof.Profile()``, in fresh processes, interleaved; the overhead per
   event is (profiled - unprofiled) CPU time / events.
2. Snapshot time against the size of the call tree: a synthetic program with
   N distinct call paths, snapshot taken while running.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

WORK = 2_000_000  # fib calls in total


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


FIB_N = 20  # 21,891 calls per fib(20)


def child(nthreads: int, profiled: bool) -> None:
    import threading

    import threadprof

    per_thread = max(1, WORK // 21891 // nthreads)

    def work() -> None:
        for _ in range(per_thread):
            fib(FIB_N)

    prof = threadprof.Profile() if profiled else None
    threads = [threading.Thread(target=work) for _ in range(nthreads)]
    c0 = time.process_time()
    if prof:
        prof.enable()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if prof:
        prof.disable()
    cpu = time.process_time() - c0
    events = 2 * 21891 * per_thread * nthreads
    print(json.dumps({"cpu": cpu, "events": events}))


def run_child(nthreads: int, profiled: bool) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(nthreads), str(int(profiled))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def snapshot_scaling() -> list[tuple[int, float]]:
    import threadprof

    rows = []
    for paths in (1_000, 10_000, 100_000):
        # distinct call paths: f_i called from g_j for i, j in a grid
        ns: dict[str, object] = {}
        side = int(paths**0.5)
        src = "\n".join(f"def f{i}():\n    pass" for i in range(side))
        src += "\n" + "\n".join(
            f"def g{j}():\n" + "\n".join(f"    f{i}()" for i in range(side)) for j in range(side)
        )
        exec(compile(src, "<synthetic>", "exec"), ns)
        with threadprof.profile() as p:
            for j in range(side):
                ns[f"g{j}"]()  # type: ignore[operator]
            t0 = time.perf_counter()
            snap = p.snapshot()
            elapsed = time.perf_counter() - t0
        nodes = sum(len(t.nodes) for t in snap.threads)
        rows.append((nodes, elapsed))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2,4,8,16,32,64")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        child(int(args.child[0]), bool(int(args.child[1])))
        return
    print(f"python {sys.version.split()[0]}; overhead per event by thread count")
    print(f"{'threads':>7} {'ratio':>6} {'ns/event':>9}")
    for n in [int(x) for x in args.threads.split(",")]:
        base, prof = [], []
        events = 0
        for _ in range(args.repeat):
            b = run_child(n, False)
            p = run_child(n, True)
            base.append(b["cpu"])
            prof.append(p["cpu"])
            events = p["events"]
        mb, mp = statistics.median(base), statistics.median(prof)
        print(f"{n:>7} {mp / mb:>6.2f} {(mp - mb) / events * 1e9:>9.1f}")
    print("snapshot time by call-tree size (while running)")
    for nodes, seconds in snapshot_scaling():
        print(
            f"  {nodes:>8,} nodes  {seconds * 1e3:8.1f} ms  {seconds / nodes * 1e9:6.0f} ns/node"
        )


if __name__ == "__main__":
    main()
