# SPDX-License-Identifier: MIT
"""``threadprof run`` runs a program exactly as ``python`` would.

Each test runs the same program with and without threadprof and compares what
the program saw and how the process ended.
"""

from __future__ import annotations

import gzip
import json
import os
import pstats
import signal
import sys

import pytest
from cli_helpers import before_report, error_lines, report_part

from threadprof.readers import read_profile

PROBE = """\
import atexit, json, sys, __main__
dunders = sorted(k for k in globals() if k.startswith("__"))
print(json.dumps({
    "argv": sys.argv,
    "path0": sys.path[0],
    "path_rest": sys.path[1:],
    "name": __name__,
    "file": __file__,
    "spec": None if __spec__ is None else __spec__.name,
    "package": __package__,
    "main_is_this_module": sys.modules["__main__"].__dict__ is globals(),
    "loader": type(__loader__).__name__,
    "builtins": type(__builtins__).__name__,
    "dunders": dunders,
}))
atexit.register(lambda: print("atexit sees", __import__("__main__").MARK))
MARK = "the program's __main__"
"""


def seen(proc) -> dict:
    return json.loads(proc.stdout.splitlines()[0])


# -- what the program sees --------------------------------------------------------


def test_script_sees_what_python_gives(launcher, python, write):
    write("sub/probe.py", PROBE)
    args = ["sub/probe.py", "a b", "-o", "x.prof", "-q", "--thread", "-m", "--"]
    ours = launcher("run", *args)
    plain = python(*args)
    assert plain.returncode == 0, plain.stderr
    assert ours.returncode == 0, ours.stderr
    assert seen(ours) == seen(plain)
    assert seen(ours)["argv"] == args  # nothing after the script was taken as an option
    assert ours.stdout == plain.stdout  # incl. the atexit handler seeing the same __main__


def test_script_after_double_dash(threadprof, python, write):
    write("probe.py", PROBE)
    ours = threadprof("run", "-q", "--", "probe.py", "--", "-x")
    plain = python("probe.py", "--", "-x")
    assert ours.returncode == 0, ours.stderr
    assert seen(ours) == seen(plain)
    assert seen(ours)["argv"] == ["probe.py", "--", "-x"]


def test_symlinked_script_path0_is_the_target_dir(threadprof, python, write, workdir):
    write("real/probe.py", PROBE)
    (workdir / "link.py").symlink_to(workdir / "real" / "probe.py")
    ours = threadprof("run", "link.py")
    plain = python("link.py")
    assert seen(ours) == seen(plain)
    assert seen(ours)["path0"] == str(workdir / "real")


def test_module_sees_what_python_m_gives(launcher, python, write):
    write("probe_mod.py", PROBE)
    ours = launcher("run", "-m", "probe_mod", "arg", "-s", "calls")
    plain = python("-m", "probe_mod", "arg", "-s", "calls")
    assert plain.returncode == 0, plain.stderr
    assert ours.returncode == 0, ours.stderr
    assert seen(ours) == seen(plain)
    assert seen(ours)["spec"] == "probe_mod"
    assert ours.stdout == plain.stdout


def test_package_main_module(threadprof, python, write):
    write("pkg/__init__.py", "")
    write("pkg/__main__.py", PROBE)
    ours = threadprof("run", "-m", "pkg", "1")
    plain = python("-m", "pkg", "1")
    assert ours.returncode == 0, ours.stderr
    assert seen(ours) == seen(plain)
    assert seen(ours)["spec"] == "pkg.__main__"
    assert seen(ours)["package"] == "pkg"


def test_attached_module_name(threadprof, python, write):
    write("probe_mod.py", PROBE)
    ours = threadprof("run", "-qmprobe_mod", "x")
    plain = python("-m", "probe_mod", "x")
    assert seen(ours) == seen(plain)
    assert report_part(ours.stderr) == ""  # -q was read from the bundle


def test_directory_with_main(threadprof, python, write):
    write("app/__main__.py", PROBE)
    ours = threadprof("run", "app", "z")
    plain = python("app", "z")
    assert ours.returncode == 0, ours.stderr
    assert seen(ours) == seen(plain)


