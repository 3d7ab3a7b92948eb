# SPDX-License-Identifier: MIT
"""Refill ``tests/data/corpus/`` with one small case per outcome of the fuzzer.

    python tests/fuzz/update_corpus.py [--cases N] [--seed S]

Runs the fuzzer's mutations (``fuzzlib``), groups the cases by the reason they
were refused for (numbers and bytes blanked out), and keeps the smallest case
of each group, with the exact one-line reason in ``<case>.expected``; the
seeds themselves are kept as cases that convert. ``test_corpus`` then checks
that every case still ends the same way. Cases found by a failing fuzz run are
added by hand, with the reason they should give.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fuzzlib  # noqa: E402
import test_fuzz_readers as fuzz  # noqa: E402

CORPUS = HERE.parent / "data" / "corpus"


def slug(reason: str) -> str:
    text = re.sub(r"b'[^']*'|\([^)]*\)|'[^']*'|\d+", "", reason.lower())
    return "-".join(re.findall(r"[a-z]+", text))[:60] or "case"


def collect(kind: str, cases, fmt: str) -> dict[str, tuple[bytes, str]]:
    best: dict[str, tuple[bytes, str]] = {}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        for data, suffix in cases:
            path = work / f"case{suffix}"
            path.write_bytes(data)
            out = work / "out.bin"
            status, stderr = fuzz.convert_in_process(path, out, fmt)
            out.unlink(missing_ok=True)
            if status not in (0, fuzz.EXIT_BAD_INPUT):
                continue
            reason = stderr.split(f"{str(path)!r}: ", 1)[-1].strip() if status else "ok"
            key = (
                "ok" if status == 0 else slug(re.sub(r" of .*? (is|that) ", r" of X \1 ", reason))
            )
            if key not in best or len(data) < len(best[key][0]):
                best[key] = (data, reason)
    return best


def write(kind: str, suffix: str, best: dict[str, tuple[bytes, str]], seeds: list[bytes]) -> None:
    directory = CORPUS / kind
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    used: set[str] = set()
    for i, seed in enumerate(seeds):
        (directory / f"seed-{i}{suffix}").write_bytes(seed)
        (directory / f"seed-{i}{suffix}.expected").write_text("ok\n")
    for data, reason in sorted(best.values(), key=lambda v: v[1]):
        if reason == "ok":
            continue
        name = slug(reason)
        n = 1
        while f"{name}-{n}" in used:
            n += 1
        used.add(f"{name}-{n}")
        (directory / f"{name}-{n}{suffix}").write_bytes(data)
        (directory / f"{name}-{n}{suffix}.expected").write_text(
            reason + "\n", encoding="utf-8", errors="surrogateescape"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=fuzz.SEED)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tprof_best = collect("tprof", fuzz.tprof_cases(rng, args.cases), "speedscope")
    pstats_best = collect("pstats", fuzz.pstats_cases(rng, args.cases // 2), "callgrind")
    write("tprof", ".tprof", tprof_best, fuzzlib.tprof_seeds())
    write("pstats", ".prof", pstats_best, fuzzlib.pstats_seeds())
    print(f"{len(tprof_best)} .tprof and {len(pstats_best)} pstats outcomes kept in {CORPUS}")


if __name__ == "__main__":
    main()
