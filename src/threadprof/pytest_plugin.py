# SPDX-License-Identifier: MIT
"""The pytest plugin: ``pytest --threadprof`` profiles a test run.

Installed with threadprof: the ``pytest11`` entry point ``threadprof`` is the
top-level module ``_threadprof_pytest``, which declares the options and,
only when ``--threadprof`` is given, registers :class:`Profiling` from here
(so that a pytest run without it loads nothing of threadprof):

* ``--threadprof-scope session`` (the default): one profile of the whole run,
  ``DIR/session.tprof``;
* ``module``: a profile per test module, ``DIR/<module path>.tprof``;
* ``test``: a profile per test, setup and teardown included,
  ``DIR/<test id>.tprof``.

``DIR`` is ``--threadprof-dir`` (default ``.threadprof``, relative to pytest's
root directory). Every thread is profiled, those the tests start included.
At the end of the run the terminal summary shows the session's threads and
top functions (pytest's, the standard library's and other packages' left
out), or the tests (or modules) that took longest, with their CPU time, calls
and threads, and where the files are.

With pytest-xdist each worker profiles its own tests. In session scope each
writes ``DIR/session-<worker>.tprof`` and the controller merges them into
``DIR/session.tprof`` (threads named ``gw0:MainThread``...,
:func:`threadprof.merge.merge_snapshots`); in module and test scope the files
are the same as without xdist, and the workers send their summaries to the
controller. The plugin never changes pytest's exit status.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Generator

    from .api import Profile
    from .model import Snapshot

__all__ = ["SCOPES", "Profiling"]

SCOPES = ("session", "module", "test")
_WORKER_KEY = "threadprof"  # in xdist's workeroutput


@dataclass
class Row:
    """One profile of the summary: a test, a module or a worker's session."""

    name: str
    path: str
    wall: float
    cpu: float
    calls: int
    threads: int


def _file_name(text: str) -> str:
    """``text`` (a test id, a module path) as a file name."""
    name = re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_.") or "test"
    return name[:180]  # room for a suffix under the 255 bytes of a name


def _worker(config: pytest.Config) -> str | None:
    """xdist's worker id (``gw0``), or ``None`` outside a worker."""
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput.get("workerid", "gw"))


