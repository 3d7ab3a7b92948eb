# SPDX-License-Identifier: MIT
"""The C core and the interpreter around it: subinterpreters get a clear
ImportError (the hooks are the process's), a module instance keeps its state
to itself, and the sys.monitoring tool id is left as it was found."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import textwrap

import pytest

import threadprof

# Runs in a fresh interpreter: a subinterpreter imports threadprof and writes
# what happened to stdout of the main interpreter, which meanwhile profiles.
SUBINTERP_SCRIPT = r"""
import sys, threading, tempfile, os
import threadprof

def work():
    return sum(range(100))

kind = sys.argv[1]
fd, path = tempfile.mkstemp()
os.close(fd)
code = f'''
try:
    import threadprof
    result = "imported"
except ImportError as e:
    result = "ImportError: " + str(e)
with open({path!r}, "w") as out:
    out.write(result)
'''
with threadprof.profile() as p:
    work()
    if kind == "legacy":
        import _testcapi
        _testcapi.run_in_subinterp(code)
    else:
        try:
            import _interpreters as interpreters
            interp = interpreters.create("isolated")
        except ImportError:
            import _xxsubinterpreters as interpreters
            interp = interpreters.create(isolated=True)
        interpreters.run_string(interp, code)
        interpreters.destroy(interp)
    work()
snap = p.snapshot()
main = snap.thread("MainThread")
calls = sum(n.calls for n in main.nodes[1:] if snap.functions[n.func].name == "work")
print(open(path).read())
print("work calls", calls)
os.unlink(path)
"""


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _run(kind: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", SUBINTERP_SCRIPT, kind],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.skipif(not _has("_testcapi"), reason="needs _testcapi")
def test_legacy_subinterpreter_gets_a_clear_import_error():
    lines = _run("legacy")
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        # a free-threaded CPython checks every subinterpreter itself
        assert lines[0] == (
            "ImportError: module threadprof._core does not support loading in subinterpreters"
        )
    else:
        assert lines[0] == (
            "ImportError: threadprof._core can be imported in the main "
            "interpreter only: profile hooks are per process"
        )
    assert lines[1] == "work calls 2"  # the main interpreter's profile goes on


@pytest.mark.skipif(
    sys.version_info < (3, 12) or not (_has("_interpreters") or _has("_xxsubinterpreters")),
    reason="isolated subinterpreters are 3.12+",
)
def test_isolated_subinterpreter_gets_a_clear_import_error():
    lines = _run("isolated")
    assert lines[0].startswith("ImportError: ")
    assert "threadprof._core" in lines[0]
    assert lines[1] == "work calls 2"


def test_a_second_module_instance_has_its_own_types_and_error():
    code = textwrap.dedent(
        """
        import importlib.util, sys
        import threadprof._core as first
        spec = importlib.util.find_spec("threadprof._core")
        second = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(second)
        assert second.Profiler is not first.Profiler
        assert second.ProfilerError is not first.ProfilerError
        p = first.Profiler()
        p.enable()
        try:
            q = second.Profiler()
            q.enable()
        except second.ProfilerError as e:
            print("refused:", e)
        p.disable()
        q.enable()
        q.disable()
        print("second ran")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "refused: another threadprof profiler is already running in this process: stop it first",
        "second ran",
    ]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
def test_monitoring_tool_id_is_left_clean():
    mon = sys.monitoring
    with threadprof.profile(engine="monitoring"):
        tool = next(i for i in range(6) if mon.get_tool(i) == "threadprof")
        assert mon.get_events(tool) != 0
    assert mon.get_tool(tool) is None
    mon.use_tool_id(tool, "after-threadprof")
    try:
        assert mon.get_events(tool) == 0
        for name in ("PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "CALL", "C_RETURN"):
            assert mon.register_callback(tool, getattr(mon.events, name), None) is None
    finally:
        mon.free_tool_id(tool)
