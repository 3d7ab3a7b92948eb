# SPDX-License-Identifier: MIT
"""Contention: which lock made which thread wait, for how long, and who held it.

Computed from each thread's lock calls (:class:`~threadprof.model.LockOps`:
every call of a method of ``_thread``'s lock or RLock that acquires or
releases, with its times, the lock's address and its node) and the call
paths around them (:mod:`threadprof.lockuses`). Every ``threading`` and
``queue`` primitive is built on those two locks, so the call path says which
primitive a call served:

* A lock is known by its address. Its kind is the primitive of the standard
  library its calls served: the innermost one around them other than a
  ``Condition`` (``queue.Queue``, ``threading.Event``,
  ``threading.Semaphore``, ``concurrent.futures.Future``...), else
  ``threading.Condition``, else the lock's own type (``threading.Lock``,
  ``threading.RLock``); its site is the code outside the standard library
  that first used it.
* A wait is the time in a call that acquires. Inside ``Condition.wait`` (what
  ``Queue.get``, ``Event.wait``, ``Semaphore.acquire`` and futures wait in),
  the call that blocks acquires a lock made for that one wait: its wait is
  counted to the condition's lock (the one ``Condition.wait`` released), and
  the thread whose ``notify`` released it woke it.
* A hold runs from the end of a successful acquire to the call that
  releases. An acquire that ends while another thread holds the lock failed
  (a timeout, a non-blocking try): a wait, no hold. An RLock's acquires by its
  owner nest.
* A ``queue.SimpleQueue`` (a ``ThreadPoolExecutor``'s queue of work) is
  known by its own calls: each ``get`` is a wait that took an item if one
  was there when it returned (the items counted from the ``put`` calls seen,
  a blocking ``get`` always takes one); a ``put`` wakes the ``get`` it ended.
* A blocker of a wait is a hold of the same lock by another thread that
  overlapped it (weighted by the overlap), or the notify that woke it
  (weighted by the whole wait).

Views render :class:`Contention`; nothing here knows an output format.
"""

from __future__ import annotations

import bisect

from . import lockuses
from ._record import Record
from .lockuses import ACQ, PROBE, PUT, REL, SIMPLE_QUEUE, WAIT, WAKE, Use
from .model import Snapshot

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Blocker", "Contention", "LockStats", "analyse", "lock_name", "site_name"]


class Blocker(Record):
    """One thread and call path that made another wait on a lock."""

    __slots__ = ("holder", "holder_site", "how", "waiter", "waiter_site", "weight")
    waiter: int  # the waiting thread's index in the snapshot
    waiter_site: int  # the node, in the waiter's tree, of the code that waited
    holder: int  # the blocking thread's index
    holder_site: int  # the node, in the holder's tree, of the code that held (or notified)
    how: str  # "held": it held the lock meanwhile; "woke": its notify ended the wait
    weight: int  # the wait it caused, in ticks

    def __init__(
        self,
        waiter: int,
        waiter_site: int,
        holder: int,
        holder_site: int,
        how: str,
        weight: int,
    ) -> None:
        self.waiter = waiter
        self.waiter_site = waiter_site
        self.holder = holder
        self.holder_site = holder_site
        self.how = how
        self.weight = weight


