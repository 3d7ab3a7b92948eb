# SPDX-License-Identifier: MIT
"""The program that ``threadprof run`` runs: resolved, installed and executed as ``python`` would.

The target is resolved before profiling starts -- the way ``runpy`` does it,
but without ``runpy``'s temporary ``sys.argv[0]`` and ``__main__`` -- so that
a missing script or an unknown module is reported (exit status 2) before the
program has done anything. It then runs with the same ``sys.argv``,
``sys.path[0]`` and a real ``__main__`` module (kept in ``sys.modules`` until
the process ends, as Python does), the same exit status, the same traceback
(without threadprof's frames), and the same death by SIGINT after an uncaught
``KeyboardInterrupt``; then its non-daemon threads are joined, as the
interpreter does at exit.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.machinery
import importlib.util
import io
import os
import signal
import sys
import threading
import types
from collections.abc import Callable

from .._record import Frozen, Record
from .common import EXIT_FAILED, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Outcome",
    "Program",
    "SigintAtExit",
    "Target",
    "execute",
    "install",
    "join_threads",
    "prepare",
]


class Target(Frozen):
    """What to run, as typed: a script path or ``-m module``, and its arguments."""

    __slots__ = ("args", "kind", "name")
    kind: str  # "script", "module" or "code" (-c)
    name: str
    args: tuple[str, ...]

    def __init__(self, kind: str, name: str, args: tuple[str, ...]) -> None:
        self._set(kind, name, args)


class Program(Record):
    """A resolved target, ready to run in its own ``__main__`` module."""

    __slots__ = ("argv", "code", "module", "path0")
    code: types.CodeType
    argv: list[str]
    path0: str
    module: types.ModuleType

    def __init__(
        self, code: types.CodeType, argv: list[str], path0: str, module: types.ModuleType
    ) -> None:
        self.code = code
        self.argv = argv
        self.path0 = path0
        self.module = module


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
                import pkgutil  # only here: it costs a twentieth of a run's startup

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


def _resolve_script(target: Target) -> Program:
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
    return Program(
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
    """Whether ``python path`` would run ``path`` as a zip file (through
    ``zipimport``, as the interpreter does; ``zipfile`` costs an import)."""
    import zipimport

    try:
        zipimport.zipimporter(path)
    except (zipimport.ZipImportError, OSError):
        return False
    return True


def _resolve_path_entry(path: str, argv: list[str]) -> Program:
    """A directory or zip file with a ``__main__`` module, as ``python dir``."""
    import pkgutil  # only here: it costs a twentieth of a run's startup

    abspath = os.path.abspath(path)
    importer = pkgutil.get_importer(abspath)
    spec = importer.find_spec("__main__") if importer is not None else None  # type: ignore[union-attr]
    if spec is None or spec.loader is None:
        raise UsageError(f"can't find '__main__' module in {path!r}")
    return _program_from_spec(spec, argv, path0=abspath)


def _resolve_module(target: Target) -> Program:
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
) -> Program:
    loader = spec.loader
    try:
        code = loader.get_code(spec.name)  # type: ignore[union-attr]
    except SyntaxError:
        raise
    except (ImportError, OSError) as exc:
        raise UsageError(" ".join(str(exc).split()) or f"cannot load {spec.name!r}") from exc
    if code is None:
        raise UsageError(f"no code object available for {spec.name!r}")
    return Program(
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


def install(program: Program) -> None:
    """Make the process look like ``python`` started the program."""
    sys.argv[:] = program.argv
    sys.modules["__main__"] = program.module


class Outcome(Record):
    __slots__ = ("interrupted", "status")
    status: int
    interrupted: bool  # KeyboardInterrupt: end by SIGINT, as Python does

    def __init__(self, status: int = 0, interrupted: bool = False) -> None:
        self.status = status
        self.interrupted = interrupted


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
        sys.__excepthook__(type(exc), exc, exc.__traceback__)


def _exit_status(code: object) -> int:
    """The status Python exits with for ``raise SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code)
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{code}\n")
        sys.stderr.flush()
    return EXIT_FAILED


def execute(program: Program) -> Outcome:
    """Run the program's main code; report its end the way Python would."""
    try:
        exec(program.code, program.module.__dict__)
    except SystemExit as exc:
        return Outcome(_exit_status(exc.code))
    except BaseException as exc:
        exc.__traceback__ = _trim_traceback(exc.__traceback__, program.code)
        _print_exception(exc)
        return Outcome(EXIT_FAILED, interrupted=isinstance(exc, KeyboardInterrupt))
    return Outcome(0)


def join_threads() -> None:
    """Wait for the non-daemon threads, as the interpreter does at exit.

    ``threading._shutdown`` is what the interpreter itself calls: it also runs
    the callbacks of ``threading._register_atexit`` first (so that, for example,
    an executor left open stops its workers) and makes the interpreter's own
    later call a no-op.

    A Ctrl-C raises ``KeyboardInterrupt`` here on every version: from 3.13 the
    wait in C reports it as unraisable and goes on, so it is caught there and
    raised once the wait is over.
    """
    shutdown: Callable[[], None] | None = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        interrupts: list[BaseException] = []
        previous = sys.unraisablehook

        def hook(args: Any) -> None:
            if args.exc_type is KeyboardInterrupt and args.exc_value is not None:
                interrupts.append(args.exc_value)
            else:
                previous(args)

        sys.unraisablehook = hook
        try:
            shutdown()
        finally:
            if sys.unraisablehook is hook:
                sys.unraisablehook = previous
        if interrupts:
            raise interrupts[0]
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


class SigintAtExit:
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


def _resolve_code(target: Target) -> Program:
    """``-c code``, as ``python -c``: ``sys.argv[0]`` is ``-c``, the file
    ``<string>``, ``__main__`` has no ``__file__``."""
    code = compile(target.name, "<string>", "exec", dont_inherit=True)
    return Program(
        code=code,
        argv=["-c", *target.args],
        path0="",
        module=_main_module(
            __loader__=importlib.machinery.BuiltinImporter,
            __package__=None,
            __spec__=None,
        ),
    )


def prepare(target: Target) -> Program:
    """Resolve and compile the target; raises UsageError or the program's SyntaxError."""
    if target.kind == "module":
        _set_path0(os.getcwd())  # where python -m looks first
        return _resolve_module(target)
    if target.kind == "code":
        _set_path0("")  # the current directory, as python -c puts it
        return _resolve_code(target)
    program = _resolve_script(target)
    _set_path0(program.path0)
    return program
