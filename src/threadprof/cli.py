# SPDX-License-Identifier: MIT
"""The command line: ``threadprof run [options] [--] script.py [args...]``
and ``threadprof run [options] -m module [args...]``.

The program runs as it would under ``python`` itself: the same ``sys.argv``,
``sys.path[0]`` and a real ``__main__`` module (kept in ``sys.modules`` until
the process ends, as Python does), the same exit status, the same traceback
(without threadprof's frames), and the same death by SIGINT after an uncaught
``KeyboardInterrupt``. After its main code ends, the non-daemon threads it left
running are joined, as the interpreter does at exit, so they are profiled to
their end. Then the profile is written and the report printed to stderr, also
when the program raised, called ``sys.exit`` or was interrupted, and when a
SIGTERM or SIGHUP that it does not handle kills it (it then dies by that
signal). A child forked while profiling writes its own file,
``out.<pid>.prof``, at its end or at ``os._exit`` (see "however the process
ends" below).

The target is resolved before profiling starts -- the way ``runpy`` does it, but
without ``runpy``'s temporary ``sys.argv[0]`` and ``__main__`` -- so that a
missing script, an unknown module or an unwritable output file is reported
(exit status 2) before the program has done anything. docs/cli.md documents
every exit status.

:func:`main` is the process's entry point: it changes ``sys.argv``, ``sys.path``
and ``sys.modules["__main__"]`` for the program it runs.
"""

from __future__ import annotations

import argparse
import atexit
import builtins
import contextlib
import dataclasses
import functools
import importlib.machinery
import importlib.util
import io
import operator
import os
import pkgutil
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from .atomicfile import OutputError, check_writable
from .convert import add_parser as add_convert_parser
from .exporters import (
    EXPORTERS,
    FALLBACK_FORMAT,
    FORMATS,
    Exporter,
    NoSuchThreadError,
    UnknownFormatError,
    exporter_for_path,
    get_exporter,
)
from .model import Snapshot
from .report import DEFAULT_LIMIT, DEFAULT_SORT, SORT_KEYS, format_report
from .report_cmd import add_parser as add_report_parser
from .trim import drop_frames, find_shallowest, reroot

__all__ = ["EXIT_USAGE", "main"]

PROG = "threadprof"

#: Exit status for a usage error or a program that could not be started.
EXIT_USAGE = 2
#: Exit status of an uncaught exception, as in Python.
EXIT_EXCEPTION = 1
#: Exit status after Ctrl-C where a signal cannot end the process (128 + SIGINT).
EXIT_SIGINT = 130

CLOCKS = ("wall", "cpu")
ENGINES = ("auto", "legacy", "monitoring")


class UsageError(Exception):
    """A bad command line or an impossible run; ``str()`` is a one-line message."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are exceptions, not ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# -- command line ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _RunParser:
    parser: argparse.ArgumentParser
    value_options: frozenset[str]  # options that take a value: -o FILE, --clock wall...


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


class _CflagsAction(argparse.Action):
    """``--cflags``: the include flag for ``threadprof.h``, as ``python3-config``."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from . import get_include

        print(f"-I{get_include()}")
        parser.exit(0)


