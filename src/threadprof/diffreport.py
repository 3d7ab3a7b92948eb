# SPDX-License-Identifier: MIT
"""The views of a :class:`~threadprof.diff.Diff`: the terminal table, the
Markdown summary for a pull-request comment, and the JSON document.

All three show the same things in the same order: the whole profile's
totals before and after; the functions whose sort metric changed most,
either way; the call paths that changed most; the threads; and, when
``--fail-if`` conditions were given, which held. The model
(:mod:`threadprof.diff`, :mod:`threadprof.gates`) computes; this formats.
"""

from __future__ import annotations

import math
from typing import Any

from .diff import METRICS, Change, Diff
from .gates import Condition, Violation
from .report import format_seconds, function_label, printable

__all__ = ["DEFAULT_LIMIT", "diff_data", "format_diff", "format_markdown", "signed"]

#: Rows per table unless ``--limit`` says otherwise.
DEFAULT_LIMIT = 20
#: Rows of the call path table.
PATH_LIMIT = 10
#: Violations listed per condition.
VIOLATIONS_SHOWN = 10


#: Each metric's name in a column's head.
_SHORT = {
    "calls": "calls",
    "wall": "wall",
    "wall_self": "own wall",
    "cpu": "CPU",
    "cpu_self": "own CPU",
    "offcpu": "off-CPU",
    "offcpu_self": "own off-CPU",
}


def _amount(metric: str, value: float) -> str:
    if metric == "calls":
        return f"{value:,.0f}"
    return format_seconds(value / 1e9)


def signed(metric: str, delta: float) -> str:
    """A change with its sign: ``+100``, ``-2.500ms``, ``0``."""
    if delta == 0:
        return "0"
    text = _amount(metric, abs(delta))
    return ("+" if delta > 0 else "-") + text


def _percent(row: Change, metric: str) -> str:
    rel = row.relative(metric)
    if rel == 0:
        return ""
    if math.isinf(rel):
        return "new" if row.before is None else "from 0" if rel > 0 else "-100%"
    return f"{rel * 100:+.1f}%"


def _status(row: Change) -> str:
    return {"added": "new: ", "removed": "gone: ", "both": ""}[row.status]


def _totals(diff: Diff) -> list[tuple[str, str, int, int]]:
    """(label, metric, before, after) of the summary."""
    t = diff.total
    rows = [("calls", "calls"), ("wall time, threads summed", "wall")]
    if diff.has_cpu:
        rows += [("CPU time", "cpu"), ("off-CPU time", "offcpu")]
    out = [(label, m, t.value(m, "before"), t.value(m, "after")) for label, m in rows]
    out.append(("duration", "wall", *diff.durations))
    return out


def _shown_metric(sort: str) -> str:
    """The time column of the function table: the sort's, or own wall time."""
    return "wall_self" if sort == "calls" else sort


def _path_label(row: Change, width: int) -> str:
    names = [f.qualname if f.kind == "python" else f.display for f in row.path]
    text = " > ".join(printable(n) for n in names)
    if len(text) > width:
        text = "..." + text[len(text) - width + 3 :]
    return text


def _verdicts(
    conditions: list[Condition], violations: list[Violation]
) -> list[tuple[Condition, list[Violation]]]:
    return [(c, [v for v in violations if v.condition is c]) for c in conditions]


def _name(row: Change, full_paths: bool = False) -> str:
    """A function row's label as the reports show it (short paths)."""
    if row.func is None or row.kind != "function":
        return printable(row.label)
    return function_label(row.func, 1000, full_paths=full_paths)


def _violation_text(v: Violation) -> str:
    m, row = v.condition.metric, v.row
    what = "the whole profile" if row.kind == "total" else _name(row)
    before, after = row.value(m, "before"), row.value(m, "after")
    pct = _percent(row, m)
    return (
        f"{what}: {signed(m, row.delta(m))} {_SHORT[m]}"
        f"{f' ({pct})' if pct else ''}, {_amount(m, before)} -> {_amount(m, after)}"
    )


# -- the terminal --------------------------------------------------------------------


