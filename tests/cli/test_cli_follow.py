# SPDX-License-Identifier: MIT
"""The processes a program starts, under ``threadprof run`` (docs/processes.md):
every Python process -- forked, spawned, forkserver's, a subprocess of Python,
a child of a child -- is profiled and is a process of the one profile, with
its own calls only, however it ends (``os._exit``, ``sys.exit``, an exception,
a signal, a crash); no file is left behind; the program's output and exit
status are kept. ``--no-follow`` records the program's process alone."""

from __future__ import annotations

import os
import signal

import pytest
from cli_helpers import error_lines, report_count, report_part

from threadprof.model import thread_function_stats
from threadprof.tprof import read


@pytest.fixture(autouse=True)
def tmpdir_env(tmp_path, monkeypatch):
    """A TMPDIR of the test's own, where the run's private directory goes."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setenv("TMPDIR", str(d))
    yield d
    assert os.listdir(d) == []  # the followers' directory is removed


def processes(path, script) -> dict[int, dict[str, int]]:
    """``{pid: {function name: calls}}`` of the ``.tprof`` file ``path``, for
    the functions defined in ``script`` that were called, per process."""
    snap = read(path)
    out: dict[int, dict[str, int]] = {p.pid: {} for p in snap.processes} or {snap.pid: {}}
    for t in snap.threads:
        calls = out[snap.pid_of(t)]
        for fid, stats in thread_function_stats(t).items():
            f = snap.functions[fid]
            if stats.calls and os.path.realpath(f.filename) == os.path.realpath(script):
                calls[f.name] = calls.get(f.name, 0) + stats.calls
    return out


def statuses(path) -> dict[int, str]:
    return {p.pid: p.status for p in read(path).processes}


def workdir_files(workdir) -> list[str]:
    return sorted(p.name for p in workdir.iterdir() if not p.name.endswith(".py"))


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
    ("how", "status", "ended"),
    [
        ("os._exit", 7, "exited"),
        ("sys.exit", 7, "exited 7"),
        ("exception", 1, "exited 1"),
        ("return", 0, "exited"),
    ],
)
def test_fork(threadprof, python, write, workdir, engine, how, status, ended):
    prog = write("prog.py", FORK)
    ours = threadprof("run", "--engine", engine, "-o", "out.tprof", "prog.py", how)
    plain = python("prog.py", how)
    assert ours.returncode == plain.returncode == 0, ours.stderr
    pid, child_status = map(int, ours.stdout.split())
    assert child_status == status
    assert plain.stdout.split()[1] == str(status)
    assert workdir_files(workdir) == ["out.tprof"]
    calls = processes(workdir / "out.tprof", prog)
    root = next(p for p in calls if p != pid)
    assert calls == {
        root: {"<module>": 1, "before": 4, "in_parent": 2},
        pid: {"child": 1, "in_child": 3},
    }
    assert statuses(workdir / "out.tprof") == {root: "exited", pid: ended}
    # one report, the root's, of both; the child's traceback, if any, as Python prints it
    assert report_count(ours.stderr) == 1
    assert report_part(ours.stderr).count("wrote the tprof profile") == 1
    assert "2 processes" in ours.stderr
    assert ("ValueError: the child fails" in ours.stderr) == (how == "exception")
    assert error_lines(ours.stderr) == []


def test_no_follow_records_the_program_alone(threadprof, write, workdir):
    prog = write("prog.py", FORK)
    ours = threadprof("run", "--no-follow", "-o", "out.tprof", "prog.py", "return")
    assert ours.returncode == 0, ours.stderr
    assert workdir_files(workdir) == ["out.tprof"]
    snap = read(workdir / "out.tprof")
    assert snap.processes == []
    assert processes(workdir / "out.tprof", prog) == {
        snap.pid: {"<module>": 1, "before": 4, "in_parent": 2}
    }
    assert report_count(ours.stderr) == 1
    assert "processes" not in ours.stderr
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
    ours = threadprof("run", "-o", "out.tprof", "prog.py")
    assert ours.returncode == 0, ours.stderr
    pid, status = map(int, ours.stdout.split())
    assert status == 5
    calls = processes(workdir / "out.tprof", prog)
    root = next(p for p in calls if p != pid)
    assert calls == {root: {"<module>": 1, "forker": 1}, pid: {"in_child": 3}}


OUTLIVES_PARENT = """\
import os, sys, time

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
time.sleep(0.5)  # the child has started: a child forked as the root ends may not
"""


def test_child_that_outlives_the_parent_is_listed_as_running(threadprof, write, workdir):
    # the child waits for the root to exit: the root waits for it (WAIT
    # seconds), then lists it as running; its profile, written once the root
    # has gone, goes nowhere (the directory is gone too)
    prog = write("prog.py", OUTLIVES_PARENT)
    ours = threadprof("run", "-o", "out.tprof", "prog.py")
    assert ours.returncode == 0, ours.stderr
    pid = int(ours.stdout)
    assert workdir_files(workdir) == ["out.tprof"]
    calls = processes(workdir / "out.tprof", prog)
    root = next(p for p in calls if p != pid)
    assert calls == {root: {"<module>": 1, "in_parent": 2}, pid: {}}
    assert statuses(workdir / "out.tprof") == {root: "exited", pid: "running"}
    assert report_count(ours.stderr) == 1
    assert error_lines(ours.stderr) == []


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
    ours = threadprof("run", "--engine", engine, "-o", "out.tprof", "prog.py", "process")
    assert ours.returncode == 0, ours.stderr
    lines = ours.stdout.splitlines()
    assert lines[0] == "exitcode 0"
    (pid,) = map(int, lines[1].split())
    calls = processes(workdir / "out.tprof", prog)
    root = next(p for p in calls if p != pid)
    assert calls == {root: {"<module>": 1, "main": 1, "square": 3}, pid: {"job": 1, "square": 5}}
    assert report_count(ours.stderr) == 1


@pytest.mark.parametrize("kind", ["pool", "pool-maxtasks"])
def test_multiprocessing_pool(threadprof, write, workdir, engine, kind):
    prog = write("prog.py", MULTIPROCESSING)
    ours = threadprof("run", "--engine", engine, "-o", "out.tprof", "prog.py", kind)
    assert ours.returncode == 0, ours.stderr
    children_line, workers_line = ours.stdout.splitlines()
    children = set(map(int, children_line.split()))
    workers = set(map(int, workers_line.split()))  # the children that ran a task
    assert workers <= children
    calls = processes(workdir / "out.tprof", prog)
    root = read(workdir / "out.tprof").processes[0].pid
    if kind == "pool":
        assert set(calls) == children | {root}
    else:
        # 10 tasks, 2 per worker; a worker started after the last task has none
        assert len(workers) >= 5
        assert set(calls) >= workers | {root}
    per_child = [c for pid, c in calls.items() if pid != root]
    assert sum(c.get("square", 0) for c in per_child) == 10
    assert sum(c.get("square_where", 0) for c in per_child) == 10
    assert all(set(c) <= {"square", "square_where"} for c in per_child)
    assert calls[root] == {"<module>": 1, "main": 1, "square": 3}
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
    ours = threadprof("run", "-o", "out.tprof", "prog.py")
    plain = python("prog.py")
    assert ours.returncode == 0, ours.stderr
    pid, exitcode = map(int, ours.stdout.split())
    assert exitcode == int(plain.stdout.split()[1]) == -signal.SIGTERM
    calls = processes(workdir / "out.tprof", prog)
    root = next(p for p in calls if p != pid)
    assert calls == {root: {"<module>": 1}, pid: {"serve": 1, "square": 4}}
    assert statuses(workdir / "out.tprof")[pid] == "killed by SIGTERM"


def test_one_file_for_the_whole_tree(threadprof, write, workdir):
    write("prog.py", MULTIPROCESSING)
    ours = threadprof("run", "prog.py", "process")
    assert ours.returncode == 0, ours.stderr
    assert sorted(os.listdir(workdir)) == ["prog.py", "threadprof.tprof"]
    assert len(read(workdir / "threadprof.tprof").processes) == 2
    assert report_count(ours.stderr) == 1
    assert error_lines(ours.stderr) == []


POOLS = """\
import concurrent.futures, multiprocessing, sys

