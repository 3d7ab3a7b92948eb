# SPDX-License-Identifier: MIT
"""Output formats: one module per format behind one small interface.

An :class:`Exporter` describes a format -- its name (the CLI's ``--format``
choice), the file extensions it claims and a one-line description -- and names
the module of this package that implements it. The module is imported only when
the format is used, so a format that needs an optional dependency costs nothing
to the others and the CLI can list every format without importing any.

A format module implements the :class:`FormatModule` protocol: one function,
``dump(snapshot, out, **options)``, that writes a
:class:`~threadprof.model.Snapshot` to a binary file; the keyword options a
format takes are listed in its :attr:`Exporter.options` (pprof's
``max_samples``, callgrind's ``separate_threads``...), and any other is refused
with :class:`UnknownOptionError` before anything is written. Everything else
(thread selection, atomic files, bytes) is done here, once, for every format.

To add a format: write ``exporters/<name>.py`` (or a package, as ``html/``)
with ``dump``, add one :class:`Exporter` line to :data:`EXPORTERS`, and list
its files in ``src/meson.build`` (``tests/unit/test_packaging.py`` fails for
a source file that is not installed).
"""

from __future__ import annotations

import importlib
import io
import os
import shlex
from collections.abc import Mapping

from .._gcpause import gc_paused
from .._record import Frozen
from ..atomicfile import atomic_open

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Protocol

    from ..model import Snapshot
else:
    Protocol = object  # a plain base class at run time

__all__ = [
    "EXPORTERS",
    "FORMATS",
    "Exporter",
    "FormatModule",
    "NeedsTimelineError",
    "NoSuchThreadError",
    "UnknownFormatError",
    "UnknownOptionError",
    "exporter_for_path",
    "get_exporter",
    "known_names",
    "select_threads",
]

ThreadKey = str | int


class UnknownFormatError(ValueError):
    """No exporter has this name."""


class UnknownOptionError(ValueError):
    """An option that the format does not take."""


class NeedsTimelineError(ValueError):
    """The format shows calls in time and the snapshot has no timeline (``--timeline``)."""


class NoSuchThreadError(LookupError):
    """A thread selection (``--thread``) matched no thread of the snapshot."""

    def __init__(self, key: ThreadKey) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no thread matches {str(self.key)!r}"


class FormatModule(Protocol):
    """What a format module provides."""

    def dump(self, snapshot: Snapshot, out: BinaryIO, **options: Any) -> None:
        """Write ``snapshot`` (every thread it holds) to the binary file ``out``."""
        ...


def select_threads(snapshot: Snapshot, thread: ThreadKey | None) -> Snapshot:
    """``snapshot`` restricted to the threads matching ``thread`` (an ident, native
    id, name or glob; see :meth:`Snapshot.select_threads`), or unchanged for ``None``.

    Raises :class:`NoSuchThreadError` if nothing matches.
    """
    if thread is None:
        return snapshot
    if not snapshot.select_threads(thread):
        raise NoSuchThreadError(thread)
    return snapshot.filter_threads(thread)


