# SPDX-License-Identifier: MIT
"""``threadprof diff --fail-if``: conditions on a :class:`~threadprof.diff.Diff`
that fail a CI run.

A condition is ``METRIC[(GLOB)] OP VALUE``:

* ``METRIC`` is one of :data:`threadprof.diff.METRICS` (``calls``, ``wall``,
  ``cpu``, ``offcpu``, and the own times ``wall_self``, ``cpu_self``,
  ``offcpu_self``);
* without ``(GLOB)`` it is the whole profile's (calls, and the threads' times
  summed; own times are not defined there); with it, each function that
  matches ``GLOB`` (file, name, qualname or dotted name, see
  :func:`threadprof.paths.function_matches`) is checked on its own, and
  ``(*)`` checks every function;
* ``OP`` is one of ``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=``, comparing the
  *change*, after minus before;
* ``VALUE`` is a number: calls for ``calls``, and for a time seconds, or with
  a unit ``ns``, ``us``, ``ms``, ``s``; or a percentage of the value before,
  ``10%`` (a row that was zero and is not has changed by an infinite
  percentage).

``calls(mypkg.*) > 0`` fails when any function of ``mypkg`` is called more
often; ``cpu > 10%`` when the CPU time of the whole run grew by more than a
tenth; ``wall_self(*) > 50ms`` when any function's own wall time grew by more
than 50 ms.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from .diff import METRICS, Change, Diff
from .paths import function_matches

__all__ = ["Condition", "ConditionError", "Violation", "check", "parse_condition"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_SYNTAX = re.compile(
    r"""^\s*(?P<metric>[a-z_]+)\s*(?:\(\s*(?P<glob>[^()]*?)\s*\))?\s*
    (?P<op>>=|<=|==|!=|>|<)\s*
    (?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>%|ns|us|ms|s)?\s*$""",
    re.VERBOSE,
)


class ConditionError(ValueError):
    """A condition that does not parse; ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed ``--fail-if`` condition (see the module's docstring)."""

    text: str
    metric: str
    glob: str | None
    op: str
    #: the bound: calls, nanoseconds, or a fraction when ``relative``
    value: float
    relative: bool

    def holds(self, row: Change) -> bool:
        """Whether ``row``'s change meets the condition (so that it fails)."""
        change = row.relative(self.metric) if self.relative else row.delta(self.metric)
        return _OPS[self.op](change, self.value)


@dataclass(frozen=True, slots=True)
class Violation:
    """A row whose change meets a condition."""

    condition: Condition
    row: Change


def parse_condition(text: str) -> Condition:
    """Parse a condition; raises :class:`ConditionError` with what is wrong."""
    m = _SYNTAX.match(text)
    if m is None:
        raise ConditionError(
            f"cannot read the condition {text!r}: write METRIC[(GLOB)] OP VALUE, "
            "as 'calls(mypkg.*) > 0' or 'cpu > 10%'"
        )
    metric, glob, op, unit = m["metric"], m["glob"], m["op"], m["unit"]
    if metric not in METRICS:
        raise ConditionError(f"unknown metric {metric!r} in {text!r}: one of {', '.join(METRICS)}")
    if glob is None and metric.endswith("_self"):
        raise ConditionError(
            f"{metric} is a function's own time: give the functions, as '{metric}(*)'"
        )
    if glob == "":
        raise ConditionError(f"empty function pattern in {text!r}: '(*)' is every function")
    number = float(m["number"])
    relative = unit == "%"
    if relative:
        value = number / 100
    elif metric == "calls":
        if unit is not None:
            raise ConditionError(f"calls take no unit in {text!r}")
        value = number
    else:
        value = number * _UNITS[unit or "s"]
    return Condition(text.strip(), metric, glob, op, value, relative)


def check(diff: Diff, conditions: list[Condition]) -> list[Violation]:
    """The rows that meet each condition, in the conditions' order, each
    condition's functions by the size of their change."""
    out: list[Violation] = []
    for cond in conditions:
        if cond.glob is None:
            rows = [diff.total]
        else:
            globs = (cond.glob,)
            rows = [c for c in diff.functions if c.func and function_matches(c.func, globs)]
        hits = [r for r in rows if cond.holds(r)]
        hits.sort(key=lambda r: -abs(r.delta(cond.metric)))
        out += [Violation(cond, r) for r in hits]
    return out