class LockStats(Record):
    """What one lock made its threads wait, and who held it.

    ``site`` is ``(thread index, node)``: the code outside the standard
    library that first used the lock (its creation is not seen). The tables
    map a thread index (``by_waiter``, ``by_holder``) or a ``(thread index,
    node)`` call site (``by_site``) to ``[count, ticks]``.
    """

    __slots__ = (
        "acquired",
        "address",
        "blockers",
        "by_holder",
        "by_site",
        "by_waiter",
        "hold_time",
        "holds",
        "holds_by_call",
        "kind",
        "max_hold",
        "max_wait",
        "site",
        "wait_time",
        "waits",
        "waits_by_call",
    )
    address: int
    kind: str  # "threading.Lock", "queue.Queue", ...
    site: tuple[int, int]
    waits: int  # calls that acquire (or wait on the condition), failed ones included
    acquired: int  # of those, the ones that got the lock (or were woken)
    wait_time: int
    max_wait: int
    holds: int
    hold_time: int
    max_hold: int
    by_waiter: dict[int, list[int]]
    by_holder: dict[int, list[int]]
    by_site: dict[tuple[int, int], list[int]]
    blockers: list[Blocker]  # heaviest first
    #: ``(thread index, node)`` of each call that acquired (its own node, its
    #: whole stack) -> ``[count, wait]``; and -> ``[count, hold]`` of the holds
    #: it began
    waits_by_call: dict[tuple[int, int], list[int]]
    holds_by_call: dict[tuple[int, int], list[int]]

    def __init__(
        self,
        address: int,
        kind: str,
        site: tuple[int, int],
        waits: int = 0,
        acquired: int = 0,
        wait_time: int = 0,
        max_wait: int = 0,
        holds: int = 0,
        hold_time: int = 0,
        max_hold: int = 0,
        by_waiter: dict[int, list[int]] | None = None,
        by_holder: dict[int, list[int]] | None = None,
        by_site: dict[tuple[int, int], list[int]] | None = None,
        blockers: list[Blocker] | None = None,
        waits_by_call: dict[tuple[int, int], list[int]] | None = None,
        holds_by_call: dict[tuple[int, int], list[int]] | None = None,
    ) -> None:
        self.address = address
        self.kind = kind
        self.site = site
        self.waits = waits
        self.acquired = acquired
        self.wait_time = wait_time
        self.max_wait = max_wait
        self.holds = holds
        self.hold_time = hold_time
        self.max_hold = max_hold
        self.by_waiter = {} if by_waiter is None else by_waiter
        self.by_holder = {} if by_holder is None else by_holder
        self.by_site = {} if by_site is None else by_site
        self.blockers = [] if blockers is None else blockers
        self.waits_by_call = {} if waits_by_call is None else waits_by_call
        self.holds_by_call = {} if holds_by_call is None else holds_by_call


def site_name(snapshot: Snapshot, thread: int, node: int) -> str | None:
    """``qualname (file:line)`` of the code at ``node`` of a thread's tree (the
    file's base name), as labels name it; ``None`` for the root."""
    if node <= 0:
        return None
    f = snapshot.functions[snapshot.threads[thread].path(node)[-1]]
    base = f.filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{f.qualname} ({base}:{f.lineno})"


def lock_name(snapshot: Snapshot, lock: LockStats) -> str:
    """``kind in qualname (file:line)``: what the lock is and the code that
    first used it."""
    site = site_name(snapshot, *lock.site)
    return lock.kind if site is None else f"{lock.kind} in {site}"


class Contention(Record):
    """The locks of a snapshot, the ones that made their threads wait longest
    first."""

    __slots__ = ("locks",)
    locks: list[LockStats]

    def __init__(self, locks: list[LockStats]) -> None:
        self.locks = locks

    def blockers(self) -> list[tuple[LockStats, Blocker]]:
        """Every blocker of every lock, heaviest first."""
        pairs = [(lock, b) for lock in self.locks for b in lock.blockers]
        pairs.sort(key=lambda p: -p[1].weight)
        return pairs


#: The releases by a notify, by the address of the lock released: their
#: start times and themselves, in time order.
_Wakes = dict[int, tuple[list[int], list[Use]]]


#: A hold: (start, end, thread, site, the node of the call that acquired).
_Hold = tuple[int, int, int, int, int]


def _hold(start: int, end: int, holder: Use) -> _Hold:
    return (start, end, holder.thread, holder.site, holder.node)


def _add(table: dict[Any, list[int]], key: Any, ticks: int) -> None:
    row = table.get(key)
    if row is None:
        table[key] = [1, ticks]
    else:
        row[0] += 1
        row[1] += ticks


