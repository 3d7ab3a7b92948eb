# SPDX-License-Identifier: MIT
"""The C API for embedders: the example program built with its Makefile, and
every misuse driven through a small C program."""

from __future__ import annotations

import os
import pathlib
import pstats
import shutil
import subprocess
import sys
import sysconfig

import pytest

from threadprof import tprof

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def python_config() -> str:
    """python3.X-config of the interpreter this venv was made from."""
    path = pathlib.Path(sys.base_prefix) / "bin" / f"python{VERSION}-config"
    if not path.exists():
        pytest.fail(f"{path} is missing: the C API tests need the Python headers")
    return str(path)


def embed_env(program: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env["THREADPROF_EMBED_PYTHON"] = sys.executable  # find this venv's threadprof
    env.pop("PYTHONPATH", None)
    if program == "capi_lifetime":
        # 3.14+ derive the venv from the executable at the first
        # Py_Initialize only: name threadprof's directory for the later ones
        env["PYTHONPATH"] = str(pathlib.Path(tprof.__file__).resolve().parents[1])
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """examples/embed built with its own Makefile, plus tests/c/capi_misuse."""
    work = tmp_path_factory.mktemp("embed")
    for name in ("embed.c", "script.py", "Makefile"):
        shutil.copy(ROOT / "examples" / "embed" / name, work / name)
    make = subprocess.run(
        [
            "make",
            f"PYTHON={sys.executable}",
            f"PYTHON_CONFIG={python_config()}",
            "CFLAGS=-O1 -g -Wall -Wextra -Werror",
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert make.returncode == 0, make.stdout + make.stderr
    cflags = subprocess.run(
        [python_config(), "--cflags"], capture_output=True, text=True, check=True
    ).stdout.split()
    ldflags = subprocess.run(
        [python_config(), "--ldflags", "--embed"], capture_output=True, text=True, check=True
    ).stdout.split()
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        # a static libpython exports its symbols to the extension modules
        ldflags += (sysconfig.get_config_var("LINKFORSHARED") or "").split()
    include = subprocess.run(
        [sys.executable, "-m", "threadprof", "--cflags"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    for program in ("capi_misuse", "capi_lifetime"):
        subprocess.run(
            [
                cc,
                "-O1",
                "-g",
                "-Wall",
                "-Wextra",
                "-Werror",
                *cflags,
                *include,
                str(ROOT / "tests" / "c" / f"{program}.c"),
                "-o",
                str(work / program),
                *ldflags,
            ],
            check=True,
        )
    (work / "out").mkdir()
    return work


not_on_311_under_memcheck = pytest.mark.skipif(
    sys.version_info < (3, 12),
    reason="CPython 3.11's int.from_bytes reads an uninitialised digit of a zero-size "
    "int (an interpreter false positive under memcheck, gone in 3.12)",
)


def valgrind() -> list[str]:
    """The valgrind command line of the memcheck tests."""
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (the memcheck tests need it)")
    return [
        "valgrind",
        "-q",
        "--error-exitcode=99",
        "--leak-check=no",
        f"--suppressions={ROOT / 'tests' / 'valgrind.supp'}",
    ]


MISUSES = [
    "start before import",
    "stop before import",
    "write before import",
    "import before Py_Initialize",
    "stop without start",
    "attach without start",
    "write with nothing profiled",
    "unknown clock",
    "options too small",
    "negative timeline limit",
    "double start",
    "stop without the GIL",
    "write without the GIL",
    "NULL path",
    "unknown format",
    "unknown extension",
    "unwritable path",
    "no such thread",
    "stop twice",
]


def run_program(
    built: pathlib.Path, program: str, out: pathlib.Path
) -> subprocess.CompletedProcess[str]:
    """One of the C test programs (tests/c), writing into `out`."""
    return subprocess.run(
        [str(built / program), str(out)],
        capture_output=True,
        text=True,
        env=embed_env(program),
        timeout=120,
    )


def test_every_misuse_is_an_error_code_with_a_message(built: pathlib.Path) -> None:
    proc = run_program(built, "capi_misuse", built / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for name in MISUSES:
        line = next((x for x in lines if x.startswith(f"ok {name}:")), None)
        assert line is not None, (name, proc.stdout)
        code, message = line.split(": ", 1)[1].split(" ", 1)
        assert int(code) < 0 and message.strip(), line
    assert "0 failures" in lines
    stats = pstats.Stats(str(built / "out" / "good.prof"))
    assert stats.total_calls > 0


LIFETIME = [
    "stop in a subinterpreter",
    "start in a subinterpreter",
    "stop without the GIL after a subinterpreter",
    "write without the GIL after a subinterpreter",
]


def test_the_c_api_across_finalize_and_subinterpreters(built: pathlib.Path) -> None:
    # before the fix: the second round's Threadprof_Start aborted in free(),
    # a profiler running at Py_FinalizeEx stayed "running" forever, and Stop
    # without the GIL crashed once a subinterpreter had existed
    out = built / "lifetime"
    out.mkdir()
    proc = run_program(built, "capi_lifetime", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "0 failures" in lines
    for name in LIFETIME:
        line = next(x for x in lines if x.startswith(f"ok {name}:"))
        assert line.split(": ", 1)[1].split(" ", 1)[1].strip(), line  # a message
    # the profile of round 1, written at Py_FinalizeEx as Threadprof_Stop would
    names = {fn for _, _, fn in pstats.Stats(str(out / "at-finalize.prof")).stats}
    assert "round_one" in names
    second = {fn for _, _, fn in pstats.Stats(str(out / "second-round.prof")).stats}
    assert "round_two" in second and "round_one" not in second
    third = {fn for _, _, fn in pstats.Stats(str(out / "third-round.prof")).stats}
    assert "round_three" in third and "round_two" not in third


def run_embed(built: pathlib.Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    out = built / "out"
    for f in out.glob("embed.*"):
        f.unlink()
    env = embed_env()
    if prefix:  # under valgrind: every allocation through malloc
        env["PYTHONMALLOC"] = "malloc"
    return subprocess.run(
        [*prefix, str(built / "embed"), str(built / "script.py"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_embed_example_profiles_all_seven_threads(built: pathlib.Path) -> None:
    proc = run_embed(built)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    snap = tprof.read(built / "out" / "embed.tprof")

    def calls(thread, name):  # calls of a function of script.py in one thread
        return sum(
            n.calls
            for n in thread.nodes[1:]
            if snap.functions[n.func].name == name
            and snap.functions[n.func].filename.endswith("script.py")
        )

    # the main thread, 4 threading threads (worker-N calls work 10 + N times)
    # and 2 pthreads of the host (50 calls of callback, each calling work)
    assert len(snap.threads) == 7, [t.name for t in snap.threads]
    for i in range(4):
        th = snap.thread(f"worker-{i}")
        assert (calls(th, "worker"), calls(th, "work")) == (1, 10 + i)
    hosts = [t for t in snap.threads if calls(t, "callback")]
    assert len(hosts) == 2
    for th in hosts:
        assert (calls(th, "callback"), calls(th, "work")) == (50, 50)
    main = snap.thread("MainThread")
    assert calls(main, "start_threads") == 1 and calls(main, "join_threads") == 1
    # the pstats file holds the same calls, threads merged
    stats = pstats.Stats(str(built / "out" / "embed.prof"))
    by_name = {
        name: nc
        for (filename, _line, name), (_cc, nc, *_rest) in stats.stats.items()
        if filename.endswith("script.py")
    }
    assert by_name["work"] == (10 + 11 + 12 + 13) + 100
    assert by_name["callback"] == 100


@pytest.mark.memcheck
@not_on_311_under_memcheck
@pytest.mark.parametrize("program", ["capi_misuse", "capi_lifetime"])
def test_capi_under_valgrind(built: pathlib.Path, program: str, tmp_path: pathlib.Path) -> None:
    env = embed_env(program)
    env["PYTHONMALLOC"] = "malloc"
    proc = subprocess.run(
        [*valgrind(), str(built / program), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]


@pytest.mark.memcheck
@not_on_311_under_memcheck
def test_embed_example_under_valgrind(built: pathlib.Path) -> None:
    proc = run_embed(built, *valgrind())
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    assert tprof.read(built / "out" / "embed.tprof").threads
