# SPDX-License-Identifier: MIT
"""``threadprof diff BEFORE AFTER [options]``: two profiles compared.

Prints the change per function, per call path and per thread (a terminal
table, ``--format markdown`` or ``json``), writes the same to ``-o`` files by
their extension (``.md``, ``.json``, ``.txt``, and ``.html``: the HTML report
of the second profile with a differential flame graph), and checks
``--fail-if`` conditions for CI (:mod:`threadprof.gates`). See docs/diff.md.

Exit status: 0 compared, no condition held; 1 an output could not be
written; 2 a usage error (options, a condition that does not parse, a
``--thread`` that matches nothing); 3 an input cannot be read; 4 a
``--fail-if`` condition held (the report is still printed and written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..atomicfile import OutputError, atomic_write_bytes, check_writable
from ..diff import METRICS, Diff, compare
from ..diffreport import DEFAULT_LIMIT, diff_data, format_diff, format_markdown
from ..gates import Condition, ConditionError, Violation, check, parse_condition
from ..readers import ProfileFormatError, read_profile
from .color import colorize, use_color
from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    UsageError,
    dying_cleanly,
    emit,
    non_negative,
    report_width,
)
from .progress import Progress

__all__ = ["EXIT_CONDITION", "add_parser", "run"]

#: A ``--fail-if`` condition held.
EXIT_CONDITION = 4

#: The formats of ``--format`` and of ``-o`` files, by extension.
_FORMATS = {".txt": "text", ".md": "markdown", ".json": "json", ".html": "html"}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``diff`` command to the CLI's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "diff",
        help="compare two profiles (.tprof or pstats); gate CI on the change",
        usage="threadprof diff BEFORE AFTER [options]",
        description=(
            "Compare two profiles: the change in calls and in wall, CPU and off-CPU\n"
            "time per function, per call path and per thread. --fail-if conditions\n"
            "turn it into a CI gate: 'calls(mypkg.*) > 0' (no function of mypkg\n"
            "called more often), 'cpu > 10%' (CPU time at most a tenth higher)."
        ),
        epilog=(
            "exit status: 0 compared and no condition held, 1 an output could not be\n"
            "written, 2 usage error, 3 an input cannot be read, 4 a --fail-if condition held"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add = parser.add_argument
    add("before", metavar="BEFORE", help="the profile to compare against (the baseline)")
    add("after", metavar="AFTER", help="the profile to compare")
    add(
        "--fail-if",
        action="append",
        default=[],
        metavar="COND",
        dest="conditions",
        help="exit with status 4 if COND holds: METRIC[(GLOB)] OP VALUE, where METRIC is "
        f"one of {', '.join(METRICS)}, GLOB picks functions (each checked on its own; "
        "without it, the whole profile), OP one of > >= < <= == !=, VALUE a number of "
        "calls, a time (5ms, 0.2s) or a percentage (10%%) of the value before "
        "(repeatable)",
    )
    add(
        "-s",
        "--sort",
        default="wall_self",
        choices=tuple(METRICS),
        metavar="METRIC",
        help=f"order functions by the change in METRIC (default wall_self): "
        f"one of {', '.join(METRICS)}",
    )
    add(
        "--limit",
        type=non_negative,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"rows per table (default {DEFAULT_LIMIT})",
    )
    add(
        "--thread",
        metavar="NAME|IDENT",
        help="only the threads with this ident or whose name matches (globs ok), in both",
    )
    add(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="what is printed: the terminal table (default), Markdown or JSON",
    )
    add(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="FILE",
        help="also write the diff to FILE, by its extension: .txt, .md (a pull-request "
        "comment), .json, .html (a differential flame graph) (repeatable)",
    )
    add("-q", "--quiet", action="store_true", help="print nothing; -o files and the status only")
    add("--full-paths", action="store_true", help="show files whole")
    add("--width", type=non_negative, default=None, metavar="COLS", help="the table's width")
    add(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colours: auto (on a terminal, unless NO_COLOR is set), always, never",
    )
    return parser


def _outputs(paths: list[str]) -> list[tuple[str, str]]:
    out = []
    for path in paths:
        fmt = _FORMATS.get(os.path.splitext(path)[1].lower())
        if fmt is None:
            raise UsageError(
                f"cannot tell the format of {path!r} from its extension: "
                f"use one of {', '.join(_FORMATS)}"
            )
        check_writable(path)
        out.append((path, fmt))
    return out


def _read(path: str, label: str) -> Any:
    def load() -> Any:
        with Progress(f"reading {os.path.basename(path)} ({label})") as bar:
            return read_profile(path, bar.update, columns=True)

    return load


def _render(
    fmt: str,
    diff: Diff,
    ns: argparse.Namespace,
    conditions: list[Condition],
    violations: list[Violation],
    width: int,
) -> str:
    common: dict[str, Any] = dict(
        sort=ns.sort, limit=ns.limit, conditions=conditions, violations=violations
    )
    if fmt == "json":
        return json.dumps(diff_data(diff, **common), indent=2) + "\n"
    if fmt == "markdown":
        return format_markdown(diff, **common)
    return format_diff(diff, width=width, full_paths=ns.full_paths, **common)


def run(ns: argparse.Namespace, console: Console) -> int:
    """Run the parsed ``diff`` command; returns its exit status."""
    error = console.error
    try:
        conditions = [parse_condition(text) for text in ns.conditions]
        outputs = _outputs(ns.output)
    except (ConditionError, UsageError, OutputError) as exc:
        error(str(exc))
        return EXIT_USAGE
    names = (ns.before, ns.after)
    try:
        diff = compare(
            _read(ns.before, "before"), _read(ns.after, "after"), names=names, thread=ns.thread
        )
    except ProfileFormatError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except ValueError as exc:
        error(str(exc))
        return EXIT_USAGE
    except MemoryError:
        error("out of memory comparing the profiles")
        return EXIT_FAILED
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    if diff.paths is None and any(fmt == "html" for _path, fmt in outputs):
        error(
            "a pstats file has no call paths: the HTML diff needs two .tprof profiles "
            "(use .md, .json or .txt)"
        )
        return EXIT_USAGE
    violations = check(diff, conditions)
    status = EXIT_CONDITION if violations else EXIT_OK
    try:
        with dying_cleanly():
            for path, fmt in outputs:
                if fmt == "html":
                    from ..exporters.html.diffpage import render_diff

                    with Progress(f"writing {os.path.basename(path)}"):
                        data = render_diff(diff).encode("utf-8")
                else:
                    data = _render(fmt, diff, ns, conditions, violations, 100).encode("utf-8")
                atomic_write_bytes(path, data)
                if not ns.quiet:
                    console.say(f"wrote the diff to {path}")
    except OutputError as exc:
        error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    if ns.quiet:
        return status
    text = _render(ns.format, diff, ns, conditions, violations, report_width(ns.width))
    if ns.format == "text" and use_color(ns.color, sys.stdout):
        text = colorize(text)
    printed = emit(text, console)
    return status if printed == EXIT_OK else printed