def analyse(snapshot: Snapshot) -> Contention:
    """The :class:`Contention` of a snapshot's threads (not of its tasks: a
    task's lock calls are its thread's)."""
    # a lock is an address in one process (a forked child's locks have its
    # parent's addresses)
    by_obj: dict[tuple[int, int], list[Use]] = {}
    wakes: dict[tuple[int, int], list[Use]] = {}
    ends: dict[int, int] = {}
    for index, thread in enumerate(snapshot.threads):
        ends[index] = thread.last_seen
        process = thread.process
        for use in lockuses.uses(snapshot, index, thread):
            what = use.what
            if what == PROBE:
                continue
            if what == WAKE or what == PUT:
                wakes.setdefault((process, use.via or use.obj), []).append(use)
            if what != WAKE:
                by_obj.setdefault((process, use.obj), []).append(use)
    woken: dict[int, _Wakes] = {}  # by process
    for (process, obj), uses in wakes.items():
        uses.sort(key=lambda u: u.start)
        woken.setdefault(process, {})[obj] = ([u.start for u in uses], uses)
    locks = [
        _lock(obj, life, woken.get(process, {}), ends)
        for (process, obj), uses in by_obj.items()
        for life in _lives(_in_order(uses))
    ]
    locks = [lock for lock in locks if lock.waits]
    locks.sort(key=lambda lock: (-lock.wait_time, -lock.hold_time, lock.address))
    return Contention(locks)


def _in_order(uses: list[Use]) -> list[Use]:
    """Uses in time order: an acquire when it returns, a release (and a put)
    when it is called."""
    uses.sort(key=lambda u: u.start if u.what == REL or u.what == PUT else u.end)
    return uses


def _family(kind: str | None) -> str | None:
    """The primitive a kind of use belongs to: one primitive's lock is used
    by the code of several (a BoundedSemaphore acquires in
    ``Semaphore.acquire``; a future's lock is taken by its own methods and by
    ``concurrent.futures``' helpers: ``wait``, ``as_completed``...)."""
    if kind is None:
        return None
    if kind.startswith("concurrent.futures."):
        return "concurrent.futures"
    if kind == "threading.BoundedSemaphore":
        return "threading.Semaphore"
    return kind


#: The kind a lock is named by when one of its uses has it: the primitive
#: whose code the others share.
_NAMED_BY = ("concurrent.futures.Future", "threading.BoundedSemaphore")


def _lives(uses: list[Use]) -> list[list[Use]]:
    """The uses of one address split where one lock's life must have ended and
    another's begun at the same address: where the primitive around the uses
    changes (a lock of an Event is the Event's until it is freed). A plain
    lock may serve a Condition too, so those two do not split."""
    lives: list[list[Use]] = []
    current: str | None = None
    for u in uses:
        family = _family(u.kind) if u.prim else None
        if not lives or (
            family != current
            and "threading.Condition" not in (family, current)
            and not (u.what == REL and family is None)
        ):
            lives.append([])
            current = family
        lives[-1].append(u)
    return lives


