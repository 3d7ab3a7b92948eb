# SPDX-License-Identifier: MIT
"""The HTML page of a :class:`~threadprof.diff.Diff`: the HTML report of the
call paths of both profiles, all threads merged, with a differential flame
graph.

The page is the report's own (:mod:`.page`), drawn from a snapshot of one
thread whose call tree is every path of either profile with the *after*
profile's numbers (a path only the *before* one has is there with zeros). Each
view of it also carries ``baseline``: the *before* profile's ``calls, wall,
wall_self, cpu, cpu_self`` per node, in the view's node order, and its root's
times in ``baseline_root``; ``DATA.diff`` names the two profiles. Seeing
``DATA.diff``, the page colours each frame by its change (red grew, blue
shrank, white the same), shows both values and the change in its tooltip,
and lets the widths be the *after* or the *before* profile's.
"""

from __future__ import annotations

from typing import Any

from ...diff import Diff, PathTable
from ...model import Function, Node, Snapshot, ThreadProfile, merge_threads
from .data import report_data
from .page import page

__all__ = ["diff_snapshot", "render_diff"]

#: The fields of ``baseline`` per node, in order.
BASELINE_FIELDS = ("calls", "wall", "wall_self", "cpu", "cpu_self")


def diff_snapshot(diff: Diff) -> Snapshot:
    """The snapshot the page draws: one thread, every path of either
    profile, with the *after* numbers; node ``p`` is path ``p``."""
    table = diff.paths
    if table is None:
        raise ValueError("a pstats file has no call paths: the HTML diff needs two .tprof files")
    functions = [
        Function(k, f.kind, f.name, f.qualname, f.filename, f.lineno)
        for k, f in enumerate(table.funcs)
    ]
    calls, prim, wall, wself, cpu, cself = table.after
    nodes = [
        Node(
            p,
            table.parent[p],
            table.func[p],
            calls[p],
            prim[p],
            wall[p],
            wself[p],
            cpu[p],
            cself[p],
        )
        for p in range(len(table))
    ]
    for node in nodes[1:]:
        nodes[node.parent].children.append(node.id)
    root = nodes[0]
    root.calls = root.prim_calls = root.wall_self = root.cpu_self = 0
    root.wall = sum(nodes[c].wall for c in root.children)
    root.cpu = sum(nodes[c].cpu for c in root.children)
    after = diff.total.after
    thread = ThreadProfile(
        serial=0,
        ident=0,
        native_id=0,
        name="all threads",
        first_seen=0,
        last_seen=diff.durations[1],
        wall_time=after.wall if after else 0,
        cpu_time=after.cpu if after else 0,
        nodes=nodes,
    )
    return Snapshot(
        clock="wall",
        unit=1e-9,
        functions=functions,
        threads=[thread],
        cpu_mode="exact" if diff.has_cpu else "none",
        duration=diff.durations[1],
        argv=[f"diff {diff.before_name} {diff.after_name}"],
        warnings=list(diff.warnings),
    )


def _baseline(tree: ThreadProfile, table: PathTable) -> tuple[list[int], list[int]]:
    """The *before* numbers of ``tree``'s nodes in the page's order (its
    pre-order walk), and of its root."""
    calls, _prim, wall, wself, cpu, cself = table.before
    path_of = {0: 0}
    out: list[int] = []
    for node, _depth in tree.walk():
        p = table.find(path_of[node.parent], node.func)
        path_of[node.id] = p
        out += (calls[p], wall[p], wself[p], cpu[p], cself[p])
    kids = [path_of[c] for c in tree.root.children]
    root = [sum(wall[p] for p in kids), 0, sum(cpu[p] for p in kids), 0]
    return out, root


def page_data(diff: Diff) -> dict[str, Any]:
    """The page's data: the report's, with the baseline of every view."""
    snap = diff_snapshot(diff)
    # the baselines follow every node of the views: nothing is folded
    data = report_data(snap, node_budget=1 << 62)
    assert diff.paths is not None
    views = [(data["threads"][0]["view"], snap.threads[0])]
    if "view_of" not in data["merged"]["all"]:  # not the thread's own view
        views.append((data["merged"]["all"], merge_threads(snap.threads)))
    for view, tree in views:
        view["baseline"], view["baseline_root"] = _baseline(tree, diff.paths)
    before = diff.total.before
    data["diff"] = {
        "before": diff.before_name,
        "after": diff.after_name,
        "before_wall": before.wall if before else 0,
        "before_cpu": before.cpu if before else 0,
        "before_duration": diff.durations[0],
    }
    return data


def render_diff(diff: Diff) -> str:
    """The whole HTML page of ``diff``."""
    return page(f"threadprof diff: {diff.before_name} -> {diff.after_name}", page_data(diff))