def square(x):
    return x * x

def total(n):
    return sum(map(square, range(n)))

def main(kind, method):
    ctx = multiprocessing.get_context(method)
    if kind == "pool":
        with ctx.Pool(3) as pool:
            print(sum(pool.map(total, range(12), chunksize=1)))
    else:
        with concurrent.futures.ProcessPoolExecutor(3, mp_context=ctx) as ex:
            print(sum(ex.map(total, range(12))))
    print("done")
    sys.exit(3)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
"""


@pytest.mark.parametrize(
    ("kind", "method"),
    [("pool", "spawn"), ("executor", "forkserver"), ("pool", "forkserver"), ("executor", "spawn")],
)
def test_pools_of_every_start_method(threadprof, python, write, workdir, kind, method):
    """Exact calls across the workers, whichever ran which task; a forkserver's
    children are followed through the forkserver, a process of the tree too."""
    prog = write("prog.py", POOLS)
    ours = threadprof("run", "-o", "out.tprof", "prog.py", kind, method)
    plain = python("prog.py", kind, method)
    assert ours.returncode == plain.returncode == 3, ours.stderr
    assert ours.stdout == plain.stdout == "1210\ndone\n"
    snap = read(workdir / "out.tprof")
    calls = processes(workdir / "out.tprof", prog)
    root = snap.processes[0]
    assert root.status == "exited 3"
    assert calls[root.pid] == {"<module>": 1, "main": 1}
    workers = [c for pid, c in calls.items() if pid != root.pid]
    assert sum(c.get("total", 0) for c in workers) == 12
    assert sum(c.get("square", 0) for c in workers) == sum(range(12))  # 66
    parents = {p.pid: p.ppid for p in snap.processes}
    if method == "forkserver":
        # root -> the forkserver -> the workers
        (server,) = [pid for pid, ppid in parents.items() if ppid == root.pid]
        assert {pid for pid, ppid in parents.items() if ppid == server}
        assert all(c.get("total", 0) == 0 for pid, c in calls.items() if pid == server)
    else:
        assert all(ppid == root.pid for pid, ppid in parents.items() if pid != root.pid)
    assert all(p.recorded for p in snap.processes)
    assert report_count(ours.stderr) == 1
    assert error_lines(ours.stderr) == []


SUBPROCESSES = """\
import os, signal, subprocess, sys

