# SPDX-License-Identifier: MIT
"""Fixtures for the tests that run the profiler: every engine this Python has."""

from __future__ import annotations

import pytest

import threadprof


@pytest.fixture(autouse=True)
def no_profiler_left_running():
    """Fail loudly if a test leaves a profiler running, and stop it."""
    yield
    leftover = threadprof.active()
    if leftover is not None:
        leftover.disable()
        pytest.fail("the test left a threadprof profiler running")


@pytest.fixture(scope="session")
def cthreads(tmp_path_factory: pytest.TempPathFactory):
    """The tests/ext/cthreads.c extension, compiled for this interpreter."""
    import importlib.machinery
    import importlib.util
    import pathlib
    import subprocess
    import sysconfig

    src = pathlib.Path(__file__).parent.parent / "ext" / "cthreads.c"
    out = tmp_path_factory.mktemp("ext") / ("cthreads" + sysconfig.get_config_var("EXT_SUFFIX"))
    cc = sysconfig.get_config_var("CC").split()[0] or "cc"
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Werror",
            f"-I{sysconfig.get_paths()['include']}",
            str(src),
            "-o",
            str(out),
            "-lpthread",
        ],
        check=True,
    )
    loader = importlib.machinery.ExtensionFileLoader("cthreads", str(out))
    spec = importlib.util.spec_from_file_location("cthreads", str(out), loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