def _build_parsers() -> tuple[argparse.ArgumentParser, _RunParser]:
    top = _Parser(
        prog=PROG,
        description="A deterministic profiler for CPython that sees every thread.",
        epilog="Run 'threadprof run --help' for the options of a run.",
        allow_abbrev=False,
    )
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    top.add_argument(
        "--cflags",
        action=_CflagsAction,
        help="print the compiler flags for the C API header threadprof.h, then exit",
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    formats = "\n".join(
        f"  {e.name:<10} {', '.join(e.extensions):<16} {e.description}" for e in EXPORTERS
    )
    run = sub.add_parser(
        "run",
        help="run a Python script or module under the profiler",
        usage=(
            f"{PROG} run [options] [--] script.py [args ...]\n"
            f"       {PROG} run [options] -m module [args ...]"
        ),
        description=(
            "Run a Python program under the profiler, every thread of it. At exit, print a\n"
            f"report to stderr and write the profile ({DEFAULT_OUTPUT} unless -o or --format\n"
            "say otherwise), also after SIGTERM or SIGHUP. A forked child writes its own\n"
            "file, with .<pid> before the extension, and prints no report. The program's\n"
            "exit status is kept. Options come before the script or -m; what follows\n"
            "belongs to the program."
        ),
        epilog=(
            "output formats (--format, or -o FILE's extension; pstats for another\n"
            f"extension; {DEFAULT_OUTPUT} without either):\n{formats}"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    value_options: set[str] = set()

    def option(*flags: str, takes_value: bool = True, **kwargs: object) -> None:
        run.add_argument(*flags, **kwargs)  # type: ignore[arg-type]
        if takes_value:
            value_options.update(flags)

    option(
        "-o",
        "--output",
        metavar="FILE",
        help=f"write the profile to FILE (default: {DEFAULT_OUTPUT})",
    )
    option(
        "--format",
        choices=FORMATS,
        help=f"format of the profile (default: from -o FILE's extension, else {FALLBACK_FORMAT}; "
        "without -o the file is threadprof.<its extension>)",
    )
    option(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="time to attribute: wall (default; CPU time is kept alongside) or cpu",
    )
    option(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="how events reach the profiler: monitoring (sys.monitoring, 3.12+), legacy (a "
        "profile function in every thread) or auto (default: monitoring where available)",
    )
    option(
        "-s",
        "--sort",
        choices=SORT_KEYS,
        default=DEFAULT_SORT,
        metavar="KEY",
        help=f"sort the report's functions by KEY, as cProfile -s (default: {DEFAULT_SORT}); "
        f"one of: {', '.join(SORT_KEYS)}",
    )
    option(
        "--limit",
        type=_non_negative,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show the top N functions in the report (default: {DEFAULT_LIMIT}; 0: none)",
    )
    option(
        "--thread",
        metavar="NAME|IDENT",
        help="restrict the -o file and the report's functions to the threads with this "
        "ident or native id, or whose name matches (glob patterns allowed)",
    )
    option(
        "--expand-threads",
        action="store_true",
        takes_value=False,
        help="list every thread in the report; by default threads whose names differ only "
        "by a trailing number share a line (worker-* (1000 threads))",
    )
    option(
        "--timeline",
        action="store_true",
        takes_value=False,
        help="also record every call and return of every thread in time order (for the "
        "chrome and perfetto formats, and speedscope's evented view)",
    )
    option(
        "--timeline-limit",
        type=_non_negative,
        metavar="N",
        help="record the timeline keeping only the last N events of each thread "
        "(implies --timeline; 0: keep all)",
    )
    option("-q", "--quiet", action="store_true", takes_value=False, help="print no report")
    option(
        "-m",
        dest="module",
        metavar="module",
        help="run a library module as a script, as python -m (ends the options)",
    )
    add_convert_parser(sub)
    add_report_parser(sub)
    return top, _RunParser(run, frozenset(value_options))


@dataclasses.dataclass(frozen=True)
class _Target:
    """What to run, as typed: a script path or ``-m module``, and its arguments."""

    kind: str  # "script" or "module"
    name: str
    args: tuple[str, ...]


def _split_run_args(
    args: Sequence[str], value_options: frozenset[str]
) -> tuple[list[str], _Target | None]:
    """Split ``run``'s arguments into threadprof's options and the target.

    Everything from the script (or from ``-m module``) on belongs to the program,
    even if it looks like one of threadprof's options.
    """
    opts: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            if i + 1 == len(args):
                raise UsageError("missing script after '--'")
            return opts, _Target("script", args[i + 1], tuple(args[i + 2 :]))
        if arg.startswith("--"):
            opts.append(arg)
            if "=" not in arg and arg in value_options and i + 1 < len(args):
                opts.append(args[i + 1])
                i += 1
        elif arg.startswith("-") and arg != "-":
            # short options, possibly bundled: -q, -ofile, -qo file, -mmodule
            for j in range(1, len(arg)):
                flag = "-" + arg[j]
                if flag == "-m":
                    if j > 1:
                        opts.append(arg[:j])
                    if j + 1 < len(arg):
                        return opts, _Target("module", arg[j + 1 :], tuple(args[i + 1 :]))
                    if i + 1 == len(args):
                        raise UsageError("argument -m: expected a module name")
                    return opts, _Target("module", args[i + 1], tuple(args[i + 2 :]))
                if flag in value_options:
                    opts.append(arg)
                    if j + 1 == len(arg) and i + 1 < len(args):
                        opts.append(args[i + 1])
                        i += 1
                    break
            else:
                opts.append(arg)
        else:
            return opts, _Target("script", arg, tuple(args[i + 1 :]))
        i += 1
    return opts, None


@dataclasses.dataclass(frozen=True)
class _RunOptions:
    target: _Target
    output: str | None
    exporter: Exporter | None
    clock: str
    engine: str
    sort: str
    limit: int
    thread: str | None
    expand_threads: bool
    quiet: bool
    timeline: bool = False
    timeline_limit: int = 0


def _parse(argv: Sequence[str]) -> _RunOptions | int:
    """The options of a run, or an exit status when there is nothing to run (--help)."""
    top, run = _build_parsers()
    try:
        if not argv or argv[0] != "run":
            ns = top.parse_args(argv)
            if ns.command is None:
                raise UsageError("missing command (try 'threadprof --help')")
            raise UsageError(f"put threadprof's options after the command: {PROG} run [options]")
        opts, target = _split_run_args(argv[1:], run.value_options)
        ns = run.parser.parse_args(opts)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    if target is None:
        raise UsageError("run: missing script or -m module (try 'threadprof run --help')")
    timeline = ns.timeline or ns.timeline_limit is not None
    output, exporter = _output(ns.output, ns.format, timeline)
    return _RunOptions(
        target=target,
        output=output,
        exporter=exporter,
        clock=ns.clock,
        engine=ns.engine,
        sort=ns.sort,
        limit=ns.limit,
        thread=ns.thread,
        expand_threads=ns.expand_threads,
        quiet=ns.quiet,
        timeline=timeline,
        timeline_limit=ns.timeline_limit or 0,
    )


#: The file ``threadprof run`` writes without -o: threadprof's own format, which
#: ``threadprof convert`` turns into any other.
DEFAULT_OUTPUT = "threadprof.tprof"


def _output(output: str | None, fmt: str | None, timeline: bool) -> tuple[str, Exporter]:
    """The file to write and its format: ``--format``, else the extension of
    ``-o FILE`` (pstats if no format claims it), else ``threadprof.tprof``.
    Without -o the file is ``threadprof`` plus the format's extension. A format
    that shows calls in time needs ``--timeline``: refused before the run."""
    if fmt is not None:
        exporter = get_exporter(fmt)
    elif output is not None:
        exporter = exporter_for_path(output) or get_exporter(FALLBACK_FORMAT)
    else:
        exporter = get_exporter("tprof")
    if output is None:
        output = "threadprof" + exporter.extensions[0]
    if exporter.needs_timeline and not timeline:
        raise UsageError(
            f"the {exporter.name} format shows calls in time: add --timeline to record them"
        )
    return output, exporter


# -- the program ----------------------------------------------------------------


@dataclasses.dataclass
class _Program:
    """A resolved target, ready to run in its own ``__main__`` module."""

    code: types.CodeType
    argv: list[str]
    path0: str
    module: types.ModuleType


def _main_module(**attrs: object) -> types.ModuleType:
    """A fresh ``__main__`` module with the attributes the interpreter gives one."""
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace["__builtins__"] = builtins
    if sys.version_info < (3, 14):
        namespace["__annotations__"] = {}  # as the interpreter's own __main__ has
    if sys.version_info >= (3, 15):
        attrs.pop("__cached__", None)  # 3.15 sets it on no __main__ (runpy)
    namespace.update(attrs)
    return module


def _read_code(path: str, display: str) -> types.CodeType:
    try:
        with io.open_code(path) as f:
            if path.endswith((".pyc", ".pyo")):
                code = pkgutil.read_code(f)
                if code is None:
                    raise UsageError(f"can't run {display!r}: not a compiled file of this Python")
                return code  # type: ignore[no-any-return]
            source = f.read()
    except OSError as exc:
        raise UsageError(
            f"can't open file {display!r}: [Errno {exc.errno}] {exc.strerror}"
        ) from exc
    try:
        # dont_inherit: this module's __future__ imports must not leak into the program
        return compile(source, path, "exec", dont_inherit=True)
    except ValueError as exc:  # null bytes, on Pythons that do not call it a SyntaxError
        raise UsageError(f"can't run {display!r}: {exc}") from exc


def _resolve_script(target: _Target) -> _Program:
    path = target.name
    argv = [path, *target.args]
    if os.path.isdir(path) or (os.path.isfile(path) and _is_zipfile(path)):
        return _resolve_path_entry(path, argv)
    abspath = os.path.abspath(path)
    if not os.path.exists(path):
        raise UsageError(f"can't open file {path!r}: [Errno 2] No such file or directory")
    code = _read_code(abspath, path)
    loader_type = (
        importlib.machinery.SourcelessFileLoader
        if abspath.endswith((".pyc", ".pyo"))
        else importlib.machinery.SourceFileLoader
    )
    return _Program(
        code=code,
        argv=argv,
        path0=os.path.dirname(os.path.realpath(abspath)),
        module=_main_module(
            __file__=abspath,
            __cached__=None,
            __loader__=loader_type("__main__", abspath),
            __package__=None,
            __spec__=None,
        ),
    )


def _is_zipfile(path: str) -> bool:
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _resolve_path_entry(path: str, argv: list[str]) -> _Program:
    """A directory or zip file with a ``__main__`` module, as ``python dir``."""
    abspath = os.path.abspath(path)
    importer = pkgutil.get_importer(abspath)
    spec = importer.find_spec("__main__") if importer is not None else None  # type: ignore[union-attr]
    if spec is None or spec.loader is None:
        raise UsageError(f"can't find '__main__' module in {path!r}")
    return _program_from_spec(spec, argv, path0=abspath)


def _resolve_module(target: _Target) -> _Program:
    name = target.name
    if name.startswith("."):
        raise UsageError("relative module names are not supported by -m")
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            if name == "__main__" or name.endswith(".__main__"):
                raise UsageError("cannot use package as __main__ module")
            main_name = f"{name}.__main__"
            spec = importlib.util.find_spec(main_name)
            if spec is None:
                raise UsageError(
                    f"No module named {main_name}; {name!r} is a package "
                    "and cannot be directly executed"
                )
    except UsageError:
        raise
    except Exception as exc:  # the import of a parent package failed
        message = " ".join(str(exc).split())
        raise UsageError(
            f"error while finding module specification for {name!r} "
            f"({type(exc).__name__}: {message})"
        ) from exc
    if spec is None:
        raise UsageError(f"No module named {name}")
    if spec.loader is None:
        raise UsageError(f"{name!r} is a namespace package and cannot be executed")
    return _program_from_spec(spec, [spec.origin or name, *target.args], path0=os.getcwd())


def _program_from_spec(
    spec: importlib.machinery.ModuleSpec, argv: list[str], path0: str
) -> _Program:
    loader = spec.loader
    try:
        code = loader.get_code(spec.name)  # type: ignore[union-attr]
    except SyntaxError:
        raise
    except (ImportError, OSError) as exc:
        raise UsageError(" ".join(str(exc).split()) or f"cannot load {spec.name!r}") from exc
    if code is None:
        raise UsageError(f"no code object available for {spec.name!r}")
    return _Program(
        code=code,
        argv=argv,
        path0=path0,
        module=_main_module(
            __file__=spec.origin,
            __cached__=spec.cached if spec.has_location else None,
            __loader__=loader,
            __package__=spec.parent,
            __spec__=spec,
        ),
    )


def _set_path0(entry: str) -> None:
    """Put the program's entry where the interpreter put threadprof's."""
    if getattr(sys.flags, "safe_path", False):
        return  # python -P / PYTHONSAFEPATH: the interpreter adds no entry
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.insert(0, entry)


def _install(program: _Program) -> None:
    """Make the process look like ``python`` started the program."""
    sys.argv[:] = program.argv
    sys.modules["__main__"] = program.module


# -- running --------------------------------------------------------------------


@dataclasses.dataclass
class _Outcome:
    status: int = 0
    interrupted: bool = False  # KeyboardInterrupt: end by SIGINT, as Python does


def _trim_traceback(
    tb: types.TracebackType | None, code: types.CodeType
) -> types.TracebackType | None:
    """The traceback from the program's own first frame on (threadprof's are cut)."""
    cursor = tb
    while cursor is not None and cursor.tb_frame.f_code is not code:
        cursor = cursor.tb_next
    return cursor if cursor is not None else tb


def _print_exception(exc: BaseException) -> None:
    try:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    except BaseException:  # a broken excepthook must not hide the error
        traceback.print_exception(type(exc), exc, exc.__traceback__)


def _exit_status(code: object) -> int:
    """The status Python exits with for ``raise SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code)
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{code}\n")
        sys.stderr.flush()
    return EXIT_EXCEPTION


def _execute(program: _Program) -> _Outcome:
    """Run the program's main code; report its end the way Python would."""
    try:
        exec(program.code, program.module.__dict__)
    except SystemExit as exc:
        return _Outcome(_exit_status(exc.code))
    except BaseException as exc:
        exc.__traceback__ = _trim_traceback(exc.__traceback__, program.code)
        _print_exception(exc)
        return _Outcome(EXIT_EXCEPTION, interrupted=isinstance(exc, KeyboardInterrupt))
    return _Outcome(0)


def _join_threads() -> None:
    """Wait for the non-daemon threads, as the interpreter does at exit.

    ``threading._shutdown`` is what the interpreter itself calls: it also runs
    the callbacks of ``threading._register_atexit`` first (so that, for example,
    an executor left open stops its workers) and makes the interpreter's own
    later call a no-op.
    """
    shutdown: Callable[[], None] | None = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
        return
    current = threading.current_thread()
    while True:  # pragma: no cover - every supported Python has _shutdown
        pending = [
            t for t in threading.enumerate() if t is not current and not t.daemon and t.is_alive()
        ]
        if not pending:
            return
        for t in pending:
            t.join()


def _trim(snapshot: Snapshot, ident: int, code: types.CodeType) -> Snapshot:
    """Drop threadprof's own frames from the profile.

    The thread that ran the program (``ident``) has a tree that starts with the
    frames that were running when profiling started (the launcher, ``main``,
    this module) and ends with the waits for the other threads; the program is
    the subtree of its ``<module>`` frame. In any thread, the calls of the
    handlers that threadprof runs inside the program (a fatal signal's, the
    fork hook, ``os._exit`` in a child) are removed, their time left to the
    frame they interrupted.
    """
    module_funcs = _function_ids(snapshot, [code])
    own_funcs = _function_ids(snapshot, _own_entry_codes())
    threads = []
    for t in snapshot.threads:
        top = find_shallowest(t, module_funcs) if t.ident == ident else None
        if top is not None:
            t = reroot(t, top)
        if own_funcs and any(n.func in own_funcs for n in t.nodes):
            t = drop_frames(t, own_funcs)
        threads.append(t)
    return dataclasses.replace(snapshot, threads=threads)


def _function_ids(snapshot: Snapshot, codes: Sequence[types.CodeType]) -> set[int]:
    keys = {(c.co_filename, c.co_firstlineno, c.co_name) for c in codes}
    return {f.id for f in snapshot.functions if f.kind == "python" and f.pstats_key in keys}


class _SigintAtExit:
    """Ends the process by SIGINT at the very end of interpreter shutdown.

    Python, after an uncaught KeyboardInterrupt, finalizes (joins threads, runs
    atexit handlers) and then kills itself with SIGINT so that the parent sees
    the signal. Registered before the program runs, this atexit handler runs
    after every handler the program registers.
    """

    def __init__(self) -> None:
        self.armed = False

    def __call__(self) -> None:
        if not self.armed:
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        if hasattr(signal, "SIGINT") and hasattr(os, "kill") and os.name == "posix":
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)


def _write_stderr(text: str) -> None:
    # the program may have closed or replaced stderr; the report is not worth a crash
    with contextlib.suppress(Exception):
        sys.stderr.write(text)
        sys.stderr.flush()


def _error(message: str) -> None:
    _write_stderr(f"{PROG}: error: {' '.join(message.split())}\n")


def _prepare(target: _Target) -> _Program:
    """Resolve and compile the target; raises UsageError or the program's SyntaxError."""
    if target.kind == "module":
        _set_path0(os.getcwd())  # where python -m looks first
        return _resolve_module(target)
    program = _resolve_script(target)
    _set_path0(program.path0)
    return program


# -- however the process ends ----------------------------------------------------
#
# The profile is written exactly once per process, by whichever comes first:
#
# * the normal end: the program's main code returned, raised or called
#   sys.exit, and its non-daemon threads were joined (_run);
# * a fatal signal (SIGTERM, SIGHUP) whose disposition the program left at the
#   default: threadprof's handler writes the profile, then the process dies by
#   that signal as it would have (_Session.on_fatal_signal);
# * os._exit() in a forked child, the way multiprocessing's children end
#   (_exit_in_child).
#
# A process forked from the profiled one -- by os.fork(), multiprocessing's
# fork start method or a Pool -- keeps profiling with fresh state (the C core
# resets it in the child), writes its own file, FILE with ".<pid>" before the
# extension, and prints no report. It is told apart by its pid, not by a flag
# that a fork hook sets, so no ordering of at-fork hooks and signals can make a
# child write the parent's file.

#: Signals that kill a Python process by default, and after which threadprof
#: still writes the profile when the program leaves them at the default.
FATAL_SIGNALS = ("SIGTERM", "SIGHUP")

_SESSION: _Session | None = None
#: os._exit as it was when the first child was forked: what _exit_in_child calls.
_REAL_EXIT: Callable[[int], NoReturn] = os._exit
_FORK_HOOK_REGISTERED = False


def child_output(path: str, pid: int, exporter: Exporter | None = None) -> str:
    """The file that the child ``pid`` writes instead of ``path``.

    ``.<pid>`` goes before the extension: the longest of ``exporter``'s
    extensions that ends the name (``out.speedscope.json`` ->
    ``out.<pid>.speedscope.json``), else the name's last suffix (``out.prof`` ->
    ``out.<pid>.prof``), else at the end (``out`` -> ``out.<pid>``).
    """
    head, name = os.path.split(path)
    lower = name.lower()
    extensions = sorted(exporter.extensions if exporter else (), key=len, reverse=True)
    cut = next((len(name) - len(e) for e in extensions if lower.endswith(e) and lower != e), None)
    if cut is None:
        stem, ext = os.path.splitext(name)
        cut = len(stem) if ext else len(name)
    return os.path.join(head, f"{name[:cut]}.{pid}{name[cut:]}")


class _Session:
    """One profiled run: what to write and where, whichever way it ends."""

    def __init__(self, options: _RunOptions, program: _Program) -> None:
        self.options = options
        self.program = program
        self.ident = threading.get_ident()  # the thread that runs the program's main code
        self.pid = os.getpid()  # of the process that runs `threadprof run`
        self._claim = threading.Lock()  # held by whoever ends profiling
        self.caught: list[int] = []  # the fatal signals handled here
        self.pending_signal: int | None = None  # to die by once the profile is written

    @property
    def in_child(self) -> bool:
        return os.getpid() != self.pid

    def claim(self) -> bool:
        """Become the one that ends profiling in this process (at most one caller can).

        A lock, not a flag: acquiring it is one step that no signal handler can
        interrupt halfway.
        """
        return self._claim.acquire(blocking=False)

    def stop(self) -> Snapshot | None:
        """Stop profiling; ``None`` (and an error printed) if the profiler failed."""
        from . import api

        try:
            snapshot = api.stop()
        except Exception as exc:
            self.error(f"the profiler failed, no profile: {str(exc) or type(exc).__name__}")
            return None
        return _trim(snapshot, self.ident, self.program.code)

    def end(self) -> None:
        """Stop profiling and write the profile, after :meth:`claim`."""
        snapshot = self.stop()
        if snapshot is not None:
            self.finish(snapshot)

    def finish(self, snapshot: Snapshot) -> None:
        """Write the output file and print the report; a failure only prints an error.

        A child writes its own file, says nothing about it, and prints no report:
        its output would mix with the parent's, once per child.
        """
        options = self.options
        child = self.in_child
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        written = problem = None
        output = options.output
        if output is not None and options.exporter is not None:
            if child:
                output = child_output(output, os.getpid(), options.exporter)
            try:
                options.exporter.write(snapshot, output, thread=options.thread)
                written = f"{PROG}: wrote the {options.exporter.name} profile to {output}\n"
            except NoSuchThreadError as exc:
                # a child of the program need not run the selected threads
                problem = None if child else str(exc)
            except OutputError as exc:
                problem = str(exc)
            except Exception as exc:  # an exporter's failure must not cost the report or status
                problem = f"cannot write {output!r}: {type(exc).__name__}: {exc}"
        if not options.quiet and not child:
            report = functools.partial(
                format_report,
                snapshot,
                options.sort,
                options.limit,
                expand_threads=options.expand_threads,
                details=True,
            )
            try:
                text = report(thread=options.thread)
            except LookupError:
                text = report()
                problem = problem or f"no thread matches {options.thread!r}"
            _write_stderr(text + (written or ""))
        if problem:
            self.error(problem)

    def error(self, message: str) -> None:
        _error(f"process {os.getpid()}: {message}" if self.in_child else message)

    # -- fatal signals --------------------------------------------------------

    def catch_fatal_signals(self) -> None:
        """Handle the :data:`FATAL_SIGNALS` that are at their default disposition.

        A signal that the program ignores or handles already (inherited
        SIG_IGN, as under nohup) is left alone, and so is any handler the
        program installs later: it simply replaces this one.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # pragma: no cover - main() runs in the main thread
        for name in FATAL_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:
                continue  # pragma: no cover - not on this platform
            with contextlib.suppress(OSError, ValueError):
                if signal.getsignal(signum) == signal.SIG_DFL:
                    signal.signal(signum, self.on_fatal_signal)
                    self.caught.append(signum)

    def release_fatal_signals(self) -> None:
        """Give back the default disposition where this handler still is."""
        for signum in self.caught:
            with contextlib.suppress(OSError, ValueError):
                if signal.getsignal(signum) == self.on_fatal_signal:
                    signal.signal(signum, signal.SIG_DFL)
        self.caught.clear()

    def on_fatal_signal(self, signum: int, frame: types.FrameType | None) -> None:
        """Write the profile, then die by ``signum`` as the program would have.

        Runs in the main thread, between two bytecodes of whatever it was
        running. If the profile is being written already (the code this handler
        interrupted, or another thread, is ending profiling), the process dies
        by the signal once it is written.
        """
        if not self.claim():
            self.pending_signal = signum
            return
        try:
            self.end()
        finally:
            _die_by_signal(signum)

    # -- fork ----------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """In a child forked while profiling: have ``os._exit`` write the profile."""
        global _REAL_EXIT
        from . import api

        if api.active() is None or self._claim.locked():
            return  # forked after profiling ended: nothing to write
        if os._exit is not _exit_in_child:
            _REAL_EXIT = os._exit
            os._exit = _exit_in_child  # type: ignore[assignment]


def _after_fork_in_child() -> None:
    session = _SESSION
    if session is not None:
        session.after_fork_in_child()


def _exit_in_child(status: int, /) -> NoReturn:
    """``os._exit`` in a forked child: write the child's profile, then exit.

    multiprocessing's children end this way (``Popen._launch`` calls
    ``os._exit`` after the target, its finalizers and its threads are done), and
    so do most hand-written ``os.fork()`` children. Nothing here may keep the
    process from exiting.
    """
    status = operator.index(status)  # a bad argument fails as os._exit would, first
    session = _SESSION
    try:
        if session is not None and session.in_child and session.claim():
            session.end()
            if session.pending_signal is not None:
                _die_by_signal(session.pending_signal)
    finally:
        _REAL_EXIT(status)


def _own_entry_codes() -> list[types.CodeType]:
    """The functions through which threadprof's code runs inside the program."""
    return [
        _Session.on_fatal_signal.__code__,
        _after_fork_in_child.__code__,
        _exit_in_child.__code__,
    ]


def _register_fork_hook() -> None:
    global _FORK_HOOK_REGISTERED
    if not _FORK_HOOK_REGISTERED and hasattr(os, "register_at_fork"):
        # runs after the C core's own hook, registered when it was imported,
        # which resets the profiler to the child's thread
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _FORK_HOOK_REGISTERED = True


def _die_by_signal(signum: int) -> NoReturn:
    """End the process by ``signum``, its default action, as if never handled."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        signal.signal(signum, signal.SIG_DFL)  # fails outside the main thread
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        signal.raise_signal(signum)  # delivered to this thread before it returns
    _REAL_EXIT(128 + signum)  # if the signal could not end the process: the shell's status


def _run(options: _RunOptions) -> int:
    global _SESSION
    from . import api

    # everything that can fail before the program runs is checked before it runs
    if options.output is not None:
        check_writable(options.output)
    if options.exporter is not None:
        # imported now rather than in a signal handler that may have interrupted
        # an import, or once per forked child; a failure shows when writing
        with contextlib.suppress(Exception):
            options.exporter.load()
    try:
        program = _prepare(options.target)
    except SyntaxError as exc:  # the program does not compile: as Python reports it
        traceback.print_exception(type(exc), exc, None)
        return EXIT_EXCEPTION
    sigint = _SigintAtExit()
    atexit.register(sigint)  # before the program registers its own: runs after them
    _install(program)

    session = _SESSION = _Session(options, program)
    _register_fork_hook()
    try:
        api.start(
            clock=options.clock,
            engine=options.engine,
            timeline=options.timeline,
            timeline_limit=options.timeline_limit,
        )
    except Exception as exc:
        raise UsageError(f"cannot start the profiler: {exc}") from exc
    session.catch_fatal_signals()
    snapshot: Snapshot | None = None
    outcome = _Outcome()
    wait_interrupted = False
    try:
        outcome = _execute(program)
        try:
            _join_threads()
        except KeyboardInterrupt:
            outcome.interrupted = wait_interrupted = True
            _error("interrupted while waiting for the program's threads")
    finally:
        # if the claim fails, a child's os._exit in another thread is ending it
        if session.claim():
            snapshot = session.stop()

    if snapshot is not None:
        try:
            session.finish(snapshot)
        except KeyboardInterrupt:
            outcome.interrupted = True
            _error("interrupted while writing the profile")
    session.release_fatal_signals()
    if session.pending_signal is not None:
        _die_by_signal(session.pending_signal)
    if outcome.interrupted:
        sigint.armed = True
        if wait_interrupted:
            # The interpreter would wait for the same threads again before its
            # atexit handlers (threading._shutdown was cut short): run them now,
            # the last of them, sigint, ends the process.
            atexit._run_exitfuncs()
        return EXIT_SIGINT
    return outcome.status


def _subcommand(args: list[str], module: str) -> int:
    """``threadprof convert ...`` or ``threadprof report ...``: parse ``args`` and
    hand them to ``module.run`` (:mod:`threadprof.convert`,
    :mod:`threadprof.report_cmd`)."""
    import importlib

    top, _ = _build_parsers()
    try:
        ns = top.parse_args(args)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    impl = importlib.import_module(f"{__package__}.{module}")
    return impl.run(ns, _error, lambda line: _write_stderr(f"{PROG}: {line}\n"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["convert"]:
            return _subcommand(args, "convert")
        if args[:1] == ["report"]:
            return _subcommand(args, "report_cmd")
        options = _parse(args)
        if isinstance(options, int):
            return options
        return _run(options)
    except (UsageError, OutputError, UnknownFormatError) as exc:
        _error(str(exc))
        return EXIT_USAGE
