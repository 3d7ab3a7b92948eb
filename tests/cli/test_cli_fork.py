# SPDX-License-Identifier: MIT
"""Forked children under ``threadprof run -o out.prof``: each writes
``out.<pid>.prof`` with its own calls only, prints no report, and never touches
the parent's file, however it ends (``os._exit``, ``sys.exit``, an exception,
a signal) and whoever forks it (the program, a thread, ``multiprocessing``)."""

from __future__ import annotations

import os
import signal

import pytest
from cli_helpers import calls_in, error_lines, report_count, report_part

from threadprof.cli.session import child_output
from threadprof.exporters import get_exporter


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [
        ("out.prof", "pstats", "out.4321.prof"),
        ("dir/out.PROF", "pstats", "dir/out.4321.PROF"),
        ("out.txt", "pstats", "out.4321.txt"),
        ("out", "pstats", "out.4321"),
        ("dir.d/out", "pstats", "dir.d/out.4321"),
        (".prof", "pstats", ".prof.4321"),
        ("out.speedscope.json", "speedscope", "out.4321.speedscope.json"),
        ("out.json", "speedscope", "out.4321.json"),
        ("trace.pb.gz", "pprof", "trace.4321.pb.gz"),
        ("/abs/threadprof.tprof", "tprof", "/abs/threadprof.4321.tprof"),
    ],
)
def test_child_output_name(path, fmt, expected):
    assert child_output(path, 4321, get_exporter(fmt)) == expected


def child_files(workdir) -> list[str]:
    return sorted(
        p.name for p in workdir.iterdir() if p.name.startswith("out.") and p.name != "out.prof"
    )


FORK = """\
import os, sys

def before():
    pass

def in_child():
    pass

def in_parent():
    pass

def child(how):
    for _ in range(3):
        in_child()
    if how == "os._exit":
        os._exit(7)
    if how == "sys.exit":
        sys.exit(7)
    if how == "exception":
        raise ValueError("the child fails")

for _ in range(4):
    before()
pid = os.fork()
if pid == 0:
    child(sys.argv[1])
    sys.exit(0)  # "return": the child's main code ends normally
_, status = os.waitpid(pid, 0)
print(pid, os.waitstatus_to_exitcode(status), flush=True)
for _ in range(2):
    in_parent()
"""


@pytest.mark.parametrize(
    ("how", "status"), [("os._exit", 7), ("sys.exit", 7), ("exception", 1), ("return", 0)]
)
def test_fork(threadprof, python, write, workdir, engine, how, status):
    prog = write("prog.py", FORK)
    ours = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py", how)
    plain = python("prog.py", how)
    assert ours.returncode == plain.returncode == 0, ours.stderr
    pid, child_status = map(int, ours.stdout.split())
    assert child_status == status
    assert plain.stdout.split()[1] == str(status)
    assert child_files(workdir) == [f"out.{pid}.prof"]
    assert calls_in(workdir / f"out.{pid}.prof", prog) == {"child": 1, "in_child": 3}
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "before": 4, "in_parent": 2}
    # one report, the parent's; the child's traceback, if any, as Python prints it
    assert report_count(ours.stderr) == 1
    assert report_part(ours.stderr).count("wrote the pstats profile") == 1
    assert ("ValueError: the child fails" in ours.stderr) == (how == "exception")
    assert error_lines(ours.stderr) == []


FORK_IN_THREAD = """\
import os, sys, threading

def in_child():
    pass

def forker():
    pid = os.fork()
    if pid == 0:
        for _ in range(3):
            in_child()
        os._exit(5)
    _, status = os.waitpid(pid, 0)
    print(pid, os.waitstatus_to_exitcode(status), flush=True)

t = threading.Thread(target=forker, name="forker")
t.start()
t.join()
"""


def test_fork_from_a_thread(threadprof, write, workdir):
    prog = write("prog.py", FORK_IN_THREAD)
    ours = threadprof("run", "-o", "out.prof", "prog.py")
    assert ours.returncode == 0, ours.stderr
    pid, status = map(int, ours.stdout.split())
    assert status == 5
    assert child_files(workdir) == [f"out.{pid}.prof"]
    assert calls_in(workdir / f"out.{pid}.prof", prog) == {"in_child": 3}
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "forker": 1}


OUTLIVES_PARENT = """\
import os, sys

def in_child():
    pass

def in_parent():
    pass

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)  # returns once the parent has exited, closing its end
    for _ in range(3):
        in_child()
    sys.exit(0)
print(pid, flush=True)
for _ in range(2):
    in_parent()
"""


def test_child_that_outlives_the_parent_leaves_its_file_alone(threadprof, write, workdir):
    # the child writes after the parent wrote out.prof and exited; run() returns
    # when the child has closed the output pipes it shares, so when it ended
    prog = write("prog.py", OUTLIVES_PARENT)
    ours = threadprof("run", "-o", "out.prof", "prog.py")
    assert ours.returncode == 0, ours.stderr
    pid = int(ours.stdout)
    assert child_files(workdir) == [f"out.{pid}.prof"]
    assert calls_in(workdir / f"out.{pid}.prof", prog) == {"in_child": 3}
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "in_parent": 2}
    assert report_count(ours.stderr) == 1


