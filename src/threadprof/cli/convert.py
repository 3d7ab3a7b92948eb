# SPDX-License-Identifier: MIT
"""``threadprof convert IN -o OUT [--format F] [--thread T] [format options]``.

Converts a saved profile into any registered format:

* a ``.tprof`` file (``threadprof run`` writes one by default) into every
  format; the timeline formats (chrome, perfetto) need a profile recorded with
  ``--timeline``. Timelines are read from the file chunk by chunk as they are
  written out, so a trace of any length converts in bounded memory.
* a pstats file into the formats its data allows, ``pstats`` and
  ``callgrind`` (see :mod:`threadprof.pstatsfile` for why no others).

The input's format is told by its content, the output's by ``--format`` or the
output file's extension. The output is written atomically: a failed
conversion leaves nothing under its name (and an older file there untouched).

Exit status: 0 written; 1 the output could not be written once the
conversion had started (disk full...) or an exporter failed; 2 a usage error
(options, an unknown or unsuitable format, a ``--thread`` that matches
nothing, an output file that cannot be created); 3 the input cannot be read
(missing, unreadable, not a profile, truncated, corrupt, or from a newer
threadprof). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from typing import Any

from ..atomicfile import OutputError, atomic_write_bytes, check_writable
from ..exporters import (
    EXPORTERS,
    FORMATS,
    Exporter,
    NeedsTimelineError,
    NoSuchThreadError,
    UnknownOptionError,
    exporter_for_path,
    get_exporter,
    known_names,
    select_threads,
)
from ..readers import ProfileFormatError, PstatsInput, read_profile
from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    UsageError,
    add_format_flags,
    dying_cleanly,
    format_options,
)
from .progress import Progress

__all__ = [
    "ConvertError",
    "add_parser",
    "convert",
    "run",
]


class ConvertError(Exception):
    """A conversion that cannot be done; ``status`` is the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``convert`` command to the CLI's subparsers."""
    formats = "\n".join(
        f"  {e.name:<10} {', '.join(e.extensions):<18} {e.description}" for e in EXPORTERS
    )
    parser: argparse.ArgumentParser = sub.add_parser(
        "convert",
        help="convert a saved profile (.tprof or pstats) into another format",
        usage="threadprof convert IN -o OUT [--format FORMAT] [--thread NAME|IDENT]",
        description=(
            "Convert a profile saved by 'threadprof run' (.tprof) into any format, or a\n"
            "pstats file into pstats or callgrind. The input's format is read from its\n"
            "content; the output's comes from --format or OUT's extension."
        ),
        epilog=(
            f"output formats:\n{formats}\n\n"
            "exit status: 0 written, 1 the output could not be written, 2 usage error,\n"
            "3 the input cannot be read (missing, not a profile, corrupt, truncated)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("input", metavar="IN", help="the profile to convert")
    parser.add_argument("-o", "--output", metavar="OUT", required=True, help="the file to write")
    parser.add_argument(
        "--format", choices=FORMATS, help="the output format (default: from OUT's extension)"
    )
    parser.add_argument(
        "--thread",
        metavar="NAME|IDENT",
        help="only the threads with this ident or native id, or whose name matches "
        "(glob patterns allowed)",
    )
    add_format_flags(parser)
    return parser


def _output_exporter(output: str, fmt: str | None) -> Exporter:
    if fmt is not None:
        return get_exporter(fmt)
    exporter = exporter_for_path(output)
    if exporter is None:
        raise ConvertError(
            f"cannot tell the format of {output!r} from its name: give --format "
            f"({', '.join(FORMATS)}), or a name ending in {known_names()}",
            EXIT_USAGE,
        )
    return exporter


def _convert_pstats(
    profile: PstatsInput,
    output: str,
    exporter: Exporter,
    thread: str | None,
    options: Mapping[str, Any] | None,
) -> None:
    if exporter.name not in PstatsInput.FORMATS:
        raise ConvertError(
            f"{profile.path!r} is a pstats file, which holds per-function totals only: "
            f"it converts to {' or '.join(PstatsInput.FORMATS)}, not to {exporter.name} "
            "(record a .tprof profile with 'threadprof run' for that)",
            EXIT_USAGE,
        )
    if thread is not None or (options or {}).get("thread_roots"):
        flag = "--thread" if thread is not None else "--thread-roots"
        raise ConvertError(
            f"{profile.path!r} is a pstats file, which has no threads: {flag} needs a "
            ".tprof profile",
            EXIT_USAGE,
        )
    if exporter.name == "pstats":
        from ..exporters.pstats import stats_to_bytes

        atomic_write_bytes(output, stats_to_bytes(profile.stats))
    else:
        exporter.write(profile.snapshot(), output, options=options)


def convert(
    input: str,
    output: str,
    fmt: str | None = None,
    thread: str | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Exporter:
    """Convert the profile ``input`` into ``output``, with the output format's
    ``options``; returns the exporter used. ``progress(done, total)`` is told
    how far the input has been read.

    Raises :class:`ConvertError` with the exit status of ``threadprof convert``.
    """
    exporter = _output_exporter(output, fmt)
    try:
        exporter.check_options(options)
    except UnknownOptionError as exc:
        raise ConvertError(str(exc), EXIT_USAGE) from exc
    try:
        check_writable(output)
    except OutputError as exc:
        raise ConvertError(str(exc), EXIT_USAGE) from exc
    try:
        profile = read_profile(input, progress)
        if isinstance(profile, PstatsInput):
            _convert_pstats(profile, output, exporter, thread, options)
            return exporter
        snapshot = select_threads(profile, thread)
        if exporter.needs_timeline and all(t.timeline is None for t in snapshot.threads):
            raise ConvertError(
                f"the {exporter.name} format needs a timeline, and {input!r} has none "
                "(record it with 'threadprof run --timeline')",
                EXIT_USAGE,
            )
        exporter.write(snapshot, output, options=options)
    except ProfileFormatError as exc:
        raise ConvertError(str(exc), EXIT_BAD_INPUT) from exc
    except (NoSuchThreadError, NeedsTimelineError) as exc:
        raise ConvertError(str(exc), EXIT_USAGE) from exc
    except OutputError as exc:
        raise ConvertError(str(exc), EXIT_FAILED) from exc
    except MemoryError as exc:
        raise ConvertError(f"out of memory converting {input!r}", EXIT_FAILED) from exc
    return exporter


def run(ns: argparse.Namespace, console: Console) -> int:
    """Run the parsed ``convert`` command; returns its exit status."""
    try:
        options = format_options(ns, _output_exporter(ns.output, ns.format).name)
        with Progress(f"converting {os.path.basename(ns.input)}") as bar, dying_cleanly():
            exporter = convert(ns.input, ns.output, ns.format, ns.thread, options, bar.update)
    except UsageError as exc:
        console.error(str(exc))
        return EXIT_USAGE
    except ConvertError as exc:
        console.error(str(exc))
        return exc.status
    except KeyboardInterrupt:
        console.error("interrupted: nothing written")
        return EXIT_INTERRUPTED
    except Exception as exc:  # an exporter's bug must still be one line
        console.error(f"cannot convert {ns.input!r}: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    console.say(f"wrote the {exporter.name} profile to {ns.output}")
    return EXIT_OK