def format_diff(
    diff: Diff,
    *,
    sort: str = "wall_self",
    limit: int = DEFAULT_LIMIT,
    width: int = 100,
    full_paths: bool = False,
    conditions: list[Condition] | None = None,
    violations: list[Violation] | None = None,
) -> str:
    """The terminal report of ``diff``."""
    out = [f"threadprof diff: {printable(diff.before_name)} -> {printable(diff.after_name)}", ""]
    out.append(f"{'':<28}{'before':>12}{'after':>12}{'change':>14}")
    for label, m, before, after in _totals(diff):
        pct = f" ({(after - before) / before * 100:+.1f}%)" if before else ""
        out.append(
            f"{label:<28}{_amount(m, before):>12}{_amount(m, after):>12}"
            f"{signed(m, after - before):>14}{pct}"
        )
    shown = _shown_metric(sort)
    rows = diff.top_functions(sort)
    same_calls = sum(1 for c in diff.functions if c.delta("calls") == 0)
    out += [
        "",
        f"Functions by change in {METRICS[sort]} ({min(limit, len(rows))} of {len(rows)} "
        f"changed; {same_calls} of {len(diff.functions)} called as often)",
    ]
    head = f"{'calls':>10} {'Δ calls':>9} {_SHORT[shown]:>10} {'Δ':>10} {'Δ%':>8}  function"
    out.append(head)
    name_w = max(width - len(head) + len("function"), 30)
    for row in rows[:limit]:
        label = _status(row) + function_label(row.func, name_w, full_paths=full_paths)  # type: ignore[arg-type]
        out.append(
            f"{_amount('calls', row.value('calls', 'after')):>10} "
            f"{signed('calls', row.delta('calls')):>9} "
            f"{_amount(shown, row.value(shown, 'after')):>10} "
            f"{signed(shown, row.delta(shown)):>10} {_percent(row, shown):>8}  {label}"
        )
    if diff.paths is not None and limit:
        path_metric = "wall" if sort == "wall_self" else sort.removesuffix("_self")
        paths = diff.paths.top(path_metric, min(limit, PATH_LIMIT))
        if paths:
            out += ["", f"Call paths by change in {METRICS[path_metric]}, all threads merged"]
            out.append(f"{'Δ calls':>9} {'Δ ' + _SHORT[path_metric]:>12}  path")
            for row in paths:
                out.append(
                    f"{signed('calls', row.delta('calls')):>9} "
                    f"{signed(path_metric, row.delta(path_metric)):>12}  "
                    f"{_status(row)}{_path_label(row, max(width - 25, 30))}"
                )
    if diff.threads:
        out += ["", "Threads"]
        cols = ["calls", "wall"] + (["cpu", "offcpu"] if diff.has_cpu else [])
        out.append(
            " ".join(f"{'Δ ' + _SHORT[m]:>11}" for m in cols) + f" {'wall after':>11}  thread"
        )
        for row in diff.threads:
            out.append(
                " ".join(f"{signed(m, row.delta(m)):>11}" for m in cols)
                + f" {_amount('wall', row.value('wall', 'after')):>11}  "
                + _status(row)
                + printable(row.label)
            )
    if conditions:
        out += ["", "Conditions (--fail-if)"]
        for cond, hits in _verdicts(conditions, violations or []):
            out.append(f"  {'FAILED' if hits else 'passed'}  {cond.text}")
            for v in hits[:VIOLATIONS_SHOWN]:
                out.append(f"          {_violation_text(v)}")
            if len(hits) > VIOLATIONS_SHOWN:
                out.append(f"          and {len(hits) - VIOLATIONS_SHOWN} more")
    out += [f"warning: {printable(w)}" for w in diff.warnings]
    return "\n".join(out) + "\n"


# -- Markdown ------------------------------------------------------------------------


def _md(text: str) -> str:
    """``text`` safe in a Markdown table cell, as code."""
    text = printable(text).replace("|", "\\|").replace("`", "'")
    return f"`{text}`"


