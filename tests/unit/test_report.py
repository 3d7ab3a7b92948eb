# SPDX-License-Identifier: MIT
"""The terminal report, on hand-built snapshots."""

from __future__ import annotations

import marshal
import pstats
import re

import pytest

from threadprof.model import SlowStep, thread_group_key
from threadprof.report import (
    REPORT_SORT_KEYS,
    SORT_KEYS,
    bar,
    format_report,
    format_seconds,
    format_tree,
    report_data,
)


def table(report: str) -> list[dict[str, str]]:
    """The rows of the functions table, as dicts keyed by the header words.

    The number columns are right-aligned under their header word, so a cell
    spans from the end of the previous header word to the end of its own; the
    last column, ``function``, is left-aligned.
    """
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["ncalls"])
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", lines[start])]
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        row, prev_end = {}, 0
        for begin, end, name in spans:
            row[name] = (line[begin:] if name == "function" else line[prev_end:end]).strip()
            prev_end = end
        rows.append(row)
    return rows


THREAD_COLUMNS = ("ident", "native id", "wall", "CPU", "off-CPU", "calls")


def thread_rows(report: str) -> list[dict[str, str]]:
    """The rows of the threads table: a mark, a (left-aligned) name, then one
    token per column; a group has no ident or native id, "sum" before its
    numbers, and its per-thread statistics on the lines after it (in the row's
    "min", "median" and "max", each a dict of the columns). A name too long for
    its column is alone on its line, the numbers on the next."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["thread"])
    assert lines[start].split()[1:] == " ".join(THREAD_COLUMNS).split()
    entries: list[tuple[str, str, list[str]]] = []  # mark, name, the tokens after it
    stats: dict[int, dict[str, dict[str, str]]] = {}  # entry index -> its statistics
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        stat = re.match(r"^\s+(min per thread|median|max)\s+(\S.*)$", line)
        if stat:
            key = stat[1].split()[0]
            numbers = dict(zip(THREAD_COLUMNS[2:], stat[2].split(), strict=True))
            stats.setdefault(len(entries) - 1, {})[key] = numbers
            continue
        if line[2] == " ":  # the numbers of the name alone on the line before
            mark, name, _ = entries.pop()
            entries.append((mark, name, line.split()))
            continue
        head, *numbers = line.rsplit(None, 4) if len(line.split()) > 4 else (line, "")
        ids = head[2:].rsplit(None, 2)
        if len(ids) == 3 and ids[1].isdigit() and ids[2].isdigit():
            entries.append((line[0], ids[0], [ids[1], ids[2], *numbers]))
        else:
            name = head[2:].strip().removesuffix(" sum").rstrip()
            entries.append((line[0], name, [t for t in numbers if t]))
    rows = []
    for i, (mark, name, tokens) in enumerate(entries):
        if len(tokens) == 4:  # a group
            tokens = ["", "", *tokens]
        row: dict = {
            "mark": mark,
            "thread": name,
            **dict(zip(THREAD_COLUMNS, tokens, strict=True)),
        }
        row.update(stats.get(i, {}))
        rows.append(row)
    return rows


@pytest.fixture
def snap(builder):
    b = builder  # ticks of 1 ms
    C = b.call
    b.func("main", "/srv/app/main.py", 10)
    b.func("fact", "/srv/app/mathx.py", 5)
    b.func("io_wait", "/srv/app/net.py", 42, qualname="Client.io_wait")
    b.cfunc("<built-in method builtins.len>")
    b.func("run", "/usr/lib/python3.12/threading.py", 999, qualname="Thread.run")
    b.thread(
        "MainThread",
        [
            C("main", 1, 1000, cpu=600, children=[
                C("fact", 1, 300, [C("fact", 2, 200, [C("fact", 4, 50)])]),
                C("io_wait", 3, 400, cpu=10),
                C("<built-in method builtins.len>", 20, 2, cpu=2),
            ]),
        ],
        ident=140000000000001,
        native_id=4001,
        wall_time=1200,
        cpu_time=600,
    )  # fmt: skip
    b.thread(
        "worker-1",
        [C("run", 0, 500, cpu=100, children=[C("io_wait", 5, 450, cpu=50)])],
        ident=140000000000002,
        native_id=4002,
        wall_time=500,
        cpu_time=100,
    )
    return b.build(duration=1200)


def by_label(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["function"]: r for r in rows}


# -- format_seconds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0"),
        (2.5, "2.500s"),
        (12.3456, "12.35s"),
        (123.456, "123.5s"),
        (4321.0, "4321s"),
        (12345.0, "1.23e+04s"),
        (1e9, "1e+09s"),
        (0.05, "50.00ms"),
        (0.0012345, "1.234ms"),
        (0.000250, "250.0us"),
        (3e-6, "3.000us"),
        (7.5e-8, "75.00ns"),
        (2e-10, "0.200ns"),
        (0.99996, "1.000s"),  # rounds into the next unit, not "1000.0ms"
        (0.9999, "999.9ms"),
    ],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_sort_keys_are_pstats_keys(tmp_path):
    # cProfile -s offers pstats' keys; "file" is pstats' abbreviation of "filename"
    assert set(SORT_KEYS) == set(pstats.Stats.sort_arg_dict_default) | {"file"}
    path = tmp_path / "empty.prof"
    path.write_bytes(marshal.dumps({("a.py", 1, "f"): (1, 1, 0.5, 0.5, {})}))
    stats = pstats.Stats(str(path))
    for key in SORT_KEYS:
        stats.sort_stats(key)  # every key is one that pstats accepts


# -- the threads table --------------------------------------------------------------


def test_thread_table(snap):
    report = format_report(snap)
    assert report.startswith(
        "threadprof: 2 threads, 36 calls, 1.200s (wall clock, CPU time exact)"
    )
    assert thread_rows(report) == [
        {
            "mark": " ",
            "thread": "MainThread",
            "ident": "140000000000001",
            "native id": "4001",
            "wall": "1.200s",
            "CPU": "600.0ms",
            "off-CPU": "50%",
            "calls": "31",
        },
        {
            "mark": " ",
            "thread": "worker-1",
            "ident": "140000000000002",
            "native id": "4002",
            "wall": "500.0ms",
            "CPU": "100.0ms",
            "off-CPU": "80%",
            "calls": "5",
        },
    ]


def test_long_thread_name_is_kept_whole(builder):
    name = "a-thread-whose-name-is-long-" * 3
    builder.thread(name, [builder.call("f", 1, 5)])
    report = format_report(builder.build())
    assert name in report
    assert max(map(len, report.splitlines())) <= 100


def test_no_cpu_time(make_builder):
    b = make_builder(cpu_mode="none")
    b.thread("MainThread", [b.call("f", 2, 10)], cpu_time=0)
    report = format_report(b.build())
    assert "no CPU time" in report.splitlines()[0]
    (row,) = thread_rows(report)
    assert (row["CPU"], row["off-CPU"]) == ("-", "-")
    assert "off-CPU" not in report.split("functions", 1)[1]  # no per-function share


# -- the functions table ------------------------------------------------------------


def test_function_rows(snap):
    rows = by_label(table(format_report(snap)))
    assert rows["fact (mathx.py:5)"] == {
        "ncalls": "7/1",  # all calls / primitive calls, as pstats shows them
        "tottime": "300.0ms",
        "percall": "42.86ms",  # tottime / all calls
        "cumtime": "300.0ms",  # outermost activation only
        "off-CPU": "0%",
        "function": "fact (mathx.py:5)",
    }
    # called from two threads: totals summed, off-CPU share of its self time
    assert rows["Client.io_wait (net.py:42)"] == {
        "ncalls": "8",
        "tottime": "850.0ms",
        "percall": "106.2ms",
        "cumtime": "850.0ms",
        "off-CPU": "93%",  # 1 - (10 + 50) / 850
        "function": "Client.io_wait (net.py:42)",
    }
    # a frame that was already running: no calls, no per-call time
    assert rows["Thread.run (threading.py:999)"]["ncalls"] == "0"
    assert rows["Thread.run (threading.py:999)"]["percall"] == ""
    assert rows["{built-in method builtins.len}"]["ncalls"] == "20"


def order(snap, sort, **kw) -> list[str]:
    return [r["function"] for r in table(format_report(snap, sort=sort, **kw))]


MAIN, FACT, IO, LEN, RUN = (
    "main (main.py:10)",
    "fact (mathx.py:5)",
    "Client.io_wait (net.py:42)",
    "{built-in method builtins.len}",
    "Thread.run (threading.py:999)",
)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # tottime: io 850, fact 300, main 298, run 50, len 2
        ("tottime", [IO, FACT, MAIN, RUN, LEN]),
        ("time", [IO, FACT, MAIN, RUN, LEN]),
        # cumtime: main 1000, io 850, run 500, fact 300, len 2
        ("cumulative", [MAIN, IO, RUN, FACT, LEN]),
        ("cumtime", [MAIN, IO, RUN, FACT, LEN]),
        # calls: len 20, io 8, fact 7, main 1, run 0
        ("calls", [LEN, IO, FACT, MAIN, RUN]),
        ("ncalls", [LEN, IO, FACT, MAIN, RUN]),
        # primitive calls: len 20, io 8, main 1 = fact 1 (tie: stdname), run 0
        ("pcalls", [LEN, IO, MAIN, FACT, RUN]),
        # file names: /srv/app/main.py < mathx.py < net.py < /usr/... < ~
        ("filename", [MAIN, FACT, IO, RUN, LEN]),
        ("file", [MAIN, FACT, IO, RUN, LEN]),
        ("module", [MAIN, FACT, IO, RUN, LEN]),
        # line: 0 (len), 5, 10, 42, 999
        ("line", [LEN, FACT, MAIN, IO, RUN]),
        # name: "<built-in...", fact, io_wait, main, run
        ("name", [LEN, FACT, IO, MAIN, RUN]),
        ("nfl", [LEN, FACT, IO, MAIN, RUN]),
        # stdname: "/srv/app/main.py:10(main)" < ... < "{built-in ...}"
        ("stdname", [MAIN, FACT, IO, RUN, LEN]),
    ],
)
def test_sort_keys(snap, sort, expected):
    assert order(snap, sort) == expected
    assert f"sorted by {sort} (wall time)" in format_report(snap, sort=sort)


def test_nfl_breaks_name_ties_by_file_then_line(builder):
    C = builder.call
    b_file = builder.func("f", "b.py", 1)
    a_late = builder.func("f", "a.py", 9)
    a_early = builder.func("f", "a.py", 3)
    builder.thread("t", [C(b_file, 1, 1), C(a_late, 1, 1), C(a_early, 1, 1)])
    assert order(builder.build(), "nfl") == ["f (a.py:3)", "f (a.py:9)", "f (b.py:1)"]


def test_limit(snap):
    report = format_report(snap, limit=2)
    assert "Top 2 of 5 functions in all threads" in report
    assert order(snap, "tottime", limit=2) == [IO, FACT]
    assert len(order(snap, "tottime", limit=None)) == 5
    assert "All 5 functions" in format_report(snap, limit=None)
    no_table = format_report(snap, limit=0)
    assert "ncalls" not in no_table and "MainThread" in no_table


def test_thread_selection(snap):
    report = format_report(snap, thread="worker-*")
    assert "All 2 functions in threads matching 'worker-*' (1 of 2)" in report
    assert order(snap, "tottime", thread="worker-*") == [IO, RUN]
    rows = by_label(table(report))
    assert rows[IO]["ncalls"] == "5"
    assert [(r["mark"], r["thread"]) for r in thread_rows(report)] == [
        (" ", "MainThread"),
        ("*", "worker-1"),
    ]
    assert order(snap, "tottime", thread=140000000000001) == [IO, FACT, MAIN, LEN]
    assert order(snap, "tottime", thread="4002") == [IO, RUN]  # native id


def test_functions_sharing_a_key_are_one_row(builder):
    C = builder.call
    one = builder.func("f", "x.py", 1)
    two = builder.func("f", "x.py", 1)
    builder.thread("t", [C(one, 2, 10), C(two, 3, 20)])
    rows = table(format_report(builder.build()))
    assert [(r["function"], r["ncalls"], r["tottime"]) for r in rows] == [
        ("f (x.py:1)", "5", "30.00ms")
    ]


def test_cpu_clock_uses_cpu_fields(make_builder):
    b = make_builder(clock="cpu")
    b.thread("MainThread", [b.call("main", 1, 100, cpu=40, children=[b.call("f", 2, 50, cpu=30)])])
    report = format_report(b.build())
    assert "(cpu clock" in report.splitlines()[0]
    assert "sorted by tottime (cpu time)" in report
    rows = by_label(table(report))
    assert (rows["f (app.py:20)"]["tottime"], rows["main (app.py:10)"]["cumtime"]) == (
        "30.00ms",
        "40.00ms",
    )
    assert "off-CPU" not in report.split("functions", 1)[1]


def test_fits_100_columns(builder):
    C = builder.call
    deep = "/" + "/".join(["very-long-directory-name"] * 8) + "/module.py"
    f = builder.func("handler", deep, 12345, qualname="Outer." * 12 + "handler")
    builder.thread("MainThread", [C(f, 123456789, 10**12, [C("x", 1, 1)])])
    report = format_report(builder.build())
    assert max(map(len, report.splitlines())) <= 100
    assert "handler (module.py:12345)" in report  # the end of a long label is kept


def test_warnings_are_listed(builder):
    builder.thread("MainThread", [builder.call("f", 1, 1)], ident=77)
    builder.threads[0].warnings.append("c_return without c_call")
    report = format_report(builder.build(warnings=["hook replaced by sys.setprofile"]))
    assert report.splitlines()[-2:] == [
        "warning: hook replaced by sys.setprofile",
        "warning: thread 'MainThread' (ident 77): c_return without c_call",
    ]


def test_a_long_warning_wraps_at_spaces_and_cuts_a_word_longer_than_a_line(builder):
    builder.thread("MainThread", [builder.call("f", 1, 1)], ident=77)
    path = "/very/long/" + "x" * 150 + ".tprof"
    report = format_report(builder.build(warnings=[f"cannot spill to {path} now"]), width=80)
    lines = report.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("warning: "))
    wrapped = lines[first:]
    assert wrapped[0] == "warning: cannot spill to " + path[:55]
    assert all(len(line) <= 80 for line in wrapped)
    assert all(line.startswith(" " * 9) and line[9] != " " for line in wrapped[1:])
    assert wrapped[-1] == " " * 9 + path[55 + 71 :] + " now"
    assert "".join(line[9:] for line in wrapped) == f"cannot spill to {path} now"


def test_empty_snapshot(builder):
    assert format_report(builder.build()) == "threadprof: no thread was profiled\n"


def test_bad_arguments(snap):
    with pytest.raises(ValueError, match="unknown sort key 'loudness'"):
        format_report(snap, sort="loudness")
    with pytest.raises(ValueError, match="limit"):
        format_report(snap, limit=-1)
    with pytest.raises(LookupError, match="no thread matches 'nobody'"):
        format_report(snap, thread="nobody")


def test_report_ends_with_newline(snap):
    report = format_report(snap)
    assert report.endswith("\n") and not report.endswith("\n\n")


# -- threads grouped by name pattern -----------------------------------------------


HOOK_REPLACED = (
    "its profile hook was replaced (sys.setprofile or another profiler): "
    "data after that point is missing"
)
TOOL_CHANGED = (
    "threadprof's sys.monitoring tool was changed by other code while profiling: "
    "events after that may be missing"
)


@pytest.fixture
def pool_snap(builder):
    """A server: a main thread, 1,000 pool workers, 3 threading threads and one
    with a long name; two warnings, one of them shared by 5 workers."""
    b = builder
    C = b.call
    b.func("main", "/srv/app/main.py", 10)
    b.func("handle", "/srv/app/server.py", 120, qualname="Handler.handle")
    b.func("fetch", "/srv/app/net.py", 42, qualname="Client.fetch_with_retries")
    b.cfunc("<method 'acquire' of '_thread.lock' objects>")
    b.thread("MainThread", [C("main", 1, 3000, cpu=500)], ident=140000000000001, native_id=4001)
    for i in range(1000):
        b.thread(
            f"ThreadPoolExecutor-0_{i}",
            [C("handle", 2, 20, cpu=5, children=[C("fetch", 1, 10, cpu=1)])],
            ident=140000000100000 + i,
            native_id=5000 + i,
        )
    for i in range(3):
        b.thread(
            f"Thread-{i + 1} (serve)",
            [C("<method 'acquire' of '_thread.lock' objects>", 4, 100, cpu=1)],
            ident=140000000200000 + i,
            native_id=7000 + i,
        )
    b.thread(
        "a-thread-with-a-rather-long-descriptive-name",
        [C("fetch", 1, 5)],
        ident=140000000300000,
        native_id=8000,
    )
    for t in b.threads[1:6]:
        t.warnings.append(HOOK_REPLACED)
    return b.build(warnings=[TOOL_CHANGED])


def test_report_at_80_columns(pool_snap):
    report = format_report(pool_snap, width=80)
    assert report.splitlines() == [
        "threadprof: 1005 threads, 3014 calls, 3.000s (wall clock, CPU time exact)",
        "",
        "  thread                       ident native id      wall       CPU off-CPU calls",
        "  MainThread         140000000000001      4001    3.000s   500.0ms     83%     1",
        "  ThreadPoolExecutor-0_* (1000 threads)    sum    20.00s    5.000s     75%  3000",
        "                                min per thread   20.00ms   5.000ms     75%     3",
        "                                        median   20.00ms   5.000ms     75%     3",
        "                                           max   20.00ms   5.000ms     75%     3",
        "  Thread-1 (serve)   140000000200000      7000   100.0ms   1.000ms     99%     4",
        "  Thread-2 (serve)   140000000200001      7001   100.0ms   1.000ms     99%     4",
        "  Thread-3 (serve)   140000000200002      7002   100.0ms   1.000ms     99%     4",
        "  a-thread-with-a-rather-long-descriptive-name",
        "                     140000000300000      8000   5.000ms   5.000ms      0%     1",
        "",
        "All 4 functions in all threads, sorted by tottime (wall time):",
        "  ncalls   tottime   percall   cumtime  off-CPU  function",
        "    1001    10.01s   9.995ms    10.01s      90%  fetch_with_retries (net.py:42)",
        "    2000    10.00s   5.000ms    20.00s      60%  Handler.handle (server.py:120)",
        "       1    3.000s    3.000s    3.000s      83%  main (main.py:10)",
        "      12   300.0ms   25.00ms   300.0ms      99%  {method 'acquire' of '_threa...",
        "",
        "Top 4 functions in all threads by own CPU time:",
        "  ncalls   own CPU   tottime  off-CPU  function",
        "    2000    4.000s    10.00s      60%  Handler.handle (server.py:120)",
        "    1001    1.005s    10.01s      90%  Client.fetch_with_retries (net.py:42)",
        "       1   500.0ms    3.000s      83%  main (main.py:10)",
        "      12   3.000ms   300.0ms      99%  {method 'acquire' of '_thread.lock' ob...",
        "",
        "Off-CPU time: blocked in known waits, or runnable (for the GIL or a CPU):",
        "  threads (all)                   off-CPU   blocked  runnable  blocked in",
        "  ThreadPoolExecutor-0_* (1000)    15.00s         0    15.00s",
        "  MainThread                       2.500s         0    2.500s",
        "  Thread-* (serve) (3)            297.0ms   297.0ms         0  lock 297.0ms",
        "",
        "  function, and the waits it called                  off-CPU   blocked  runnable",
        "  Client.fetch_with_retries (net.py:42)               9.000s         0    9.000s",
        "  Handler.handle (server.py:120)                      6.000s         0    6.000s",
        "  main (main.py:10)                                   2.500s         0    2.500s",
        "",
        "Pools: their workers' wall time busy (running or runnable), blocked in",
        "other waits, or idle (waiting for work), and the tasks each worker ran:",
        "  pool                    workers   busy  blocked   idle  tasks min / mean / max",
        "  ThreadPoolExecutor-0_*     1000   100%       0%     0%  -",
        "  Thread-* (serve)              3     1%      99%     0%  -",
        "",
        "warning: threadprof's sys.monitoring tool was changed by other code while",
        "         profiling: events after that may be missing",
        "warning: threads 'ThreadPoolExecutor-0_0' (ident 140000000100000),",
        "         'ThreadPoolExecutor-0_1' (ident 140000000100001),",
        "         'ThreadPoolExecutor-0_2' (ident 140000000100002) and 2 more: its",
        "         profile hook was replaced (sys.setprofile or another profiler): data",
        "         after that point is missing",
    ]


def test_report_at_100_columns(pool_snap):
    lines = format_report(pool_snap, limit=0).splitlines()
    assert lines[2:13] == [
        "  thread                                           ident native id      wall       CPU off-CPU calls",  # noqa: E501
        "  MainThread                             140000000000001      4001    3.000s   500.0ms     83%     1",  # noqa: E501
        "  ThreadPoolExecutor-0_* (1000 threads)                        sum    20.00s    5.000s     75%  3000",  # noqa: E501
        "                                                    min per thread   20.00ms   5.000ms     75%     3",  # noqa: E501
        "                                                            median   20.00ms   5.000ms     75%     3",  # noqa: E501
        "                                                               max   20.00ms   5.000ms     75%     3",  # noqa: E501
        "  Thread-1 (serve)                       140000000200000      7000   100.0ms   1.000ms     99%     4",  # noqa: E501
        "  Thread-2 (serve)                       140000000200001      7001   100.0ms   1.000ms     99%     4",  # noqa: E501
        "  Thread-3 (serve)                       140000000200002      7002   100.0ms   1.000ms     99%     4",  # noqa: E501
        "  a-thread-with-a-rather-long-descriptive-name",
        "                                         140000000300000      8000   5.000ms   5.000ms      0%     1",  # noqa: E501
    ]  # fmt: skip
    assert max(map(len, lines)) == 100


def test_expanded_threads(pool_snap):
    report = format_report(pool_snap, width=80, expand_threads=True)
    lines = report.splitlines()
    assert max(map(len, lines)) <= 80
    assert "(1000 threads)" not in report
    # a pool worker's name is too long for the name column at 80: a line of its own
    at = lines.index("  ThreadPoolExecutor-0_999")
    assert lines[at + 1] == (
        "                     140000000100999      5999   20.00ms   5.000ms     75%     3"
    )
    rows = thread_rows(format_report(pool_snap, limit=0, expand_threads=True))
    assert len(rows) == 1005
    # one warning per thread, each naming it
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert warnings[1:] == [
        f"warning: thread 'ThreadPoolExecutor-0_{i}' (ident {140000000100000 + i}): its profile"
        for i in range(5)
    ]


def test_group_row_is_marked_by_selection(pool_snap):
    def marks(thread):
        return {
            r["thread"]: r["mark"] for r in thread_rows(format_report(pool_snap, thread=thread))
        }

    assert marks("ThreadPoolExecutor-0_*")["ThreadPoolExecutor-0_* (1000 threads)"] == "*"
    assert marks("ThreadPoolExecutor-0_*")["MainThread"] == " "
    partly = marks("140000000100007")  # one worker, by ident
    assert partly["ThreadPoolExecutor-0_* (1000 threads)"] == "+"
    assert partly["Thread-1 (serve)"] == " "
    assert "threads matching '140000000100007' (1 of 1005)" in format_report(
        pool_snap, thread="140000000100007"
    )


def test_group_key_selects_the_group(pool_snap):
    # the pattern shown in a group's line is a --thread glob for its threads
    assert len(pool_snap.select_threads(thread_group_key("ThreadPoolExecutor-0_7"))) == 1000


def test_warning_shared_by_two_threads_names_both(builder):
    builder.thread("a", [builder.call("f", 1, 1)], ident=1)
    builder.thread("b", [builder.call("f", 1, 1)], ident=2)
    for t in builder.threads:
        t.warnings.append("lost")
    report = format_report(builder.build())
    assert report.splitlines()[-1] == "warning: threads 'a' (ident 1), 'b' (ident 2): lost"


def test_control_characters_in_names_stay_on_one_line(builder):
    builder.thread("evil\nname\t1", [builder.call("f", 1, 1)], ident=5)
    builder.threads[0].warnings.append("lost")
    report = format_report(builder.build(), limit=0)
    assert [r["thread"] for r in thread_rows(report)] == ["evil\\nname\\t1"]
    assert report.splitlines()[-1] == "warning: thread 'evil\\nname\\t1' (ident 5): lost"


def test_identical_names_are_grouped_too(builder):
    for _ in range(17):
        builder.thread("worker", [builder.call("f", 1, 1)])
    (row,) = thread_rows(format_report(builder.build(), limit=0))
    assert row["thread"] == "worker (17 threads)"
    assert (row["ident"], row["native id"], row["calls"]) == ("", "", "17")


def test_up_to_16_threads_of_a_pattern_are_listed_one_by_one(builder):
    """A pool of 16 stays 16 lines, so that the imbalance between them shows."""
    for i in range(16):
        builder.thread(f"worker-{i}", [builder.call("f", 1, 10 + i)])
    rows = thread_rows(format_report(builder.build(), limit=0))
    assert [r["thread"] for r in rows] == [f"worker-{i}" for i in range(16)]


def test_a_group_shows_min_median_and_max_per_thread(builder):
    """Beside its sums, each column's minimum, median and maximum over the
    group's threads: the imbalance that the sums hide."""
    C = builder.call
    for i in range(20):  # wall 10..29 ms, CPU i ms, i + 1 calls
        builder.thread(f"worker-{i}", [C("f", i + 1, 10 + i, cpu=i)], wall_time=10 + i, cpu_time=i)
    builder.thread("MainThread", [C("main", 1, 5)])
    rows = thread_rows(format_report(builder.build(), limit=0))
    (group,) = [r for r in rows if r["thread"] == "worker-* (20 threads)"]
    assert (group["wall"], group["CPU"], group["calls"]) == ("390.0ms", "190.0ms", "210")
    # each column its own: the least off-CPU share is worker-19's 10 of 29 ms
    assert group["min"] == {"wall": "10.00ms", "CPU": "0", "off-CPU": "34%", "calls": "1"}
    assert group["max"] == {"wall": "29.00ms", "CPU": "19.00ms", "off-CPU": "100%", "calls": "20"}
    # medians of an even count: the mean of the middle two
    assert group["median"]["wall"] == "19.50ms"
    assert group["median"]["calls"] == "10.5"


