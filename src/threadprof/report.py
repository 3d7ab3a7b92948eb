# SPDX-License-Identifier: MIT
"""The terminal report that ``threadprof run`` prints at exit.

:func:`format_report` turns a :class:`~threadprof.model.Snapshot` into plain
text, at most :data:`WIDTH` columns wide:

* one line per thread: name, ident, native id, wall time, CPU time, the share of
  the wall time spent off CPU (waiting on I/O, a lock, the GIL), and calls.
  Threads whose names differ only by a trailing number (``worker-1``,
  ``worker-2``...) are listed one by one up to 16 of them, so that their
  imbalance shows; more share one line, ``worker-* (1000 threads)``, with
  their sums (marked ``sum``), followed by the minimum, median and maximum
  per thread of each column, so that a pool of 1,000 workers stays readable
  (:func:`~threadprof.model.screen_groups`: smaller groups too when the table
  would not fit a screen); ``expand_threads=True`` lists them one by one;
* with ``details``, each line's lifetime (first..last seen) and a bar of its
  share of all threads' wall time;
* the top functions over all threads (or the ``thread`` selection), sorted by
  any key that ``python -m cProfile -s`` and ``pstats`` accept, with the same
  numbers as the pstats export: functions that share a ``(file, line, name)``
  key are one row, recursion is counted the cProfile way;
* when the table is sorted by wall time (``tottime``, ``cumtime``) and CPU
  time was measured, the top functions by their own CPU time too, so that
  the code that ran is not hidden behind the lock, sleep and queue waits
  that lead a wall-time table;
* files as short paths (:func:`~threadprof.paths.short_path`:
  ``concurrent/futures/thread.py``), or whole with ``full_paths``; with
  ``hide_library``, no functions of the standard library or of installed
  packages (C functions stay) in the tables, and none in the call trees,
  where their callees take their place;
* on request (``threadprof report``): per-thread function tables and each
  thread's call tree (:func:`format_tree`), pyinstrument-style;
* the profiler's warnings, those of a thread naming it, wrapped, never cut.

:func:`report_data` is the same data as JSON-ready dicts (``--json``).

It is a pure function of its arguments, so it is tested on hand-built snapshots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._record import Frozen, Record
from .cells import PLAIN as _PLAIN
from .cells import View as _View
from .cells import fit as _fit
from .cells import fit_left as _fit_left
from .cells import format_seconds, printable
from .cells import label as _label
from .cells import percent as _percent
from .cells import printable as _printable
from .contention import analyse
from .contentionview import (
    contention_json,
    contention_lines,
    offcpu_json,
    offcpu_lines,
    pool_json,
    pool_lines,
)
from .model import (
    SCREEN_ROWS,
    Function,
    Node,
    SlowStep,
    Snapshot,
    TaskProfile,
    ThreadGroup,
    ThreadProfile,
    key_stats,
    screen_groups,
    task_lines,
    thread_group_key,
)
from .offcpu import split, wait_kind
from .paths import function_matches
from .pools import pools

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CPU_LIMIT",
    "DEFAULT_LIMIT",
    "DEFAULT_SORT",
    "REPORT_SORT_KEYS",
    "SORT_KEYS",
    "TASK_LIMIT",
    "TREE_THRESHOLD",
    "WIDTH",
    "bar",
    "format_report",
    "format_seconds",
    "format_tree",
    "function_label",
    "printable",
    "report_data",
]

WIDTH = 100
DEFAULT_SORT = "tottime"
DEFAULT_LIMIT = 20

# pstats' sort keys -> the row fields they compare, with their direction
# (True: largest first), in order of precedence; see pstats.Stats.sort_arg_dict_default.
_SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "calls": (("nc", True),),
    "ncalls": (("nc", True),),
    "pcalls": (("cc", True),),
    "cumtime": (("ct", True),),
    "cumulative": (("ct", True),),
    "time": (("tt", True),),
    "tottime": (("tt", True),),
    "file": (("file", False),),
    "filename": (("file", False),),
    "module": (("file", False),),
    "line": (("line", False),),
    "name": (("name", False),),
    "nfl": (("name", False), ("file", False), ("line", False)),
    "stdname": (("stdname", False),),
    # threadprof's own: the function's own CPU time, its own time off the CPU,
    # its own time off the CPU if it is a known wait (docs/contention.md)
    "cpu": (("cpu_self", True),),
    "offcpu": (("off_self", True),),
    "wait": (("wait", True), ("off_self", True)),
}

#: The sort keys of ``python -m cProfile -s`` and ``pstats``.
SORT_KEYS: tuple[str, ...] = tuple(sorted(k for k in _SORTS if k not in ("cpu", "offcpu", "wait")))
#: The sort keys of ``threadprof run`` and ``threadprof report``: :data:`SORT_KEYS`
#: plus ``cpu`` (own CPU time), ``offcpu`` (own wall time minus own CPU
#: time) and ``wait`` (``offcpu`` of the calls that are known waits, a lock's
#: acquire, a sleep, a socket's receive...: :func:`threadprof.offcpu.wait_kind`;
#: then the others by ``offcpu``), largest first.
REPORT_SORT_KEYS: tuple[str, ...] = tuple(sorted(_SORTS))
#: ``--tree``'s default threshold, in percent of the thread's time.
TREE_THRESHOLD = 1.0
#: The most rows of the table of functions by own CPU time.
CPU_LIMIT = 10
#: The slow steps of tasks the terminal report lists, the longest first.
SLOW_STEP_LIMIT = 10
#: The most lines of the table of asyncio tasks.
TASK_LIMIT = 40

_TIME_W = 9  # format_seconds never needs more
_PCT_W = 7
_STEPS_W = 7
_THREAD_HEAD = ("ident", "native id", "wall", "CPU", "off-CPU", "calls")
_WARNING = "warning: "
_NAMED_IN_WARNING = 3  # threads named in a warning shared by many


class _Row(Record):
    __slots__ = ("cc", "cpu_self", "ct", "func", "nc", "tt", "wall_self")
    func: Function
    cc: int
    nc: int
    tt: int  # ticks of the primary clock
    ct: int
    wall_self: int
    cpu_self: int

    def __init__(
        self,
        func: Function,
        cc: int = 0,
        nc: int = 0,
        tt: int = 0,
        ct: int = 0,
        wall_self: int = 0,
        cpu_self: int = 0,
    ) -> None:
        self.func = func
        self.cc = cc
        self.nc = nc
        self.tt = tt
        self.ct = ct
        self.wall_self = wall_self
        self.cpu_self = cpu_self

    @property
    def file(self) -> str:
        return self.func.filename

    @property
    def line(self) -> int:
        return self.func.lineno

    @property
    def name(self) -> str:
        return self.func.name

    @property
    def stdname(self) -> str:
        return _std_string(self.func)

    @property
    def wait(self) -> int:
        return self.off_self if wait_kind(self.func) is not None else 0

    @property
    def off_self(self) -> int:
        return max(self.wall_self - self.cpu_self, 0)


def _std_string(func: Function) -> str:
    # pstats.func_std_string
    if (func.filename, func.lineno) == ("~", 0):
        name = func.name
        return "{" + name[1:-1] + "}" if name.startswith("<") and name.endswith(">") else name
    return f"{func.filename}:{func.lineno}({func.name})"


def _calls(cc: int, nc: int) -> str:
    return str(nc) if cc == nc else f"{nc}/{cc}"


def _has_cpu(snapshot: Snapshot) -> bool:
    return snapshot.cpu_mode != "none"


def function_label(func: Function, width: int, *, full_paths: bool = False) -> str:
    """The report's label of ``func`` in ``width`` columns (paths short unless
    ``full_paths``), as the function tables show it."""
    return _printable(_label(func, width, _View(full_paths)))


class _ThreadLine(Record):
    __slots__ = ("group", "ident", "label", "mark", "native_id", "numbers", "stats")
    mark: str
    label: str
    ident: str  # "" for a group
    native_id: str
    numbers: tuple[str, str, str, str]  # wall, CPU, off-CPU, calls
    group: bool
    stats: list[tuple[str, tuple[str, str, str, str]]]

    def __init__(
        self,
        mark: str,
        label: str,
        ident: str,
        native_id: str,
        numbers: tuple[str, str, str, str],
        group: bool = False,
        stats: list[tuple[str, tuple[str, str, str, str]]] | None = None,
    ) -> None:
        self.mark = mark
        self.label = label
        self.ident = ident
        self.native_id = native_id
        self.numbers = numbers
        self.group = group
        self.stats = [] if stats is None else stats


def _numbers(
    snapshot: Snapshot, wall: float, cpu: float, calls: float
) -> tuple[str, str, str, str]:
    unit = snapshot.unit
    has_cpu = _has_cpu(snapshot)
    if isinstance(calls, float):  # a median of two
        text = str(int(calls)) if calls.is_integer() else f"{calls:.1f}"
    else:
        text = str(calls)
    return (
        format_seconds(wall * unit),
        format_seconds(cpu * unit) if has_cpu else "-",
        _percent(round(wall - cpu), round(wall)) if has_cpu else "-",
        text,
    )


def _median(values: Sequence[float]) -> float:
    """The middle value, or the mean of the two middle ones (as
    ``statistics.median``, which costs a tenth of a run's startup to import)."""
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """``text`` in lines of at most ``width`` characters broken at spaces (a
    word longer than a line is cut), the first line starting with ``indent``
    and the others with as many spaces."""
    lines: list[str] = []
    line = indent
    for word in text.split():
        while len(indent) + len(word) > width:  # longer than any line: cut it
            room = width - len(line) - (len(line) > len(indent))
            if room <= 0:
                lines.append(line)
                line = " " * len(indent)
                continue
            line += " " * (len(line) > len(indent)) + word[:room]
            word = word[room:]
            lines.append(line)
            line = " " * len(indent)
        if len(line) > len(indent) and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = " " * len(indent)
        line += " " * (len(line) > len(indent)) + word
    if len(line) > len(indent) or not lines:
        lines.append(line)
    return lines


#: The per-thread statistics under a group's line: label, function.
_GROUP_STATS: tuple[tuple[str, Callable[[list[float]], float]], ...] = (
    ("min per thread", min),
    ("median", _median),
    ("max", max),
)


def _thread_line(snapshot: Snapshot, group: ThreadGroup, selected: set[int] | None) -> _ThreadLine:
    members = group.threads
    numbers = _numbers(snapshot, group.wall_time, group.cpu_time, group.calls)
    chosen = 0 if selected is None else sum(id(t) in selected for t in members)
    mark = "*" if chosen == len(members) else "+" if chosen else " "
    if len(members) == 1:
        t = members[0]
        name = _printable(snapshot.thread_title(t))
        return _ThreadLine(mark, name, str(t.ident), str(t.native_id), numbers)
    label = f"{_printable(group.key)} ({len(members)} threads)"
    walls = [t.wall_time for t in members]
    cpus = [t.cpu_time for t in members]
    offs = [max(t.wall_time - t.cpu_time, 0) / t.wall_time if t.wall_time else 0 for t in members]
    calls = [t.calls for t in members]
    stats = []
    for name, stat in _GROUP_STATS:
        off = stat(offs)
        wall, cpu, share, count = _numbers(snapshot, stat(walls), stat(cpus), stat(calls))
        if _has_cpu(snapshot):
            share = f"{min(max(off, 0.0), 1.0) * 100:.0f}%"
        stats.append((name, (wall, cpu, share, count)))
    return _ThreadLine(mark, label, "", "", numbers, group=True, stats=stats)


_PROCESS_HEAD = ("process", "parent", "status", "wall", "CPU", "threads", "calls")


def _process_table(snapshot: Snapshot, width: int) -> list[str]:
    """The processes of a process tree, each with its wall time (start to
    end), its threads' CPU time and calls, and its command line; none for a
    profile of one process."""
    if len(snapshot.processes) < 2:
        return []
    rows = []
    for index, p in enumerate(snapshot.processes):
        threads = [t for t in snapshot.threads if t.process == index]
        cpu = sum(t.cpu_time for t in threads)
        rows.append(
            (
                str(p.pid),
                str(p.ppid),
                p.status or "?",
                format_seconds((p.end - p.start) * snapshot.unit) if p.recorded else "-",
                format_seconds(cpu * snapshot.unit) if _has_cpu(snapshot) and p.recorded else "-",
                str(len(threads)),
                str(sum(t.calls for t in threads)),
                _printable(" ".join(p.argv)),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_PROCESS_HEAD)]
    fmt = "  {:>{}} {:>{}} {:<{}} {:>{}} {:>{}} {:>{}} {:>{}}"

    def line(cells: Sequence[str]) -> str:
        return fmt.format(*(x for pair in zip(cells, widths, strict=True) for x in pair))

    head = line(_PROCESS_HEAD)
    room = max(width - len(head) - 1, 8)
    out = [f"{head} command"]
    out += [f"{line(r[:7])} {_fit(r[7], room)}" for r in rows]
    return [*out, ""]


def _lines_of(snapshot: Snapshot, grouped: bool) -> list[ThreadGroup]:
    if grouped:
        return screen_groups(snapshot.threads)
    return [ThreadGroup(t.name, [t]) for t in snapshot.threads]


_SUM = "sum"


def _thread_table(
    snapshot: Snapshot, selected: set[int] | None, width: int, grouped: bool
) -> list[str]:
    rows = [_thread_line(snapshot, group, selected) for group in _lines_of(snapshot, grouped)]
    ident_w = max([len(_THREAD_HEAD[0]), *(len(r.ident) for r in rows)])
    tid_w = max([len(_THREAD_HEAD[1]), *(len(r.native_id) for r in rows)])
    calls_w = max(
        [len(_THREAD_HEAD[5]), *(len(r.numbers[3]) for r in rows)]
        + [len(cells[3]) for r in rows for _name, cells in r.stats]
    )
    ids = f"{{:>{ident_w}}} {{:>{tid_w}}}"
    numbers = f"{{:>{_TIME_W}}} {{:>{_TIME_W}}} {{:>{_PCT_W}}} {{:>{calls_w}}}"
    # "M name ident native-id numbers": the name gets what the columns leave
    name_w = max(width - 4 - ident_w - tid_w - 1 - len(numbers.format(*[""] * 4)), 6)
    lines = [
        f"  {'thread':<{name_w}} {ids.format(*_THREAD_HEAD[:2])} "
        + numbers.format(*_THREAD_HEAD[2:])
    ]
    room = name_w + 1 + ident_w + 1 + tid_w  # a group's label uses the ident columns
    for r in rows:
        tail = numbers.format(*r.numbers)
        if r.group:
            # its sums, marked as such, then each column's per-thread statistics
            if len(r.label) + 1 + len(_SUM) <= room:
                lines.append(f"{r.mark} {r.label:<{room - len(_SUM) - 1}} {_SUM} {tail}")
            else:
                lines.append(f"{r.mark} {_fit(r.label, width - 2)}")
                lines.append(f"  {_SUM:>{room}} {tail}")
            for name, cells in r.stats:
                lines.append(f"  {name:>{room}} {numbers.format(*cells)}")
            continue
        if len(r.label) <= name_w:
            lines.append(f"{r.mark} {r.label:<{name_w}} {ids.format(r.ident, r.native_id)} {tail}")
            continue
        # a long name gets a line of its own rather than being cut
        lines.append(f"{r.mark} {_fit(r.label, width - 2)}")
        lines.append(f"  {'':<{name_w}} {ids.format(r.ident, r.native_id)} {tail}")
    return lines


def _rows(snapshot: Snapshot, threads: list[ThreadProfile]) -> list[_Row]:
    cum_field = snapshot.primary
    self_field = f"{cum_field}_self"
    return [
        _Row(
            k.func,
            cc=k.prim_calls,
            nc=k.calls,
            tt=getattr(k, self_field),
            ct=getattr(k, cum_field),
            wall_self=k.wall_self,
            cpu_self=k.cpu_self,
        )
        for k in key_stats(snapshot, threads).values()
    ]


def _sort_rows(rows: list[_Row], sort: str) -> list[_Row]:
    ordered = sorted(rows, key=lambda r: r.stdname)  # deterministic ties
    for field, descending in reversed(_SORTS[sort]):
        getter: Callable[[_Row], object] = lambda r, f=field: getattr(r, f)  # noqa: E731
        ordered.sort(key=getter, reverse=descending)  # type: ignore[arg-type]
    return ordered


def _always(snapshot: Snapshot) -> bool:
    return True


class _Column(Frozen):
    """A number column of the function table, right-aligned under its head."""

    __slots__ = ("cell", "gap", "head", "shown", "width")
    head: str
    cell: Callable[[_Row, float], str]  # (row, seconds per tick) -> text
    width: int  # 0: as wide as its head or widest cell
    gap: str  # before it
    shown: Callable[[Snapshot], bool]

    def __init__(
        self,
        head: str,
        cell: Callable[[_Row, float], str],
        width: int = 0,
        gap: str = " ",
        shown: Callable[[Snapshot], bool] = _always,
    ) -> None:
        self._set(head, cell, width, gap, shown)


def _off_cpu_shown(snapshot: Snapshot) -> bool:
    return snapshot.primary == "wall" and _has_cpu(snapshot)


# the sorts by time, which a table by own CPU time follows (when the time is wall time)
_TIME_SORTS = ("tottime", "time", "cumtime", "cumulative")


#: The function table's columns, in order (pstats' own, then threadprof's);
#: the function's label follows them, in the room they leave.
_FUNCTION_COLUMNS = (
    _Column("ncalls", lambda r, unit: _calls(r.cc, r.nc), gap="  "),
    _Column("tottime", lambda r, unit: format_seconds(r.tt * unit), _TIME_W),
    _Column(
        "percall", lambda r, unit: format_seconds(r.tt * unit / r.nc) if r.nc else "", _TIME_W
    ),
    _Column("cumtime", lambda r, unit: format_seconds(r.ct * unit), _TIME_W),
    _Column(
        "off-CPU",
        lambda r, unit: _percent(r.wall_self - r.cpu_self, r.wall_self),
        _PCT_W,
        gap="  ",
        shown=_off_cpu_shown,
    ),
)


#: The columns of the table of functions by own CPU time.
_CPU_COLUMNS = (
    _Column("ncalls", lambda r, unit: _calls(r.cc, r.nc), gap="  "),
    _Column("own CPU", lambda r, unit: format_seconds(r.cpu_self * unit), _TIME_W),
    _Column("tottime", lambda r, unit: format_seconds(r.wall_self * unit), _TIME_W),
    _Column(
        "off-CPU", lambda r, unit: _percent(r.wall_self - r.cpu_self, r.wall_self), _PCT_W, "  "
    ),
)


def _function_table(
    snapshot: Snapshot,
    rows: list[_Row],
    width: int,
    view: _View = _PLAIN,
    columns_: Sequence[_Column] = _FUNCTION_COLUMNS,
) -> list[str]:
    columns = [c for c in columns_ if c.shown(snapshot)]
    cells = [[c.cell(r, snapshot.unit) for c in columns] for r in rows]
    widths = [
        c.width or max([len(c.head), *(len(row[i]) for row in cells)])
        for i, c in enumerate(columns)
    ]
    label_w = width - sum(len(c.gap) + w for c, w in zip(columns, widths, strict=True)) - 2

    def line(texts: list[str]) -> str:
        return "".join(f"{c.gap}{t:>{w}}" for c, t, w in zip(columns, texts, widths, strict=True))

    lines = [line([c.head for c in columns]) + "  function"]
    for r, row in zip(rows, cells, strict=True):
        lines.append(f"{line(row)}  {_label(r.func, label_w, view)}")
    return lines


def format_report(
    snapshot: Snapshot,
    sort: str = DEFAULT_SORT,
    limit: int | None = DEFAULT_LIMIT,
    *,
    thread: str | int | None = None,
    width: int = WIDTH,
    expand_threads: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    details: bool = False,
    per_thread: bool = False,
    tree: bool = False,
    threshold: float = TREE_THRESHOLD,
    full_paths: bool = False,
    hide_library: bool = False,
) -> str:
    """The report as text (lines joined by ``\\n``, ending with one).

    ``sort`` is one of :data:`SORT_KEYS`; ``limit`` caps the function table
    (``None``: every function, ``0``: no table). ``thread`` (an ident, native id,
    name or glob) restricts the function table to the matching threads, which
    are marked ``*`` in the thread table (``+`` marks a group of which only some
    are selected). Threads are grouped by name pattern (:func:`group_threads`)
    unless ``expand_threads``. Raises ``ValueError`` for an unknown ``sort`` or
    a negative ``limit``, ``LookupError`` if ``thread`` matches no thread.

    ``threadprof report``'s additions: ``include``/``exclude`` glob patterns
    keep or drop functions whose file (full path or base name), name or
    qualname match; ``details`` adds the thread lifetimes table (first..last
    seen, a bar of each line's share of all threads' wall time);
    ``per_thread`` adds one function table per selected thread; ``tree`` adds
    each selected thread's call tree (:func:`format_tree`, ``threshold``).

    ``full_paths`` shows files whole rather than short
    (:func:`~threadprof.paths.short_path`); ``hide_library`` leaves out the
    functions of the standard library and of installed packages.
    """
    view = _View(full_paths, hide_library)
    if sort not in _SORTS:
        raise ValueError(f"unknown sort key {sort!r} (choose from {', '.join(SORT_KEYS)})")
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    if not snapshot.threads:
        return "threadprof: no thread was profiled\n"

    threads = snapshot.threads
    selected: set[int] | None = None
    if thread is not None:
        threads = snapshot.select_threads(thread)
        if not threads:
            raise LookupError(f"no thread matches {str(thread)!r}")
        selected = {id(t) for t in threads}

    total_calls = sum(t.calls for t in snapshot.threads)
    cpu_note = {"exact": "CPU time exact", "sampled": "CPU time estimated"}.get(
        snapshot.cpu_mode, "no CPU time"
    )
    n = len(snapshot.threads)
    procs = len(snapshot.processes)
    lines = [
        f"threadprof: {f'{procs} processes, ' if procs > 1 else ''}"
        f"{n} thread{'s' if n != 1 else ''}, {total_calls} calls, "
        f"{format_seconds(snapshot.duration * snapshot.unit)} "
        f"({snapshot.clock} clock, {cpu_note})",
        "",
        *_process_table(snapshot, width),
        *_thread_table(snapshot, selected, width, grouped=not expand_threads),
    ]

    if details:
        lines += ["", *_lifetime_table(snapshot, selected, width, grouped=not expand_threads)]

    lines += _task_table(snapshot, threads, width, grouped=not expand_threads)

    if limit != 0:
        every = _filter_rows(_rows(snapshot, threads), include, exclude, view)
        rows = _sort_rows(every, sort)
        shown = rows if limit is None else rows[:limit]
        scope = (
            "all threads"
            if selected is None
            else f"threads matching {str(thread)!r} ({len(threads)} of {n})"
        )
        what = (
            f"All {len(rows)} functions"
            if len(shown) == len(rows)
            else f"Top {len(shown)} of {len(rows)} functions"
        )
        lines += [
            "",
            _fit(f"{what} in {scope}, sorted by {sort} ({snapshot.primary} time):", width),
            *_function_table(snapshot, shown, width, view),
        ]
        ran: list[_Row] = []
        if _off_cpu_shown(snapshot) and sort in _TIME_SORTS:
            # what ran, which the waits at the head of a wall-time table hide
            ran = [r for r in _sort_rows(every, "cpu") if r.cpu_self > 0]
            ran = ran[: CPU_LIMIT if limit is None else min(limit, CPU_LIMIT)]
        if ran:
            lines += [
                "",
                _fit(f"Top {len(ran)} functions in {scope} by own CPU time:", width),
                *_function_table(snapshot, ran, width, view, _CPU_COLUMNS),
            ]

    lines += _slow_step_lines(snapshot, threads, width, view)
    chosen = snapshot if thread is None else snapshot.filter_threads(thread)
    if _off_cpu_shown(snapshot):
        lines += offcpu_lines(chosen, split(chosen), width, view)
    lines += pool_lines(chosen, pools(chosen), width)
    lines += contention_lines(snapshot, analyse(snapshot), width, view)

    if limit != 0 and per_thread:
        for t in threads:
            rows = _sort_rows(_filter_rows(_rows(snapshot, [t]), include, exclude, view), sort)
            shown = rows if limit is None else rows[:limit]
            lines += [
                "",
                _fit(
                    f"Top {len(shown)} of {len(rows)} functions in "
                    f"{_printable(t.name)!r} (ident {t.ident}), by {sort}:",
                    width,
                ),
                *_function_table(snapshot, shown, width, view),
            ]

    if tree:
        for t in threads:
            lines += [
                "",
                *format_tree(
                    snapshot,
                    t,
                    width=width,
                    threshold=threshold,
                    full_paths=full_paths,
                    hide_library=hide_library,
                ),
            ]

    warnings = _warning_lines(snapshot, width, grouped=not expand_threads)
    if warnings:
        lines += ["", *warnings]
    return "\n".join(lines) + "\n"


def _tasks(snapshot: Snapshot, threads: list[ThreadProfile]) -> list[TaskProfile]:
    chosen = {id(t) for t in threads}
    return [task for t in snapshot.threads if id(t) in chosen for task in t.tasks]


def _await_share(tasks: list[TaskProfile]) -> str:
    """The share of wall time awaiting: of one task, or the least and the
    most of several."""
    shares = [t.await_time / t.wall_time if t.wall_time > 0 else 0.0 for t in tasks]
    low, high = (f"{min(max(x, 0.0), 1.0) * 100:.0f}" for x in (min(shares), max(shares)))
    return f"{low}%" if low == high else f"{low}-{high}%"


def _task_table(
    snapshot: Snapshot, threads: list[ThreadProfile], width: int, grouped: bool
) -> list[str]:
    """The asyncio tasks of the chosen threads, each under the task that
    made it (docs/asyncio.md)."""
    tasks = _tasks(snapshot, threads)
    if not tasks:
        return []
    lines_of = task_lines(tasks) if grouped else task_lines(tasks, len(tasks) + 1)
    if grouped and len(lines_of) > SCREEN_ROWS:
        lines_of = task_lines(tasks, 2)
    shown = lines_of[:TASK_LIMIT]
    names = {t.serial: t.name for t in snapshot.threads}
    nthreads = len({t.serial for t in tasks})
    nloops = len({(t.serial, t.loop) for t in tasks})
    head = (
        f"asyncio tasks: {len(tasks)} in {nthreads} thread{'s' if nthreads != 1 else ''}, "
        f"{nloops} event loop{'s' if nloops != 1 else ''}"
        + ("" if len(shown) == len(lines_of) else f", the first {len(shown)} lines")
        + " (a task under the task that made it):"
    )
    numbers = f"{{:>{_STEPS_W}}} {{:>{_TIME_W}}} {{:>{_TIME_W}}} {{:>{_PCT_W}}}"
    thread_w = 16
    name_w = max(width - 4 - thread_w - 1 - len(numbers.format(*[""] * 4)), 10)
    has_cpu = _has_cpu(snapshot)
    out = [
        "",
        _fit(head, width),
        f"  {'task':<{name_w}} {'thread':<{thread_w}} "
        + numbers.format("steps", "wall", "CPU", "await"),
    ]
    for group, depth in shown:
        members = [t for t in group.threads if isinstance(t, TaskProfile)]
        label = _printable(members[0].name if len(members) == 1 else group.key)
        if len(members) > 1:
            label += f" ({len(members)} tasks)"
        label = _fit_left(" " * min(2 * depth, name_w // 2) + label, name_w)
        serials = {t.serial for t in members}
        where = names[members[0].serial] if len(serials) == 1 else f"{len(serials)} threads"
        cpu = sum(t.cpu_time for t in members)
        cells = (
            str(sum(t.steps for t in members)),
            format_seconds(sum(t.wall_time for t in members) * snapshot.unit),
            format_seconds(cpu * snapshot.unit) if has_cpu else "-",
            _await_share(members),
        )
        out.append(
            f"  {label:<{name_w}} {_fit_left(_printable(where), thread_w):<{thread_w}} "
            + numbers.format(*cells)
        )
    return out


def _slow_steps(
    snapshot: Snapshot, threads: list[ThreadProfile]
) -> list[tuple[ThreadProfile, SlowStep]]:
    chosen = {id(t) for t in threads}
    return [(t, s) for t, s in snapshot.slow_steps() if id(t) in chosen]


def _task_names(snapshot: Snapshot) -> dict[int, str]:
    return {task.id: task.name for task in snapshot.tasks()}


def _slow_step_lines(
    snapshot: Snapshot, threads: list[ThreadProfile], width: int, view: _View
) -> list[str]:
    """The longest steps of tasks: while each ran, its event loop ran nothing
    else (docs/asyncio.md)."""
    steps = _slow_steps(snapshot, threads)
    if not steps:
        return []
    shown = steps[:SLOW_STEP_LIMIT]
    least = format_seconds(snapshot.slow_step * snapshot.unit)
    what = f"the {len(shown)} longest" if len(shown) < len(steps) else "all"
    label_w = max(width - 40, 20)
    lines = [
        "",
        _fit(
            f"Steps of tasks that blocked their event loop {least} or more: {len(steps)}, {what}:",
            width,
        ),
        _fit(
            f"  {'duration':>9} {'thread':<16} the task's coroutine -> where the time went", width
        ),
    ]
    functions = snapshot.functions
    tasks = _task_names(snapshot)
    for t, step in shown:
        coro = functions[t.path(step.node)[-1]]
        where = functions[t.path(step.where)[-1]]
        task = tasks.get(step.task)
        of_task = "" if task is None else f"  [task {_printable(task)}]"
        lines.append(
            _fit(
                f"  {format_seconds(step.duration * snapshot.unit):>9} "
                f"{_fit_left(_printable(t.name), 16):<16} "
                f"{_label(coro, label_w - len(of_task), view)}{of_task}",
                width,
            )
        )
        if step.where != step.node:
            own = format_seconds(step.where_own * snapshot.unit)
            lines.append(
                _fit(f"  {'':>9} {'':<16}   -> {_label(where, label_w - 4, view)} ({own})", width)
            )
    return lines


def _name_threads(threads: list[ThreadProfile]) -> str:
    named = ", ".join(
        f"'{_printable(t.name)}' (ident {t.ident})" for t in threads[:_NAMED_IN_WARNING]
    )
    if len(threads) == 1:
        return f"thread {named}"
    more = len(threads) - _NAMED_IN_WARNING
    return f"threads {named}" + (f" and {more} more" if more > 0 else "")


def _warning_lines(snapshot: Snapshot, width: int, grouped: bool) -> list[str]:
    """The profile's warnings, then the threads': each names its thread (one
    warning for all the threads that share its text, unless not ``grouped``),
    wrapped to ``width``."""
    messages = list(snapshot.warnings)
    if grouped:
        sharing: dict[str, list[ThreadProfile]] = {}
        for t in snapshot.threads:
            for w in t.warnings:
                sharing.setdefault(w, []).append(t)
        messages += [f"{_name_threads(ts)}: {w}" for w, ts in sharing.items()]
    else:
        messages += [f"{_name_threads([t])}: {w}" for t in snapshot.threads for w in t.warnings]
    lines: list[str] = []
    for message in messages:
        lines += _wrap(_printable(message), width, _WARNING)
    return lines


# -- threadprof report's additions ---------------------------------------------------

_BLOCKS = " ▏▎▍▌▋▊▉█"
_BAR_W = 10


def bar(share: float, width: int = _BAR_W) -> str:
    """``share`` (0..1) as a bar of ``width`` columns, in eighths of a block."""
    eighths = round(min(max(share, 0.0), 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    text = "█" * full + (_BLOCKS[rest] if rest else "")
    return f"{text:<{width}}"


def _lifetime_table(
    snapshot: Snapshot, selected: set[int] | None, width: int, grouped: bool
) -> list[str]:
    """Each line of the threads table: first and last seen (since the
    profile's start), and a bar of its share of all threads' wall time."""
    total = sum(t.wall_time for t in snapshot.threads)
    unit = snapshot.unit
    tail = f"{{:>{_TIME_W}}} {{:>{_TIME_W}}}  {{:<{_BAR_W}}} {{:>4}}"
    name_w = max(width - 2 - len(tail.format("", "", "", "")) - 1, 6)
    out = [
        (f"  {'lifetime':<{name_w}} " + tail.format("first", "last", "wall share", "")).rstrip()
    ]
    for group in _lines_of(snapshot, grouped):
        line = _thread_line(snapshot, group, selected)
        wall = group.wall_time
        share = wall / total if total > 0 else 0.0
        first = group.first_seen
        last = group.last_seen
        numbers = tail.format(
            format_seconds(first * unit),
            format_seconds(last * unit),
            bar(share),
            _percent(wall, total),
        )
        out.append(f"{line.mark} {_fit(line.label, name_w):<{name_w}} {numbers}")
    return out


def _matches(func: Function, patterns: Sequence[str]) -> bool:
    return function_matches(func, tuple(patterns))


def _filter_rows(
    rows: list[_Row], include: Sequence[str], exclude: Sequence[str], view: _View = _PLAIN
) -> list[_Row]:
    return [
        r
        for r in rows
        if (not include or _matches(r.func, include))
        and not _matches(r.func, exclude)
        and not view.hidden(r.func)
    ]


class TreeLine(Record):
    """One line of :func:`format_tree`: ``node`` is ``None`` for a "… N more" line."""

    __slots__ = ("depth", "more", "node", "share", "value")
    depth: int
    value: int
    share: float
    node: Node | None
    more: int

    def __init__(
        self, depth: int, value: int, share: float, node: Node | None, more: int = 0
    ) -> None:
        self.depth = depth
        self.value = value
        self.share = share
        self.node = node
        self.more = more


def _tree_total(snapshot: Snapshot, thread: ThreadProfile) -> int:
    field = snapshot.primary
    total = thread.cpu_time if field == "cpu" else thread.wall_time
    roots = sum(getattr(thread.nodes[c], field) for c in thread.root.children)
    return max(total, roots)


def tree_lines(
    snapshot: Snapshot,
    thread: ThreadProfile,
    threshold: float = TREE_THRESHOLD,
    hidden: Callable[[Node], bool] | None = None,
) -> list[TreeLine]:
    """The hot paths of ``thread``, depth first, children largest first; the
    children below ``threshold`` percent of the thread's time are one line.
    A node that is ``hidden`` is not a line: its children take its place."""
    field = snapshot.primary
    total = _tree_total(snapshot, thread)
    out: list[TreeLine] = []

    def shown(children: list[int]) -> list[Node]:
        if hidden is None:
            return [thread.nodes[c] for c in children]
        found: list[Node] = []
        todo = list(children)
        while todo:
            node = thread.nodes[todo.pop()]
            if hidden(node):
                todo.extend(node.children)
            else:
                found.append(node)
        return found

    def level(children: list[int], depth: int) -> tuple[list[Node], list[Node], int]:
        ordered = sorted(shown(children), key=lambda n: (-getattr(n, field), n.id))
        big = [n for n in ordered if total > 0 and getattr(n, field) / total * 100 >= threshold]
        small = ordered[len(big) :]
        big.reverse()  # popped from the end, largest first
        return big, small, depth

    # an explicit stack of the levels being walked, so that deep recursion
    # cannot overflow Python's: (the nodes still to show, the collapsed ones, depth)
    stack = [level(thread.root.children, 0)]
    while stack:
        big, small, depth = stack[-1]
        if big:
            n = big.pop()
            value = getattr(n, field)
            out.append(TreeLine(depth, value, value / total * 100, n))
            stack.append(level(n.children, depth + 1))
            continue
        stack.pop()
        if small:
            value = sum(getattr(n, field) for n in small)
            share = value / total * 100 if total > 0 else 0.0
            out.append(TreeLine(depth, value, share, None, len(small)))
    return out


def format_tree(
    snapshot: Snapshot,
    thread: ThreadProfile,
    *,
    width: int = WIDTH,
    threshold: float = TREE_THRESHOLD,
    full_paths: bool = False,
    hide_library: bool = False,
) -> list[str]:
    """``thread``'s call tree, as pyinstrument prints it: each line a share of
    the thread's time (of ``snapshot.primary``), the time and the function,
    indented with box-drawing characters; the paths below ``threshold`` percent
    are "… N more" lines. Every line fits ``width`` columns. ``full_paths`` and
    ``hide_library`` are :func:`format_report`'s."""
    total = _tree_total(snapshot, thread)
    functions = {f.id: f for f in snapshot.functions}
    view = _View(full_paths, hide_library)
    entries = tree_lines(snapshot, thread, threshold, _hider(functions, view))
    head = _fit(
        f"Call tree of {_printable(thread.name)!r} "
        f"({format_seconds(total * snapshot.unit)} {snapshot.primary}, "
        f"paths below {threshold:g}% collapsed):",
        width,
    )
    lines = [head]
    # is the entry the last of its siblings? walked backwards: seen[d] says
    # whether a later sibling at depth d has been met
    last = [True] * len(entries)
    seen: list[bool] = []
    for i in range(len(entries) - 1, -1, -1):
        d = entries[i].depth
        del seen[d + 1 :]
        seen += [False] * (d + 1 - len(seen))
        last[i] = not seen[d]
        seen[d] = True
    open_levels: list[bool] = []  # per depth: does a sibling still follow
    max_indent = max(width // 2, 8)
    for i, e in enumerate(entries):
        del open_levels[e.depth :]
        prefix = "".join("│  " if more else "   " for more in open_levels)
        prefix += "└─ " if last[i] else "├─ "
        open_levels.append(not last[i])
        if len(prefix) > max_indent:
            prefix = "…" + prefix[len(prefix) - max_indent + 1 :]
        numbers = f"{e.share:5.1f}% {format_seconds(e.value * snapshot.unit):>{_TIME_W}}  "
        room = max(width - 2 - len(numbers) - len(prefix), 12)
        if e.node is None:
            label = f"… {e.more} more"
        else:
            label = _label(functions[e.node.func], room, view)
        lines.append(_fit(f"  {numbers}{prefix}{label}", width))
    if not entries:
        lines.append("  (no calls)")
    return lines


def _hider(functions: dict[int, Function], view: _View) -> Callable[[Node], bool] | None:
    """The test of a node that ``view`` hides, or ``None`` when it hides none."""
    if not view.hide_library:
        return None
    return lambda node: view.hidden(functions[node.func])


def _seconds(snapshot: Snapshot, ticks: int) -> float:
    return ticks * snapshot.unit


def _function_json(snapshot: Snapshot, r: _Row) -> dict[str, Any]:
    return {
        "function": r.func.name,
        "qualname": r.func.qualname,
        "file": r.func.filename,
        "line": r.func.lineno,
        "ncalls": r.nc,
        "pcalls": r.cc,
        "tottime": _seconds(snapshot, r.tt),
        "cumtime": _seconds(snapshot, r.ct),
        "wall_self": _seconds(snapshot, r.wall_self),
        "cpu_self": _seconds(snapshot, r.cpu_self),
        "offcpu_self": _seconds(snapshot, r.off_self),
    }


def _func_json(func: Function) -> dict[str, Any]:
    return {
        "function": func.name,
        "qualname": func.qualname,
        "file": func.filename,
        "line": func.lineno,
    }


def _step_json(
    snapshot: Snapshot,
    thread: ThreadProfile,
    step: SlowStep,
    tasks: dict[int, str] | None = None,
) -> dict[str, Any]:
    functions = snapshot.functions
    path = thread.path(step.where)
    return {
        "thread": thread.ident,
        "thread_name": thread.name,
        "start": _seconds(snapshot, step.start),
        "duration": _seconds(snapshot, step.duration),
        "coroutine": _func_json(functions[thread.path(step.node)[-1]]),
        "where": _func_json(functions[path[-1]]),
        "where_own": _seconds(snapshot, step.where_own),
        "path": [_func_json(functions[f]) for f in path],
        "task": step.task or None,
        "task_name": tasks.get(step.task) if tasks is not None else None,
    }


def _task_json(snapshot: Snapshot, task: TaskProfile) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "creator": task.creator or None,
        "thread": task.ident,
        "thread_serial": task.serial,
        "loop": task.loop,
        "first_seen": _seconds(snapshot, task.first_seen),
        "last_seen": _seconds(snapshot, task.last_seen),
        "steps": task.steps,
        "wall": _seconds(snapshot, task.wall_time),
        "cpu": _seconds(snapshot, task.cpu_time) if _has_cpu(snapshot) else None,
        "await": _seconds(snapshot, task.await_time),
        "calls": task.calls,
        "group": thread_group_key(task.name),
    }


def _tree_json(
    snapshot: Snapshot, thread: ThreadProfile, threshold: float, view: _View
) -> list[Any]:
    functions = {f.id: f for f in snapshot.functions}
    roots: list[dict[str, Any]] = []
    stack: list[list[dict[str, Any]]] = [roots]
    for e in tree_lines(snapshot, thread, threshold, _hider(functions, view)):
        del stack[e.depth + 1 :]
        entry: dict[str, Any] = {
            "time": _seconds(snapshot, e.value),
            "percent": round(e.share, 3),
        }
        if e.node is None:
            entry["more"] = e.more
        else:
            func = functions[e.node.func]
            entry.update(
                function=func.name,
                qualname=func.qualname,
                file=func.filename,
                line=func.lineno,
                calls=e.node.calls,
                children=[],
            )
            stack.append(entry["children"])
        stack[e.depth].append(entry)
    return roots


def report_data(
    snapshot: Snapshot,
    sort: str = DEFAULT_SORT,
    limit: int | None = DEFAULT_LIMIT,
    *,
    thread: str | int | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    per_thread: bool = False,
    tree: bool = False,
    threshold: float = TREE_THRESHOLD,
    hide_library: bool = False,
) -> dict[str, Any]:
    """The report's data for ``--json``: times in seconds; see docs/reports.md.
    Files are whole paths; ``hide_library`` is :func:`format_report`'s.

    Raises as :func:`format_report` does."""
    view = _View(True, hide_library)
    if sort not in _SORTS:
        raise ValueError(f"unknown sort key {sort!r} (choose from {', '.join(REPORT_SORT_KEYS)})")
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    threads = snapshot.threads
    if thread is not None:
        threads = snapshot.select_threads(thread)
        if not threads:
            raise LookupError(f"no thread matches {str(thread)!r}")
    has_cpu = _has_cpu(snapshot)

    def functions(ts: list[ThreadProfile]) -> list[dict[str, Any]]:
        rows = _sort_rows(_filter_rows(_rows(snapshot, ts), include, exclude, view), sort)
        return [_function_json(snapshot, r) for r in (rows if limit is None else rows[:limit])]

    chosen = {id(t) for t in threads}
    data: dict[str, Any] = {
        "clock": snapshot.clock,
        "cpu_mode": snapshot.cpu_mode,
        "duration": _seconds(snapshot, snapshot.duration),
        "sort": sort,
        "threads": [
            {
                "name": t.name,
                "ident": t.ident,
                "native_id": t.native_id,
                "first_seen": _seconds(snapshot, t.first_seen),
                "last_seen": _seconds(snapshot, t.last_seen),
                "wall": _seconds(snapshot, t.wall_time),
                "cpu": _seconds(snapshot, t.cpu_time) if has_cpu else None,
                "offcpu_share": (
                    (max(t.wall_time - t.cpu_time, 0) / t.wall_time)
                    if has_cpu and t.wall_time > 0
                    else None
                ),
                "calls": t.calls,
                "group": thread_group_key(t.name),
                "selected": id(t) in chosen,
                "pid": snapshot.pid_of(t),
            }
            for t in snapshot.threads
        ],
        "processes": [
            {
                "pid": p.pid,
                "ppid": p.ppid,
                "argv": list(p.argv),
                "start": _seconds(snapshot, p.start),
                "end": _seconds(snapshot, p.end),
                "status": p.status,
                "recorded": p.recorded,
            }
            for p in snapshot.processes
        ],
        "functions": functions(threads),
        "warnings": list(snapshot.warnings)
        + [f"{_name_threads([t])}: {w}" for t in snapshot.threads for w in t.warnings],
    }
    names = _task_names(snapshot)
    data["slow_steps"] = [
        _step_json(snapshot, t, step, names) for t, step in _slow_steps(snapshot, threads)
    ]
    data["tasks"] = [_task_json(snapshot, task) for task in _tasks(snapshot, threads)]
    data["offcpu"] = offcpu_json(snapshot, split(snapshot))
    data["pools"] = pool_json(snapshot, pools(snapshot))
    data["contention"] = contention_json(snapshot, analyse(snapshot))
    if per_thread:
        data["per_thread"] = [{"ident": t.ident, "functions": functions([t])} for t in threads]
    if tree:
        data["trees"] = [
            {"ident": t.ident, "name": t.name, "tree": _tree_json(snapshot, t, threshold, view)}
            for t in threads
        ]
    return data
