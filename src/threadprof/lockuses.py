# SPDX-License-Identifier: MIT
"""What each lock call was: its call path read as a use of a lock or a queue.

A thread's lock calls (:class:`~threadprof.model.LockOps`) are calls of the
methods of ``_thread``'s lock and RLock that acquire or release, of a thread
handle's ``join`` and of ``_queue.SimpleQueue``'s ``get`` and ``put``. Every
``threading`` and ``queue`` primitive is built on them, so the call path
around a call says which primitive it served and what it did there:

* an acquire, a release (a hold runs between them);
* a wait: the blocking acquire inside ``Condition.wait`` (counted to the
  condition's lock, the one ``Condition.wait`` released), a join, a
  ``SimpleQueue.get``;
* a wake: a release inside ``Condition.notify`` (of a waiter's lock);
* a put: a ``SimpleQueue.put`` (it gives an item; a get takes one);
* a probe: ``Condition._is_owned``'s try of its lock, which is no use of the
  lock but says that a ``notify`` ran (``Queue.put`` and ``Queue.get`` notify
  once for each item they put or take).

:mod:`threadprof.contention` makes locks of them, :mod:`threadprof.queues`
queues.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._record import Record
from .model import LOCK_ACQUIRE, Function, Snapshot, ThreadProfile

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ACQ",
    "PROBE",
    "PUT",
    "REL",
    "SIMPLE_QUEUE",
    "WAIT",
    "WAKE",
    "Use",
    "primitive_module",
    "uses",
]

#: The standard library's files whose code makes up the primitives, by the
#: module name a lock's kind is given in.
_PRIMITIVE_FILES = (
    ("/concurrent/futures/_base.py", "concurrent.futures"),
    ("/concurrent/futures/thread.py", "concurrent.futures"),
    ("/threading.py", "threading"),
    ("/queue.py", "queue"),
)

#: The kind of a ``_queue.SimpleQueue``'s calls.
SIMPLE_QUEUE = "queue.SimpleQueue"


def primitive_module(f: Function) -> str | None:
    """The primitive module of a Python function of the standard library's
    primitives, else ``None``."""
    if f.kind != "python":
        return None
    name = f.filename.replace("\\", "/")
    for suffix, module in _PRIMITIVE_FILES:
        if name.endswith(suffix):
            return module
    return None


class _Where(Record):
    """What the call path of one lock call says about it."""

    __slots__ = ("cond_wait", "inner", "kind", "notify", "site", "skip")
    kind: str | None  # the primitive's kind, if any
    inner: str  # the qualname of the primitive's function ("" if none)
    site: int  # the nearest node outside the primitives
    cond_wait: bool  # inside Condition.wait
    notify: bool  # inside Condition.notify
    skip: bool  # inside Condition._is_owned: a probe, not a use

    def __init__(
        self,
        kind: str | None,
        inner: str,
        site: int,
        cond_wait: bool,
        notify: bool,
        skip: bool,
    ) -> None:
        self.kind = kind
        self.inner = inner
        self.site = site
        self.cond_wait = cond_wait
        self.notify = notify
        self.skip = skip


def _where(functions: list[Function], parent: Any, func: Any, node: int) -> _Where:
    """The primitive a lock call served: the innermost function of the
    primitives' code around it that is not a ``Condition``'s (a Queue's,
    an Event's, a Future's... lock is used through a Condition, and both
    sides of it, a Future's ``result`` and its ``set_result``, name the
    Future), else the Condition; and the code outside them that used it."""
    kind = inner = None
    cond = None
    cond_wait = notify = skip = False
    up = parent[node]
    while up > 0:
        f = functions[func[up]]
        module = primitive_module(f)
        if module is None:
            break
        qualname = f.qualname
        cls = qualname.split(".", 1)[0]
        if cls == "Condition":
            cond = cond or f"{module}.{cls}"
        elif inner is None:
            inner, kind = qualname, f"{module}.{cls}"
        if qualname == "Condition.wait":
            cond_wait = True
        elif qualname in ("Condition.notify", "Condition.notify_all"):
            notify = True
        elif qualname == "Condition._is_owned":
            skip = True
        up = parent[up]
    return _Where(kind or cond, inner or "", max(up, 0), cond_wait, notify, skip)


def _c_kind(f: Function) -> str:
    """The kind of a lock acquired or released directly, from its method."""
    if "RLock" in f.name:
        return "threading.RLock"
    if "_ThreadHandle" in f.name:
        return "threading.Thread"
    if "SimpleQueue" in f.name:
        return SIMPLE_QUEUE
    return "threading.Lock"


# What a use of a lock is (Use.what): an acquire, a release, a wait on a
# condition (or a join, or a SimpleQueue's get), a notify that released a
# waiter, a SimpleQueue's put, a notify's probe of its lock.
ACQ, REL, WAIT, WAKE, PUT, PROBE = 0, 1, 2, 3, 4, 5


class Use(Record):
    """One lock call as a use of a lock (``what``: one of the constants above)."""

    __slots__ = (
        "end",
        "full",
        "inner",
        "kind",
        "node",
        "nowait",
        "obj",
        "prim",
        "site",
        "start",
        "thread",
        "via",
        "what",
    )

    def __init__(
        self,
        what: int,
        thread: int,
        obj: int,
        start: int,
        end: int,
        site: int,
        kind: str,
        prim: bool,
        full: bool = False,
        via: int = 0,
        node: int = 0,
        inner: str = "",
        nowait: bool = False,
    ) -> None:
        self.what = what
        self.thread = thread
        self.obj = obj  # the lock's address (a wait's: its condition's lock's)
        self.start = start
        self.end = end
        self.site = site
        self.kind = kind
        self.prim = prim  # kind is a primitive's, not the lock's own type
        self.full = full  # a release of all of an RLock's levels (_release_save)
        self.via = via  # a wait's: the lock made for it, which its notify releases
        self.node = node  # the call's own node
        self.inner = inner  # the qualname of the primitive's function (_where)
        self.nowait = nowait  # a SimpleQueue's get_nowait: it never waits


def uses(snapshot: Snapshot, index: int, thread: ThreadProfile) -> Iterable[Use]:
    """One thread's lock calls as uses, Condition.wait's told apart."""
    cols = thread.tree_columns()
    parent, func = cols.parent, cols.func
    functions = snapshot.functions
    cache: dict[int, tuple[_Where, bool, str, str, bool]] = {}  # by node
    waiter = cond = 0  # the Condition.wait in progress: its waiter lock and its lock
    stage = 0  # 0: none; 1: waiter taken; 2: condition released; 3: waited
    for start, end, obj, node, kind in thread.lock_ops:
        known = cache.get(node)
        if known is None:
            w = _where(functions, parent, func, node)
            f = functions[func[node]]
            c_kind = _c_kind(f)
            if c_kind == SIMPLE_QUEUE:  # a queue of its own, whoever calls it
                prim, lock_kind, nowait = True, c_kind, "get_nowait" in f.name
            else:
                prim, lock_kind, nowait = w.kind is not None, w.kind or c_kind, False
            known = cache[node] = (w, prim, lock_kind, c_kind, nowait)
        w, prim, lock_kind, c_kind, nowait = known
        what = ACQ if kind == LOCK_ACQUIRE else REL
        lock, via, full = obj, 0, False
        if w.skip:  # a probe: kept only as the sign of a notify
            if not (w.notify and what == ACQ):
                continue
            what = PROBE
        elif c_kind == SIMPLE_QUEUE:  # a get waits for an item, a put gives one
            what, via = (WAIT if what == ACQ else PUT), obj
        elif c_kind == "threading.Thread":  # a thread handle's join: a wait, no hold
            what = WAIT
        elif not w.cond_wait:
            stage = 0
            if w.notify and what == REL:
                what = WAKE
        elif what == ACQ:
            if stage == 2 and obj == waiter:
                stage, what, lock, via = 3, WAIT, cond, obj
            elif stage >= 2 and obj == cond:
                stage = 0
            else:  # a new wait: the lock made for it, taken at once
                waiter, stage = obj, 1
                continue
        elif stage == 1:
            cond, stage, full = obj, 2, True
        yield Use(
            what,
            index,
            lock,
            start,
            end,
            w.site,
            lock_kind,
            prim,
            full=full,
            via=via,
            node=node,
            inner=w.inner,
            nowait=nowait,
        )