def test_many_small_groups_are_made_when_the_table_would_not_fit(builder):
    """Past 40 lines, patterns shared by two or more threads are grouped too."""
    for name in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"):
        for i in range(4):
            builder.thread(f"{name}-{i}", [builder.call("f", 1, 1)])
    rows = thread_rows(format_report(builder.build(), limit=0))
    assert [r["thread"] for r in rows][:2] == ["a-* (4 threads)", "b-* (4 threads)"]
    assert len(rows) == 11


# -- threadprof report's additions ----------------------------------------------------


@pytest.fixture
def snap2(builder):
    """Two threads, ticks of 1 ms; worker-1 starts at 100 ms."""
    b = builder
    C = b.call
    b.func("main", "/srv/app/main.py", 10)
    b.func("fact", "/srv/app/mathx.py", 5)
    b.func("io_wait", "/srv/app/net.py", 42, qualname="Client.io_wait")
    b.cfunc("<built-in method builtins.len>")
    b.func("run", "/usr/lib/python3.12/threading.py", 999, qualname="Thread.run")
    b.thread(
        "MainThread",
        [
            C("main", 1, 1000, cpu=600, children=[
                C("fact", 1, 300, [C("fact", 2, 200, [C("fact", 4, 50)])]),
                C("io_wait", 3, 400, cpu=10),
                C("<built-in method builtins.len>", 20, 2, cpu=2),
            ]),
        ],
        ident=140000000000001,
        native_id=4001,
        wall_time=1200,
        cpu_time=600,
    )  # fmt: skip
    b.thread(
        "worker-1",
        [C("run", 0, 500, cpu=100, children=[C("io_wait", 5, 450, cpu=50)])],
        ident=140000000000002,
        native_id=4002,
        wall_time=500,
        cpu_time=100,
        first_seen=100,
    )
    return b.build(duration=1200)


