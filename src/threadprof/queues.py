# SPDX-License-Identifier: MIT
"""Queues of work: when items were put and taken, and who waited for them.

Read from the lock calls (:mod:`threadprof.lockuses`), for the two queues
the standard library's pools of threads take work from:

* ``queue.SimpleQueue`` (a ``ThreadPoolExecutor``'s): its own ``put`` and
  ``get`` calls. A put gives an item when it is called; a get takes one when
  it returns, if one is there (a ``get_nowait`` on an empty queue takes
  none). The ``None`` a ``ThreadPoolExecutor`` puts to stop its workers is no
  work: of the puts ``concurrent.futures`` makes itself, only
  ``ThreadPoolExecutor.submit``'s are. A worker that takes that ``None`` puts
  it back for the next one before it ends, so a get followed in its thread by
  such a put took a stop signal, however the gets of other threads that
  returned at about the same moment are ordered. From 3.12 a worker tries
  ``get_nowait`` first and blocks in ``get`` only when that found the queue
  empty, so such a ``get_nowait`` took nothing. Other gets take the items in
  the order they returned.
* ``queue.Queue`` (and its Lifo and Priority kinds): ``Queue.put`` and
  ``Queue.get`` call ``notify`` once for each item they put or take, and the
  notify's probe of the queue's lock is seen. A get waits for an item in its
  ``Condition.wait``.

Items put before the profile began are not seen: a queue's count starts at
zero and never goes below it.
"""

from __future__ import annotations

from ._record import Record
from .lockuses import PROBE, PUT, SIMPLE_QUEUE, WAIT, primitive_module, uses
from .model import Function, Snapshot

__all__ = ["QueueTrace", "queue_traces"]

#: ``Queue``'s methods that put or take an item (a use's ``inner``).
_QUEUE_PUTS = ("Queue.put", "Queue.put_nowait")
_QUEUE_GETS = ("Queue.get", "Queue.get_nowait")
#: Where a ``ThreadPoolExecutor`` puts its work.
_SUBMIT = "ThreadPoolExecutor.submit"
#: A step of a queue: (time, order, queue, what, thread, start, nowait).
_Step = tuple[int, int, tuple[int, int], int, int, int, bool]
#: A step's ``what`` for a SimpleQueue get known to have taken a stop
#: signal, and for one known to have found the queue empty.
_TOOK_STOP, _EMPTY = -WAIT - PUT, -WAIT - PROBE


class QueueTrace(Record):
    """One queue's items and waits, times in ticks, each list in time order."""

    __slots__ = ("address", "kind", "process", "puts", "takers", "takes", "waits")
    process: int  # the index of its process in the snapshot's processes
    address: int
    kind: str  # "queue.SimpleQueue" or "queue.Queue"
    puts: list[int]  # when each item of work was put
    takes: list[int]  # when one was taken
    takers: dict[int, int]  # by thread index: the items it took
    #: by thread index: the (start, end) of each wait for an item
    waits: dict[int, list[tuple[int, int]]]

    def __init__(
        self,
        process: int,
        address: int,
        kind: str,
        puts: list[int] | None = None,
        takes: list[int] | None = None,
        takers: dict[int, int] | None = None,
        waits: dict[int, list[tuple[int, int]]] | None = None,
    ) -> None:
        self.process = process
        self.address = address
        self.kind = kind
        self.puts = [] if puts is None else puts
        self.takes = [] if takes is None else takes
        self.takers = {} if takers is None else takers
        self.waits = {} if waits is None else waits


def _is_work(caller: Function) -> bool:
    """Whether a SimpleQueue's put gives work, by the function that called it:
    any but ``concurrent.futures``' own other than ``submit`` (its stop
    signals)."""
    return primitive_module(caller) != "concurrent.futures" or caller.qualname == _SUBMIT


def _marked(step: _Step, what: int) -> _Step:
    """A step, its ``what`` replaced."""
    time, order, key, _what, thread, start, nowait = step
    return (time, order, key, what, thread, start, nowait)


def queue_traces(snapshot: Snapshot) -> dict[tuple[int, int], QueueTrace]:
    """The queues of a snapshot's lock calls, by (process, address). A queue
    whose address was reused by another queue is one trace: its items are
    counted from what was seen."""
    # puts before takes at the same time
    steps: list[_Step] = []
    traces: dict[tuple[int, int], QueueTrace] = {}
    last_get: dict[tuple[int, tuple[int, int]], int] = {}  # (thread, queue): its step
    functions = snapshot.functions
    for index, thread in enumerate(snapshot.threads):
        cols = thread.tree_columns()
        process = thread.process
        for u in uses(snapshot, index, thread):
            what = u.what
            key = (process, u.obj)
            if u.kind == SIMPLE_QUEUE:
                kind = SIMPLE_QUEUE
                if what == PUT:  # work, or a stop signal: an item, but not of work
                    work = _is_work(functions[cols.func[cols.parent[u.node]]])
                    steps.append((u.start, 0, key, PUT if work else -PUT, index, u.start, False))
                    got = last_get.pop((index, key), None)
                    if not work and got is not None:  # passes on the stop it took
                        steps[got] = _marked(steps[got], _TOOK_STOP)
                elif what == WAIT:
                    got = last_get.get((index, key))
                    if got is not None and steps[got][6] and not u.nowait:
                        caller = functions[cols.func[cols.parent[u.node]]]
                        if primitive_module(caller) == "concurrent.futures":
                            steps[got] = _marked(steps[got], _EMPTY)
                    last_get[index, key] = len(steps)
                    steps.append((u.end, 1, key, WAIT, index, u.start, u.nowait))
                else:
                    continue
            else:
                kind = "queue.Queue"
                if what == PROBE and u.inner in _QUEUE_PUTS:
                    steps.append((u.start, 0, key, PUT, index, u.start, False))
                elif what == PROBE and u.inner in _QUEUE_GETS:
                    steps.append((u.start, 1, key, PROBE, index, u.start, False))
                elif what == WAIT and u.inner in _QUEUE_GETS:
                    steps.append((u.end, 1, key, -WAIT, index, u.start, False))
                else:
                    continue
            if key not in traces:
                traces[key] = QueueTrace(process, u.obj, kind)
    steps.sort()
    work_in: dict[tuple[int, int], int] = {}  # by queue: items of work in it
    other_in: dict[tuple[int, int], int] = {}  # and the others (stop signals)
    for time, _order, key, what, thread, start, nowait in steps:
        trace = traces[key]
        took = False
        if what == PUT:
            trace.puts.append(time)
            work_in[key] = work_in.get(key, 0) + 1
        elif what == -PUT:
            other_in[key] = other_in.get(key, 0) + 1
        elif what == -WAIT:  # a Queue's get waited for an item
            trace.waits.setdefault(thread, []).append((start, time))
        elif what == PROBE:  # a Queue's get took an item
            took = work_in.get(key, 0) > 0
        elif what == _EMPTY:
            pass
        else:  # a SimpleQueue's get: work first, then stop signals
            if not nowait:
                trace.waits.setdefault(thread, []).append((start, time))
            took = what == WAIT and work_in.get(key, 0) > 0
            if not took and other_in.get(key, 0) > 0:
                other_in[key] -= 1
        if took:
            work_in[key] -= 1
            trace.takes.append(time)
            trace.takers[thread] = trace.takers.get(thread, 0) + 1
    return traces
