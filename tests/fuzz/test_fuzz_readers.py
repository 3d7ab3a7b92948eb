# SPDX-License-Identifier: MIT
"""Fuzzing the profile readers through ``threadprof convert``.

Thousands of corrupted ``.tprof`` and pstats files (see :mod:`fuzzlib`: bit
flips, truncations, random lengths and offsets, other formats' headers,
splices, and structure-aware changes behind valid checksums) go through
``threadprof convert``: in this process through ``cli.main`` for speed, and a
handful through a real ``python -m threadprof`` process. Only two outcomes are
allowed: the file converts (exit 0, one "wrote" line), or it is refused with
exit 3 and one line ``threadprof: error: cannot read 'FILE': ...`` -- never a
traceback, another status, a partial output file or a hang (each case has 30
seconds).

The cases are drawn from a fixed seed, so a CI run is reproducible. For a
longer run, scale the number of cases::

    THREADPROF_FUZZ_SCALE=100 python -m pytest tests/fuzz -q

(and ``THREADPROF_FUZZ_SEED=N`` for other cases). A failing case is saved
under pytest's temporary directory and named in the failure; add it to
``tests/data/corpus/`` so that it stays a regression test.

The hypothesis tests explore the same mutations with hypothesis's search.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import fuzzlib
import pytest

from threadprof import cli
from threadprof.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE

SCALE = int(os.environ.get("THREADPROF_FUZZ_SCALE", "1"))
SEED = int(os.environ.get("THREADPROF_FUZZ_SEED", "20261125"))
TPROF_CASES = 1200 * SCALE
PSTATS_CASES = 600 * SCALE
CASE_SECONDS = 30
CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


class Hang(BaseException):
    """A case ran for more than CASE_SECONDS (a BaseException: nothing catches it)."""


def _alarm(signum, frame):
    raise Hang


def convert_in_process(path: Path, out: Path, fmt: str) -> tuple[int, str]:
    err, std = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            status = cli.main(["convert", str(path), "-o", str(out), "--format", fmt])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert std.getvalue() == ""
    return status, err.getvalue()


def problem(status: int, stderr: str, path: Path, out: Path, fmt: str) -> str | None:
    """What is wrong with this outcome, or None if it is one of the allowed ones."""
    lines = stderr.splitlines()
    if "Traceback" in stderr or len(lines) != 1:
        return f"not one line: {stderr!r}"
    if status == EXIT_OK:
        if lines[0] != f"threadprof: wrote the {fmt} profile to {out}" or not out.exists():
            return f"status 0 but {stderr!r}"
        return None
    if out.exists():
        return f"status {status} and an output file"
    if status == EXIT_BAD_INPUT and lines[0].startswith(
        f"threadprof: error: cannot read {str(path)!r}: "
    ):
        return None
    if status == EXIT_USAGE and "needs a timeline" in lines[0] and fmt == "perfetto":
        return None  # the mutation removed every timeline
    if (
        status == EXIT_USAGE
        and "is a pstats file, which holds per-function totals only" in lines[0]
    ):
        return None  # a splice made a valid pstats file
    return f"status {status}: {stderr!r}"


def run_cases(tmp_path: Path, cases, fmt_of) -> tuple[int, list[str]]:
    """Convert every case; returns (statuses seen, failures)."""
    work = tmp_path / "work"
    work.mkdir()
    failures: list[str] = []
    outcomes: dict[int, int] = {}
    for i, (data, suffix) in enumerate(cases):
        path = work / f"case{suffix}"
        path.write_bytes(data)
        fmt = fmt_of(i)
        out = work / "out.bin"
        try:
            status, stderr = convert_in_process(path, out, fmt)
        except Hang:
            status, stderr = -1, "hang"
        wrong = problem(status, stderr, path, out, fmt) if status >= 0 else "a hang"
        leftovers = sorted(p.name for p in work.iterdir() if p.name not in (path.name, out.name))
        if leftovers:
            wrong = wrong or f"left files behind: {leftovers}"
        if wrong:
            saved = tmp_path / f"failure-{i}{suffix}"
            saved.write_bytes(data)
            failures.append(f"{saved} (--format {fmt}): {wrong}")
        outcomes[status] = outcomes.get(status, 0) + 1
        for p in work.iterdir():
            p.unlink()
    return outcomes, failures


def tprof_cases(rng: random.Random, n: int):
    seeds = fuzzlib.tprof_seeds()
    foreign = [*seeds, *fuzzlib.pstats_seeds()]
    for _ in range(n):
        seed = rng.choice(seeds)
        if rng.random() < 0.45:
            yield fuzzlib.structured_tprof(seed, rng), ".tprof"
        else:
            yield fuzzlib.blind(seed, rng, foreign), ".tprof"


def pstats_cases(rng: random.Random, n: int):
    seeds = fuzzlib.pstats_seeds()
    for _ in range(n):
        yield fuzzlib.pstats_mutation(rng.choice(seeds), rng, seeds), ".prof"


def test_fuzz_tprof(tmp_path):
    rng = random.Random(SEED)
    formats = ["speedscope", "speedscope", "collapsed", "perfetto", "tprof"]
    outcomes, failures = run_cases(
        tmp_path, tprof_cases(rng, TPROF_CASES), lambda i: formats[i % len(formats)]
    )
    assert not failures, f"{len(failures)} bad outcomes:\n" + "\n".join(failures[:20])
    assert sum(outcomes.values()) == TPROF_CASES >= 1000
    # the mutations reach both outcomes, and mostly the refusal
    assert outcomes[EXIT_BAD_INPUT] > TPROF_CASES // 2
    assert outcomes.get(EXIT_OK, 0) > 0


def test_fuzz_pstats(tmp_path):
    rng = random.Random(SEED + 1)
    formats = ["callgrind", "pstats"]
    outcomes, failures = run_cases(
        tmp_path, pstats_cases(rng, PSTATS_CASES), lambda i: formats[i % 2]
    )
    assert not failures, f"{len(failures)} bad outcomes:\n" + "\n".join(failures[:20])
    assert outcomes[EXIT_BAD_INPUT] > PSTATS_CASES // 2
    assert outcomes.get(EXIT_OK, 0) > 0


def test_fuzz_in_real_processes(tmp_path):
    rng = random.Random(SEED + 2)
    cases = [*tprof_cases(rng, 4), *pstats_cases(rng, 3)]
    cases.append((fuzzlib.tprof_seeds()[2][:-30], ".tprof"))  # an interrupted write
    for i, (data, suffix) in enumerate(cases):
        path = tmp_path / f"case{i}{suffix}"
        path.write_bytes(data)
        out = tmp_path / f"out{i}.folded" if suffix == ".tprof" else tmp_path / f"out{i}.callgrind"
        proc = subprocess.run(
            [sys.executable, "-m", "threadprof", "convert", str(path), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        fmt = "collapsed" if suffix == ".tprof" else "callgrind"
        assert proc.stdout == ""
        wrong = problem(proc.returncode, proc.stderr, path, out, fmt)
        assert wrong is None, f"{path}: {wrong}"


# -- the corpus: interesting cases kept as regression tests ------------------------------


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".tprof", ".prof"))


def test_the_corpus_is_there():
    files = corpus_files()
    assert len([p for p in files if p.suffix == ".tprof"]) >= 20
    assert len([p for p in files if p.suffix == ".prof"]) >= 10


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus(path, tmp_path):
    fmt = "speedscope" if path.suffix == ".tprof" else "callgrind"
    out = tmp_path / "out.bin"
    status, stderr = convert_in_process(path, out, fmt)
    assert problem(status, stderr, path, out, fmt) is None, stderr
    expected = path.with_suffix(path.suffix + ".expected")
    if expected.exists():  # the one-line reason, without the file name
        reason = stderr.split(f"{str(path)!r}: ", 1)[-1].strip() if status else "ok"
        assert reason == expected.read_text("utf-8", "surrogateescape").strip()


# -- hypothesis ---------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@pytest.fixture(scope="module")
def seeds():
    return fuzzlib.tprof_seeds(), fuzzlib.pstats_seeds()


def _check_bytes(data: bytes, suffix: str, fmt: str, directory: Path) -> None:
    path = directory / f"h{suffix}"
    out = directory / "h.out"
    path.write_bytes(data)
    try:
        status, stderr = convert_in_process(path, out, fmt)
        assert problem(status, stderr, path, out, fmt) is None, (stderr, data)
    finally:
        for p in (path, out):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


SETTINGS = hypothesis.settings(
    max_examples=150 * SCALE,
    deadline=None,
    derandomize=SCALE == 1,  # reproducible in CI; exploring in longer runs
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@SETTINGS
@hypothesis.given(
    which=st.integers(0, 2),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)), max_size=4),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_hypothesis_tprof_bytes(seeds, tmp_path_factory, which, edits, cut):
    data = bytearray(seeds[0][which])
    for where, chunk in edits:
        pos = int(where * len(data))
        data[pos : pos + len(chunk)] = chunk
    if cut is not None:
        del data[int(cut * len(data)) :]
    _check_bytes(bytes(data), ".tprof", "speedscope", tmp_path_factory.mktemp("h"))


@SETTINGS
@hypothesis.given(which=st.integers(1, 2), mutation=st.integers(0, 2**32))
def test_hypothesis_tprof_structure(seeds, tmp_path_factory, which, mutation):
    data = fuzzlib.structured_tprof(seeds[0][which], random.Random(mutation))
    _check_bytes(data, ".tprof", "perfetto", tmp_path_factory.mktemp("h"))


@SETTINGS
@hypothesis.given(
    which=st.integers(0, 4),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=6)), max_size=3),
)
def test_hypothesis_pstats_bytes(seeds, tmp_path_factory, which, edits):
    data = bytearray(seeds[1][which])
    for where, chunk in edits:
        pos = int(where * len(data))
        data[pos : pos + len(chunk)] = chunk
    _check_bytes(bytes(data), ".prof", "callgrind", tmp_path_factory.mktemp("h"))