MULTIPROCESSING = """\
import multiprocessing, os, sys
from operator import attrgetter, itemgetter  # no comprehension: they are calls on some Pythons

def square(x):
    return x * x

def square_where(x):
    return square(x), os.getpid()

def job(n):
    for i in range(n):
        square(i)

def main(kind):
    ctx = multiprocessing.get_context("fork")
    if kind == "pool":
        pool = ctx.Pool(2)
        results = pool.map(square_where, range(10), chunksize=1)
        children = list(map(attrgetter("pid"), multiprocessing.active_children()))
        pool.close()
        pool.join()
    elif kind == "pool-maxtasks":  # workers replaced by the pool's own thread
        pool = ctx.Pool(2, maxtasksperchild=2)
        results = pool.map(square_where, range(10), chunksize=1)
        pool.close()
        pool.join()
        children = sorted(set(map(itemgetter(1), results)))
    else:
        p = ctx.Process(target=job, args=(5,))
        p.start()
        p.join()
        results, children = [], [p.pid]
        print("exitcode", p.exitcode)
    for _ in range(3):
        square(0)
    print(*children)
    print(*map(itemgetter(1), results))

if __name__ == "__main__":
    main(sys.argv[1])
"""


def test_multiprocessing_process(threadprof, write, workdir, engine):
    prog = write("prog.py", MULTIPROCESSING)
    ours = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py", "process")
    assert ours.returncode == 0, ours.stderr
    lines = ours.stdout.splitlines()
    assert lines[0] == "exitcode 0"
    (pid,) = map(int, lines[1].split())
    assert child_files(workdir) == [f"out.{pid}.prof"]
    assert calls_in(workdir / f"out.{pid}.prof", prog) == {"job": 1, "square": 5}
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "main": 1, "square": 3}
    assert report_count(ours.stderr) == 1


@pytest.mark.parametrize("kind", ["pool", "pool-maxtasks"])
def test_multiprocessing_pool(threadprof, write, workdir, engine, kind):
    prog = write("prog.py", MULTIPROCESSING)
    ours = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py", kind)
    assert ours.returncode == 0, ours.stderr
    children_line, workers_line = ours.stdout.splitlines()
    children = set(map(int, children_line.split()))
    workers = set(map(int, workers_line.split()))  # the children that ran a task
    assert workers <= children
    files = child_files(workdir)
    if kind == "pool":
        assert files == sorted(f"out.{pid}.prof" for pid in children)
    else:
        # 10 tasks, 2 per worker; a worker started after the last task has none
        assert len(workers) >= 5
        assert set(files) >= {f"out.{pid}.prof" for pid in workers}
    per_child = [calls_in(workdir / name, prog) for name in files]
    assert sum(c.get("square", 0) for c in per_child) == 10
    assert sum(c.get("square_where", 0) for c in per_child) == 10
    assert all(set(c) <= {"square", "square_where"} for c in per_child)
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "main": 1, "square": 3}
    assert report_count(ours.stderr) == 1


TERMINATED = """\
import multiprocessing, sys, time

def square(x):
    return x * x

def serve(ready):
    for i in range(4):
        square(i)
    ready.set()
    # until terminated; in short naps, because CPython runs a Python signal
    # handler between bytecodes, and a SIGTERM that trips just before a sleep
    # begins would wait for the whole sleep (docs/cli.md)
    while True:
        time.sleep(0.05)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=serve, args=(ready,))
    p.start()
    ready.wait()
    p.terminate()  # SIGTERM
    p.join()
    print(p.pid, p.exitcode)
"""


def test_terminated_child_writes_its_profile(threadprof, python, write, workdir):
    prog = write("prog.py", TERMINATED)
    ours = threadprof("run", "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert ours.returncode == 0, ours.stderr
    pid, exitcode = map(int, ours.stdout.split())
    assert exitcode == int(plain.stdout.split()[1]) == -signal.SIGTERM
    assert child_files(workdir) == [f"out.{pid}.prof"]
    assert calls_in(workdir / f"out.{pid}.prof", prog) == {"serve": 1, "square": 4}
    assert "square" not in calls_in(workdir / "out.prof", prog)


def test_children_write_the_default_output_too(threadprof, write, workdir):
    write("prog.py", MULTIPROCESSING)
    ours = threadprof("run", "prog.py", "process")
    assert ours.returncode == 0, ours.stderr
    pid = int(ours.stdout.splitlines()[1])
    assert sorted(os.listdir(workdir)) == [
        "prog.py",
        f"threadprof.{pid}.tprof",
        "threadprof.tprof",
    ]
    assert report_count(ours.stderr) == 1
    assert error_lines(ours.stderr) == []
