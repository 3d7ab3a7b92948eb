# SPDX-License-Identifier: MIT
"""End to end: profile examples/threaded_example.py, the README's first command.

The example fixes the call counts of its pipeline functions whatever the
scheduling (see its docstring), so the profile must show them exactly, summed
over the threads in the pstats output and split by thread in the snapshot.
"""

from __future__ import annotations

import importlib.util
import os
import pstats
import re
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "threaded_example.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("threaded_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ex = load_example()

# function name -> calls, summed over all threads
EXPECTED_CALLS = {
    "main": 1,
    "run_pipeline": 1,
    "produce": 1,
    "make_record": ex.N_RECORDS,
    "parse_worker": ex.N_PARSERS,
    "parse_batch": ex.N_BATCHES,
    "parse_record": ex.N_RECORDS,
    "hasher_ready": ex.POOL_WORKERS,
    "digest_batch": ex.N_BATCHES,
}


def same_file(filename: str) -> bool:
    try:
        return os.path.samefile(filename, EXAMPLE)
    except OSError:
        return False


def mentions(text: str, name: str) -> bool:
    """``name`` appears as a whole word (``parser-1`` is not ``parser-10``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


@pytest.fixture(scope="module")
def cli_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out_dir = tmp_path_factory.mktemp("example")
    out = out_dir / "out.prof"
    proc = subprocess.run(
        [sys.executable, "-m", "threadprof", "run", "-o", str(out), str(EXAMPLE)],
        cwd=out_dir,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return proc, out


def test_cli_runs_the_example(cli_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = cli_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = f"processed {ex.N_RECORDS} records in {ex.N_BATCHES} batches"
    assert expected in proc.stdout, proc.stdout
    assert out.exists() and out.stat().st_size > 0


def test_cli_report_names_every_thread(
    cli_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, _ = cli_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = proc.stdout + proc.stderr
    missing = [n for n in ("MainThread", *ex.THREAD_NAMES) if not mentions(report, n)]
    assert not missing, f"threads missing from the report: {missing}\n{report}"


def test_cli_pstats_has_exact_call_counts(
    cli_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, out = cli_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    found: dict[str, tuple[int, int]] = {}
    for (filename, _line, name), (cc, nc, *_rest) in stats.items():
        if name in EXPECTED_CALLS and same_file(filename):
            assert name not in found, f"{name} appears twice in the pstats output"
            found[name] = (cc, nc)
    expected = {name: (n, n) for name, n in EXPECTED_CALLS.items()}
    assert found == expected


def test_every_thread_has_its_own_tree(engine: str) -> None:
    """Profile the pipeline in-process, on each engine, and check the per-thread split."""
    import threadprof

    with threadprof.profile(engine=engine) as p:
        line = ex.run_pipeline()
    snap = p.snapshot()
    assert line.startswith(f"processed {ex.N_RECORDS} records")

    funcs = snap.functions

    def calls(thread: threadprof.ThreadProfile, name: str) -> int:
        return sum(
            n.calls
            for n in thread.nodes[1:]
            if funcs[n.func].name == name and same_file(funcs[n.func].filename)
        )

    by_name = {}
    for t in snap.threads:
        assert t.name not in by_name, f"two threads named {t.name!r}"
        by_name[t.name] = t
    for name in ex.THREAD_NAMES:
        assert name in by_name, f"thread {name!r} not profiled; have {sorted(by_name)}"

    producer = by_name["producer"]
    parsers = [by_name[f"parser-{i + 1}"] for i in range(ex.N_PARSERS)]
    hashers = [by_name[f"hasher_{i}"] for i in range(ex.POOL_WORKERS)]
    main_ident = threading.main_thread().ident
    mains = [t for t in snap.threads if t.ident == main_ident]
    assert len(mains) == 1, "the main thread was not profiled (or twice)"
    main = mains[0]

    assert calls(main, "run_pipeline") == 1
    assert calls(producer, "produce") == 1
    assert calls(producer, "make_record") == ex.N_RECORDS
    for t in parsers:
        assert calls(t, "parse_worker") == 1
        assert calls(t, "make_record") == 0
    assert sum(calls(t, "parse_batch") for t in parsers) == ex.N_BATCHES
    assert sum(calls(t, "parse_record") for t in parsers) == ex.N_RECORDS
    for t in hashers:
        assert calls(t, "hasher_ready") == 1
        assert calls(t, "parse_record") == 0
    assert sum(calls(t, "digest_batch") for t in hashers) == ex.N_BATCHES

    # the producer sleeps after each batch: off-CPU time shows as wall > CPU
    produce = [n for n in producer.nodes[1:] if funcs[n.func].name == "produce"]
    assert sum(n.wall for n in produce) * snap.unit >= ex.N_BATCHES * ex.PRODUCER_PAUSE


@pytest.mark.skipif(
    os.environ.get("THREADPROF_TEST_INSTALLED") != "1",
    reason="only under tools/run_tests.py, which tests an installed wheel",
)
def test_tests_run_against_the_installed_package() -> None:
    import threadprof

    src = ROOT / "src"
    path = Path(threadprof.__file__).resolve()
    assert not path.is_relative_to(src), f"testing the source tree, not the install: {path}"
    assert "site-packages" in path.parts