class Profiling:
    """The plugin at work in one pytest process (a controller or a worker)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.scope: str = config.getoption("threadprof_scope")
        self.top: int = config.getoption("threadprof_top")
        self.dir = Path(config.rootpath, config.getoption("threadprof_dir"))
        self.worker = _worker(config)
        self.controller = self.worker is None and _xdist_workers(config) > 0
        self.rows: list[Row] = []
        self.session: Snapshot | None = None
        self.profiler: Profile | None = None
        self.current: tuple[str, str] | None = None  # (name, file) being profiled
        self.error: str | None = None
        self.used: set[str] = set()  # the file names given so far

    # -- profiling ---------------------------------------------------------------

    def _start(self, name: str, filename: str) -> None:
        from . import api

        if api.active() is not None:
            self.error = "another threadprof profiler is running: --threadprof profiles nothing"
            return
        stem, n = filename.removesuffix(".tprof"), 1
        while filename in self.used:  # two ids that read the same as file names
            n += 1
            filename = f"{stem}-{n}.tprof"
        self.used.add(filename)
        self.profiler = api.start()
        self.current = (name, filename)

    def _finish(self) -> Snapshot | None:
        """Stop the profiler, write its file, add its row; its snapshot."""
        from .exporters import get_exporter

        profiler, current = self.profiler, self.current
        self.profiler = self.current = None
        if profiler is None or current is None:
            return None
        try:
            profiler.disable()
        except Exception:
            pass
        snapshot = profiler.snapshot()
        name, filename = current
        path = self.dir / filename
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            get_exporter("tprof").write(snapshot, path)
        except Exception as exc:
            self.error = f"cannot write {path}: {exc}"
        self.rows.append(_row(snapshot, name, str(path)))
        return snapshot

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.scope == "session" and not self.controller:
            suffix = f"-{self.worker}" if self.worker else ""
            self._start("session", f"session{suffix}.tprof")
        if self.controller and self.scope == "session":
            for stale in self.dir.glob("session-*.tprof"):
                stale.unlink(missing_ok=True)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        if self.scope == "test":
            self._start(item.nodeid, _file_name(item.nodeid) + ".tprof")
            yield
            self._finish()
            return
        if self.scope == "module":
            module = item.nodeid.split("::", 1)[0]
            if self.current is None or self.current[0] != module:
                self._finish()
                self._start(module, _file_name(module) + ".tprof")
        yield

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        snapshot = self._finish()
        if self.scope == "session" and snapshot is not None:
            self.session = snapshot
        if self.worker is not None:
            workeroutput = getattr(self.config, "workeroutput", None)
            if workeroutput is not None:
                workeroutput[_WORKER_KEY] = {
                    "rows": [vars(r) for r in self.rows],
                    "error": self.error,
                }
        if self.controller and self.scope == "session":
            self._merge_workers()

    # -- pytest-xdist ----------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A worker ended: its summary rows come to the controller."""
        data = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if data:
            self.rows += [Row(**r) for r in data["rows"]]
            self.error = self.error or data["error"]

    def _merge_workers(self) -> None:
        from .exporters import get_exporter
        from .merge import merge_snapshots
        from .model import Snapshot
        from .readers import read_profile

        parts = sorted(self.dir.glob("session-*.tprof"))
        if not parts:
            return
        snapshots: list[Snapshot] = []
        prefixes: list[str] = []
        for part in parts:
            snapshot = read_profile(part)
            if isinstance(snapshot, Snapshot):  # a .tprof file, as the workers write
                snapshots.append(snapshot)
                prefixes.append(part.stem.removeprefix("session-") + ":")
        merged = merge_snapshots(snapshots, prefixes)
        path = self.dir / "session.tprof"
        get_exporter("tprof").write(merged, path)
        self.session = merged
        self.rows = [_row(merged, "session", str(path))]

    # -- the summary ------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.worker is not None:
            return
        tr = terminalreporter
        tr.write_sep("=", "threadprof")
        if self.error:
            tr.write_line(f"threadprof: {self.error}")
        if self.scope == "session" and self.session is not None:
            from .report import format_report

            width = min(max(tr._tw.fullwidth, 60), 120)
            text = format_report(self.session, limit=self.top, width=width, hide_library=True)
            for line in text.splitlines():
                tr.write_line(line)
        elif self.rows:
            what = "tests" if self.scope == "test" else "modules"
            rows = sorted(self.rows, key=lambda r: -r.wall)[: self.top]
            tr.write_line(f"the {len(rows)} slowest of {len(self.rows)} {what} (wall time):")
            tr.write_line(f"{'wall':>9} {'CPU':>9} {'calls':>9} {'threads':>7}  {what[:-1]}")
            for r in rows:
                tr.write_line(
                    f"{_seconds(r.wall):>9} {_seconds(r.cpu):>9} {r.calls:>9} "
                    f"{r.threads:>7}  {r.name}"
                )
        if self.rows:
            where = os.path.relpath(self.dir, self.config.invocation_params.dir)
            tr.write_line(
                f"threadprof: {len(self.rows)} profile(s) in {where}/ "
                "(threadprof report FILE --tree)"
            )


def _row(snapshot: Snapshot, name: str, path: str) -> Row:
    unit = snapshot.unit
    return Row(
        name=name,
        path=path,
        wall=snapshot.duration * unit,
        cpu=sum(t.cpu_time for t in snapshot.threads) * unit,
        calls=sum(t.calls for t in snapshot.threads),
        threads=len(snapshot.threads),
    )


def _seconds(value: float) -> str:
    from .report import format_seconds

    return format_seconds(value)


def _xdist_workers(config: pytest.Config) -> int:
    """How many xdist workers this (controller) process starts; 0 without xdist."""
    if not config.pluginmanager.hasplugin("xdist"):
        return 0
    numprocesses = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    if not numprocesses or dist == "no":
        return 0
    return 1
