# SPDX-License-Identifier: MIT
"""The contention section of the terminal report and of ``--json``: the locks
that made threads wait longest, and who made whom wait
(:mod:`threadprof.contention` computes them; docs/contention.md)."""

from __future__ import annotations

from .cells import View, fit, fit_left, format_seconds, label, printable
from .contention import Blocker, Contention, LockStats
from .model import Function, Snapshot, thread_group_key
from .offcpu import OffCpu, ThreadSplit
from .pools import PoolStats

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "BLOCKER_LIMIT",
    "LOCK_LIMIT",
    "OFFCPU_LIMIT",
    "contention_json",
    "contention_lines",
    "offcpu_json",
    "offcpu_lines",
    "pool_json",
    "pool_lines",
]

#: The locks the terminal report lists, those that made threads wait longest first.
LOCK_LIMIT = 10
#: The blockers it lists, the heaviest first.
BLOCKER_LIMIT = 10

_T = 9  # a time's column


def _site(snapshot: Snapshot, thread: int, node: int, width: int, view: View) -> str:
    """The code at ``node`` of a thread's tree, labelled in ``width`` columns
    (the root: the standard library's code alone, a thread's start or end)."""
    if node <= 0:
        return "(the standard library)"
    t = snapshot.threads[thread]
    return printable(label(snapshot.functions[t.path(node)[-1]], width, view))


def lock_name(snapshot: Snapshot, lock: LockStats, width: int, view: View) -> str:
    """``kind in site``: what the lock is and the code that first used it."""
    head = f"{lock.kind} in "
    thread, node = lock.site
    if node <= 0:
        return fit(lock.kind, width)
    return head + _site(snapshot, thread, node, max(width - len(head), 10), view)


def contention_lines(
    snapshot: Snapshot, contention: Contention, width: int, view: View
) -> list[str]:
    """The locks that made threads wait, the longest first, and the blockers."""
    locks = [lock for lock in contention.locks if lock.wait_time > 0]
    if not locks:
        return []
    sec = snapshot.unit
    numbers = f"{{:>6}} {{:>{_T}}} {{:>{_T}}} {{:>6}} {{:>{_T}}} {{:>{_T}}}"
    name_w = width - 2 - len(numbers.format(*[""] * 6)) - 1
    apart = name_w < 36  # too narrow: each lock's name on a line of its own
    if apart:
        name_w = width - 2
    rows: dict[str, list[LockStats]] = {}  # the locks of one kind and site share a row
    for lock in locks:
        rows.setdefault(lock_name(snapshot, lock, name_w, view), []).append(lock)
    shown = list(rows.items())[:LOCK_LIMIT]
    total = format_seconds(sum(lock.wait_time for lock in locks) * sec)
    what = f"the {len(shown)} longest" if len(shown) < len(rows) else "all"
    head = numbers.format("waits", "waited", "longest", "holds", "held", "longest")
    title = "lock: kind in the code that first used it"
    lines = [
        "",
        fit(f"Locks that made threads wait: {len(locks)}, {total} in all, {what}:", width),
        *([f"  {title}", f"  {head}"] if apart else [fit(f"  {title:<{name_w}} {head}", width)]),
    ]
    for name, group in shown:
        holds = sum(lock.holds for lock in group)
        cells = numbers.format(
            str(sum(lock.waits for lock in group)),
            format_seconds(sum(lock.wait_time for lock in group) * sec),
            format_seconds(max(lock.max_wait for lock in group) * sec),
            str(holds) if holds else "-",
            format_seconds(sum(lock.hold_time for lock in group) * sec) if holds else "-",
            format_seconds(max(lock.max_hold for lock in group) * sec) if holds else "-",
        )
        if len(group) > 1:
            name = f"{len(group)} x {name}"
        name = fit_left(name, name_w)
        lines += [f"  {name}", f"  {cells}"] if apart else [f"  {name:<{name_w}} {cells}"]
    pairs = [(lock, b) for lock, b in contention.blockers() if b.weight > 0]
    if pairs:
        lines += _blocker_lines(snapshot, pairs, width, view)
    return lines