def section(report: str, title_start: str) -> list[str]:
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title_start))
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def test_report_sort_keys_add_cpu_offcpu_and_wait():
    assert set(REPORT_SORT_KEYS) == set(SORT_KEYS) | {"cpu", "offcpu", "wait"}


def test_lifetime_table(snap2):
    text = format_report(snap2, width=80, details=True, limit=0)
    assert section(text, "  lifetime") == [
        "  lifetime                                      first      last  wall share",
        "  MainThread                                        0    1.200s  ███████     71%",
        "  worker-1                                    100.0ms   600.0ms  ███         29%",
    ]


def test_bar():
    assert bar(0) == " " * 10
    assert bar(1) == "█" * 10
    assert bar(0.5) == "█████     "
    assert bar(0.0125) == "▏         "
    assert bar(2) == "█" * 10


def test_sort_by_offcpu_and_cpu(snap2):
    labels = [r["function"] for r in table(format_report(snap2, "offcpu", width=80))]
    assert labels == [
        "Client.io_wait (net.py:42)",  # 850 ms own time, 60 ms of it on CPU
        "main (main.py:10)",  # 298 - 288
        # no time off the CPU: ties in pstats' stdname order
        "fact (mathx.py:5)",
        "Thread.run (threading.py:999)",
        "{built-in method builtins.len}",
    ]
    labels = [r["function"] for r in table(format_report(snap2, "cpu", width=80))]
    assert labels[:2] == ["fact (mathx.py:5)", "main (main.py:10)"]


