# SPDX-License-Identifier: MIT
"""The terminal report that ``threadprof run`` prints at exit.

:func:`format_report` turns a :class:`~threadprof.model.Snapshot` into plain
text, at most :data:`WIDTH` columns wide:

* one line per thread: name, ident, native id, wall time, CPU time, the share of
  the wall time spent off CPU (waiting on I/O, a lock, the GIL), and calls;
* the top functions over all threads (or the ``thread`` selection), sorted by
  any key that ``python -m cProfile -s`` and ``pstats`` accept, with the same
  numbers as the pstats export: functions that share a ``(file, line, name)``
  key are one row, recursion is counted the cProfile way.

It is a pure function of its arguments, so it is tested on hand-built snapshots.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from .model import Function, Snapshot, ThreadProfile

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_SORT",
    "SORT_KEYS",
    "WIDTH",
    "format_report",
    "format_seconds",
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
}

#: The accepted ``sort`` values: the same names as ``python -m cProfile -s``.
SORT_KEYS: tuple[str, ...] = tuple(sorted(_SORTS))

_IDENT_W = 16
_TID_W = 9
_TIME_W = 9
_PCT_W = 7
_CALLS_W = 11
_THREAD_HEAD = ("ident", "native id", "wall", "CPU", "off-CPU", "calls")


@dataclass(slots=True)
class _Row:
    func: Function
    cc: int = 0
    nc: int = 0
    tt: int = 0  # ticks of the primary clock
    ct: int = 0
    wall_self: int = 0
    cpu_self: int = 0

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


def _std_string(func: Function) -> str:
    # pstats.func_std_string
    if (func.filename, func.lineno) == ("~", 0):
        name = func.name
        return "{" + name[1:-1] + "}" if name.startswith("<") and name.endswith(">") else name
    return f"{func.filename}:{func.lineno}({func.name})"


def format_seconds(seconds: float) -> str:
    """``seconds`` in s, ms, us or ns with four significant digits: ``1.234s``,
    ``12.35ms``, ``250.0us``; ``0`` for zero; ``1.23e+04s`` from 10,000 s on.
    Never more than 9 characters for times below 10**100 s."""
    if seconds == 0:
        return "0"
    if abs(seconds) >= 9999.5:
        return f"{seconds:.3g}s"  # 1.23e+04s: stays within the column
    scales = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
    for scale, suffix in scales:
        # 0.99995: what rounds up to 1000 of a unit is shown in the next one
        if abs(seconds) >= scale * 0.99995 or suffix == "ns":
            a = abs(seconds / scale)
            digits = 3 if a < 9.9995 else 2 if a < 99.995 else 1 if a < 999.95 else 0
            return f"{seconds / scale:.{digits}f}{suffix}"
    raise AssertionError("unreachable")


def _percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "-"
    share = min(max(part / whole, 0.0), 1.0)
    return f"{share * 100:.0f}%"


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, with ``...`` where it was cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 3, 0)] + "..."


def _fit_left(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return "..." + text[len(text) - max(width - 3, 0) :]


def _label(func: Function) -> str:
    if func.kind == "c":
        return func.display
    return f"{func.qualname} ({os.path.basename(func.filename)}:{func.lineno})"


def _calls(cc: int, nc: int) -> str:
    return str(nc) if cc == nc else f"{nc}/{cc}"


def _has_cpu(snapshot: Snapshot) -> bool:
    return snapshot.cpu_mode != "none"


def _thread_table(snapshot: Snapshot, selected: set[int] | None, width: int) -> list[str]:
    unit = snapshot.unit
    has_cpu = _has_cpu(snapshot)
    columns = (
        f"{{:>{_IDENT_W}}} {{:>{_TID_W}}} {{:>{_TIME_W}}} {{:>{_TIME_W}}} "
        f"{{:>{_PCT_W}}} {{:>{_CALLS_W}}}"
    )
    name_w = max(width - 3 - len(columns.format(*[""] * 6)), len("thread"))
    lines = [f"  {'thread':<{name_w}} " + columns.format(*_THREAD_HEAD)]
    for t in snapshot.threads:
        mark = "*" if selected is not None and id(t) in selected else " "
        cpu = format_seconds(t.cpu_time * unit) if has_cpu else "-"
        off = _percent(t.wall_time - t.cpu_time, t.wall_time) if has_cpu else "-"
        numbers = columns.format(
            t.ident, t.native_id, format_seconds(t.wall_time * unit), cpu, off, t.calls
        )
        if len(t.name) > name_w:
            # a long name gets a line of its own rather than being cut
            lines.append(f"{mark} {_fit(t.name, width - 2)}")
            lines.append(f"  {'':<{name_w}} {numbers}")
        else:
            lines.append(f"{mark} {t.name:<{name_w}} {numbers}")
    return lines


def _rows(snapshot: Snapshot, threads: list[ThreadProfile]) -> list[_Row]:
    cum_field = snapshot.primary
    self_field = f"{cum_field}_self"
    functions = {f.id: f for f in snapshot.functions}
    rows: dict[tuple[str, int, str], _Row] = {}
    for fid, fs in sorted(snapshot.function_stats(threads).items()):
        func = functions[fid]
        row = rows.get(func.pstats_key)
        if row is None:
            row = rows[func.pstats_key] = _Row(func)
        row.cc += fs.prim_calls
        row.nc += fs.calls
        row.tt += getattr(fs, self_field)
        row.ct += getattr(fs, cum_field)
        row.wall_self += fs.wall_self
        row.cpu_self += fs.cpu_self
    return list(rows.values())


def _sort_rows(rows: list[_Row], sort: str) -> list[_Row]:
    ordered = sorted(rows, key=lambda r: r.stdname)  # deterministic ties
    for field, descending in reversed(_SORTS[sort]):
        getter: Callable[[_Row], object] = lambda r, f=field: getattr(r, f)  # noqa: E731
        ordered.sort(key=getter, reverse=descending)  # type: ignore[arg-type]
    return ordered


def _function_table(snapshot: Snapshot, rows: list[_Row], width: int) -> list[str]:
    unit = snapshot.unit
    off_cpu = snapshot.primary == "wall" and _has_cpu(snapshot)
    label_w = width - (2 + _CALLS_W + 3 * (1 + _TIME_W) + 2) - ((2 + _PCT_W) if off_cpu else 0)
    head = (
        f"  {'ncalls':>{_CALLS_W}} {'tottime':>{_TIME_W}} {'percall':>{_TIME_W}} "
        f"{'cumtime':>{_TIME_W}}"
    )
    if off_cpu:
        head += f"  {'off-CPU':>{_PCT_W}}"
    lines = [head + "  function"]
    for r in rows:
        percall = format_seconds(r.tt * unit / r.nc) if r.nc else ""
        line = (
            f"  {_calls(r.cc, r.nc):>{_CALLS_W}} {format_seconds(r.tt * unit):>{_TIME_W}} "
            f"{percall:>{_TIME_W}} {format_seconds(r.ct * unit):>{_TIME_W}}"
        )
        if off_cpu:
            line += f"  {_percent(r.wall_self - r.cpu_self, r.wall_self):>{_PCT_W}}"
        lines.append(f"{line}  {_fit_left(_label(r.func), label_w)}")
    return lines


def format_report(
    snapshot: Snapshot,
    sort: str = DEFAULT_SORT,
    limit: int | None = DEFAULT_LIMIT,
    *,
    thread: str | int | None = None,
    width: int = WIDTH,
) -> str:
    """The report as text (lines joined by ``\\n``, ending with one).

    ``sort`` is one of :data:`SORT_KEYS`; ``limit`` caps the function table
    (``None``: every function, ``0``: no table). ``thread`` (an ident, native id,
    name or glob) restricts the function table to the matching threads, which
    are marked ``*`` in the thread table. Raises ``ValueError`` for an unknown
    ``sort`` or a negative ``limit``, ``LookupError`` if ``thread`` matches no thread.
    """
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
    lines = [
        f"threadprof: {n} thread{'s' if n != 1 else ''}, {total_calls} calls, "
        f"{format_seconds(snapshot.duration * snapshot.unit)} "
        f"({snapshot.clock} clock, {cpu_note})",
        "",
        *_thread_table(snapshot, selected, width),
    ]

    if limit != 0:
        rows = _sort_rows(_rows(snapshot, threads), sort)
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
            *_function_table(snapshot, shown, width),
        ]

    warnings = list(snapshot.warnings) + [
        f"{t.name}: {w}" for t in snapshot.threads for w in t.warnings
    ]
    if warnings:
        lines.append("")
        lines += [_fit(f"warning: {w}", width) for w in warnings]
    return "\n".join(lines) + "\n"