def _blocker_lines(
    snapshot: Snapshot, pairs: list[tuple[LockStats, Blocker]], width: int, view: View
) -> list[str]:
    """The heaviest blockers, under the locks they are of."""
    shown = pairs[:BLOCKER_LIMIT]
    what = f"the {len(shown)} heaviest" if len(shown) < len(pairs) else "all"
    lines = [
        "",
        fit(f"Who made whom wait: {len(pairs)} pairs, {what}, by lock:", width),
        fit(f"  {'waited':>{_T}}  thread: the code that waited", width),
        fit(f"  {'':>{_T}}    held by (or woken by) thread: code", width),
    ]
    sec = snapshot.unit
    side_w = width - _T - 5
    by_lock: dict[str, list[Blocker]] = {}  # locks of one name share a heading
    for lock, b in shown:
        by_lock.setdefault(lock_name(snapshot, lock, width - 6, view), []).append(b)
    for name, blockers in by_lock.items():
        lines.append(fit(f"  on {name}:", width))
        for b in blockers:
            verb = "held by" if b.how == "held" else "woken by"
            waiter = _who(snapshot, b.waiter, b.waiter_site, side_w, view)
            holder = _who(snapshot, b.holder, b.holder_site, side_w - len(verb) - 3, view)
            lines.append(fit(f"  {format_seconds(b.weight * sec):>{_T}}  {waiter}", width))
            lines.append(fit(f"  {'':>{_T}}    {verb} {holder}", width))
    return lines


def _who(snapshot: Snapshot, thread: int, node: int, width: int, view: View) -> str:
    """``thread: code``, the code cut first."""
    name = printable(snapshot.threads[thread].name)
    code = _site(snapshot, thread, node, max(width - len(name) - 2, 12), view)
    return fit(f"{name}: {code}", width)


def _thread_json(snapshot: Snapshot, thread: int) -> dict[str, Any]:
    t = snapshot.threads[thread]
    return {"thread": t.name, "ident": t.ident, "pid": snapshot.pid_of(t)}


def _site_json(snapshot: Snapshot, thread: int, node: int) -> dict[str, Any]:
    """A thread and the code in it (``None`` for none: the thread's root)."""
    t = snapshot.threads[thread]
    func = snapshot.functions[t.path(node)[-1]] if node > 0 else None
    return {**_thread_json(snapshot, thread), "function": _func_json(func)}


def _func_json(func: Function | None) -> dict[str, Any] | None:
    if func is None:
        return None
    return {
        "name": func.name,
        "qualname": func.qualname,
        "file": func.filename,
        "line": func.lineno,
    }


def contention_json(snapshot: Snapshot, contention: Contention) -> list[dict[str, Any]]:
    """``--json``'s ``contention``: every lock that was waited for, in seconds."""
    sec = snapshot.unit

    def threads(table: dict[int, list[int]]) -> list[dict[str, Any]]:
        rows = sorted(table.items(), key=lambda kv: -kv[1][1])
        return [
            {**_thread_json(snapshot, thread), "count": count, "time": ticks * sec}
            for thread, (count, ticks) in rows
        ]

    out = []
    for lock in contention.locks:
        sites = sorted(lock.by_site.items(), key=lambda kv: -kv[1][1])
        out.append(
            {
                "kind": lock.kind,
                "address": lock.address,
                "site": _site_json(snapshot, *lock.site),
                "waits": lock.waits,
                "acquired": lock.acquired,
                "wait": lock.wait_time * sec,
                "max_wait": lock.max_wait * sec,
                "holds": lock.holds,
                "hold": lock.hold_time * sec,
                "max_hold": lock.max_hold * sec,
                "by_waiter": threads(lock.by_waiter),
                "by_holder": threads(lock.by_holder),
                "by_site": [
                    {**_site_json(snapshot, t, node), "count": count, "wait": ticks * sec}
                    for (t, node), (count, ticks) in sites
                ],
                "blockers": [
                    {
                        "waiter": _site_json(snapshot, b.waiter, b.waiter_site),
                        "holder": _site_json(snapshot, b.holder, b.holder_site),
                        "how": b.how,
                        "wait": b.weight * sec,
                    }
                    for b in lock.blockers
                ],
            }
        )
    return out