def leaf():
    return 1

def main(kind):
    if kind == "top":
        for _ in range(3):
            leaf()
        subprocess.run([sys.executable, __file__, "middle"], check=True)
        print("exit", subprocess.run([sys.executable, __file__, "exit"]).returncode)
        print("kill", subprocess.run([sys.executable, __file__, "kill"]).returncode)
        subprocess.run([sys.executable, __file__, "execer"], check=True)
    elif kind == "execer":
        leaf()
        os.execv(sys.executable, [sys.executable, __file__, "exec"])
    elif kind == "middle":
        for _ in range(5):
            leaf()
        subprocess.run([sys.executable, __file__, "grandchild"], check=True)
    elif kind == "grandchild":
        for _ in range(7):
            leaf()
        print("grandchild", flush=True)
    elif kind == "exit":
        leaf()
        sys.stdout.flush()
        os._exit(4)
    elif kind == "kill":
        leaf()
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "exec":
        for _ in range(2):
            leaf()
        print("exec'd")

if __name__ == "__main__":
    main(sys.argv[1])
"""


def test_python_subprocesses_a_child_of_a_child_and_exec(threadprof, python, write, workdir):
    prog = write("prog.py", SUBPROCESSES)
    ours = threadprof("run", "-o", "out.tprof", "prog.py", "top")
    plain = python("prog.py", "top")
    assert ours.returncode == plain.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout == "grandchild\nexit 4\nkill -9\nexec'd\n"
    snap = read(workdir / "out.tprof")
    by_arg = {p.argv[-1]: p for p in snap.processes}
    calls = processes(workdir / "out.tprof", prog)
    root = snap.processes[0]
    middle = by_arg["middle"]
    (grandchild,) = [p for p in snap.processes if p.ppid == middle.pid]
    assert middle.ppid == root.pid
    assert calls[root.pid] == {"<module>": 1, "main": 1, "leaf": 3}
    assert calls[middle.pid] == {"<module>": 1, "main": 1, "leaf": 5}
    assert calls[grandchild.pid] == {"<module>": 1, "main": 1, "leaf": 7}
    assert calls[by_arg["exit"].pid] == {"<module>": 1, "main": 1, "leaf": 1}
    # SIGKILL: nothing recorded, listed as crashed
    assert by_arg["kill"].status == "crashed"
    assert not by_arg["kill"].recorded
    assert calls[by_arg["kill"].pid] == {}
    # os.execv: the child's profile until then, and the program it became
    execer, execd = by_arg["execer"], by_arg["exec"]
    assert execer.pid == execd.pid
    assert execer.ppid == execd.ppid == root.pid
    assert calls[execer.pid] == {"<module>": 2, "main": 2, "leaf": 3}
    assert report_count(ours.stderr) == 1
    assert error_lines(ours.stderr) == []


TERMINATED_MID_TASK = """\
import multiprocessing, sys, time

