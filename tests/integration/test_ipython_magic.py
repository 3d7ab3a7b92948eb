# SPDX-License-Identifier: MIT
"""``%load_ext threadprof``: the magics in a real IPython (the terminal
application, run on an ``.ipy`` script) and in a real Jupyter kernel (a
notebook executed by nbclient), with the current IPython and the previous
major release (installed once into the test environment, beside it)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from threadprof.readers import read_profile

#: The previous major release of IPython, tested beside the current one, and
#: what it needs that the current one does not.
PREVIOUS = ["ipython>=8,<9", "decorator", "typing_extensions"]

WORKLOAD = """\
import threading

def work(n):
    return sum(range(n))

def run(threads=3):
    ts = [threading.Thread(target=work, args=(1000,), name=f"w{i}") for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
"""


@pytest.fixture(scope="session")
def previous_ipython() -> Path:
    """A directory holding IPython's previous major release, for ``PYTHONPATH``
    (its dependencies are the current one's, already installed)."""
    target = Path(sys.prefix) / "threadprof-test-ipython-previous"
    marker = target / ".installed"
    if not marker.exists():
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(target),
                *PREVIOUS,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(f"cannot install {PREVIOUS[0]}: {proc.stderr.strip()[-500:]}")
        marker.touch()
    return target


@pytest.fixture(params=["current", "previous"])
def ipython_env(request, previous_ipython) -> dict[str, str]:
    """The environment of an IPython process: the current or the previous major."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if request.param == "previous":
        env["PYTHONPATH"] = str(previous_ipython)
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def _ipython(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--quick",
            "--no-banner",
            "--colors=NoColor",
            *args,
            str(script),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=script.parent,
        timeout=120,
        check=False,
    )


def test_terminal_ipython(tmp_path, ipython_env, request):
    script = tmp_path / "session.ipy"
    script.write_text(
        WORKLOAD
        + textwrap.dedent(
            """\
            import IPython
            print("IPython", IPython.version_info[0])
            %load_ext threadprof
            %threadprof --text -s ncalls -l 500 run()
            snap = %threadprof -q -r -o line.tprof run(2)
            print("threads", sorted(t.name for t in snap.threads if t.name.startswith("w")))
            """
        )
    )
    proc = _ipython(script, ipython_env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # a cell magic starts its cell: a script of its own, the extension loaded by --ext
    cell = tmp_path / "cell.ipy"
    cell.write_text(
        "%%threadprof --text --thread 'w*' -o cell.prof\n"
        + WORKLOAD
        + "run()\nprint('cell ran')\n"
    )
    proc = _ipython(cell, ipython_env, "--ext", "threadprof")
    assert proc.returncode == 0, proc.stderr
    cell_out = proc.stdout
    major = int(re.search(r"^IPython (\d+)$", out, re.MULTILINE)[1])
    assert (major >= 9) == ("current" in request.node.callspec.id), out
    first = out[out.index("threadprof: 4 threads") :]
    table = first.split("\nOff-CPU time:")[0]  # the function table, not what follows
    rows = [line.split() for line in table.splitlines() if re.search(r"\swork \(", line)]
    assert [r[0] for r in rows] == ["3"], first  # three threads, one call each
    assert "threads ['w0', 'w1']" in out
    line = read_profile(tmp_path / "line.tprof")
    assert {t.name for t in line.threads} >= {"w0", "w1"}
    assert "cell ran" in cell_out
    assert "threadprof: wrote the pstats profile to cell.prof" in cell_out
    assert re.search(r"^\*\s*w0\b", cell_out, re.MULTILINE), cell_out  # --thread marks it
    import pstats

    stats = pstats.Stats(str(tmp_path / "cell.prof")).stats  # type: ignore[attr-defined]
    assert [v[1] for (_f, _l, name), v in stats.items() if name == "work"] == [3]


def test_terminal_errors(tmp_path, ipython_env):
    script = tmp_path / "errors.ipy"
    script.write_text(
        WORKLOAD
        + textwrap.dedent(
            """\
            %load_ext threadprof
            for line in ["-s nosuchkey run()", "-o out.nosuch run()", "", "--text --html 1"]:
                try:
                    get_ipython().run_line_magic("threadprof", line)
                except Exception as exc:
                    print(f"{type(exc).__name__}: {exc}")
            print("still here")
            %threadprof --text 1/0
            """
        )
    )
    proc = _ipython(script, ipython_env)
    text = proc.stdout + proc.stderr
    assert "UsageError: unknown sort key 'nosuchkey'" in text
    assert "UsageError: cannot tell the format of 'out.nosuch'" in text
    assert "UsageError: nothing to profile" in text
    assert "UsageError: --text and --html: give one of them" in text
    # the report of what ran, then the exception as IPython shows it
    tail = text[text.index("still here") :]
    assert "threadprof: 1 thread" in tail
    assert "ZeroDivisionError" in tail


def test_notebook_kernel(tmp_path, ipython_env, monkeypatch):
    """A notebook executed in a real kernel: the report inline as HTML."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    for name, value in ipython_env.items():
        monkeypatch.setenv(name, value)
    if "PYTHONPATH" not in ipython_env:
        monkeypatch.delenv("PYTHONPATH", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(WORKLOAD),
        nbformat.v4.new_code_cell("%load_ext threadprof"),
        nbformat.v4.new_code_cell("%%threadprof -o nb.tprof\nrun(4)"),
        nbformat.v4.new_code_cell("import IPython; IPython.version_info[0]"),
    ]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = nb.cells[2].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 1, outputs
    data = displays[0].data
    assert data["text/plain"].startswith("threadprof: ")  # the kernel's threads too
    assert all(f"\n  w{i} " in data["text/plain"] for i in range(4))
    frame = data["text/html"]
    assert frame.startswith('<iframe class="threadprof-report" srcdoc="')
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', frame)[1])
    assert page.startswith("<!DOCTYPE html>") and 'id="threadprof-data"' in page
    written = read_profile(tmp_path / "nb.tprof")
    calls = {t.name: t.calls for t in written.threads if t.name.startswith("w")}
    assert sorted(calls) == ["w0", "w1", "w2", "w3"]
    major = nb.cells[3].outputs[0].data["text/plain"]
    assert major == ("8" if "PYTHONPATH" in ipython_env else str(int(major)))
