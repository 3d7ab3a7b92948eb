# SPDX-License-Identifier: MIT
"""How long ``threadprof diff`` takes on two profiles of a million call-tree nodes.

    python bench/diff_scale.py [--nodes 1000000] [--threads 4]

Writes ``.tprof`` files of ``--nodes`` nodes each (``--threads`` threads of
random trees over 20,000 functions, each node under one of the 50 nodes made
just before it, so paths run deep and are all distinct): ``a``; ``b``, the
same with one node in a thousand called once more, its trees built in the same
order (two runs of one program); ``c``, the same as ``b`` with its nodes
numbered in another order (breadth first, siblings shuffled). Then it runs
``threadprof diff a b --fail-if 'calls(*) > 0' -q`` (and ``a c``) in a fresh
process and reports its wall time and peak resident memory (``ru_maxrss`` of that
child, from ``wait4``), best of ``--repeat``. The files are written by another
child, so that this process stays small.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

from threadprof import tprof
from threadprof.model import Function, Node, Snapshot, ThreadProfile


def _breadth_first(tree: list[Node], rnd: random.Random) -> list[Node]:
    """The same tree with its nodes numbered breadth first, siblings shuffled:
    a profile whose trees were built in another order than the first's."""
    order = [0]
    for i in order:
        kids = list(tree[i].children)
        rnd.shuffle(kids)
        order.extend(kids)
    new_id = {old: new for new, old in enumerate(order)}
    out = []
    for old in order:
        n = tree[old]
        parent = new_id[n.parent] if n.parent >= 0 else -1
        out.append(
            Node(
                new_id[old],
                parent,
                n.func,
                n.calls,
                n.prim_calls,
                n.wall,
                n.wall_self,
                n.cpu,
                n.cpu_self,
            )
        )
    for n in out[1:]:
        out[n.parent].children.append(n.id)
    return out


def make(nodes: int, threads: int, extra: bool, shuffle: bool = False) -> Snapshot:
    rnd = random.Random(1)
    nfuncs = 20_000
    funcs = [
        Function(i, "python", f"f{i}", f"C{i % 97}.f{i}", f"/src/pkg/mod{i % 50}.py", i)
        for i in range(nfuncs)
    ]
    out = []
    for t in range(threads):
        tree = [Node(0, -1, -1)]
        for i in range(1, nodes // threads):
            parent = rnd.randrange(max(0, i - 50), i) if i > 1 else 0
            calls, wall = rnd.randrange(1, 100), rnd.randrange(1000, 10**6)
            node = Node(
                i, parent, rnd.randrange(nfuncs), calls, calls, wall, wall, wall // 2, wall // 2
            )
            if extra and i % 1000 == 0:
                node.calls += 1
                node.prim_calls += 1
            tree.append(node)
            tree[parent].children.append(i)
        if shuffle:  # with a generator of its own: the trees stay the same
            tree = _breadth_first(tree, random.Random(t))
        out.append(ThreadProfile(t, t, t, f"worker-{t}", 0, 10**9, 10**9, 5 * 10**8, tree))
    return Snapshot("wall", 1e-9, funcs, out, pid=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:  # in a child: this process stays small, as the diffs' peak is measured
        for name, extra, shuffle in (("a", False, False), ("b", True, False), ("c", True, True)):
            with open(os.path.join(args.write, f"{name}.tprof"), "wb") as f:
                tprof.write(make(args.nodes, args.threads, extra, shuffle), f)
        return
    with tempfile.TemporaryDirectory() as tmp:
        sizes = ["--nodes", str(args.nodes), "--threads", str(args.threads)]
        subprocess.run([sys.executable, __file__, *sizes, "--write", tmp], check=True)
        a, b, c = (os.path.join(tmp, f"{name}.tprof") for name in "abc")
        for label, second in (("built in the same order", b), ("built in another order", c)):
            best, rss = _measure([a, second], args.repeat)
            version = sys.version.split()[0]
            print(
                f"diff of two {args.nodes:,}-node profiles ({args.threads} threads), trees "
                f"{label}, Python {version}: {best:.2f} s, peak RSS {rss / 1024:.0f} MB"
            )


def _measure(paths: list[str], repeat: int) -> tuple[float, int]:
    """The best wall time and the largest peak RSS of ``threadprof diff`` on ``paths``."""
    best = float("inf")
    rss = 0
    argv = [sys.executable, "-m", "threadprof", "diff", *paths, "--fail-if", "calls(*) > 0", "-q"]
    for _ in range(repeat):
        t0 = time.perf_counter()
        pid = os.posix_spawn(sys.executable, argv, os.environ)
        _pid, status, usage = os.wait4(pid, 0)
        best = min(best, time.perf_counter() - t0)
        assert os.waitstatus_to_exitcode(status) == 4, status
        rss = max(rss, usage.ru_maxrss)
    return best, rss


if __name__ == "__main__":
    main()
