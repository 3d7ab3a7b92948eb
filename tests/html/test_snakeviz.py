# SPDX-License-Identifier: MIT
"""The pstats export opened in snakeviz itself (its server, its page in
headless Chromium): the function it roots its view at, threads merged and
with ``thread_roots``."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import pytest

from threadprof.exporters import get_exporter
from threadprof.readers import read_profile

pytestmark = pytest.mark.browser

PROG = """\
import threading, time

def work():
    time.sleep(0.2)

threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
time.sleep(0.1)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    """A main thread that lives 0.3 s and four workers of 0.2 s each: merged,
    the workers' 0.8 s outweigh the main thread."""
    workdir = tmp_path_factory.mktemp("run")
    (workdir / "prog.py").write_text(PROG)
    proc = subprocess.run(
        [sys.executable, "-m", "threadprof", "run", "-q", "-o", "out.tprof", "prog.py"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return read_profile(workdir / "out.tprof")


def snakeviz_root(browser, path) -> tuple[str, float]:
    """The function snakeviz roots its view at, and its cumulative time."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "snakeviz", "-s", "-H", "127.0.0.1", "-p", str(port), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            found = re.search(r"http://\S+/snakeviz/\S+", line)
            url = found[0] if found else None
        assert url is not None, "snakeviz printed no URL"
        page = browser.new_page()
        try:
            page.goto(url)
            page.wait_for("typeof sv_total_time !== 'undefined'", timeout=60)
            return page.js("sv_root_func_name"), page.js("sv_total_time")
        finally:
            page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_snakeviz_opens_on_the_main_thread_with_thread_roots(profiled, browser, tmp_path):
    merged = tmp_path / "merged.prof"
    get_exporter("pstats").write(profiled, merged)
    root, _total = snakeviz_root(browser, merged)
    # threads merged: the workers' bootstrap, their times summed, hides the main thread
    assert root.endswith("(_bootstrap)"), root

    rooted = tmp_path / "rooted.prof"
    get_exporter("pstats").write(profiled, rooted, options={"thread_roots": True})
    root, total = snakeviz_root(browser, rooted)
    assert root == "~:0(<thread 'MainThread'>)"
    main = next(t for t in profiled.threads if t.name == "MainThread")
    tops = sum(main.nodes[c].wall for c in main.root.children)
    assert total == pytest.approx(tops * profiled.unit)
    assert 0.3 <= total < 0.8


def test_thread_roots_keep_every_other_number(profiled):
    """The functions' own entries are those of the merged file; the thread
    functions add no time of their own."""
    import marshal

    plain = marshal.loads(get_exporter("pstats").to_bytes(profiled))
    rooted = marshal.loads(
        get_exporter("pstats").to_bytes(profiled, options={"thread_roots": True})
    )
    added = {k for k in rooted if k not in plain}
    assert {k[2] for k in added} == {"<thread 'MainThread'>"} | {
        f"<thread 'worker-{i}'>" for i in range(4)
    }
    for key in added:
        cc, nc, tt, ct, callers = rooted[key]
        assert (cc, nc, tt, callers) == (1, 1, 0.0, {})
    for key, (cc, nc, tt, ct, callers) in plain.items():
        assert rooted[key][:4] == (cc, nc, tt, ct)
        extra = set(rooted[key][4]) - set(callers)
        assert extra <= added
        # only the functions at the top of a thread are called by a thread's function
        assert bool(extra) == (key in _tops(profiled)), key


def _tops(snapshot) -> set:
    functions = {f.id: f for f in snapshot.functions}
    return {
        functions[t.nodes[c].func].pstats_key for t in snapshot.threads for c in t.root.children
    }
