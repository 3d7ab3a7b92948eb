# SPDX-License-Identifier: MIT
"""Short paths and the kind of a file (program, standard library, library)."""

from __future__ import annotations

import pytest

from threadprof.paths import file_kind, short_path


@pytest.mark.parametrize(
    ("filename", "short", "kind"),
    [
        ("/usr/lib/python3.12/threading.py", "threading.py", "stdlib"),
        (
            "/root/.pyenv/versions/3.13.0/lib/python3.13/concurrent/futures/thread.py",
            "concurrent/futures/thread.py",
            "stdlib",
        ),
        ("/opt/py/lib/python3.13t/lib-dynload/_x.py", "_x.py", "stdlib"),
        ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>", "stdlib"),
        (
            "/srv/venv/lib/python3.12/site-packages/requests/sessions.py",
            "requests/sessions.py",
            "library",
        ),
        ("/usr/lib/python3/dist-packages/yaml/__init__.py", "yaml/__init__.py", "library"),
        ("/srv/app/handlers/user.py", "handlers/user.py", "program"),  # under the cwd
        ("/elsewhere/tool.py", "tool.py", "program"),
        ("script.py", "script.py", "program"),
        ("<string>", "<string>", "program"),
        ("~", "~", "none"),
    ],
)
def test_short_path_and_kind(filename, short, kind):
    assert short_path(filename, cwd="/srv/app") == short
    assert file_kind(filename) == kind


def test_the_current_directory_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert short_path(str(tmp_path / "pkg" / "mod.py")) == "pkg/mod.py"