def test_sort_by_wait_puts_the_known_waits_first(builder):
    C = builder.call
    sleep = builder.cfunc("<built-in method time.sleep>")
    acquire = builder.cfunc("<method 'acquire' of '_thread.lock' objects>")
    builder.thread(
        "T",
        [
            C("main", 1, 1000, cpu=100, children=[  # 500 ms off the CPU of its own
                C(sleep, 2, 200, cpu=0),
                C(acquire, 3, 100, cpu=40),
                C("spin", 1, 100, cpu=100),
            ]),
        ],
    )  # fmt: skip
    labels = [r["function"] for r in table(format_report(builder.build(), "wait", width=100))]
    assert labels == [
        "{built-in method time.sleep}",  # 200 ms in a known wait
        "{method 'acquire' of '_thread.lock' objects}",  # 60 ms
        "main (app.py:30)",  # then by offcpu: 500 ms, runnable
        "spin (app.py:40)",
    ]


def test_include_exclude(snap2):
    def labels(**kw):
        return [r["function"] for r in table(format_report(snap2, "name", width=80, **kw))]

    assert labels(include=["*.py"]) == [
        "fact (mathx.py:5)",
        "Client.io_wait (net.py:42)",
        "main (main.py:10)",
        "Thread.run (threading.py:999)",
    ]
    assert labels(include=["/srv/*"], exclude=["fact"]) == [
        "Client.io_wait (net.py:42)",
        "main (main.py:10)",
    ]
    assert labels(include=["Client.*"]) == ["Client.io_wait (net.py:42)"]
    assert labels(exclude=["*"]) == []


