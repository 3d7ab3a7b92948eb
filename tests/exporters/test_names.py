# SPDX-License-Identifier: MIT
"""Names with quotes, backslashes, newlines, ``;``, ``%`` and non-ASCII text
survive every format, read back the way each format's readers read it."""

from __future__ import annotations

import gzip
import json
import re
import shlex
import subprocess
from urllib.parse import unquote

import pytest
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as trace_pb2
from shared import WEIRD_ARG, WEIRD_C, WEIRD_FILE, WEIRD_QUALNAME, WEIRD_THREAD

from threadprof.exporters import EXPORTERS, get_exporter

PY_LABEL = f"{WEIRD_QUALNAME} ({WEIRD_FILE}:7)"  # Function.display of the Python function
C_LABEL = "{" + WEIRD_C[1:-1] + "}"  # and of the C function
ARGV = ["app.py", WEIRD_ARG]


def test_the_names_are_hard():
    for name in (WEIRD_QUALNAME, WEIRD_FILE, WEIRD_THREAD, WEIRD_C):
        assert "\n" in name and "\\" in name and '"' in name
        assert not name.isascii()


def test_collapsed(weird_snap):
    text = get_exporter("collapsed").to_bytes(weird_snap).decode("utf-8")
    lines = text.split("\n")
    assert lines[-1] == ""
    assert len(text.splitlines()) == 2  # no line break survives unescaped
    stacks = []
    for line in lines[:-1]:
        stack, value = line.rsplit(" ", 1)
        stacks.append(([unquote(f) for f in stack.split(";")], int(value)))
    assert stacks == [
        ([WEIRD_THREAD, PY_LABEL], 20_000_000),
        ([WEIRD_THREAD, PY_LABEL, C_LABEL], 10_000_000),
    ]


def test_callgrind(weird_snap, tmp_path):
    path = tmp_path / "callgrind.out.1"
    get_exporter("callgrind").write(weird_snap, path)
    text = path.read_text("utf-8")
    assert len(text.splitlines()) == len(text.split("\n")) - 1
    declared = {unquote(v) for v in re.findall(r"^c?f[ln]=\(\d+\) (.*)$", text, re.MULTILINE)}
    assert declared == {WEIRD_FILE, PY_LABEL, "~", C_LABEL}
    (cmd,) = re.findall(r"^cmd: (.*)$", text, re.MULTILINE)
    assert unquote(cmd) == shlex.join(ARGV)
    # and callgrind_annotate reads it, naming the functions as written
    proc = subprocess.run(
        ["callgrind_annotate", "--auto=no", "--threshold=100", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stderr == ""
    rows = re.findall(
        r"^\s*[\d,]+ \(\s*[\d.]+%\)\s+[\d,]+ \(\s*[\d.]+%\)\s+(.*)$", proc.stdout, re.M
    )
    assert {unquote(r) for r in rows} == {
        "PROGRAM TOTALS",
        f"{WEIRD_FILE}:{PY_LABEL}",
        f"~:{C_LABEL}",
    }


def test_speedscope(weird_snap):
    from test_speedscope import check

    doc = json.loads(get_exporter("speedscope").to_bytes(weird_snap).decode("utf-8"))
    check(doc)
    assert doc["shared"]["frames"] == [
        {"name": WEIRD_QUALNAME, "file": WEIRD_FILE, "line": 7},
        {"name": C_LABEL},
    ]
    (profile,) = doc["profiles"]
    assert profile["name"] == WEIRD_THREAD
    assert doc["name"] == " ".join(ARGV)


def test_pprof(weird_snap, pprof_pb2):
    profile = pprof_pb2.Profile()
    profile.ParseFromString(gzip.decompress(get_exporter("pprof").to_bytes(weird_snap)))
    s = list(profile.string_table)
    functions = [(s[f.name], s[f.system_name], s[f.filename]) for f in profile.function]
    assert functions == [
        (WEIRD_QUALNAME, f"{WEIRD_FILE}:{WEIRD_QUALNAME}", WEIRD_FILE),
        (C_LABEL, f"~:{C_LABEL}", ""),
    ]
    for sample in profile.sample:
        labels = {s[label.key]: label for label in sample.label}
        assert s[labels["thread"].str] == WEIRD_THREAD
    assert f"command: {shlex.join(ARGV)}" in [s[c] for c in profile.comment]


def test_chrome(weird_snap):
    doc = json.loads(get_exporter("chrome").to_bytes(weird_snap).decode("utf-8"))
    events = doc["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {WEIRD_THREAD}
    assert [e["name"] for e in events if e["ph"] == "B"] == [PY_LABEL, C_LABEL]
    assert doc["otherData"]["argv"] == ARGV
    (process,) = [e for e in events if e["ph"] == "M" and e["name"] == "process_name"]
    assert process["args"]["name"] == " ".join(ARGV)


def test_perfetto(weird_snap):
    trace = trace_pb2.Trace()
    trace.ParseFromString(get_exporter("perfetto").to_bytes(weird_snap))
    interned = [e.name for p in trace.packet for e in p.interned_data.event_names]
    assert interned == [PY_LABEL, C_LABEL]
    threads = [
        p.track_descriptor.thread.thread_name
        for p in trace.packet
        if p.HasField("track_descriptor") and p.track_descriptor.HasField("thread")
    ]
    assert threads == [WEIRD_THREAD]
    (process,) = [
        p.track_descriptor.process for p in trace.packet if p.track_descriptor.HasField("process")
    ]
    assert list(process.cmdline) == ARGV


@pytest.mark.parametrize("name", [e.name for e in EXPORTERS])
def test_undecodable_file_name(name, builder):
    """A file name that was not valid UTF-8 (a lone surrogate after
    surrogateescape) still gives a well-formed file."""
    fn = builder.func("f", "caf\udce9.py", 1)
    t = builder.thread("T", [builder.call(fn, 1, 5)])
    builder.timeline(t, [("call", fn, 0), ("ret", fn, 5)])
    data = get_exporter(name).to_bytes(builder.build())
    if name in ("pprof",):
        data = gzip.decompress(data)
    if name in ("chrome", "speedscope"):
        doc = json.loads(data.decode("utf-8"))
        assert "caf\udce9.py" in json.dumps(doc, ensure_ascii=False)
    elif name in ("callgrind", "collapsed"):
        assert "caf\\udce9.py" in data.decode("utf-8")
    elif name in ("pprof", "perfetto"):
        assert b"caf\\udce9.py" in data