def square(x):
    return x * x

def init(b):
    global barrier
    barrier = b

def slow(i):
    for j in range(3):
        square(j)
    barrier.wait()
    while True:  # until terminated, in naps (a Python handler runs between them)
        time.sleep(0.05)

if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    barrier = ctx.Barrier(3)
    pool = ctx.Pool(2, initializer=init, initargs=(barrier,))
    pool.map_async(slow, range(2), chunksize=1)
    barrier.wait()  # both workers are inside slow()
    pool.terminate()  # SIGTERM to the workers, mid-task
    pool.join()
    print("terminated")
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_terminated_mid_task(threadprof, python, write, workdir, method):
    prog = write("prog.py", TERMINATED_MID_TASK)
    ours = threadprof("run", "-o", "out.tprof", "prog.py", method)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "terminated\n"
    snap = read(workdir / "out.tprof")
    calls = processes(workdir / "out.tprof", prog)
    root = snap.processes[0].pid
    workers = {pid: c for pid, c in calls.items() if pid != root}
    assert sorted(c.get("slow", 0) for c in workers.values()) == [1, 1]
    assert sum(c.get("square", 0) for c in workers.values()) == 6
    assert all(p.status == "killed by SIGTERM" for p in snap.processes if p.pid in workers)
    assert error_lines(ours.stderr) == []


CRASHES = """\
import json, os, signal, subprocess, sys, time

def before():
    return [[] for _ in range(50)]

def after():
    pass

def checkpointed():
    # threadprof's own directory: wait, allocating (the checkpoints are taken
    # by the garbage collector's callback), until this process's checkpoint is there
    folder = json.loads(os.environ["THREADPROF_FOLLOW"])["dir"]
    mine = f"{os.getpid()}-"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(n.startswith(mine) and n.endswith(".part.raw") for n in os.listdir(folder)):
            return True
        [[] for _ in range(10000)]  # containers, beyond the young generation's threshold
    return False

if __name__ == "__main__":
    if sys.argv[1] == "child":
        for _ in range(7):
            before()
        if not checkpointed():
            sys.exit("no checkpoint")
        for _ in range(3):
            after()
        os.kill(os.getpid(), signal.SIGKILL)
    print(subprocess.run([sys.executable, __file__, "child"]).returncode)
"""