def test_per_thread_tables(snap2):
    text = format_report(snap2, width=80, per_thread=True, thread="worker-*")
    assert section(text, "Top 2 of 2 functions in 'worker-1'") == [
        "Top 2 of 2 functions in 'worker-1' (ident 140000000000002), by tottime:",
        "  ncalls   tottime   percall   cumtime  off-CPU  function",
        "       5   450.0ms   90.00ms   450.0ms      89%  Client.io_wait (net.py:42)",
        "       0   50.00ms             500.0ms       0%  Thread.run (threading.py:999)",
    ]
    assert "in 'MainThread'" not in text


def test_tree_lines(snap2):
    text = format_report(snap2, width=80, limit=0, tree=True)
    assert section(text, "Call tree of 'MainThread'") == [
        "Call tree of 'MainThread' (1.200s wall, paths below 1% collapsed):",
        "   83.3%    1.000s  └─ main (main.py:10)",
        "   33.3%   400.0ms     ├─ Client.io_wait (net.py:42)",
        "   25.0%   300.0ms     ├─ fact (mathx.py:5)",
        "   16.7%   200.0ms     │  └─ fact (mathx.py:5)",
        "    4.2%   50.00ms     │     └─ fact (mathx.py:5)",
        "    0.2%   2.000ms     └─ … 1 more",
    ]
    assert section(text, "Call tree of 'worker-1'") == [
        "Call tree of 'worker-1' (500.0ms wall, paths below 1% collapsed):",
        "  100.0%   500.0ms  └─ Thread.run (threading.py:999)",
        "   90.0%   450.0ms     └─ Client.io_wait (net.py:42)",
    ]