def _lock(obj: int, uses: list[Use], wakes: _Wakes, ends: dict[int, int]) -> LockStats:
    kinds = {u.kind for u in uses if u.prim}
    kind = next((k for k in _NAMED_BY if k in kinds), None)
    kind = kind or next((u.kind for u in uses if u.prim), None) or _lock_kind(uses)
    first = next((u for u in uses if u.site > 0), uses[0])
    reentrant = any(u.kind == "threading.RLock" for u in uses)
    holds: list[_Hold] = []
    holder: Use | None = None
    depth = 0
    saved: dict[int, int] = {}  # an RLock's levels released by _release_save, by thread
    since = 0
    waits: list[Use] = []
    by_call: dict[tuple[int, int], list[int]] = {}  # (thread, node) -> [count, wait]
    sites: dict[tuple[int, int], int] = {}  # (thread, node) -> site
    acquired = total = longest = 0
    items = 0  # a SimpleQueue's items put and not yet taken
    for u in uses:  # the hot loop of a report: the table updates are inline
        what = u.what
        if what == PUT:
            items += 1
            continue
        if what == ACQ or what == WAIT:
            wait = u.end - u.start
            total += wait
            if wait > longest:
                longest = wait
            call = (u.thread, u.node)
            row = by_call.get(call)
            if row is None:
                by_call[call] = [1, wait]
                sites[call] = u.site
            else:
                row[0] += 1
                row[1] += wait
            waits.append(u)
            if what == WAIT:
                if u.kind != SIMPLE_QUEUE:
                    acquired += 1  # woken (or timed out: both end the wait)
                elif items > 0:
                    items -= 1
                    acquired += 1
                elif not u.nowait:
                    acquired += 1  # an item put before the profile began
                continue
            if holder is not None and holder.thread != u.thread and ends[holder.thread] < u.end:
                # its holder ended before: released as the thread ended (a
                # thread's own lock, which Thread.join waits for until 3.12)
                holds.append(_hold(since, max(since, ends[holder.thread]), holder))
                holder = None
            if holder is None:
                holder, since, depth = u, u.end, saved.pop(u.thread, 1)
                acquired += 1
            elif reentrant and holder.thread == u.thread:
                depth += 1
                acquired += 1
            continue  # else it failed: the lock was held
        if holder is None or (reentrant and holder.thread != u.thread):
            continue  # not held by the caller: an error of the program's
        if reentrant and u.full:
            saved[u.thread] = depth
            depth = 1
        depth -= 1
        if depth > 0:
            continue
        holds.append(_hold(since, u.start, holder))
        holder = None
    if holder is not None:  # still held when the thread was last seen
        holds.append(_hold(since, max(since, ends[holder.thread]), holder))
    lock = LockStats(obj, kind, (first.thread, first.site))
    lock.waits, lock.acquired, lock.wait_time, lock.max_wait = len(waits), acquired, total, longest
    lock.waits_by_call = by_call
    for (thread, node), (count, ticks) in by_call.items():
        for table, key in (
            (lock.by_waiter, thread),
            (lock.by_site, (thread, sites[thread, node])),
        ):
            row = table.get(key)
            if row is None:
                table[key] = [count, ticks]
            else:
                row[0] += count
                row[1] += ticks
    for start, end, thread, _site, node in holds:
        held = end - start
        lock.holds += 1
        lock.hold_time += held
        if held > lock.max_hold:
            lock.max_hold = held
        _add(lock.by_holder, thread, held)
        _add(lock.holds_by_call, (thread, node), held)
    lock.blockers = _blockers(waits, holds, wakes)
    return lock


def _lock_kind(uses: list[Use]) -> str:
    return "threading.RLock" if any(u.kind == "threading.RLock" for u in uses) else uses[0].kind


def _blockers(waits: list[Use], holds: list[_Hold], wakes: _Wakes) -> list[Blocker]:
    """Who made each wait last: the overlapping holds of other threads, and the
    notify that woke a wait on a condition."""
    starts = [h[0] for h in holds]  # holds never overlap: sorted by start and by end
    weights: dict[tuple[int, int, int, int, str], int] = {}
    get = weights.get
    find = bisect.bisect_left
    for u in waits:
        if u.what == WAIT:
            woke = _waker(u, wakes)
            if woke is not None:
                key = (u.thread, u.site, woke.thread, woke.site, "woke")
                weights[key] = get(key, 0) + (u.end - u.start)
            continue
        w0, w1, me = u.start, u.end, u.thread
        i = find(starts, w1) - 1
        while i >= 0:
            start, end, thread, site, _node = holds[i]
            if end <= w0:
                break
            if thread != me:
                overlap = (end if end < w1 else w1) - (start if start > w0 else w0)
                if overlap > 0:
                    key = (me, u.site, thread, site, "held")
                    weights[key] = get(key, 0) + overlap
            i -= 1
    out = [Blocker(*key, weight) for key, weight in weights.items()]
    out.sort(key=lambda b: (-b.weight, b.waiter, b.holder))
    return out


def _waker(u: Use, wakes: _Wakes) -> Use | None:
    """The notify, by another thread, that released the lock the wait ``u``
    blocked on while it waited: the last one before it ended."""
    starts, candidates = wakes.get(u.via, ((), ()))
    i = bisect.bisect_right(starts, u.end) - 1
    while i >= 0 and candidates[i].start >= u.start:
        if candidates[i].thread != u.thread:
            return candidates[i]
        i -= 1
    return None
