# SPDX-License-Identifier: MIT
"""The paths this round of hardening added, under valgrind's memcheck: code
objects dying while profiled (the code watcher re-keys nodes), a timeline
spill file that fails (the ring fallback), and the legacy engine's thread
starters and trampoline."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = """
import _thread, resource, signal, sys, threading, types
import threadprof

def compiled(name):
    module = compile(f"def {name}():\\n    return 1\\n", f"<{name}>", "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(code, {})

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

for engine in ("legacy", "monitoring") if sys.version_info >= (3, 12) else ("legacy",):
    with threadprof.profile(engine=engine) as p:
        for i in range(100):
            fn = compiled(f"f{i % 7}_{i}")
            fn()
            fn()
            del fn
        t = threading.Thread(target=fib, args=(5,))
        t.start()
        t.join()
        done = _thread.allocate_lock()
        done.acquire()
        _thread.start_new_thread(lambda: (fib(5), done.release()), ())
        done.acquire()
    p.snapshot()

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 14, resource.RLIM_INFINITY))
p = threadprof.Profile(timeline=True)
p._timeline_budget = 1000
p.enable()
fib(16)
p.disable()
snap = p.snapshot()
assert any("spill file" in w for w in snap.warnings), snap.warnings
sum(1 for _ in snap.thread("MainThread").timeline)
print("ok")
"""


@pytest.mark.memcheck
@pytest.mark.skipif(
    sys.version_info < (3, 12),
    reason="CPython 3.11's int.from_bytes reads an uninitialised digit of a zero-size "
    "int (an interpreter false positive under memcheck, gone in 3.12)",
)
def test_this_rounds_paths_under_memcheck(tmp_path: pathlib.Path) -> None:
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (the memcheck tests need it)")
    script = tmp_path / "paths.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [
            "valgrind",
            "-q",
            "--error-exitcode=99",
            "--leak-check=no",
            f"--suppressions={ROOT / 'tests' / 'valgrind.supp'}",
            sys.executable,
            str(script),
        ],
        capture_output=True,
        text=True,
        env={"PYTHONMALLOC": "malloc", "PATH": "/usr/bin:/bin"},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    assert proc.stdout.strip() == "ok"