def test_a_crashed_child_leaves_its_last_checkpoint(threadprof, write, workdir):
    prog = write("prog.py", CRASHES)
    ours = threadprof("run", "-o", "out.tprof", "prog.py", "parent")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == f"{-signal.SIGKILL}\n"
    snap = read(workdir / "out.tprof")
    _root, child = snap.processes
    assert (child.status, child.recorded) == ("crashed", True)
    calls = processes(workdir / "out.tprof", prog)
    assert calls[child.pid]["before"] == 7
    assert "after" not in calls[child.pid]  # after the checkpoint: lost in the crash
    assert calls[child.pid]["checkpointed"] == 1  # running at the checkpoint: a call
    # the checkpoint's own calls are not in the profile
    names = {
        snap.functions[f].qualname for t in snap.threads for f in t.tree_columns().func if f >= 0
    }
    assert not {"Checkpoint.write"} & names


INTERRUPTED = """\
import multiprocessing, sys, time

def square(x):
    return x * x

def serve(ready):
    for i in range(5):
        square(i)
    ready.set()
    while True:  # until multiprocessing ends it at the program's exit (daemon)
        time.sleep(0.05)

if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    ready = ctx.Event()
    p = ctx.Process(target=serve, args=(ready,), daemon=True)
    p.start()
    ready.wait()
    print("ready", flush=True)
    time.sleep(60)  # interrupted here
"""


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_an_interrupted_program_keeps_its_running_childs_profile(
    signalled, python, write, workdir, method
):
    """Ctrl-C in the program's process alone: multiprocessing ends its daemonic
    child at the exit (SIGTERM), which writes its profile first; the program's
    own is written after, with the child's in it."""
    prog = write("prog.py", INTERRUPTED)
    ours = signalled(signal.SIGINT, "run", "-q", "-o", "out.tprof", "prog.py", method)
    plain = signalled(signal.SIGINT, "prog.py", method, cli=False)
    assert ours.returncode == plain.returncode == -signal.SIGINT
    assert ours.stdout == plain.stdout == "ready\n"
    snap = read(workdir / "out.tprof")
    root, child = snap.processes
    assert (root.status, child.status) == ("interrupted", "killed by SIGTERM")
    calls = processes(workdir / "out.tprof", prog)
    # a spawned child runs the program's module again, as __mp_main__
    imported = {"<module>": 1} if method == "spawn" else {}
    assert calls[child.pid] == {**imported, "serve": 1, "square": 5}


OPTIONS = """\
import subprocess, sys

def leaf():
    return 1

if __name__ == "__main__":
    for _ in range(2 if sys.argv[1] == "parent" else 5):
        leaf()
    if sys.argv[1] == "parent":
        subprocess.run([sys.executable, __file__, "child"], check=True)
        pid = os.posix_spawn(sys.executable, [sys.executable, __file__, "spawned"], os.environ)
        os.waitpid(pid, 0)
"""


@pytest.mark.parametrize("flags", [("--clock", "cpu"), ("--engine", "legacy", "--timeline")])
def test_children_are_profiled_with_the_programs_options(threadprof, write, workdir, flags):
    prog = write("prog.py", "import os\n" + OPTIONS)
    ours = threadprof("run", *flags, "-o", "out.tprof", "prog.py", "parent")
    assert ours.returncode == 0, ours.stderr
    snap = read(workdir / "out.tprof")
    assert len(snap.processes) == 3  # the program, a subprocess, a posix_spawn
    assert snap.clock == ("cpu" if "cpu" in flags else "wall")
    assert snap.engine == ("legacy" if "legacy" in flags else snap.engine)
    # a timeline in every process, or in none
    assert {t.timeline is not None for t in snap.threads} == {"--timeline" in flags}
    calls = processes(workdir / "out.tprof", prog)
    assert sorted(c["leaf"] for c in calls.values()) == [2, 5, 5]


