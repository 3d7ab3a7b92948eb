# SPDX-License-Identifier: MIT
"""Synthetic snapshots of a given size, for the HTML report's scale tests and benchmark.

:func:`big_snapshot` makes ``threads`` threads of ``nodes_per_thread`` call-tree
nodes each (100,000 nodes on 1,000 threads by default), with thread names in
the patterns real programs have (``ThreadPoolExecutor-0_12``, ``worker-7``,
``Thread-5 (serve)``), a few thousand functions over a couple of hundred
files, and times that add up (a node's inclusive time is its self time plus
its children's). :func:`timeline_snapshot` makes a few threads with long
timelines of nested calls, most of them very short, as a profile of a tight
loop would have. Both are deterministic in their ``seed``.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator

from threadprof.model import (
    Function,
    Node,
    Snapshot,
    ThreadProfile,
    Timeline,
    TimelineChunk,
    build_tree,
)

__all__ = ["big_snapshot", "timeline_snapshot"]


def _functions(rng: random.Random, count: int) -> list[Function]:
    files = [f"/srv/app/pkg{i // 20}/module_{i}.py" for i in range(200)]
    out = []
    for fid in range(count):
        if fid % 10 == 9:
            out.append(Function(fid, "c", f"<built-in method op_{fid}>", f"op_{fid}", "~", 0))
        else:
            name = f"handler_{fid}"
            out.append(
                Function(
                    fid, "python", name, f"Service{fid % 37}.{name}", rng.choice(files), fid % 900
                )
            )
    return out


def _thread_name(i: int) -> str:
    if i == 0:
        return "MainThread"
    if i <= 600:
        return f"ThreadPoolExecutor-0_{i - 1}"
    if i <= 900:
        return f"worker-{i - 601}"
    return f"Thread-{i - 900} (serve)"


def big_snapshot(
    threads: int = 1000, nodes_per_thread: int = 100, functions: int = 3000, seed: int = 1
) -> Snapshot:
    """``threads`` threads of ``nodes_per_thread`` nodes each (see the module docstring)."""
    rng = random.Random(seed)
    funcs = _functions(rng, functions)
    duration = 60_000_000_000  # a minute, in nanoseconds
    out = []
    for i in range(threads):
        nodes = [Node(0, -1, -1)]
        depth = [0]
        for nid in range(1, nodes_per_thread + 1):
            # mostly deepen the recent path, sometimes branch off higher up
            if nid == 1:
                parent = 0
            else:
                parent = rng.choice((nid - 1, nid - 1, rng.randrange(max(1, nid - 8), nid), 0))
                if depth[parent] >= 40:
                    parent = rng.randrange(0, nid)
            nodes.append(Node(nid, parent, rng.randrange(functions), calls=rng.randint(1, 500)))
            depth.append(depth[parent] + 1)
        build_tree(nodes)
        for node in reversed(nodes[1:]):
            node.wall_self = rng.randint(1_000, 50_000_000)
            node.cpu_self = int(node.wall_self * rng.random())
            node.wall = node.wall_self + sum(nodes[c].wall for c in node.children)
            node.cpu = node.cpu_self + sum(nodes[c].cpu for c in node.children)
        root = nodes[0]
        root.wall = sum(nodes[c].wall for c in root.children)
        root.cpu = sum(nodes[c].cpu for c in root.children)
        first = 0 if i == 0 else rng.randrange(duration // 2)
        out.append(
            ThreadProfile(
                serial=i + 1,
                ident=140_000_000_000_000 + i * 4096,
                native_id=10_000 + i,
                name=_thread_name(i),
                first_seen=first,
                last_seen=min(duration, first + root.wall),
                wall_time=root.wall,
                cpu_time=root.cpu,
                nodes=nodes,
            )
        )
    return Snapshot(
        clock="wall",
        unit=1e-9,
        functions=funcs,
        threads=out,
        cpu_mode="sampled",
        engine="monitoring",
        duration=duration,
        python_version="3.12.0",
        argv=["synthetic.py", f"--threads={threads}"],
    )


def _timeline_events(rng: random.Random, calls: int, functions: int) -> Timeline:
    """About ``calls`` calls: a loop whose body calls short helpers, a few of them long.

    The events are made once and handed out in chunks of 65,536, as the core's
    timelines are.
    """
    funcs = array("i", [0])  # the outermost frame
    times = array("q", [0])
    t = 0
    made = 1
    while made < calls:
        body = 1 + rng.randrange(functions - 1)
        funcs.append(body)
        times.append(t)
        t += rng.randint(50, 400)
        for _ in range(rng.randint(1, 6)):
            helper = 1 + rng.randrange(functions - 1)
            funcs.append(helper)
            times.append(t)
            t += rng.randint(30, 3_000) if rng.random() > 0.001 else rng.randint(10**6, 10**8)
            funcs.append(~helper)
            times.append(t)
            made += 1
        t += rng.randint(50, 400)
        funcs.append(~body)
        times.append(t)
        made += 1
    funcs.append(~0)
    times.append(t)
    size = 65536

    def source() -> Iterator[TimelineChunk]:
        for i in range(0, len(funcs), size):
            yield funcs[i : i + size], times[i : i + size]

    return Timeline(source, len(funcs))


def timeline_snapshot(
    threads: int = 4, calls_per_thread: int = 250_000, functions: int = 200, seed: int = 2
) -> Snapshot:
    """``threads`` threads whose timelines hold about ``calls_per_thread`` calls each."""
    rng = random.Random(seed)
    funcs = _functions(rng, functions)
    out = []
    for i in range(threads):
        timeline = _timeline_events(rng, calls_per_thread, functions)
        # the call tree of the timeline: one level under the loop, enough for the flame graph
        last = 0
        for _f, times in timeline.chunks():
            last = times[-1]
        nodes = [Node(0, -1, -1), Node(1, 0, 0, calls=1, wall=last, cpu=last // 2)]
        nodes[1].wall_self, nodes[1].cpu_self = last, last // 2
        build_tree(nodes)
        nodes[0].wall, nodes[0].cpu = last, last // 2
        out.append(
            ThreadProfile(
                serial=i + 1,
                ident=1000 + i,
                native_id=2000 + i,
                name=f"loop-{i}",
                first_seen=0,
                last_seen=last,
                wall_time=last,
                cpu_time=last // 2,
                nodes=nodes,
                timeline=timeline,
            )
        )
    duration = max(t.last_seen for t in out)
    return Snapshot(
        clock="wall",
        unit=1e-9,
        functions=funcs,
        threads=out,
        cpu_mode="sampled",
        duration=duration,
        argv=["loops.py"],
    )
