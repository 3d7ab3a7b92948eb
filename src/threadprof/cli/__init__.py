# SPDX-License-Identifier: MIT
"""The command line: ``threadprof COMMAND ...``, one module per command.
``threadprof app.py`` (anything but a command or ``--help``/``--version``
first) is ``threadprof run app.py``, as ``python -m cProfile app.py`` runs.

* ``run`` (:mod:`.run`): profile a script or module; its program is run by
  :mod:`.program`, and its end, however the process ends, is :mod:`.session`'s;
* ``convert`` (:mod:`.convert`): a saved profile into another format;
* ``report`` (:mod:`.report`): the report of a saved profile.

:func:`main` parses and dispatches; every command has ``add_parser(sub)`` and
``run(ns, console)`` (``run``'s arguments are split before parsing: options
end at the script) and reports errors as :mod:`.common` says. To add a
command: a module with those two functions, and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..atomicfile import OutputError
from ..exporters import UnknownFormatError
from .common import EXIT_USAGE, PROG, Console, Parser, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "EXIT_USAGE", "main"]

#: The commands, in the order ``threadprof --help`` lists them; each is the
#: module of its name in this package.
COMMANDS = ("run", "convert", "report", "diff", "attach")


class _CflagsAction(argparse.Action):
    """``--cflags``: the include flag for ``threadprof.h``, as ``python3-config``."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from .. import get_include

        print(f"-I{get_include()}")
        parser.exit(0)


def build_parser(
    commands: Sequence[str] = COMMANDS,
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser with the subparsers of ``commands`` (all by
    default), and each of those subparsers. Only the commands asked for are
    imported: ``threadprof run`` loads nothing the run does not need."""
    top = Parser(
        prog=PROG,
        description="A deterministic profiler for CPython that sees every thread.",
        epilog="'threadprof app.py [args]' is 'threadprof run app.py [args]'. "
        "Run 'threadprof run --help' for the options of a run.",
        allow_abbrev=False,
    )
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    top.add_argument(
        "--cflags",
        action=_CflagsAction,
        help="print the compiler flags for the C API header threadprof.h, then exit",
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    return top, {name: _command(name).add_parser(sub) for name in commands}


def _command(name: str) -> Any:
    return importlib.import_module(f"{__name__}.{name}")


#: The options of ``threadprof`` itself, before any command.
_TOP_OPTIONS = ("-h", "--help", "--version", "--cflags")


def _dispatch(args: list[str], console: Console) -> int:
    if args and args[0] not in COMMANDS and args[0] not in _TOP_OPTIONS:
        # threadprof app.py, threadprof -o out.prof app.py: a run, as cProfile's shape
        args = ["run", *args]
    if args[:1] == ["run"]:
        from . import run

        _top, parsers = build_parser(["run"])
        try:
            options = run.parse(parsers["run"], args[1:])
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else 0
        return run.run(options, console)  # outside: the program's own exits are its own
    top, _parsers = build_parser()
    try:
        ns = top.parse_args(args)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    if ns.command is None:
        raise UsageError("missing command (try 'threadprof --help')")
    if ns.command == "run" or args[:1] != [ns.command]:
        raise UsageError(f"put threadprof's options after the command: {PROG} run [options]")
    return int(_command(ns.command).run(ns, console))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status.

    ``threadprof run`` changes ``sys.argv``, ``sys.path`` and
    ``sys.modules["__main__"]`` for the program it runs.
    """
    console = Console()
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv), console)
    except (UsageError, OutputError, UnknownFormatError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
