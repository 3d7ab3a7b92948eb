# SPDX-License-Identifier: MIT
"""IPython and Jupyter: ``%load_ext threadprof``, then ``%threadprof STMT``
and ``%%threadprof`` on a cell.

The statement or cell runs in the user's namespace, as ``%prun`` runs it,
with every thread profiled (threads it starts included, up to the end of the
cell). What it shows is one display with two forms: the terminal report as
text, which a terminal IPython prints, and the offline HTML report in an
``<iframe>``, which a notebook shows; ``--text`` or ``--html`` keeps one.
The options mirror ``threadprof run``'s (docs/jupyter.md).

IPython is imported only here, and this module only by
:func:`threadprof.load_ipython_extension`: threadprof does not need IPython.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope

from . import api
from .atomicfile import OutputError
from .exporters import exporter_for_path, known_names
from .model import Snapshot
from .options import CLOCKS, ENGINES
from .report import DEFAULT_LIMIT, DEFAULT_SORT, REPORT_SORT_KEYS, format_report

__all__ = ["ThreadprofMagics", "load"]

_USAGE = f"""\
%threadprof [options] STATEMENT        %%threadprof [options]  (the cell)

  -o FILE           also write the profile to FILE (.tprof, .prof, .html, ... by extension)
  -s KEY            sort the report's functions by KEY (default {DEFAULT_SORT}):
                    {", ".join(REPORT_SORT_KEYS)}
  -l N, --limit N   the top N functions (default {DEFAULT_LIMIT})
  --thread NAME     the report's functions of these threads only (ident, name or glob)
  --clock C         {" or ".join(CLOCKS)}: the time calls are charged (default wall)
  --engine E        {", ".join(ENGINES)} (default auto)
  --timeline        record every call and return in time (the HTML report's lanes)
  --tree            also the call tree of each thread
  --hide-library    leave out the standard library's and installed packages' functions
  --full-paths      show files whole
  --text            show the terminal report only (no HTML)
  --html            show the HTML report only (no text)
  -q                show nothing
  -r                return the Snapshot (as %prun -r returns the stats)
"""


def load(ipython: Any) -> None:
    """Register the magics with ``ipython`` (``%load_ext threadprof``)."""
    ipython.register_magics(ThreadprofMagics)


class _Options:
    """The parsed options of one ``%threadprof``."""

    def __init__(self, opts: Any) -> None:
        def value(name: str, default: Any = None) -> Any:
            got = opts.get(name, default)
            got = got[-1] if isinstance(got, list) else got
            # options are split as Python code is (the statement keeps its
            # quotes): a quoted value loses them here
            if isinstance(got, str) and len(got) >= 2 and got[0] == got[-1] and got[0] in "'\"":
                got = got[1:-1]
            return got

        self.output = value("o")
        self.sort = value("s", DEFAULT_SORT)
        limit = value("l", value("limit", str(DEFAULT_LIMIT)))
        self.thread = value("thread")
        self.clock = value("clock", "wall")
        self.engine = value("engine", "auto")
        self.timeline = "timeline" in opts
        self.tree = "tree" in opts
        self.hide_library = "hide-library" in opts
        self.full_paths = "full-paths" in opts
        self.text_only = "text" in opts
        self.html_only = "html" in opts
        self.quiet = "q" in opts
        self.ret = "r" in opts
        if self.sort not in REPORT_SORT_KEYS:
            raise UsageError(
                f"unknown sort key {self.sort!r}: one of {', '.join(REPORT_SORT_KEYS)}"
            )
        try:
            self.limit = int(limit)
        except ValueError:
            raise UsageError(f"--limit takes a number, not {limit!r}") from None
        if self.clock not in CLOCKS:
            raise UsageError(f"unknown clock {self.clock!r}: one of {', '.join(CLOCKS)}")
        if self.engine not in ENGINES:
            raise UsageError(f"unknown engine {self.engine!r}: one of {', '.join(ENGINES)}")
        if self.text_only and self.html_only:
            raise UsageError("--text and --html: give one of them, or neither for both")
        if self.output is not None and exporter_for_path(self.output) is None:
            raise UsageError(
                f"cannot tell the format of {self.output!r} from its extension: {known_names()}"
            )


@magics_class
class ThreadprofMagics(Magics):
    """``%threadprof`` and ``%%threadprof``."""

    @needs_local_scope
    @line_cell_magic
    def threadprof(self, line: str, cell: str | None = None, local_ns: Any = None) -> Any:
        """Profile a statement (``%threadprof``) or a cell (``%%threadprof``),
        every thread of it, and show the report; ``%threadprof --help`` lists
        the options."""
        opts, statement = self.parse_options(
            line,
            "o:s:l:qr",
            "limit=",
            "thread=",
            "clock=",
            "engine=",
            "timeline",
            "tree",
            "hide-library",
            "full-paths",
            "text",
            "html",
            "help",
            list_all=True,
            posix=False,
        )
        if "help" in opts:
            print(_USAGE)
            return None
        options = _Options(opts)
        source = statement if cell is None else cell
        if cell is not None and statement.strip():
            raise UsageError(f"%%threadprof takes options only, not {statement.strip()!r}")
        if not source.strip():
            raise UsageError(
                "nothing to profile: %threadprof STATEMENT, or %%threadprof on a cell"
            )
        snapshot = self._profile(source, options, local_ns if cell is None else None)
        self._show(snapshot, options)
        return snapshot if options.ret else None

    def _profile(self, source: str, options: _Options, local_ns: Any) -> Snapshot:
        shell = self.shell
        assert shell is not None
        # IPython's own transformations (%magics and !commands in a cell)
        source = shell.transform_cell(source)
        try:
            code = shell.compile(source, "<threadprof>", "exec")
        except SyntaxError:
            shell.showsyntaxerror()
            raise UsageError("the code does not compile") from None
        if code.co_flags & 0x80:  # CO_COROUTINE: top-level await
            raise UsageError(
                "top-level await is not profiled by %%threadprof: run the coroutine "
                "in a statement (await it in the next cell, or asyncio.run it)"
            )
        globals_ = shell.user_ns
        locals_ = local_ns if local_ns is not None else globals_
        try:
            profiler = api.start(
                clock=options.clock, engine=options.engine, timeline=options.timeline
            )
        except (api.ProfilerError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        try:
            exec(code, globals_, locals_)
        except BaseException:
            # the report of what ran, then the exception as IPython shows it
            profiler._disable_if_enabled()
            self._show(profiler.snapshot(), options)
            raise
        profiler._disable_if_enabled()
        return profiler.snapshot()

    def _show(self, snapshot: Snapshot, options: _Options) -> None:
        if options.output is not None:
            exporter = exporter_for_path(options.output)
            assert exporter is not None
            try:
                exporter.write(snapshot, options.output)
            except OutputError as exc:
                raise UsageError(str(exc)) from None
            print(f"threadprof: wrote the {exporter.name} profile to {options.output}")
        if options.quiet:
            return
        bundle: dict[str, str] = {}
        if not options.html_only:
            bundle["text/plain"] = format_report(
                snapshot,
                options.sort,
                options.limit,
                thread=options.thread,
                details=True,
                tree=options.tree,
                full_paths=options.full_paths,
                hide_library=options.hide_library,
            )
        if not options.text_only:
            from .exporters.html.page import inline_frame

            bundle["text/html"] = inline_frame(snapshot)
            if "text/plain" not in bundle:
                bundle["text/plain"] = "<threadprof HTML report: shown in a notebook>"
        from IPython.display import display

        display(bundle, raw=True)
