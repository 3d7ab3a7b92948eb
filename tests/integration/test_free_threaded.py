# SPDX-License-Identifier: MIT
"""The free-threaded build: threadprof keeps the GIL off, and threads that
really run at once are each counted exactly.

Each check runs in a fresh interpreter, so that no other extension module of
the test session can have turned the GIL on first. On a build with the GIL the
module is skipped; the same exactness checks run there in test_threads.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="needs a free-threaded CPython"
)

THREADS = 4
CALLS = 20_000

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    import threadprof

    gil = {"import": sys._is_gil_enabled()}

    def leaf(i):
        return i

    def body(n):
        for i in range(n):
            leaf(i)

    def worker(k, barrier):
        barrier.wait()
        body(CALLS + k)

    barrier = threading.Barrier(THREADS)
    with threadprof.profile(**OPTIONS) as p:
        threads = [threading.Thread(target=worker, args=(k, barrier), name=f"w{k}")
                   for k in range(THREADS)]
        for t in threads:
            t.start()
        gil["during"] = sys._is_gil_enabled()
        for t in threads:
            t.join()
    gil["after"] = sys._is_gil_enabled()
    snap = p.snapshot()
    counts = {}
    for th in snap.threads:
        if th.name.startswith("w"):
            for n in th.nodes[1:]:
                name = snap.functions[n.func].name
                counts[f"{th.name}:{name}"] = counts.get(f"{th.name}:{name}", 0) + n.calls
    print(json.dumps({"gil": gil, "counts": counts}))
    """
)


def run_script(options: dict) -> dict:
    code = f"THREADS = {THREADS}\nCALLS = {CALLS}\nOPTIONS = {options!r}\n" + SCRIPT
    env = dict(os.environ)
    env.pop("PYTHON_GIL", None)  # the interpreter decides, as for a user
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "GIL" not in out.stderr, out.stderr  # no "GIL has been enabled" warning
    return json.loads(out.stdout.strip().splitlines()[-1])


ENGINES = ["legacy", "monitoring"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("timeline", [False, True])
@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_gil_stays_off_and_parallel_threads_count_exactly(engine, timeline, clock):
    res = run_script({"engine": engine, "timeline": timeline, "clock": clock})
    assert res["gil"] == {"import": False, "during": False, "after": False}
    for k in range(THREADS):
        assert res["counts"][f"w{k}:leaf"] == CALLS + k
        assert res["counts"][f"w{k}:body"] == 1
        assert res["counts"][f"w{k}:worker"] == 1


def test_cli_run_keeps_the_gil_off(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, threading
            def f():
                return sum(range(100))
            ts = [threading.Thread(target=lambda: [f() for _ in range(1000)]) for _ in range(4)]
            for t in ts: t.start()
            for t in ts: t.join()
            print("gil", sys._is_gil_enabled())
            """
        )
    )
    out_file = tmp_path / "out.tprof"
    env = dict(os.environ)
    env.pop("PYTHON_GIL", None)
    res = subprocess.run(
        [sys.executable, "-m", "threadprof", "run", "-o", str(out_file), str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "gil False" in res.stdout
    from threadprof import tprof

    snap = tprof.read(out_file)
    f_calls = sum(
        n.calls for th in snap.threads for n in th.nodes[1:] if snap.functions[n.func].name == "f"
    )
    assert f_calls == 4000