def test_tree_threshold_collapses(snap2):
    main = snap2.threads[0]
    assert format_tree(snap2, main, width=80, threshold=30)[1:] == [
        "   83.3%    1.000s  └─ main (main.py:10)",
        "   33.3%   400.0ms     ├─ Client.io_wait (net.py:42)",
        "   25.2%   302.0ms     └─ … 2 more",
    ]


def test_tree_deep_fits_80_columns(builder):
    b = builder
    b.func("recurse_with_a_rather_long_function_name", "/srv/app/deep/module.py", 7)
    node = b.call("recurse_with_a_rather_long_function_name", 1, 10)
    for i in range(400):  # deeper than Python's recursion limit would allow a recursive walk
        node = b.call("recurse_with_a_rather_long_function_name", 1, 11 + i, [node])
    b.thread("a-thread-with-a-long-name-" * 4, [node], wall_time=500, cpu_time=10)
    snapshot = b.build(duration=500)
    text = format_report(snapshot, width=80, details=True, tree=True, per_thread=True)
    lines = text.splitlines()
    assert len(lines) > 400
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)


def test_report_data(snap2):
    data = report_data(snap2, "tottime", 2, tree=True, per_thread=True, thread="MainThread")
    assert set(data) == {
        "clock", "cpu_mode", "duration", "sort", "threads", "functions", "warnings", "slow_steps",
        "tasks", "per_thread", "trees", "processes", "contention", "offcpu", "pools",
    }  # fmt: skip
    assert data["processes"] == []  # a profile of one process
    assert data["threads"][1] == {
        "name": "worker-1",
        "ident": 140000000000002,
        "native_id": 4002,
        "first_seen": 0.1,
        "last_seen": 0.6,
        "wall": 0.5,
        "cpu": 0.1,
        "offcpu_share": 0.8,
        "calls": 5,
        "group": "worker-*",
        "selected": False,
        "pid": 0,
    }
    assert [f["qualname"] for f in data["functions"]] == ["Client.io_wait", "fact"]
    assert data["functions"][0]["ncalls"] == 3
    assert data["per_thread"][0]["ident"] == 140000000000001
    tree = data["trees"][0]["tree"]
    assert [n["function"] for n in tree] == ["main"]
    kids = tree[0]["children"]
    assert [k.get("function", "more") for k in kids] == ["io_wait", "fact", "more"]
    assert kids[2]["more"] == 1
    assert kids[1]["percent"] == 25.0


