# SPDX-License-Identifier: MIT
"""``threadprof diff``: real programs profiled, compared, and gated as a CI
job would, its outputs read back (Markdown by a CommonMark + GFM parser, JSON),
and its errors."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from threadprof.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
from threadprof.cli.diff import EXIT_CONDITION

#: A deterministic multi-threaded workload: four workers take 300 items from
#: a queue. Which worker takes which item, and how often the locks spin, varies
#: from run to run; how often each of the program's functions runs does not.
#: EXTRA=1 makes exactly one more call of parse.
WORKLOAD = """
import os, queue, threading

def parse(i):
    return sum(range(i % 50))

def handle(item):
    return parse(item) + parse(item + 1)

def worker(q, out, lock):
    while True:
        item = q.get()
        if item is None:
            return
        value = handle(item)
        with lock:
            out.append(value)

def main():
    q, out, lock = queue.Queue(), [], threading.Lock()
    threads = [threading.Thread(target=worker, args=(q, out, lock), name=f"worker-{i}")
               for i in range(4)]
    for t in threads:
        t.start()
    for i in range(300):
        q.put(i)
    for _ in threads:
        q.put(None)
    for t in threads:
        t.join()
    if os.environ.get("EXTRA"):
        parse(0)
    print(len(out))

main()
"""

GATES = ["--fail-if", "calls(work.*) > 0", "--fail-if", "calls(work.*) < 0"]


@pytest.fixture
def profiles(threadprof, write, workdir, monkeypatch):
    """``profiles(name, extra=False)``: the workload profiled into NAME.tprof."""
    write("work.py", WORKLOAD)

    def run(name: str, extra: bool = False) -> str:
        if extra:
            monkeypatch.setenv("EXTRA", "1")
        else:
            monkeypatch.delenv("EXTRA", raising=False)
        proc = threadprof("run", "-q", "-o", f"{name}.tprof", "work.py")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "300\n"
        return f"{name}.tprof"

    return run


def test_twenty_reruns_no_false_alarm_one_call_caught(threadprof, profiles, workdir):
    """The count gate of a CI job: twenty reruns of the same code never trip
    it; one call more of one function does, and is named."""
    base = profiles("base")
    for i in range(20):
        run = profiles(f"run{i}")
        proc = threadprof("diff", base, run, *GATES, "-q")
        assert proc.returncode == EXIT_OK, (i, proc.stderr)
        assert proc.stdout == proc.stderr == ""
    changed = profiles("changed", extra=True)
    proc = threadprof("diff", base, changed, *GATES, "-o", "pr.md")
    assert proc.returncode == EXIT_CONDITION, proc.stderr
    verdicts = proc.stdout[proc.stdout.index("Conditions (--fail-if)") :].splitlines()
    assert verdicts[1] == "  FAILED  calls(work.*) > 0"
    assert verdicts[2].startswith("          parse (work.py:4): +1 calls")
    assert "600 -> 601" in verdicts[2]
    assert verdicts[3] == "  passed  calls(work.*) < 0"
    # the pull-request comment, as GitHub's Markdown reads it
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse((workdir / "pr.md").read_text())
    heading = next(t.content for t in tokens if t.type == "inline")
    assert heading == "threadprof diff: **regression**"
    cells = _table_cells(tokens, "condition")
    assert cells[0][0] == "calls(work.*) > 0"
    assert cells[0][1].startswith("❌ failed")
    assert "parse (work.py:4): +1 calls" in cells[0][1]
    assert cells[1] == ["calls(work.*) < 0", "✅ passed"]


def _table_cells(tokens, first_header: str) -> list[list[str]]:
    """The body rows of the table whose first header is ``first_header``, as
    the text of each cell (inline code and markup flattened)."""
    rows: list[list[str]] = []
    in_table = found = False
    row: list[str] = []
    for t in tokens:
        if t.type == "table_open":
            in_table, found, rows = True, False, []
        elif t.type == "table_close":
            if found:
                return rows
            in_table = False
        elif in_table and t.type == "inline":
            text = "".join(
                c.content for c in (t.children or []) if c.type in ("text", "code_inline")
            )
            row.append(text)
        elif in_table and t.type == "tr_close":
            if not found:
                found = row[:1] == [first_header]
            else:
                rows.append(row)
            row = []
    raise AssertionError(f"no table headed {first_header!r}")


def test_json_and_text_outputs(threadprof, profiles, workdir):
    a, b = profiles("a"), profiles("b", extra=True)
    proc = threadprof(
        "diff", a, b, "--format", "json", "-s", "calls", "-o", "d.json", "-o", "d.txt"
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    data = json.loads(proc.stdout)
    assert data == json.loads((workdir / "d.json").read_text())
    rows = {r["qualname"]: r for r in data["functions"] if r["file"].endswith("work.py")}
    parse = rows["parse"]
    assert (parse["before"]["calls"], parse["after"]["calls"], parse["delta"]["calls"]) == (
        600,
        601,
        1,
    )
    assert parse["status"] == "both" and data["functions"][0]["delta"]["calls"] != 0
    assert data["conditions"] == [] and data["failed"] is False
    assert {t["label"] for t in data["threads"]} == {
        "MainThread",
        *(f"worker-{i}" for i in range(4)),
    }
    assert data["paths"] and all(p["path"] for p in data["paths"])
    text = (workdir / "d.txt").read_text()
    assert text.startswith(f"threadprof diff: {a} -> {b}\n")
    assert "Functions by change in calls" in text


def test_html_output_and_pstats(threadprof, profiles, workdir):
    a, b = profiles("a"), profiles("b", extra=True)
    proc = threadprof("diff", a, b, "-o", "d.html", "-q")
    assert proc.returncode == EXIT_OK, proc.stderr
    page = (workdir / "d.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "threadprof diff: a.tprof -&gt; b.tprof" in page
    assert threadprof("convert", a, "-o", "a.prof").returncode == 0
    proc = threadprof("diff", "a.prof", b, "--fail-if", "calls(parse) > 0")
    assert proc.returncode == EXIT_CONDITION, proc.stderr
    assert "parse (work.py:4): +1 calls" in proc.stdout
    assert "Call paths" not in proc.stdout and "Threads" not in proc.stdout
    proc = threadprof("diff", "a.prof", b, "--thread", "worker-*")
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr == (
        "threadprof: error: 'a.prof' is a pstats file, which has no threads: "
        "--thread needs .tprof profiles\n"
    )
    proc = threadprof("diff", "a.prof", b, "-o", "d2.html")
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.startswith("threadprof: error: a pstats file has no call paths")
    assert not (workdir / "d2.html").exists()


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ["a.tprof", "a.tprof", "--fail-if", "calls >> 1"],
            EXIT_USAGE,
            "cannot read the condition",
        ),
        (["a.tprof", "a.tprof", "--fail-if", "nope > 1"], EXIT_USAGE, "unknown metric 'nope'"),
        (["a.tprof", "a.tprof", "-o", "d.pdf"], EXIT_USAGE, "cannot tell the format of 'd.pdf'"),
        (["a.tprof", "missing.tprof"], EXIT_BAD_INPUT, "'missing.tprof'"),
        (["a.tprof", "work.py"], EXIT_BAD_INPUT, "not a threadprof (.tprof) or pstats profile"),
        (["a.tprof", "a.tprof", "--thread", "nobody"], EXIT_USAGE, "no thread matches 'nobody'"),
        (["a.tprof"], EXIT_USAGE, "the following arguments are required: AFTER"),
    ],
)
def test_errors(threadprof, profiles, args, status, message):
    profiles("a")
    proc = threadprof("diff", *args)
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("threadprof: error: "), proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr
