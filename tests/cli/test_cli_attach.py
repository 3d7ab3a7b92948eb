# SPDX-License-Identifier: MIT
"""``threadprof attach PID``: a live multi-threaded HTTP server profiled for a
while through ``sys.remote_exec`` (Python 3.14+), then left running as it was;
and each way attaching can fail, said in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from threadprof.readers import read_profile

REMOTE = sys.version_info >= (3, 14)
needs_remote = pytest.mark.skipif(not REMOTE, reason="sys.remote_exec is Python 3.14+")

#: A threaded HTTP server (a thread per request) with a housekeeping thread
#: that runs from the start; /tools says which sys.monitoring tools are set.
SERVER = """\
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def tick():
    return sum(range(200))

def housekeeping():
    while True:
        tick()
        time.sleep(0.01)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/tools":
            body = json.dumps([sys.monitoring.get_tool(i) for i in range(6)]).encode()
        else:
            body = str(fib(12)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

threading.Thread(target=housekeeping, name="housekeeping", daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever(poll_interval=0.05)
"""


class Server:
    def __init__(self, workdir: Path, *python_args: str, env: dict[str, str] | None = None):
        script = workdir / "server.py"
        script.write_text(SERVER)
        self.proc = subprocess.Popen(
            [sys.executable, *python_args, str(script)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=workdir,
        )
        self.port = int(self.proc.stdout.readline())
        self.pid = self.proc.pid
        self.stop = threading.Event()
        self.served = 0
        self.client = threading.Thread(target=self._load, daemon=True)
        self.client.start()

    def get(self, path: str = "/") -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.read()

    def _load(self) -> None:
        while not self.stop.is_set():
            try:
                self.get()
                self.served += 1
            except OSError:
                pass
            time.sleep(0.005)

    def close(self) -> None:
        self.stop.set()
        self.client.join(5)
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def server(workdir):
    servers: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        s = Server(workdir, *args, env=env)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@needs_remote
def test_profiles_a_live_server_and_detaches(threadprof, server, workdir):
    s = server()
    time.sleep(0.3)  # requests under way, the housekeeping thread in its loop
    proc = threadprof("attach", str(s.pid), "--duration", "1.5", "-o", "live.tprof")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"threadprof: attached to process {s.pid} (Python 3.")
    assert lines[1].startswith(f"threadprof: wrote the profile of process {s.pid} to ")
    hint = f"threadprof: to view it: threadprof report {workdir / 'live.tprof'}"
    assert lines[2].startswith(hint)
    snap = read_profile(workdir / "live.tprof")
    assert snap.pid == s.pid
    names = {t.name for t in snap.threads}
    assert {"MainThread", "housekeeping"} <= names, names
    assert "threadprof-attach" not in names
    funcs = {f.id: f for f in snap.functions}

    def root_frames(name):
        (t,) = [t for t in snap.threads if t.name == name]
        return [(funcs[t.nodes[c].func].qualname, t.nodes[c].calls) for c in t.root.children], t

    # the frames running at the attach are the roots, entered with no calls
    roots, house = root_frames("housekeeping")
    assert ("Thread._bootstrap", 0) in roots
    ticks = [n.calls for n in house.nodes[1:] if funcs[n.func].qualname == "tick"]
    assert sum(ticks) >= 10
    main_roots, main = root_frames("MainThread")
    assert main_roots[0] == ("<module>", 0)
    paths = [[funcs[f].qualname for f in main.path(n.id)] for n in main.nodes[1:]]
    assert ["<module>", "BaseServer.serve_forever"] in paths
    # requests were handled in threads of their own, and profiled
    handled = sum(
        n.calls
        for t in snap.threads
        for n in t.nodes[1:]
        if funcs[n.func].qualname == "Handler.do_GET"
    )
    assert handled >= 1
    # detached: no tool left behind, and the server serves on
    tools = json.loads(s.get("/tools"))
    assert "threadprof" not in tools
    assert s.get() == b"144"


@needs_remote
def test_the_target_exits_first(threadprof, workdir):
    script = workdir / "short.py"
    script.write_text(
        textwrap.dedent(
            """\
            import threading, time
            def work():
                return sum(range(100))
            print("go", flush=True)
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                work()
                time.sleep(0.01)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "go\n"
    result = threadprof("attach", str(proc.pid), "--duration", "30", "-o", "short.tprof")
    assert proc.wait(10) == 0
    proc.stdout.close()
    assert result.returncode == 0, result.stderr
    assert "(the process exited)" in result.stderr
    snap = read_profile(workdir / "short.tprof")
    funcs = {f.id: f for f in snap.functions}
    assert (
        sum(n.calls for n in snap.threads[0].nodes if n.func >= 0 and funcs[n.func].name == "work")
        > 10
    )


@needs_remote
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["-X", "disable_remote_debug"], {}, "it was started with -X disable_remote_debug"),
        (
            [],
            {"PYTHON_DISABLE_REMOTE_DEBUG": "1"},
            "PYTHON_DISABLE_REMOTE_DEBUG is set in its environment",
        ),
    ],
)
def test_remote_debugging_disabled(threadprof, server, args, env, message):
    s = server(*args, env={**os.environ, **env})
    proc = threadprof("attach", str(s.pid), "--duration", "1")
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"threadprof: error: remote debugging is disabled in process {s.pid}: {message}\n"
    )