#: The threads and the functions the off-CPU section lists, the most first.
OFFCPU_LIMIT = 10


def _kinds(blocked: dict[str, int], sec: float) -> str:
    parts = sorted(blocked.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{kind} {format_seconds(ticks * sec)}" for kind, ticks in parts)


def _grouped(snapshot: Snapshot, rows: list[ThreadSplit]) -> list[tuple[str, list[ThreadSplit]]]:
    """The rows of threads whose names share a pattern (``worker-*``) as one,
    named ``pattern (N)``, the most off-CPU time first."""
    groups: dict[str, list[ThreadSplit]] = {}
    for r in rows:
        groups.setdefault(thread_group_key(snapshot.threads[r.thread].name), []).append(r)
    out = []
    for key, members in groups.items():
        name = snapshot.threads[members[0].thread].name
        out.append((name if len(members) == 1 else f"{key} ({len(members)})", members))
    out.sort(key=lambda kv: -sum(r.offcpu for r in kv[1]))
    return out


def offcpu_lines(snapshot: Snapshot, offcpu: OffCpu | None, width: int, view: View) -> list[str]:
    """Each thread's and function's off-CPU time, blocked in known waits or
    runnable (waiting for the GIL or a CPU); threads whose names share a
    pattern on one line, with their sums."""
    if offcpu is None:
        return []
    groups = _grouped(snapshot, [t for t in offcpu.threads if t.offcpu > 0])
    if not groups:
        return []
    sec = snapshot.unit
    runnable = "for the GIL or a CPU" if offcpu.gil else "for a CPU; no GIL"
    numbers = f"{{:>{_T}}} {{:>{_T}}} {{:>{_T}}}"
    head = numbers.format("off-CPU", "blocked", "runnable")
    shown = groups[:OFFCPU_LIMIT]
    longest = max(len(printable(title)) for title, _ in shown)
    name_w = max(16, min(longest, width - 2 - len(head) - 1 - 16))
    what = f"the {len(shown)} most" if len(shown) < len(groups) else "all"
    lines = [
        "",
        fit(f"Off-CPU time: blocked in known waits, or runnable ({runnable}):", width),
        fit(f"  {'threads (' + what + ')':<{name_w}} {head}  blocked in", width),
    ]
    for title, members in shown:
        blocked: dict[str, int] = {}
        for r in members:
            for kind, ticks in r.blocked.items():
                blocked[kind] = blocked.get(kind, 0) + ticks
        name = fit_left(printable(title), name_w)
        cells = numbers.format(
            format_seconds(sum(r.offcpu for r in members) * sec),
            format_seconds(sum(blocked.values()) * sec),
            format_seconds(sum(r.runnable for r in members) * sec),
        )
        line = f"  {name:<{name_w}} {cells}  {_kinds(blocked, sec)}"
        lines.append(fit(line.rstrip(), width))
    funcs = [
        f for f in offcpu.functions if f.offcpu > 0 and not view.hidden(snapshot.functions[f.func])
    ][:OFFCPU_LIMIT]
    if funcs:
        label_w = max(width - 2 - len(head) - 1, 20)
        lines += [
            "",
            fit(f"  {'function, and the waits it called':<{label_w}} {head}", width),
        ]
        functions = snapshot.functions
        for f in funcs:
            text = printable(fit_left(label(functions[f.func], label_w, view), label_w))
            cells = numbers.format(
                format_seconds(f.offcpu * sec),
                format_seconds(sum(f.blocked.values()) * sec),
                format_seconds(f.runnable * sec),
            )
            lines.append(f"  {text:<{label_w}} {cells}")
            for callee, ticks in sorted(f.blocked.items(), key=lambda kv: -kv[1])[:3]:
                lines.append(
                    fit(
                        f"      {format_seconds(ticks * sec):>{_T}} in "
                        f"{label(functions[callee], width - _T - 10, view)}",
                        width,
                    )
                )
    return lines


def offcpu_json(snapshot: Snapshot, offcpu: OffCpu | None) -> dict[str, Any] | None:
    """``--json``'s ``offcpu``: every thread's split and every function's, in
    seconds; ``None`` without CPU time."""
    if offcpu is None:
        return None
    sec = snapshot.unit
    functions = snapshot.functions
    return {
        "gil": offcpu.gil,
        "threads": [
            {
                **_thread_json(snapshot, t.thread),
                "offcpu": t.offcpu * sec,
                "blocked": {kind: ticks * sec for kind, ticks in t.blocked.items()},
                "runnable": t.runnable * sec,
            }
            for t in offcpu.threads
        ],
        "functions": [
            {
                "function": _func_json(functions[f.func]),
                "offcpu": f.offcpu * sec,
                "blocked": [
                    {"call": _func_json(functions[callee]), "time": ticks * sec}
                    for callee, ticks in sorted(f.blocked.items(), key=lambda kv: -kv[1])
                ],
                "runnable": f.runnable * sec,
            }
            for f in offcpu.functions
        ],
    }


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole > 0 else "-"


def _tasks(tasks: list[int] | None) -> str:
    if not tasks:
        return "-"
    return f"{min(tasks)} / {sum(tasks) / len(tasks):.1f} / {max(tasks)}"


def pool_lines(snapshot: Snapshot, stats: list[PoolStats], width: int) -> list[str]:
    """Each pool's busy, blocked and idle shares, its tasks per worker, and
    how long work waited in its queues while a worker was free."""
    if not stats:
        return []
    cells = "{:>7} {:>6} {:>8} {:>6}  {}"
    head = cells.format("workers", "busy", "blocked", "idle", "tasks min / mean / max")
    name_w = max(width - 2 - len(head) - 1, 16)
    lines = [
        "",
        fit("Pools: their workers' wall time busy (running or runnable), blocked in", width),
        fit("other waits, or idle (waiting for work), and the tasks each worker ran:", width),
        fit(f"  {'pool':<{name_w}} {head}", width),
    ]
    for p in stats:
        name = fit_left(printable(p.key), name_w)
        row = cells.format(
            len(p.threads),
            _share(p.busy, p.wall),
            _share(p.blocked, p.wall),
            _share(p.idle, p.wall),
            _tasks(p.tasks),
        )
        lines.append(fit(f"  {name:<{name_w}} {row}", width))
        if p.queued is not None and p.underused is not None:
            queued = format_seconds(p.queued * snapshot.unit)
            underused = format_seconds(p.underused * snapshot.unit)
            lines.append(
                fit(
                    f"    work queued {queued}, of it {underused} with fewer than all"
                    " workers busy",
                    width,
                )
            )
    return lines


def pool_json(snapshot: Snapshot, stats: list[PoolStats]) -> list[dict[str, Any]]:
    """``--json``'s ``pools``, times in seconds."""
    sec = snapshot.unit
    return [
        {
            "key": p.key,
            "threads": [_thread_json(snapshot, i) for i in p.threads],
            "wall": p.wall * sec,
            "busy": p.busy * sec,
            "blocked": p.blocked * sec,
            "idle": p.idle * sec,
            "tasks": p.tasks,
            "queued": None if p.queued is None else p.queued * sec,
            "underused": None if p.underused is None else p.underused * sec,
        }
        for p in stats
    ]
