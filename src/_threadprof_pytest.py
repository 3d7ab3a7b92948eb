# SPDX-License-Identifier: MIT
"""threadprof's pytest entry point (``pytest11``): the options only.

pytest loads this module in every run, so it imports nothing of threadprof: the
plugin itself (:mod:`threadprof.pytest_plugin`), and with it the profiler's C
core, is loaded only when ``--threadprof`` is given.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("threadprof", "profiling every thread with threadprof")
    group.addoption(
        "--threadprof",
        action="store_true",
        default=False,
        help="profile the run with threadprof (.tprof files, a summary at the end)",
    )
    group.addoption(
        "--threadprof-scope",
        choices=("session", "module", "test"),
        default="session",
        help="a profile of the whole run (session, the default), of each module, or of each test",
    )
    group.addoption(
        "--threadprof-dir",
        default=".threadprof",
        metavar="DIR",
        help="where the .tprof files go (default: .threadprof under the root directory)",
    )
    group.addoption(
        "--threadprof-top",
        type=int,
        default=10,
        metavar="N",
        help="how many functions, tests or modules the summary shows (default 10)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("threadprof"):
        from threadprof.pytest_plugin import Profiling

        config.pluginmanager.register(Profiling(config), "threadprof-profiling")