NESTED = """\
import subprocess, sys

def leaf():
    return 1

if __name__ == "__main__":
    leaf()
    if sys.argv[1] == "outer":
        # threadprof's own command line in a child: a run of its own, not a follower
        cli = [sys.executable, "-m", "threadprof", "run", "-q", "-o", "inner.tprof"]
        subprocess.run([*cli, __file__, "inner"], check=True)
"""


def test_threadprof_run_in_a_child_is_a_run_of_its_own(threadprof, write, workdir):
    from threadprof.boot import runs_threadprof

    assert runs_threadprof(["python", "-m", "threadprof", "run", "x.py"])
    assert runs_threadprof(["python", "-mthreadprof.cli", "run", "x.py"])
    assert runs_threadprof(["python", "-X", "dev", "/venv/bin/threadprof", "run", "x.py"])
    assert not runs_threadprof(["python", "-m", "pytest", "--threadprof"])
    assert not runs_threadprof(["python", "app.py", "-m", "threadprof"])
    assert not runs_threadprof(["python", "-c", "import threadprof"])
    prog = write("prog.py", NESTED)
    ours = threadprof("run", "-o", "out.tprof", "prog.py", "outer")
    assert ours.returncode == 0, ours.stderr
    assert error_lines(ours.stderr) == []
    assert processes(workdir / "inner.tprof", prog) == {
        read(workdir / "inner.tprof").pid: {"<module>": 1, "leaf": 1}
    }
    # the outer run's own process; the inner threadprof is not one of its followers
    outer = processes(workdir / "out.tprof", prog)
    assert list(outer.values()) == [{"<module>": 1, "leaf": 1}]


@pytest.mark.parametrize("children", [False, True])
def test_a_run_without_a_profile_leaves_no_directory(threadprof, write, workdir, children):
    """The profiler fails at the end (the program stopped it): no profile to
    merge into, and the followers' directory is removed all the same (the
    autouse fixture checks $TMPDIR)."""
    spawn = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'])\n"
    write("prog.py", (spawn if children else "") + "import threadprof\nthreadprof.stop()\n")
    ours = threadprof("run", "-o", "out.tprof", "prog.py")
    assert ours.returncode == 0, ours.stderr
    assert "the profiler failed, no profile" in ours.stderr
    assert workdir_files(workdir) == []


LOADS = """\
import subprocess, sys

def leaf():
    pass

if __name__ == "__main__":
    if sys.argv[1] == "child":
        for _ in range(4):
            leaf()
        print(sorted(m for m in sys.modules if m.startswith("threadprof")))
    else:
        subprocess.run([sys.executable, __file__, "child"], check=True)
"""


def test_a_follower_loads_the_profiler_alone_and_the_root_makes_its_model(
    threadprof, write, workdir
):
    prog = write("prog.py", LOADS)
    ours = threadprof("run", "-o", "out.tprof", "prog.py", "parent")
    assert ours.returncode == 0, ours.stderr
    loaded = set(eval(ours.stdout))  # the child's threadprof modules, as it runs
    assert {"threadprof._core", "threadprof.boot", "threadprof.follower"} <= loaded
    # what makes, writes or merges profiles is the root's work
    assert not loaded & {
        "threadprof.model",
        "threadprof.rawmodel",
        "threadprof.tprof",
        "threadprof.trim",
        "threadprof.merge",
        "threadprof.follow",
    }
    snap = read(workdir / "out.tprof")
    _root, child = snap.processes
    assert (child.status, child.recorded, child.argv[-1]) == ("exited", True, "child")
    calls = processes(workdir / "out.tprof", prog)
    assert calls[child.pid] == {"<module>": 1, "leaf": 4, "<genexpr>": 1}
