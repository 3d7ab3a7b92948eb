# SPDX-License-Identifier: MIT
"""Fixtures for the tests that run the profiler: every engine this Python has."""

from __future__ import annotations

import sys

import pytest

import threadprof

ENGINES = ["legacy", "monitoring"] if sys.version_info >= (3, 12) else ["legacy"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The name of an engine; tests using it run once per engine."""
    return request.param


@pytest.fixture(autouse=True)
def no_profiler_left_running():
    """Fail loudly if a test leaves a profiler running, and stop it."""
    yield
    leftover = threadprof.active()
    if leftover is not None:
        leftover.disable()
        pytest.fail("the test left a threadprof profiler running")