@pytest.mark.parametrize("name", ["app.zip", "app.pyz", "app"])
def test_zip_file_with_main(threadprof, python, write, workdir, name):
    """A zip file runs as python runs it, whatever its name says."""
    import zipfile

    with zipfile.ZipFile(workdir / name, "w") as z:
        z.writestr("__main__.py", PROBE)
    ours = threadprof("run", name, "z")
    plain = python(name, "z")
    assert plain.returncode == ours.returncode == 0, ours.stderr
    assert seen(ours) == seen(plain)
    assert seen(ours)["loader"] == "zipimporter"


def test_future_imports_do_not_leak_into_the_program(threadprof, write):
    # cli.py uses "from __future__ import annotations"; the program must not
    write("ann.py", "def f(x: int): pass\nprint(type(f.__annotations__['x']).__name__)\n")
    proc = threadprof("run", "ann.py")
    assert proc.stdout == "type\n"


# -- how it ends --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("pass", 0),
        ("import sys; sys.exit(3)", 3),
        ("raise SystemExit(0)", 0),
        ("raise SystemExit(None)", 0),
        ("import sys; sys.exit(True)", 1),
        ("import sys; sys.exit(256 + 4)", 4),
    ],
)
def test_exit_status_passes_through(launcher, python, write, workdir, body, status):
    write("prog.py", f"print('out')\n{body}\n")
    ours = launcher("run", "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == status
    assert ours.returncode == status, ours.stderr
    assert ours.stdout == plain.stdout == "out\n"
    assert (workdir / "out.prof").is_file()
    assert "Traceback" not in ours.stderr
    assert report_part(ours.stderr)  # the report is printed whatever the status


def test_os_exit_writes_the_profile_first(launcher, python, write, workdir):
    """os._exit skips every exit handler; the profile is still written, through
    the profiler's exit hook, and the status is os._exit's."""
    write(
        "prog.py",
        "import os\ndef work():\n    return 1\nwork()\nprint('out', flush=True)\nos._exit(3)\n",
    )
    ours = launcher("run", "-o", "out.pstats", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == ours.returncode == 3, ours.stderr
    assert ours.stdout == plain.stdout == "out\n"
    assert report_part(ours.stderr)
    stats = pstats.Stats(str(workdir / "out.pstats")).stats
    assert [v[1] for k, v in stats.items() if k[2] == "work"] == [1]
    assert [v[1] for k, v in stats.items() if k[2] == "<built-in method posix._exit>"] == [1]


@pytest.mark.parametrize(
    "breakage",
    [
        'sys.modules["threadprof"] = None',
        "import builtins\ndef no(*a, **k):\n    raise ImportError('imports are off')\n"
        "builtins.__import__ = no",
    ],
    ids=["threadprof-module-none", "import-replaced"],
)
def test_program_that_breaks_imports_still_gets_its_profile(launcher, write, workdir, breakage):
    """What ending a run needs is imported before the program runs."""
    write("prog.py", f"import sys\n{breakage}\nprint('out')\n")
    ours = launcher("run", "-o", "out.pstats", "prog.py")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "out\n"
    assert "Traceback" not in ours.stderr and "warning" not in ours.stderr
    assert report_part(ours.stderr)
    assert pstats.Stats(str(workdir / "out.pstats")).total_calls > 0


#: Modules a run has no use for that cost startup time: statistics (fractions,
#: decimal, random), shutil (bz2, lzma), pkgutil, traceback, typing.
STARTUP_FREE = (
    "statistics",
    "fractions",
    "decimal",
    "shutil",
    "bz2",
    "lzma",
    "pkgutil",
    "traceback",
    "typing",
)


#: The standard modules a run needs (dataclasses for the model, argparse, json
#: for the .tprof metadata, zlib, threading, signal).
RUN_NEEDS = ("dataclasses", "argparse", "json", "zlib", "threading", "signal")


@pytest.mark.parametrize("flags", [(), ("-q",), ("--timeline", "-o", "out.tprof")])
def test_a_run_imports_only_what_it_needs(threadprof, python, write, flags):
    """Before the program starts, threadprof has imported none of the modules
    a run does not need (and stopping imports nothing)."""
    write("prog.py", "import sys\nprint(' '.join(sorted(sys.modules)))\n")
    # what the standard modules a run needs import themselves (inspect imports
    # typing on some versions) is out of threadprof's hands
    write(
        "needed.py", f"import {', '.join(RUN_NEEDS)}, sys\nprint(' '.join(sorted(sys.modules)))\n"
    )
    needed = set(python("needed.py").stdout.split())
    ours = threadprof("run", *flags, "prog.py")
    assert ours.returncode == 0, ours.stderr
    added = set(ours.stdout.split())
    assert "threadprof.model" in added  # what stopping needs is there already
    assert not (added - needed) & set(STARTUP_FREE)


def test_relative_output_is_where_the_run_started(launcher, write, workdir):
    """A program that changes directory does not move a relative -o."""
    (workdir / "elsewhere").mkdir()
    write("prog.py", "import os\nos.chdir('elsewhere')\nprint(os.getcwd())\n")
    ours = launcher("run", "-o", "out.pstats", "prog.py")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.strip().endswith("elsewhere")
    assert (workdir / "out.pstats").is_file()
    assert not (workdir / "elsewhere" / "out.pstats").exists()
    assert f"wrote the pstats profile to {workdir / 'out.pstats'}" in ours.stderr


def test_no_argv_leaves_the_arguments_out_of_every_output(threadprof, write, workdir):
    """--no-argv keeps the program's name and nothing after it, in the .tprof
    and in the formats that carry a command line."""
    write("prog.py", "import sys\nprint(sys.argv[1:])\n")
    secret = "--password=hunter2"
    for out in ("out.tprof", "out.pb.gz", "out.trace.json", "out.html"):
        for flags, present in (((), True), (("--no-argv",), False)):
            ours = threadprof("run", "-q", "--timeline", *flags, "-o", out, "prog.py", secret)
            assert ours.returncode == 0, ours.stderr
            assert ours.stdout == f"['{secret}']\n"  # the program still gets them
            if out.endswith(".tprof"):
                argv = read_profile(workdir / out).argv
                assert argv == (["prog.py", secret] if present else ["prog.py"])
            else:
                data = (workdir / out).read_bytes()
                data = gzip.decompress(data) if out.endswith(".gz") else data
                assert (b"hunter2" in data) is present, (out, flags)


def test_string_exit_code_printed_status_1(launcher, python, write, workdir):
    write("prog.py", "import sys\nsys.exit('giving up: no input')\n")
    ours = launcher("run", "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == ours.returncode == 1
    assert before_report(ours.stderr) == plain.stderr == "giving up: no input\n"
    assert (workdir / "out.prof").is_file()


def test_uncaught_exception_traceback_like_python(launcher, python, write, workdir):
    write(
        "prog.py",
        """\
        def inner():
            raise ValueError("boom")

        def outer():
            try:
                {}["missing"]
            except KeyError:
                inner()

        outer()
        """,
    )
    ours = launcher("run", "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == ours.returncode == 1
    traceback = before_report(ours.stderr)
    assert traceback == plain.stderr  # identical, chained part included
    assert f'File "{workdir / "prog.py"}", line 10, in <module>' in traceback
    assert "ValueError: boom" in traceback
    assert "cli.py" not in traceback and "threadprof" not in traceback
    assert "runpy" not in traceback
    assert (workdir / "out.prof").is_file()
    assert report_part(ours.stderr)


def test_uncaught_exception_in_module(threadprof, python, write):
    write("failing.py", "def f():\n    1 / 0\nf()\n")
    ours = threadprof("run", "-m", "failing")
    plain = python("-m", "failing")
    assert plain.returncode == ours.returncode == 1
    ours_tb = before_report(ours.stderr)
    assert "ZeroDivisionError" in ours_tb and "threadprof" not in ours_tb
    # python -m shows runpy's frames; the program's own frames are the same
    assert ours_tb.splitlines()[1:] == [
        line for line in plain.stderr.splitlines()[1:] if "<frozen runpy>" not in line
    ]


def test_custom_excepthook_is_used(threadprof, python, write):
    write(
        "prog.py",
        """\
        import sys
        sys.excepthook = lambda t, v, tb: print("hook:", t.__name__, v, file=sys.stderr)
        raise RuntimeError("x")
        """,
    )
    ours = threadprof("run", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == ours.returncode == 1
    assert before_report(ours.stderr) == plain.stderr == "hook: RuntimeError x\n"


def test_syntax_error_like_python(threadprof, python, write):
    write("bad.py", "def f(:\n    pass\n")
    ours = threadprof("run", "bad.py")
    plain = python("bad.py")
    assert plain.returncode == ours.returncode == 1
    assert ours.stderr == plain.stderr
    assert "SyntaxError" in ours.stderr


SIGINT_PROG = """\
import atexit, os, signal, threading, time

def work(n):
    return sum(range(n))

def worker():
    for _ in range(3):
        work(10)

atexit.register(lambda: print("atexit ran", flush=True))
t = threading.Thread(target=worker, name="worker")
t.start()
t.join()
for _ in range(4):
    work(10)
print("before", flush=True)
os.kill(os.getpid(), signal.SIGINT)
time.sleep(30)
print("not reached")
"""


def test_keyboard_interrupt_ends_like_python(launcher, python, write, workdir):
    write("prog.py", SIGINT_PROG)
    ours = launcher("run", "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == -signal.SIGINT
    assert ours.returncode == plain.returncode, ours.stderr
    assert ours.stdout == plain.stdout == "before\natexit ran\n"
    assert "KeyboardInterrupt" in before_report(ours.stderr)
    assert "threadprof" not in before_report(ours.stderr)
    # and the profile was still written, with the calls made before Ctrl-C
    import pstats

    stats = pstats.Stats(str(workdir / "out.prof")).stats
    work = [v for k, v in stats.items() if k[2] == "work" and k[0].endswith("prog.py")]
    assert [(cc, nc) for cc, nc, *_ in work] == [(7, 7)]
    assert report_part(ours.stderr)


# -- threads ------------------------------------------------------------------------

LATE_THREAD = """\
import threading, time

def work(n):
    return sum(range(n))

def late_worker():
    # runs its calls only once the main code has ended
    while threading.main_thread().is_alive():
        time.sleep(0.005)
    for _ in range(6):
        work(10)
    print("worker finished", flush=True)

threading.Thread(target=late_worker, name="late").start()
print("main code ends", flush=True)
"""


def test_non_daemon_threads_are_joined_and_profiled_to_the_end(threadprof, python, write, workdir):
    write("prog.py", LATE_THREAD)
    ours = threadprof("run", "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.stdout == "main code ends\nworker finished\n"
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout
    import pstats

    stats = pstats.Stats(str(workdir / "out.prof")).stats
    calls = [v[1] for k, v in stats.items() if k[2] == "work" and k[0].endswith("prog.py")]
    assert calls == [6]
    assert "late" in report_part(ours.stderr)


def test_executor_left_open_does_not_hang(threadprof, write):
    # the interpreter stops such executors at exit (threading._register_atexit)
    write(
        "prog.py",
        """\
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(2)
        print(pool.submit(sum, range(10)).result())
        """,
    )
    proc = threadprof("run", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "45\n"


def test_report_lists_threads_and_functions(threadprof, write):
    write(
        "prog.py",
        """\
        import threading
        def crunch_numbers(n):
            return sum(range(n))
        t = threading.Thread(target=lambda: crunch_numbers(5), name="cruncher-1")
        t.start(); t.join()
        """,
    )
    proc = threadprof("run", "--limit", "1000", "prog.py")
    assert proc.returncode == 0, proc.stderr
    report = report_part(proc.stderr)
    assert report.startswith("threadprof: 2 threads, ")
    assert "MainThread" in report and "cruncher-1" in report
    assert "crunch_numbers (prog.py:2)" in report
    assert "sorted by tottime" in report
    assert max(len(line) for line in report.splitlines()) <= 100
    assert error_lines(proc.stderr) == []


def test_quiet_prints_nothing(threadprof, write, workdir):
    write("prog.py", "print('hi')\n")
    proc = threadprof("run", "-q", "-o", "out.prof", "prog.py")
    assert proc.returncode == 0
    assert proc.stdout == "hi\n"
    assert proc.stderr == ""
    assert (workdir / "out.prof").is_file()


def test_sort_and_limit(threadprof, write):
    write("prog.py", "def a(): pass\nfor _ in range(3): a()\n")
    proc = threadprof("run", "-s", "calls", "--limit", "1", "prog.py")
    assert proc.returncode == 0, proc.stderr
    report = report_part(proc.stderr)
    assert "sorted by calls" in report
    table = report.split("sorted by calls", 1)[1].splitlines()[2:]
    rows = [line for line in table if line.strip() and not line.startswith("threadprof:")]
    assert len(rows) == 1
    proc = threadprof("run", "--limit", "0", "prog.py")
    assert "sorted by" not in proc.stderr
    assert "MainThread" in proc.stderr


def test_cpu_clock(threadprof, write):
    write("prog.py", "print(sum(range(1000)))\n")
    proc = threadprof("run", "--clock", "cpu", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert "(cpu clock" in report_part(proc.stderr)


# -- --engine, --expand-threads -----------------------------------------------------

ENGINE_PROBE = """\
import sys, threading

def work():
    pass

def replaces_the_hook():
    work()
    sys.setprofile(None)  # only the legacy engine's hook lives there
    work()

t = threading.Thread(target=replaces_the_hook, name="replacer")
t.start()
t.join()
print(sys.getprofile() is not None)
"""


@pytest.mark.parametrize("engine", ["legacy", "monitoring", "auto"])
def test_engine_option(threadprof, write, engine):
    write("prog.py", ENGINE_PROBE)
    proc = threadprof("run", "--engine", engine, "--limit", "0", "prog.py")
    monitoring_here = sys.version_info >= (3, 12)
    if engine == "monitoring" and not monitoring_here:
        assert proc.returncode == 2
        assert error_lines(proc.stderr) == [
            "threadprof: error: cannot start the profiler: "
            "engine 'monitoring' needs Python 3.12 or later"
        ]
        return
    assert proc.returncode == 0, proc.stderr
    legacy = engine == "legacy" or not monitoring_here
    assert proc.stdout == f"{legacy}\n"  # a profile function is installed: legacy
    # the replaced hook is named in the report, with the thread's ident
    warnings = [line for line in report_part(proc.stderr).splitlines() if "warning" in line]
    if legacy:
        assert len(warnings) == 1
        assert warnings[0].startswith("warning: thread 'replacer' (ident ")
        assert warnings[0].endswith("): its profile hook was replaced (sys.setprofile or")
    else:
        assert warnings == []


def test_unknown_engine_is_a_usage_error(threadprof, write):
    write("prog.py", "print('ran')\n")
    proc = threadprof("run", "--engine", "turbo", "prog.py")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "invalid choice: 'turbo'" in error_lines(proc.stderr)[0]


POOL = """\
import threading

def work():
    pass

def worker():
    for _ in range(3):
        work()

threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def thread_lines(report: str) -> list[str]:
    """The threads table's lines, without the header."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["thread"])
    out = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith("threadprof:"):
            break
        out.append(line)
    return out


def test_threads_grouped_unless_expanded(threadprof, write):
    write("prog.py", POOL)
    grouped = threadprof("run", "--limit", "0", "prog.py")
    assert grouped.returncode == 0, grouped.stderr
    lines = thread_lines(report_part(grouped.stderr))
    names = [line[2:].split("  ")[0] for line in lines[:2]]
    assert names == ["MainThread", "worker-* (20 threads)"]
    # the group's sums, then each column's minimum, median and maximum per thread
    assert [line.split()[0] for line in lines[2:]] == ["min", "median", "max"]
    main_row, group_row = lines[:2]
    assert group_row.split()[-5] == "sum"
    # the group's calls are its threads' (threading's own calls included)
    total = int(report_part(grouped.stderr).split()[3])  # threadprof: 7 threads, N calls
    assert int(group_row.split()[-1]) == total - int(main_row.split()[-1])

    expanded = threadprof("run", "--limit", "0", "--expand-threads", "prog.py")
    lines = thread_lines(report_part(expanded.stderr))
    assert [line[2:].split()[0] for line in lines] == [
        "MainThread",
        *(f"worker-{i}" for i in range(20)),
    ]


def test_run_hide_library_and_full_paths(threadprof, write, workdir):
    write("prog.py", POOL)
    shown = report_part(threadprof("run", "--limit", "100", "prog.py").stderr)
    assert "Thread.run (threading.py:" in shown
    hidden = report_part(threadprof("run", "--limit", "100", "--hide-library", "prog.py").stderr)
    assert "threading.py" not in hidden
    assert "worker (prog.py:6)" in hidden
    full = report_part(threadprof("run", "--full-paths", "prog.py").stderr)
    assert f"{os.sep}{workdir.name}{os.sep}prog.py:" in full  # the path's end, whatever is cut


# -- command-line habits: threadprof app.py, -c, every sort key ----------------------


def test_a_script_without_run_is_a_run(threadprof, write, workdir):
    """``threadprof app.py`` and ``threadprof -o F app.py`` are ``threadprof run``'s."""
    write("prog.py", "import sys\nprint(sys.argv[1:])\n")
    proc = threadprof("prog.py", "a", "-o", "x")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['a', '-o', 'x']\n"
    assert "wrote the tprof profile to threadprof.tprof" in proc.stderr
    proc = threadprof("-q", "-o", "out.prof", "prog.py")
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert pstats.Stats(str(workdir / "out.prof")).stats
    proc = threadprof("nosuch.py")
    assert proc.returncode == 2
    assert error_lines(proc.stderr) == [
        "threadprof: error: can't open file 'nosuch.py': [Errno 2] No such file or directory"
    ]


def test_dash_c_runs_a_string_as_python_does(threadprof, python, workdir):
    code = "import sys, threading\nt = threading.Thread(target=print, args=(sys.argv,))\n"
    code += "t.start(); t.join()\nprint(repr(sys.path[0]), __name__, '__file__' in dir())\n"
    expected = python("-c", code, "x", "-q")
    assert expected.returncode == 0, expected.stderr
    proc = threadprof("-q", "-o", "out.prof", "-c", code, "x", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected.stdout == "['-c', 'x', '-q']\n'' __main__ False\n"
    keys = pstats.Stats(str(workdir / "out.prof")).stats
    assert ("<string>", 1, "<module>") in keys
    # bundled, as python -qc: the code follows
    assert threadprof("run", "-qc", "print(1)").stdout == "1\n"
    assert error_lines(threadprof("run", "-c").stderr) == [
        "threadprof: error: argument -c: expected a program (a string)"
    ]


def test_a_syntax_error_in_dash_c_is_pythons(threadprof, python):
    proc = threadprof("-c", "1 +")
    expected = python("-c", "1 +")
    assert (proc.returncode, expected.returncode) == (1, 1)
    assert "SyntaxError" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("key", ["cpu", "offcpu"])
def test_run_sorts_by_every_key_that_report_takes(threadprof, write, key):
    write("prog.py", "def a(): pass\nfor _ in range(3): a()\n")
    proc = threadprof("run", "-s", key, "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert f"sorted by {key}" in report_part(proc.stderr)


def _stderr_on_a_terminal(workdir, *args: str, **env: str) -> bytes:
    """``threadprof ARGS`` (or ``python -c ...`` when ARGS start with -c) with
    its stderr on a pseudo-terminal: what it wrote there."""
    import subprocess

    master, slave = os.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | env
    command = (
        [sys.executable, *args]
        if args[:1] == ("-c",)
        else [sys.executable, "-m", "threadprof", *args]
    )
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=environ,
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return out


def test_the_report_is_coloured_on_a_terminal_unless_no_color(write, workdir, threadprof):
    write("prog.py", "def a(): pass\na()\n")
    coloured = _stderr_on_a_terminal(workdir, "run", "prog.py")
    assert b"\x1b[1mthreadprof: 1 thread" in coloured
    assert b"\x1b[36m  ncalls" in coloured
    plain = _stderr_on_a_terminal(workdir, "run", "prog.py", NO_COLOR="1")
    assert b"\x1b[" not in plain and b"threadprof: 1 thread" in plain
    assert b"\x1b[" not in _stderr_on_a_terminal(workdir, "run", "--color", "never", "prog.py")
    # not a terminal: plain, unless asked
    assert "\x1b[" not in threadprof("run", "prog.py").stderr
    assert "\x1b[1m" in threadprof("run", "--color", "always", "prog.py").stderr


# -- what a run ends with: how to view the file, --open ------------------------------


@pytest.mark.parametrize(
    ("output", "hint"),
    [
        ("threadprof.tprof", "threadprof report threadprof.tprof --tree (or --html -o threadprof.html)"),  # noqa: E501
        ("out.prof", "python -m pstats out.prof, or snakeviz out.prof"),
        ("callgrind.out.1", "kcachegrind callgrind.out.1, or callgrind_annotate callgrind.out.1"),
        ("my out.pb.gz", "go tool pprof -http=: 'my out.pb.gz'"),
    ],
)  # fmt: skip
def test_a_run_ends_with_how_to_view_what_it_wrote(threadprof, write, output, hint):
    write("prog.py", "def a(): pass\na()\n")
    proc = threadprof("run", "-o", output, "prog.py")
    assert proc.returncode == 0, proc.stderr
    wrote, view = proc.stderr.splitlines()[-2:]
    assert wrote.startswith("threadprof: wrote the ") and wrote.endswith(f" profile to {output}")
    assert view == f"threadprof: to view it: {hint}"


def test_no_hint_for_a_device(threadprof, write):
    write("prog.py", "def a(): pass\na()\n")
    proc = threadprof("run", "-o", "/dev/null", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert "to view it" not in proc.stderr


def _browser(write, workdir) -> str:
    """A $BROWSER that records the URL it is given."""
    script = write("browser.sh", f'#!/bin/sh\necho "$1" >> {workdir}/opened\n')
    script.chmod(0o755)
    return str(script)


def test_open_writes_the_html_report_beside_the_profile_and_opens_it(
    threadprof, write, workdir, monkeypatch
):
    write("prog.py", "def a(): pass\na()\n")
    monkeypatch.setenv("BROWSER", _browser(write, workdir))
    proc = threadprof("run", "--open", "-o", "out.prof", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert "threadprof: wrote the HTML report to out.html" in proc.stderr
    assert (workdir / "out.html").read_text().startswith("<!DOCTYPE html>")
    assert (workdir / "opened").read_text() == (workdir / "out.html").as_uri() + "\n"
    # -o an HTML file: that one is opened, no other written
    (workdir / "opened").unlink()
    proc = threadprof("run", "--open", "-o", "report.html", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert "wrote the HTML report" not in proc.stderr
    assert (workdir / "opened").read_text() == (workdir / "report.html").as_uri() + "\n"


def test_open_without_a_browser_says_where_the_report_is(threadprof, write, workdir, monkeypatch):
    write("prog.py", "def a(): pass\na()\n")
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    proc = threadprof("run", "--open", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"threadprof: no browser to start: open {(workdir / 'threadprof.html').as_uri()}"
    )


def test_writing_the_profile_shows_progress_on_a_terminal(write, workdir):
    """The write of the profile: a progress line on the terminal (shown at once
    here: the delay is set to 0 in the process), erased, then the report;
    never with -q."""
    write("prog.py", "def f(): pass\nfor _ in range(50_000): f()\n")
    launcher = (
        "import sys; from threadprof.cli import main, progress; "
        "progress.PROGRESS_DELAY = 0.0; sys.exit(main(sys.argv[1:]))"
    )
    args = ("--timeline", "-o", "big.trace.json", "prog.py")
    text = _stderr_on_a_terminal(workdir, "-c", launcher, "run", *args).decode()
    assert text.startswith("\rthreadprof: writing big.trace.json ")
    assert "\r\x1b[K" in text
    assert "wrote the chrome profile to big.trace.json" in text
    quiet = _stderr_on_a_terminal(workdir, "-c", launcher, "run", "-q", *args)
    assert quiet == b""


def test_open_with_the_profile_on_a_device_puts_the_report_in_threadprof_html(
    threadprof, write, workdir, monkeypatch
):
    write("prog.py", "def a(): pass\na()\n")
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    proc = threadprof("run", "--open", "-o", "/dev/null", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert "wrote the HTML report to threadprof.html" in proc.stderr
    assert (workdir / "threadprof.html").exists()
