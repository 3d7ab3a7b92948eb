# SPDX-License-Identifier: MIT
"""``threadprof run``'s default .tprof output and timeline options, and
``threadprof convert``: every format, every exit status, one-line errors."""

from __future__ import annotations

import collections
import importlib.util
import marshal
import os
import pstats
import struct

import pytest
from cli_helpers import error_lines, report_part

from threadprof import cli, tprof
from threadprof.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from threadprof.exporters import EXPORTERS, get_exporter
from threadprof.readers import read_profile

THREADED = """\
import threading

def leaf(i):
    return i * 2

def work(n):
    return sum(leaf(i) for i in range(n))

threads = [threading.Thread(target=work, args=(50,), name=f"w{i}") for i in range(2)]
for t in threads:
    t.start()
work(30)
for t in threads:
    t.join()
"""


def convert(capsys, *args: str) -> tuple[int, list[str]]:
    """``threadprof convert ...`` in this process: (status, stderr lines)."""
    status = cli.main(["convert", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.splitlines()


def one_error(lines: list[str], *fragments: str) -> str:
    assert len(lines) == 1, lines
    assert lines[0].startswith("threadprof: error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def tprof_file(builder, tmp_path):
    """A .tprof file of two threads, one with a timeline."""
    C = builder.call
    main = builder.thread("MainThread", [C("main", 1, 40, [C("f", 2, 20)])])
    builder.thread("worker-1", [C("g", 3, 9)])
    builder.timeline(
        main,
        [
            ("call", "main", 0),
            ("call", "f", 5),
            ("ret", "f", 15),
            ("call", "f", 20),
            ("ret", "f", 30),
            ("ret", "main", 40),
        ],
    )
    path = tmp_path / "in.tprof"
    get_exporter("tprof").write(builder.build(), path)
    return path


@pytest.fixture
def pstats_file(tmp_path):
    stats = {
        ("app.py", 1, "main"): (1, 1, 0.25, 1.0, {}),
        ("app.py", 10, "f"): (3, 3, 0.5, 0.75, {("app.py", 1, "main"): (3, 3, 0.5, 0.75)}),
    }
    path = tmp_path / "in.prof"
    path.write_bytes(marshal.dumps(stats))
    return path


# -- threadprof run --------------------------------------------------------------


def test_run_writes_threadprof_tprof_by_default(threadprof, write, workdir):
    write("prog.py", THREADED)
    proc = threadprof("run", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert "wrote the tprof profile to threadprof.tprof" in proc.stderr
    assert report_part(proc.stderr).startswith("threadprof: 3 threads")
    snap = read_profile(workdir / "threadprof.tprof")
    assert sorted(t.name for t in snap.threads) == ["MainThread", "w0", "w1"]
    assert all(t.timeline is None for t in snap.threads)
    assert snap.argv == ["prog.py"]


def test_run_with_format_only_names_the_file_after_it(threadprof, write, workdir):
    write("prog.py", THREADED)
    proc = threadprof("run", "-q", "--format", "pstats", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert pstats.Stats(str(workdir / "threadprof.prof")).stats
    assert not (workdir / "threadprof.tprof").exists()


def _calls_agree(thread) -> bool:
    """The tree's calls per function and the timeline's call events agree: a
    frame already running when the thread was first seen has 0 calls in the
    tree but a call in the timeline (the legacy engine sees new threads in
    their bootstrap)."""
    tree = collections.Counter()
    seeded = collections.Counter()
    for node in thread.nodes[1:]:
        tree[node.func] += node.calls
        seeded[node.func] += node.calls == 0
    events = collections.Counter(code for code, _ in thread.timeline if code >= 0)
    funcs = set(tree) | set(events)
    return all(tree[f] <= events[f] <= tree[f] + seeded[f] for f in funcs)


def test_run_timeline_without_the_launcher(threadprof, write, workdir):
    prog = write("prog.py", THREADED)
    # counted per resume, a call is an enter event of the timeline (counted
    # whole, a generator's resumes are enter events but not calls)
    proc = threadprof("run", "-q", "--timeline", "--coroutines", "resume", "prog.py")
    assert proc.returncode == 0, proc.stderr
    snap = read_profile(workdir / "threadprof.tprof")
    by_name = {t.name: t for t in snap.threads}
    main = by_name["MainThread"]
    events = list(main.timeline)
    first, last = snap.functions[events[0][0]], snap.functions[~events[-1][0]]
    assert (first.name, first.filename) == ("<module>", str(prog))
    assert first == last
    files = {snap.functions[c if c >= 0 else ~c].filename for c, _ in events}
    # none of threadprof's own frames (its launcher) are in the timeline
    spec = importlib.util.find_spec("threadprof")
    assert spec is not None and spec.origin is not None
    package = os.path.dirname(spec.origin) + os.sep
    assert not any(f.startswith(package) for f in files), files
    # the tree and the timeline hold the same calls, in every thread
    for thread in snap.threads:
        assert _calls_agree(thread), thread.name
        calls = sum(1 for c, _ in thread.timeline if c >= 0)
        assert sum(1 for c, _ in thread.timeline if c < 0) == calls
    assert main.timeline.dropped == 0


def test_run_timeline_limit(threadprof, write, workdir):
    write("prog.py", THREADED)
    proc = threadprof("run", "-q", "--timeline-limit", "40", "prog.py")
    assert proc.returncode == 0, proc.stderr
    snap = read_profile(workdir / "threadprof.tprof")
    for thread in snap.threads:
        assert thread.timeline is not None
        assert thread.timeline.events <= 40  # the main thread's may all be the launcher's
        assert thread.timeline.events == len(list(thread.timeline))
    worker = next(t for t in snap.threads if t.name == "w0")
    assert worker.timeline.events == 40
    assert worker.timeline.dropped > 0


def test_run_refuses_a_timeline_format_without_timeline(threadprof, write, workdir):
    write("prog.py", "open('ran', 'w').close()\n")
    proc = threadprof("run", "-o", "out.pftrace", "prog.py")
    assert proc.returncode == 2
    assert proc.stderr == (
        "threadprof: error: the perfetto format shows calls in time: "
        "add --timeline to record them\n"
    )
    assert not (workdir / "ran").exists()
    proc = threadprof("run", "-q", "--timeline", "-o", "out.pftrace", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "out.pftrace").stat().st_size > 0


# -- threadprof convert: what converts to what ---------------------------------------


@pytest.mark.parametrize("exporter", EXPORTERS, ids=lambda e: e.name)
def test_convert_tprof_to_every_format(exporter, tprof_file, tmp_path, capsys):
    out = tmp_path / f"out{exporter.extensions[0]}"
    status, lines = convert(capsys, str(tprof_file), "-o", str(out))
    assert status == EXIT_OK, lines
    assert lines == [f"threadprof: wrote the {exporter.name} profile to {out}"]
    snap = read_profile(tprof_file)
    assert out.read_bytes() == exporter.to_bytes(snap)


def test_convert_with_format_and_thread(tprof_file, tmp_path, capsys):
    out = tmp_path / "out.txt"
    status, _ = convert(capsys, str(tprof_file), "-o", str(out), "--format", "collapsed")
    assert status == EXIT_OK
    assert out.read_text().splitlines() == [
        "MainThread;main (app.py:10) 20000000",  # ns: the builder's ticks are ms
        "MainThread;main (app.py:10);f (app.py:20) 20000000",
        "worker-1;g (app.py:30) 9000000",
    ]
    status, _ = convert(
        capsys, str(tprof_file), "-o", str(out), "--format", "collapsed", "--thread", "work*"
    )
    assert status == EXIT_OK
    assert out.read_text().splitlines() == ["worker-1;g (app.py:30) 9000000"]


def test_convert_with_format_options(tprof_file, tmp_path, capsys):
    """The format options reach the format: a CPU-only pprof profile in at
    most 2 samples, and a callgrind part per thread."""
    import gzip

    out = tmp_path / "cpu.pb.gz"
    status, _ = convert(
        capsys, str(tprof_file), "-o", str(out), "--sample-types", "cpu", "--max-samples", "2"
    )
    assert status == EXIT_OK
    data = gzip.decompress(out.read_bytes())
    # "wall" only in the comment that names the clock: no wall sample type
    assert data.count(b"wall") == data.count(b"clock: wall") == 1
    assert b"aggregated to at most 2 samples" in data
    out = tmp_path / "callgrind.out.7"
    status, _ = convert(capsys, str(tprof_file), "-o", str(out), "--separate-threads")
    assert status == EXIT_OK
    text = out.read_text()
    assert "thread: 1\n" in text and "thread: 2\n" in text and "desc: Thread: worker-1" in text


def test_run_with_format_options(threadprof, write, workdir):
    write("prog.py", THREADED)
    proc = threadprof("run", "-q", "--separate-threads", "-o", "out.callgrind", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "out.callgrind").read_text().count("\nthread: ") == 3
    proc = threadprof("run", "-q", "--max-samples", "3", "-o", "out.callgrind", "prog.py")
    assert proc.returncode == EXIT_USAGE
    assert error_lines(proc.stderr) == [
        "threadprof: error: --max-samples applies to the pprof format, not to callgrind"
    ]


def test_convert_tprof_to_tprof_is_lossless(tprof_file, tmp_path, capsys):
    out = tmp_path / "copy.tprof"
    assert convert(capsys, str(tprof_file), "-o", str(out))[0] == EXIT_OK
    a, b = read_profile(tprof_file), read_profile(out)
    assert [list(t.timeline or []) for t in a.threads] == [
        list(t.timeline or []) for t in b.threads
    ]


@pytest.mark.parametrize("name", ["pstats", "callgrind"])
def test_convert_pstats(name, pstats_file, tmp_path, capsys):
    exporter = get_exporter(name)
    out = tmp_path / f"out{exporter.extensions[0]}"
    status, lines = convert(capsys, str(pstats_file), "-o", str(out))
    assert status == EXIT_OK, lines
    if name == "pstats":
        assert pstats.Stats(str(out)).stats == marshal.loads(pstats_file.read_bytes())
    else:
        assert "calls=3 10" in out.read_text()


@pytest.mark.parametrize("name", ["collapsed", "speedscope", "pprof", "chrome", "tprof"])
def test_convert_pstats_to_what_it_cannot_give(name, pstats_file, tmp_path, capsys):
    out = tmp_path / f"out{get_exporter(name).extensions[0]}"
    status, lines = convert(capsys, str(pstats_file), "-o", str(out))
    assert status == EXIT_USAGE
    one_error(
        lines,
        f"{str(pstats_file)!r} is a pstats file, which holds per-function totals only: "
        f"it converts to pstats or callgrind, not to {name}",
    )
    assert not out.exists()


def test_convert_pstats_whose_time_has_no_nanoseconds(tmp_path, capsys):
    # a finite time that becomes an infinite number of nanoseconds: callgrind
    # cannot hold it, pstats can
    stats = {("a.py", 1, "f"): (1, 1, 0.5, 1.0, {("a.py", 2, "g"): (1, 1, 0.5, -1.7e306)})}
    path = tmp_path / "huge.prof"
    path.write_bytes(marshal.dumps(stats))
    out = tmp_path / "out.callgrind"
    status, lines = convert(capsys, str(path), "-o", str(out))
    assert status == EXIT_BAD_INPUT
    one_error(lines, f"cannot read {str(path)!r}: not a valid pstats file: a time too long")
    assert not out.exists()
    status, lines = convert(capsys, str(path), "-o", str(tmp_path / "out.prof"))
    assert status == EXIT_OK, lines
    assert pstats.Stats(str(tmp_path / "out.prof")).stats == stats


def test_convert_pstats_has_no_threads(pstats_file, tmp_path, capsys):
    status, lines = convert(
        capsys, str(pstats_file), "-o", str(tmp_path / "o.prof"), "--thread", "1"
    )
    assert status == EXIT_USAGE
    one_error(lines, "is a pstats file, which has no threads")
    status, lines = convert(
        capsys, str(pstats_file), "-o", str(tmp_path / "o.prof"), "--thread-roots"
    )
    assert status == EXIT_USAGE
    one_error(lines, "has no threads: --thread-roots needs a .tprof profile")
    assert not (tmp_path / "o.prof").exists()


# -- threadprof convert: errors ----------------------------------------------------------


def test_convert_timeline_format_without_timeline(builder, tmp_path, capsys):
    builder.thread("t", [builder.call("f", 1, 5)])
    path = tmp_path / "in.tprof"
    get_exporter("tprof").write(builder.build(), path)
    status, lines = convert(capsys, str(path), "-o", str(tmp_path / "o.trace.json"))
    assert status == EXIT_USAGE
    one_error(
        lines,
        f"the chrome format needs a timeline, and {str(path)!r} has none "
        "(record it with 'threadprof run --timeline')",
    )


@pytest.mark.parametrize("fmt", ["pprof", "perfetto", "speedscope", "pstats"])
def test_a_unit_that_overflows_the_formats_is_bad_input(make_builder, tmp_path, capsys, fmt):
    """1e30 s a tick is a float the metadata can hold, but no format can write
    its times: refused when read (exit 3), not by an exporter's overflow."""
    b = make_builder(unit=1e30)
    t = b.thread("t", [b.call("f", 1, 5)])
    b.timeline(t, [("call", "f", 0), ("ret", "f", 5)])
    path = tmp_path / "in.tprof"
    get_exporter("tprof").write(b.build(), path)
    out = tmp_path / f"o{get_exporter(fmt).extensions[0]}"
    status, lines = convert(capsys, str(path), "-o", str(out))
    assert status == EXIT_BAD_INPUT
    one_error(lines, "corrupt metadata: 'unit' makes times longer than 292 years")
    assert not out.exists()


def test_convert_timeline_format_for_a_thread_without_one(tprof_file, tmp_path, capsys):
    out = str(tmp_path / "o.pftrace")
    status, lines = convert(capsys, str(tprof_file), "-o", out, "--thread", "worker-1")
    assert status == EXIT_USAGE
    one_error(lines, "the perfetto format needs a timeline")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["-o", "{tmp}/o.prof"], ["the following arguments are required: IN"]),
        (["{in}"], ["the following arguments are required: -o/--output"]),
        (["{in}", "-o", "{tmp}/o.unknown"], ["cannot tell the format of", "give --format"]),
        (["{in}", "-o", "{tmp}/o.prof", "--format", "nope"], ["invalid choice: 'nope'"]),
        (["{in}", "-o", "{tmp}/no/dir/o.prof"], ["cannot write", "does not exist"]),
        (["{in}", "-o", "{tmp}/o.prof", "--thread", "nobody"], ["no thread matches 'nobody'"]),
        (
            ["{in}", "-o", "{tmp}/o.pb.gz", "--separate-threads"],
            ["--separate-threads applies to the callgrind format, not to pprof"],
        ),
        (
            ["{in}", "-o", "{tmp}/o.callgrind", "--max-samples", "5"],
            ["--max-samples applies to the pprof format, not to callgrind"],
        ),
        (["{in}", "-o", "{tmp}/o.pb.gz", "--max-samples", "0"], ["must be >= 1, not 0"]),
        (["{in}", "-o", "{tmp}/o.pb.gz", "--sample-types", "x"], ["invalid choice: 'x'"]),
    ],
)
def test_convert_usage_errors(args, fragments, tprof_file, tmp_path, capsys):
    args = [a.format(tmp=tmp_path, **{"in": tprof_file}) for a in args]
    status, lines = convert(capsys, *args)
    assert status == EXIT_USAGE
    one_error(lines, *fragments)


def test_convert_bad_inputs(tmp_path, capsys):
    cases = {
        "missing.tprof": None,
        "empty.tprof": b"",
        "json.prof": b'{"a": 1}',
        "text.tprof": b"hello world\n",
        "truncated.tprof": tprof.MAGIC + b"\x01\x00",
    }
    expected = {
        "missing.tprof": "No such file or directory",
        "empty.tprof": "the file is empty",
        "json.prof": "not a threadprof (.tprof) or pstats profile: "
        "JSON text (a Chrome trace or speedscope file?)",
        "text.tprof": "not a threadprof (.tprof) or pstats profile: text (collapsed stacks?)",
        "truncated.tprof": "truncated: only 10 bytes",
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        status, lines = convert(capsys, str(path), "-o", str(tmp_path / "o.prof"))
        assert status == EXIT_BAD_INPUT, name
        assert (
            one_error(lines) == f"threadprof: error: cannot read {str(path)!r}: {expected[name]}"
        )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("o")) == []


def test_convert_a_newer_file(tprof_file, tmp_path, capsys):
    data = bytearray(tprof_file.read_bytes())
    struct.pack_into("<H", data, 8, 9)
    tprof_file.write_bytes(bytes(data))
    status, lines = convert(capsys, str(tprof_file), "-o", str(tmp_path / "o.prof"))
    assert status == EXIT_BAD_INPUT
    one_error(
        lines, f"written by a newer threadprof (format 9.{tprof.VERSION[1]})", "upgrade threadprof"
    )


def test_convert_a_timeline_that_is_corrupt_past_the_metadata(tprof_file, tmp_path, capsys):
    # the call trees read fine; the timeline fails while the output is written
    data = bytearray(tprof_file.read_bytes())
    snap = read_profile(tprof_file)
    assert snap.threads[0].timeline is not None
    offset = data.find(tprof.TAG_EVENTS)
    data[offset + tprof.SECTION.size] ^= 0xFF
    tprof_file.write_bytes(bytes(data))
    out = tmp_path / "o.pftrace"
    status, lines = convert(capsys, str(tprof_file), "-o", str(out))
    assert status == EXIT_BAD_INPUT
    one_error(lines, "corrupt: checksum mismatch in the timeline section")
    assert list(tmp_path.iterdir()) == [tprof_file]  # no output, no temporary file


def test_convert_output_write_failure(tprof_file, capsys):
    status, lines = convert(capsys, str(tprof_file), "-o", "/dev/full/x.prof")
    assert status == EXIT_USAGE  # found before the conversion starts
    one_error(lines, "cannot write")


def test_convert_when_the_disk_is_full(tprof_file, tmp_path, capsys, monkeypatch):
    from threadprof import atomicfile

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomicfile.os, "fsync", full)
    status, lines = convert(capsys, str(tprof_file), "-o", str(tmp_path / "o.prof"))
    assert status == EXIT_FAILED
    one_error(lines, "cannot write", "No space left on device")
    assert list(tmp_path.iterdir()) == [tprof_file]


def test_convert_help(capsys):
    assert cli.main(["convert", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: threadprof convert IN -o OUT" in out
    assert "3 the input cannot be read" in out
    assert cli.main(["--help"]) == 0
    assert "convert" in capsys.readouterr().out


def test_convert_in_a_real_process(threadprof, write, workdir):
    write("prog.py", THREADED)
    assert threadprof("run", "-q", "--timeline", "prog.py").returncode == 0
    proc = threadprof("convert", "threadprof.tprof", "-o", "out.pftrace")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "threadprof: wrote the perfetto profile to out.pftrace\n"
    (workdir / "bad.tprof").write_bytes(b"\x89TPROF\r\n" + bytes(60))
    proc = threadprof("convert", "bad.tprof", "-o", "out.prof")
    assert proc.returncode == 3
    assert error_lines(proc.stderr) == proc.stderr.splitlines()
    assert len(proc.stderr.splitlines()) == 1


def test_convert_shows_its_progress_on_a_terminal(tprof_file, tmp_path, monkeypatch, capsys):
    """A progress line on stderr when it is a terminal, erased at the end."""
    import io
    import sys
    import threading

    from threadprof.cli import convert as convert_cmd
    from threadprof.cli import progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    drawn = threading.Event()
    real_write = tty.write

    def write(text: str) -> int:
        if text.startswith("\rthreadprof: converting"):
            drawn.set()
        return real_write(text)

    tty.write = write  # type: ignore[method-assign]
    real_read = convert_cmd.read_profile

    def read_when_drawn(path, progress_cb=None):
        assert drawn.wait(10), "no progress line"
        return real_read(path, progress_cb)

    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    monkeypatch.setattr(convert_cmd, "read_profile", read_when_drawn)
    monkeypatch.setattr(sys, "stderr", tty)
    assert cli.main(["convert", str(tprof_file), "-o", str(tmp_path / "o.folded")]) == EXIT_OK
    text = tty.getvalue()
    assert text.startswith("\rthreadprof: converting in.tprof ")
    assert "\r\x1b[K" in text  # erased before the last line
    assert text.endswith(f"threadprof: wrote the collapsed profile to {tmp_path / 'o.folded'}\n")


def _evts_encodings(path) -> list[int]:
    """The section encoding (stored, zlib) of every EVTS section of a .tprof file."""
    data = path.read_bytes()
    out = []
    pos = tprof.HEADER.size
    end = len(data) - tprof.FOOTER.size
    while pos < end:
        tag, encoding, _thread, _count, _crc, stored, _raw = tprof.SECTION.unpack_from(data, pos)
        if tag == tprof.TAG_EVENTS:
            out.append(encoding)
        pos += tprof.SECTION.size + stored
    return out


def test_compress_makes_the_timelines_smaller_and_loses_nothing(threadprof, write, workdir):
    write("prog.py", THREADED + "\nfor _ in range(3000):\n    leaf(1)\n")
    proc = threadprof("run", "-q", "--timeline", "-o", "big.tprof", "prog.py")
    assert proc.returncode == 0, proc.stderr
    big = workdir / "big.tprof"
    assert set(_evts_encodings(big)) == {tprof.ENC_STORED}
    proc = threadprof("convert", "big.tprof", "-o", "small.tprof", "--compress")
    assert proc.returncode == 0, proc.stderr
    small = workdir / "small.tprof"
    assert set(_evts_encodings(small)) == {tprof.ENC_ZLIB}
    assert small.stat().st_size < big.stat().st_size / 2
    a, b = tprof.read(big), tprof.read(small)
    assert [list(t.timeline) for t in a.threads if t.timeline] == [
        list(t.timeline) for t in b.threads if t.timeline
    ]
    assert sum(t.timeline.events for t in b.threads if t.timeline) > 6000
    # run writes it compressed at once; another format refuses the option
    proc = threadprof("run", "-q", "--timeline", "--compress", "-o", "c.tprof", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert set(_evts_encodings(workdir / "c.tprof")) == {tprof.ENC_ZLIB}
    proc = threadprof("run", "-q", "--compress", "-o", "out.prof", "prog.py")
    assert proc.returncode == EXIT_USAGE
    assert error_lines(proc.stderr) == [
        "threadprof: error: --compress applies to the tprof format, not to pstats"
    ]
