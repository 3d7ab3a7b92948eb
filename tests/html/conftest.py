# SPDX-License-Identifier: MIT
"""Fixtures for the HTML report's tests: hand-built snapshots and a headless Chromium.

* ``demo_snap``: three threads whose numbers the tests check by hand -- direct
  recursion, mutual recursion, a frame already running at start (0 calls), a C
  function, CPU times unlike wall times -- and a timeline on the main thread.
* ``weird_snap`` (tests/conftest.py): names that must reach the page as they are.
* ``browser``: one Chromium for the whole session (``html_cdp.Browser``). When
  Chromium or ``websocket-client`` is missing the browser tests are skipped,
  except in CI (``CI`` set), where they fail: CI installs both.
* ``open_report(snapshot, name)``: writes the report to a file and opens it
  from disk (``file://``) in a fresh tab, which is closed after the test.
* ``artifacts``: where screenshots go: ``$THREADPROF_ARTIFACTS`` or a
  temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from shared import LEN, SLEEP


@pytest.fixture
def demo_snap(builder):
    b = builder
    for name in ("main", "fact", "ping", "pong", "helper", "run"):
        b.func(name, "app.py")
    b.cfunc(LEN)
    b.cfunc(SLEEP)
    C = b.call
    main = b.thread(
        "MainThread",
        [
            C("main", 1, 100, [
                C("fact", 1, 30, [
                    C("fact", 1, 20, [C("fact", 1, 8, [C(LEN, 1, 1)], cpu=3)], cpu=5),
                ], cpu=9),
                C("ping", 2, 40, [
                    C("pong", 2, 25, [C("ping", 1, 10, [C("pong", 1, 4)], cpu=4)], cpu=12),
                ], cpu=20),
                C("helper", 3, 12, cpu=6),
            ], cpu=60),
        ],
    )  # fmt: skip
    b.timeline(
        main,
        [
            ("call", "main", 0),
            ("call", "fact", 5),
            ("call", "fact", 10),
            ("call", "fact", 12),
            ("call", LEN, 14),
            ("ret", LEN, 15),
            ("ret", "fact", 20),
            ("ret", "fact", 30),
            ("ret", "fact", 35),
            ("call", "ping", 40),
            ("ret", "ping", 80),
            ("call", "helper", 85),
            ("ret", "helper", 97),
            ("ret", "main", 100),
        ],
    )
    b.thread(
        "worker-1",
        [C("run", 0, 60, [C("helper", 4, 20), C("fact", 2, 30, [C("fact", 2, 10)])])],
        first_seen=10,
    )
    b.thread("worker-2", [C("run", 1, 50, [C(SLEEP, 5, 45, cpu=1)], cpu=10)], first_seen=20)
    return b.build()


# -- the browser -------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must install it (see docs/reports.md)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator[Any]:
    try:
        from html_cdp import Browser, find_chromium
    except ImportError as exc:  # websocket-client, from the test extra
        _unavailable(f"the browser tests need websocket-client ({exc})")
    executable = find_chromium()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium)")
    b = Browser(executable, tmp_path_factory.mktemp("chromium") / "profile")
    yield b
    b.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    env = os.environ.get("THREADPROF_ARTIFACTS")
    if env:
        path = Path(env)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture
def open_report(browser, tmp_path) -> Iterator[Callable[..., Any]]:
    """``open_report(snapshot, name="report", width=1280, height=900)`` -> a page showing
    the snapshot's report (or the report file, given its path)."""
    from threadprof.exporters.html import render

    pages = []

    def opener(snapshot, name: str = "report", width: int = 1280, height: int = 900, **kw):
        if isinstance(snapshot, Path):  # a report written elsewhere
            path = snapshot
        else:
            path = tmp_path / f"{name}.html"
            path.write_text(render(snapshot, **kw), encoding="utf-8")
        page = browser.new_page(width, height)
        pages.append(page)
        page.goto(path.as_uri())
        page.wait_for("window.threadprof !== undefined")
        return page

    yield opener
    for page in pages:
        page.close()