@needs_remote
def test_threadprof_not_importable_in_the_target(threadprof, server, workdir):
    s = server("-S")  # no site-packages: threadprof is not on its path
    proc = threadprof("attach", str(s.pid), "--duration", "1", "-o", "x.tprof")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith(
        f"threadprof: error: threadprof cannot be imported in process {s.pid} (Python 3."
    )
    assert "install it in that environment" in line and "ModuleNotFoundError" in line
    assert not (workdir / "x.tprof").exists()
    assert s.get() == b"144"


@needs_remote
def test_main_thread_in_c_times_out_and_the_late_script_does_nothing(threadprof, workdir):
    script = workdir / "sleeper.py"
    script.write_text(
        'import time\nprint("asleep", flush=True)\ntime.sleep(3)\nprint("awake", flush=True)\n'
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "asleep\n"
    result = threadprof("attach", str(proc.pid), "--timeout", "0.5", "-o", "late.tprof")
    assert result.returncode == 2
    assert "did not run threadprof's script within 0.5 s" in result.stderr
    out, _ = proc.communicate(timeout=20)
    assert out == "awake\n" and proc.returncode == 0
    assert not (workdir / "late.tprof").exists()


def test_not_python_and_no_process(threadprof):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        proc = threadprof("attach", str(sleeper.pid))
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"threadprof: error: process {sleeper.pid} (")
        assert "does not look like CPython" in proc.stderr
    finally:
        sleeper.kill()
        sleeper.wait()
    proc = threadprof("attach", "999999999")
    assert (proc.returncode, proc.stderr) == (2, "threadprof: error: no process 999999999\n")


@pytest.mark.skipif(REMOTE, reason="this Python can be attached to")
def test_older_python_is_refused(threadprof, server):
    s = server()
    proc = threadprof("attach", str(s.pid), "--duration", "1")
    assert proc.returncode == 2
    v = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert proc.stderr.startswith(
        f"threadprof: error: process {s.pid} runs Python {v}: attaching needs Python 3.14 or newer"
    )


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv],
        capture_output=True, text=True, cwd="/", check=False,
    )  # fmt: skip


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv"
)
def test_permission_denied(server):
    """Another user's process: refused with what to do."""
    if _as_nobody(sys.executable, "-c", "import threadprof").returncode != 0:
        pytest.skip("this Python cannot run as another user (its installation is private)")
    s = server()
    proc = _as_nobody(
        sys.executable, "-m", "threadprof", "attach", str(s.pid), "-o", "/tmp/x.tprof"
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(
        f"threadprof: error: permission denied: cannot attach to process {s.pid}"
    )