# -- paths and library frames --------------------------------------------------------


def test_short_paths_by_default_and_full_paths_on_request(builder):
    C = builder.call
    builder.func("submit", "/usr/lib/python3.12/concurrent/futures/thread.py", 160,
                 qualname="ThreadPoolExecutor.submit")  # fmt: skip
    builder.func("get", "/srv/venv/lib/python3.12/site-packages/requests/api.py", 62)
    builder.func("main", "/srv/app/main.py", 10)
    builder.thread("MainThread", [C("main", 1, 100, [C("submit", 1, 30), C("get", 1, 50)])])
    snap = builder.build()
    functions = [r["function"] for r in table(format_report(snap, width=100))]
    assert functions == [
        "get (requests/api.py:62)",
        # too long for the column: the qualname's outer part goes first
        "submit (concurrent/futures/thread.py:160)",
        "main (main.py:10)",
    ]
    functions = [r["function"] for r in table(format_report(snap, width=100, full_paths=True))]
    assert functions[2] == "main (/srv/app/main.py:10)"
    # too long: the path loses its start, the name stays
    assert functions[0] == "get (...ython3.12/site-packages/requests/api.py:62)"


def test_hide_library_drops_stdlib_and_packages_from_tables_and_trees(snap):
    shown = format_report(snap, width=100, hide_library=True, tree=True)
    names = [r["function"] for r in table(shown)]
    assert "Thread.run (threading.py:999)" not in names
    assert "{built-in method builtins.len}" in names  # C functions stay
    assert len(names) == 4
    # in worker-1's tree, io_wait takes the place of the hidden Thread.run
    lines = shown.splitlines()
    start = lines.index("Call tree of 'worker-1' (500.0ms wall, paths below 1% collapsed):")
    assert lines[start + 1] == "   90.0%   450.0ms  └─ Client.io_wait (net.py:42)"
    data = report_data(snap, hide_library=True, tree=True)
    assert all(f["function"] != "run" for f in data["functions"])
    (worker,) = [t for t in data["trees"] if t["name"] == "worker-1"]
    assert [node["qualname"] for node in worker["tree"]] == ["Client.io_wait"]


def test_the_cpu_table_follows_wall_time_sorts_only(snap, make_builder):
    title = "functions in all threads by own CPU time:"
    assert title in format_report(snap)
    assert title in format_report(snap, sort="cumtime")
    for sort in ("calls", "name", "cpu", "offcpu"):
        assert title not in format_report(snap, sort=sort), sort
    # nothing ran: no table of nothing
    idle = make_builder()
    idle.thread("T", [idle.call("wait", 1, 100, cpu=0)])
    assert "by own CPU time" not in format_report(idle.build())