class Exporter(Frozen):
    """One output format."""

    __slots__ = (
        "description",
        "extensions",
        "hint",
        "module",
        "name",
        "needs_timeline",
        "options",
        "prefixes",
    )
    name: str
    extensions: tuple[str, ...]  # lower case, with the dot: (".prof", ".pstats")
    description: str
    module: str  # the implementing module, relative to this package
    prefixes: tuple[str, ...]  # file-name prefixes it claims: ("callgrind.out",)
    needs_timeline: bool  # shows calls in time: needs a profile taken with --timeline
    options: tuple[str, ...]  # the keyword options its dump takes
    hint: str  # how to view a file: {path} (shell-quoted), {stem}, {uri}

    def __init__(
        self,
        name: str,
        extensions: tuple[str, ...],
        description: str,
        module: str,
        prefixes: tuple[str, ...] = (),
        needs_timeline: bool = False,
        options: tuple[str, ...] = (),
        hint: str = "",
    ) -> None:
        self._set(name, extensions, description, module, prefixes, needs_timeline, options, hint)

    def view_hint(self, path: str | os.PathLike[str]) -> str:
        """How to view the file at ``path``: a command or two to paste."""
        text = os.fspath(path)
        stem = text
        for ext in sorted(self.extensions, key=len, reverse=True):
            if text.lower().endswith(ext):
                stem = text[: -len(ext)]
                break
        return self.hint.format(
            path=shlex.quote(text),
            stem=shlex.quote(stem),
            uri=file_uri(os.path.abspath(text)),
        )

    def load(self) -> FormatModule:
        """Import and return the module that implements the format."""
        return importlib.import_module(f"{__name__}.{self.module}")  # type: ignore[return-value]

    def check_options(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """``options`` as a dict; raises :class:`UnknownOptionError` for one the
        format does not take."""
        given = dict(options or {})
        for name in given:
            if name not in self.options:
                takes = f"it takes {', '.join(self.options)}" if self.options else "it takes none"
                raise UnknownOptionError(
                    f"the {self.name} format has no option {name!r} ({takes})"
                )
        return given

    def dump(
        self,
        snapshot: Snapshot,
        out: BinaryIO,
        thread: ThreadKey | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Write ``snapshot`` to the binary file ``out``, optionally restricted to
        ``thread``, with the format's ``options``."""
        given = self.check_options(options)
        self.load().dump(select_threads(snapshot, thread), out, **given)

    def to_bytes(
        self,
        snapshot: Snapshot,
        thread: ThreadKey | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The exported file's content, as bytes."""
        buf = io.BytesIO()
        self.dump(snapshot, buf, thread, options)
        return buf.getvalue()

    def write(
        self,
        snapshot: Snapshot,
        path: str | os.PathLike[str],
        thread: ThreadKey | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the exported file to ``path`` atomically.

        Raises :class:`~threadprof.atomicfile.OutputError` if the file cannot be
        written, and :class:`NoSuchThreadError` if ``thread`` matches nothing or
        :class:`UnknownOptionError` for an option the format does not take
        (both before any file is touched).
        """
        given = self.check_options(options)
        selected = select_threads(snapshot, thread)
        impl = self.load()
        with atomic_open(path) as f, gc_paused():
            impl.dump(selected, f, **given)


#: Every known format, in the order the CLI lists them.
EXPORTERS: tuple[Exporter, ...] = (
    Exporter(
        name="tprof",
        extensions=(".tprof",),
        description="threadprof's own lossless file, for threadprof convert (the default)",
        module="tprof",
        options=("compress",),
        hint="threadprof report {path} --tree (or --html -o {stem}.html)",
    ),
    Exporter(
        name="pstats",
        extensions=(".prof", ".pstats"),
        description="cProfile's stats file for pstats, snakeviz, gprof2dot (threads merged)",
        module="pstats",
        options=("thread_roots",),
        hint="python -m pstats {path}, or snakeviz {path}",
    ),
    Exporter(
        name="callgrind",
        extensions=(".callgrind",),
        description="KCachegrind, gprof2dot; also callgrind.out.* (threads merged)",
        module="callgrind",
        prefixes=("callgrind.out",),
        options=("separate_threads",),
        hint="kcachegrind {path}, or callgrind_annotate {path}",
    ),
    Exporter(
        name="collapsed",
        extensions=(".folded", ".collapsed"),
        description="folded stacks: flamegraph.pl, inferno (thread as root frame)",
        module="collapsed",
        hint="flamegraph.pl --countname=ns {path} > {stem}.svg",
    ),
    Exporter(
        name="speedscope",
        extensions=(".speedscope.json",),
        description="speedscope JSON, a profile per thread (evented with a timeline)",
        module="speedscope",
        hint="speedscope {path}, or drop it on https://www.speedscope.app",
    ),
    Exporter(
        name="pprof",
        extensions=(".pb.gz", ".pprof"),
        description="go tool pprof, Pyroscope, Parca (a thread label per sample)",
        module="pprof",
        options=("sample_types", "max_samples"),
        hint="go tool pprof -http=: {path}",
    ),
    Exporter(
        name="chrome",
        extensions=(".trace.json", ".chrome.json"),
        description="Chrome trace JSON: Perfetto UI, chrome://tracing (--timeline)",
        module="chrome",
        needs_timeline=True,
        hint="load {path} in https://ui.perfetto.dev or chrome://tracing",
    ),
    Exporter(
        name="perfetto",
        extensions=(".pftrace", ".perfetto-trace"),
        description="Perfetto trace: Perfetto UI, trace_processor (--timeline)",
        module="perfetto",
        needs_timeline=True,
        hint="load {path} in https://ui.perfetto.dev",
    ),
    Exporter(
        name="html",
        extensions=(".html", ".htm"),
        description="a self-contained HTML report: flame graphs, threads, functions",
        module="html",
        hint="open {uri} in a browser",
    ),
)

#: The names of :data:`EXPORTERS`: the choices of the CLI's ``--format``.
FORMATS: tuple[str, ...] = tuple(e.name for e in EXPORTERS)


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name``; raises :class:`UnknownFormatError`."""
    for exporter in EXPORTERS:
        if exporter.name == name:
            return exporter
    raise UnknownFormatError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")


def file_uri(path: str) -> str:
    """``file://`` and the absolute ``path`` percent-encoded, as
    ``Path.as_uri`` writes it (without importing pathlib at the end of a run)."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-._~"
    return "file://" + "".join(chr(b) if b in safe else f"%{b:02X}" for b in os.fsencode(path))


def known_names() -> str:
    """The file names that tell a format, for an error message: ``.tprof,
    .prof, ... or callgrind.out.*``."""
    names = [ext for e in EXPORTERS for ext in e.extensions]
    names += [f"{prefix}.*" for e in EXPORTERS for prefix in e.prefixes]
    return ", ".join(names[:-1]) + " or " + names[-1]


def exporter_for_path(path: str | os.PathLike[str]) -> Exporter | None:
    """The exporter whose extension ends ``path`` (case-insensitive; the longest
    matching extension wins, so ``.trace.json`` beats ``.json``), else the one
    whose prefix starts the file name (``callgrind.out.1234``), or ``None``."""
    name = os.path.basename(os.fspath(path)).lower()
    best: Exporter | None = None
    best_len = 0
    for exporter in EXPORTERS:
        for ext in exporter.extensions:
            if len(ext) > best_len and len(name) > len(ext) and name.endswith(ext):
                best, best_len = exporter, len(ext)
    if best is None:
        for exporter in EXPORTERS:
            if any(name.startswith(prefix) for prefix in exporter.prefixes):
                return exporter
    return best
