# SPDX-License-Identifier: MIT
"""The installed package holds every file of the source package: a module
added to src/threadprof but not to the install list of src/meson.build fails
here, not on a user's machine."""

from __future__ import annotations

from pathlib import Path

import pytest

import threadprof

SRC = Path(__file__).resolve().parents[2] / "src" / "threadprof"


def test_every_source_file_is_installed():
    installed = Path(threadprof.__file__).resolve().parent
    if installed == SRC:
        pytest.skip("threadprof is imported from the source tree, not installed")
    files = [
        p.relative_to(SRC)
        for p in SRC.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".in"
    ]
    assert len(files) > 20  # the walk found the package
    missing = sorted(str(f) for f in files if not (installed / f).is_file())
    assert not missing, f"in src/threadprof but not installed (src/meson.build): {missing}"
    # generated from a template: _version.py.in
    assert (installed / "_version.py").is_file()