def test_slow_steps_of_tasks_are_listed_longest_first(builder):
    C = builder.call
    loop = builder.func("run_forever", "asyncio/base_events.py", 600)
    sleep = builder.cfunc("<built-in function time.sleep>")
    t = builder.thread(
        "MainThread",
        [C(loop, 1, 900, [C("handler", 3, 800, [C("parse", 1, 500, [C(sleep, 1, 450)])])])],
        ident=5,
    )
    other = builder.thread("worker-1", [C(loop, 1, 300, [C("fetch", 2, 250)])], ident=6)
    # nodes: 1 loop, 2 handler, 3 parse, 4 sleep; in worker-1, 2 fetch
    t.slow_steps += [SlowStep(10, 120, 2, 2, 120), SlowStep(200, 470, 2, 4, 450, task=7)]
    builder.task(t, "slow-one", [C("handler", 1, 800)], id=7)
    other.slow_steps.append(SlowStep(50, 250, 2, 2, 250))
    snap = builder.build()
    snap.slow_step = 100  # ticks of 1 ms
    lines = format_report(snap).splitlines()
    at = lines.index("Steps of tasks that blocked their event loop 100.0ms or more: 3, all:")
    assert [line.split() for line in lines[at + 2 :]] == [
        ["470.0ms", "MainThread", "handler", "(app.py:30)", "[task", "slow-one]"],
        ["->", "{built-in", "function", "time.sleep}", "(450.0ms)"],
        ["250.0ms", "worker-1", "fetch", "(app.py:50)"],
        ["120.0ms", "MainThread", "handler", "(app.py:30)"],
    ]
    data = report_data(snap)
    assert [(s["thread"], s["duration"], s["where_own"]) for s in data["slow_steps"]] == [
        (5, pytest.approx(0.47), pytest.approx(0.45)),
        (6, pytest.approx(0.25), pytest.approx(0.25)),
        (5, pytest.approx(0.12), pytest.approx(0.12)),
    ]
    first = data["slow_steps"][0]
    assert (first["task"], first["task_name"]) == (7, "slow-one")
    assert (data["slow_steps"][1]["task"], data["slow_steps"][1]["task_name"]) == (None, None)
    assert first["start"] == pytest.approx(0.2)
    assert first["coroutine"]["function"] == "handler"
    assert first["where"]["function"] == "<built-in function time.sleep>"
    assert [f["function"] for f in first["path"]] == [
        "run_forever",
        "handler",
        "parse",
        "<built-in function time.sleep>",
    ]
    # only the selected threads' steps
    assert [s["thread"] for s in report_data(snap, thread="worker-*")["slow_steps"]] == [6]
    assert "0 more" not in format_report(snap, thread="worker-*")


def test_no_slow_steps_no_section(snap):
    assert "Steps of tasks" not in format_report(snap)
    assert report_data(snap)["slow_steps"] == []


def task_snap(builder, fetches=10):
    """A loop thread whose main task made ``fetches`` fetch tasks (each 100
    ticks of wall time, ``97 + i % 3`` of them awaiting), and a task made
    outside any task."""
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 1000, [C("main", 1, 900)])], ident=5)
    builder.task(t, "Task-1", [C("main", 1, 900, cpu=10)], id=1, steps=2, await_time=890)
    for i in range(fetches):
        builder.task(
            t,
            f"fetch-{i}",
            [C("fetch", 1, 100, [C("sleep", 2, 97 + i % 3, cpu=0)], cpu=3 - i % 3)],
            id=2 + i,
            creator=1,
            steps=3,
            await_time=97 + i % 3,
        )
    builder.task(t, "cleanup", [C("shutdown", 1, 4)], id=2 + fetches, steps=1)
    return builder.build()


def task_rows(report: str) -> list[list[str]]:
    lines = report.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("asyncio tasks:"))
    rows = []
    for line in lines[at + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_tasks_table_lists_each_task_under_its_creator(builder):
    snap = task_snap(builder)
    report = format_report(snap)
    assert (
        "asyncio tasks: 12 in 1 thread, 1 event loop (a task under the task that made it):"
        in report
    )
    rows = task_rows(report)
    assert rows[0] == ["Task-1", "MainThread", "2", "900.0ms", "10.00ms", "99%"]
    assert rows[1:11] == [
        [f"fetch-{i}", "MainThread", "3", "100.0ms", f"{3 - i % 3}.000ms", f"{97 + i % 3}%"]
        for i in range(10)
    ]
    assert rows[11] == ["cleanup", "MainThread", "1", "4.000ms", "4.000ms", "0%"]
    # the indent shows who made whom
    lines = report.splitlines()
    assert any(line.startswith("    fetch-0 ") for line in lines)
    assert any(line.startswith("  Task-1 ") for line in lines)


def test_many_tasks_group_by_name_pattern(builder):
    snap = task_snap(builder, fetches=30)
    rows = task_rows(format_report(snap))
    assert rows == [
        ["Task-1", "MainThread", "2", "900.0ms", "10.00ms", "99%"],
        ["fetch-*", "(30", "tasks)", "MainThread", "90", "3.000s", "60.00ms", "97-99%"],
        ["cleanup", "MainThread", "1", "4.000ms", "4.000ms", "0%"],
    ]
    # expanded, as threads are
    assert len(task_rows(format_report(snap, expand_threads=True))) == 32


def test_tasks_follow_the_thread_selection(builder):
    snap = task_snap(builder, fetches=2)
    builder.thread("other", [builder.call("idle", 1, 10)], ident=6)
    snap = builder.build()
    assert len(task_rows(format_report(snap, thread="MainThread"))) == 4
    assert "asyncio tasks" not in format_report(snap, thread="other")
    assert report_data(snap, thread="other")["tasks"] == []


def test_tasks_in_json(builder):
    snap = task_snap(builder, fetches=2)
    data = report_data(snap)
    assert [(t["id"], t["name"], t["creator"], t["steps"]) for t in data["tasks"]] == [
        (1, "Task-1", None, 2),
        (2, "fetch-0", 1, 3),
        (3, "fetch-1", 1, 3),
        (4, "cleanup", None, 1),
    ]
    fetch = data["tasks"][1]
    assert fetch["wall"] == pytest.approx(0.1)
    assert fetch["cpu"] == pytest.approx(0.003)
    assert fetch["await"] == pytest.approx(0.097)
    assert (fetch["thread"], fetch["loop"], fetch["group"], fetch["calls"]) == (5, 1, "fetch-*", 3)


def test_no_tasks_no_table(snap):
    assert "asyncio tasks" not in format_report(snap)
    assert report_data(snap)["tasks"] == []
