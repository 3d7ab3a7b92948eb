# SPDX-License-Identifier: MIT
"""``threadprof report FILE [options]``: the terminal report of a saved profile.

Prints to stdout the report that ``threadprof run`` prints at exit, and on
request per-thread function tables (``--per-thread``), call trees
(``--tree``), JSON (``--json``) or the HTML report (``--html -o FILE``).
See docs/cli.md.

Exit status: 0 printed (or written); 1 the HTML report, or the report to a
closed or full stdout, could not be written;
2 a usage error (options, a ``--thread`` that matches nothing); 3 the input
cannot be read (missing, not a profile, truncated, corrupt, too new), as for
``threadprof convert``. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..atomicfile import OutputError
from ..model import Snapshot
from ..readers import ProfileFormatError, PstatsInput, read_profile
from ..report import (
    DEFAULT_LIMIT,
    DEFAULT_SORT,
    REPORT_SORT_KEYS,
    TREE_THRESHOLD,
    format_report,
    report_data,
)
from .color import colorize, use_color
from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    dying_cleanly,
    emit,
    non_negative,
    report_width,
)
from .progress import Progress

__all__ = ["add_parser", "run"]


def _threshold(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100: {text!r}")
    return value


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``report`` command to the CLI's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="print the report of a saved profile (.tprof or pstats)",
        usage="threadprof report FILE [options]",
        description=(
            "Print the report of a profile saved by 'threadprof run' (.tprof) or of a\n"
            "pstats file: the threads, their lifetimes, the top functions, and on\n"
            "request call trees, JSON or the HTML report."
        ),
        epilog=(
            "exit status: 0 printed, 1 the HTML report could not be written, 2 usage\n"
            "error, 3 the input cannot be read (missing, not a profile, corrupt, truncated)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add = parser.add_argument
    add("input", metavar="FILE", help="the profile to report on")
    add(
        "-s",
        "--sort",
        default=DEFAULT_SORT,
        choices=REPORT_SORT_KEYS,
        metavar="KEY",
        help=f"sort the functions by KEY (default {DEFAULT_SORT}): "
        f"one of {', '.join(REPORT_SORT_KEYS)}",
    )
    add(
        "--limit",
        type=non_negative,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show the top N functions (default {DEFAULT_LIMIT}; 0: none)",
    )
    add(
        "--thread",
        metavar="NAME|IDENT",
        help="only the threads with this ident or native id, or whose name matches (globs ok)",
    )
    add(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only functions whose file or name matches (repeatable)",
    )
    add(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out functions whose file or name matches (repeatable)",
    )
    add("--per-thread", action="store_true", help="also a function table per thread")
    add("--tree", action="store_true", help="also the call tree of each thread")
    add(
        "--threshold",
        type=_threshold,
        default=TREE_THRESHOLD,
        metavar="PCT",
        help=f"--tree: collapse the paths below PCT%% of the thread (default {TREE_THRESHOLD:g})",
    )
    add("--expand-threads", action="store_true", help="list every thread on its own line")
    add(
        "--full-paths",
        action="store_true",
        help="show files whole (default: short, as concurrent/futures/thread.py)",
    )
    add(
        "--hide-library",
        action="store_true",
        help="leave out the functions of the standard library and of installed packages",
    )
    add(
        "--width",
        type=non_negative,
        default=None,
        metavar="COLS",
        help="the report's width (default: the terminal's, at most 100; 80 when not a terminal)",
    )
    add(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colours: auto (when stdout is a terminal and NO_COLOR is not set), always, never",
    )
    add("--json", action="store_true", help="print the report's data as JSON")
    add("--html", action="store_true", help="write the HTML report to -o FILE")
    add("-o", "--output", metavar="OUT", help="the file of --html")
    return parser


def _load(path: str) -> Snapshot:
    with Progress(f"reading {os.path.basename(path)}") as bar:
        profile = read_profile(path, bar.update)
        if isinstance(profile, PstatsInput):
            return profile.snapshot()
        return profile


def run(ns: argparse.Namespace, console: Console) -> int:
    """Run the parsed ``report`` command; returns its exit status."""
    error = console.error
    if ns.html and not ns.output:
        error("--html needs -o FILE, the file to write")
        return EXIT_USAGE
    if ns.output and not ns.html:
        error("-o is for --html: the terminal report goes to stdout")
        return EXIT_USAGE
    try:
        snapshot = _load(ns.input)
    except ProfileFormatError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except MemoryError:
        error(f"out of memory reading {ns.input!r}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    try:
        if ns.html:
            from ..exporters import get_exporter

            if ns.thread is not None:
                snapshot = snapshot.filter_threads(ns.thread)
            with Progress(f"writing {os.path.basename(ns.output)}"), dying_cleanly():
                get_exporter("html").write(snapshot, ns.output)
            console.say(f"wrote the HTML report to {ns.output}")
            return EXIT_OK
        options: dict[str, Any] = dict(
            thread=ns.thread,
            include=ns.include,
            exclude=ns.exclude,
            per_thread=ns.per_thread,
            tree=ns.tree,
            threshold=ns.threshold,
            hide_library=ns.hide_library,
        )
        if ns.json:
            data = report_data(snapshot, ns.sort, ns.limit, **options)
            return emit(json.dumps(data, indent=2) + "\n", console)
        text = format_report(
            snapshot,
            ns.sort,
            ns.limit,
            width=report_width(ns.width),
            expand_threads=ns.expand_threads,
            details=True,
            full_paths=ns.full_paths,
            **options,
        )
    except (LookupError, ValueError) as exc:
        error(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
        return EXIT_USAGE
    except OutputError as exc:
        error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # an exporter's bug must still be one line
        error(f"cannot report on {ns.input!r}: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    return emit(colorize(text) if use_color(ns.color, sys.stdout) else text, console)