def format_markdown(
    diff: Diff,
    *,
    sort: str = "wall_self",
    limit: int = DEFAULT_LIMIT,
    conditions: list[Condition] | None = None,
    violations: list[Violation] | None = None,
) -> str:
    """A Markdown summary of ``diff`` for a pull-request comment."""
    out: list[str] = []
    failed = bool(violations)
    title = "threadprof diff"
    if conditions:
        title += ": **regression**" if failed else ": no regression"
    out += [f"### {title}", ""]
    out.append(f"{_md(diff.before_name)} → {_md(diff.after_name)}")
    out += ["", "| | before | after | change |", "|---|---:|---:|---:|"]
    for label, m, before, after in _totals(diff):
        pct = f" ({(after - before) / before * 100:+.1f}%)" if before else ""
        out.append(
            f"| {label} | {_amount(m, before)} | {_amount(m, after)} | "
            f"{signed(m, after - before)}{pct} |"
        )
    if conditions:
        out += ["", "| condition | result |", "|---|---|"]
        for cond, hits in _verdicts(conditions, violations or []):
            result = "❌ failed" if hits else "✅ passed"
            details = "<br>".join(_md(_violation_text(v)) for v in hits[:VIOLATIONS_SHOWN])
            more = f"<br>and {len(hits) - VIOLATIONS_SHOWN} more" if len(hits) > 10 else ""
            out.append(
                f"| {_md(cond.text)} | {result}{'<br>' + details if details else ''}{more} |"
            )
    tables = [(sort, diff.top_functions(sort, limit))]
    if sort != "calls":
        tables.append(("calls", diff.top_functions("calls", limit)))
    for metric, rows in tables:
        if not rows:
            continue
        shown = _shown_metric(metric)
        out += [
            "",
            "<details><summary>Functions by change in "
            f"{METRICS[metric]} ({len(rows)} shown)</summary>",
            "",
            f"| function | calls | Δ calls | {_SHORT[shown]} | Δ | Δ% |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in rows:
            cells = (
                _status(row) + _md(_name(row)),
                _amount("calls", row.value("calls", "after")),
                signed("calls", row.delta("calls")),
                _amount(shown, row.value(shown, "after")),
                signed(shown, row.delta(shown)),
                _percent(row, shown),
            )
            out.append("| " + " | ".join(cells) + " |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


# -- JSON ----------------------------------------------------------------------------


def _side(row: Change, which: str) -> dict[str, Any] | None:
    side = row.before if which == "before" else row.after
    if side is None:
        return None
    return {m: _value(m, side.get(m)) for m in METRICS} | {"prim_calls": side.prim_calls}


def _value(metric: str, value: int) -> int | float:
    return value if metric == "calls" else value / 1e9


def _row_json(row: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"label": row.label, "status": row.status}
    if row.func is not None and row.kind == "function":
        f = row.func
        out |= {"file": f.filename, "line": f.lineno, "name": f.name, "qualname": f.qualname}
    if row.kind == "path":
        out["path"] = [f.display for f in row.path]
    out["before"] = _side(row, "before")
    out["after"] = _side(row, "after")
    out["delta"] = {m: _value(m, row.delta(m)) for m in METRICS}
    return out


def diff_data(
    diff: Diff,
    *,
    sort: str = "wall_self",
    limit: int = DEFAULT_LIMIT,
    conditions: list[Condition] | None = None,
    violations: list[Violation] | None = None,
) -> dict[str, Any]:
    """The JSON document of ``diff``: every function whose calls or times
    changed (by ``sort``), the ``limit`` call paths that changed most, every
    thread, and the conditions. Times in seconds."""
    path_metric = "wall" if sort == "wall_self" else sort.removesuffix("_self")
    changed = [c for c in diff.functions if any(c.delta(m) for m in METRICS)]
    changed.sort(key=lambda c: -abs(c.delta(sort)))
    return {
        "before": diff.before_name,
        "after": diff.after_name,
        "has_cpu": diff.has_cpu,
        "durations": [d / 1e9 for d in diff.durations],
        "total": _row_json(diff.total),
        "sort": sort,
        "functions": [_row_json(r) for r in changed],
        "functions_unchanged": len(diff.functions) - len(changed),
        "paths": None
        if diff.paths is None
        else [_row_json(r) for r in diff.paths.top(path_metric, limit)],
        "threads": None if diff.threads is None else [_row_json(r) for r in diff.threads],
        "conditions": [
            {
                "condition": c.text,
                "failed": bool(hits),
                "violations": [_row_json(v.row) for v in hits],
            }
            for c, hits in _verdicts(conditions or [], violations or [])
        ],
        "failed": bool(violations),
        "warnings": list(diff.warnings),
    }
