# SPDX-License-Identifier: MIT
"""Threads still running when the program ends: daemon threads that loop or
block forever, and non-daemon threads that never end. Nothing crashes or hangs
(beyond what Python itself does), the profile is written, and those threads
are in it."""

from __future__ import annotations

import signal

from cli_helpers import callers_of, calls_in, error_lines, report_part

LOOPING_DAEMON = """\
import threading

def work(n):
    return sum(range(n))

def spin():
    pass

started = threading.Event()

def looper():
    for _ in range(6):
        work(10)
    started.set()
    while True:  # calls forever, also while the interpreter shuts down
        spin()

threading.Thread(target=looper, name="looper", daemon=True).start()
started.wait()
for _ in range(2):
    work(10)
print("main code ends", flush=True)
"""


def thread_names(report: str) -> list[str]:
    """The names in the threads table."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["thread"])
    names = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        names.append(line[2:].split()[0])
    return names


def test_daemon_thread_looping_forever(threadprof, python, write, workdir, engine):
    prog = write("prog.py", LOOPING_DAEMON)
    ours = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout == "main code ends\n"
    assert callers_of(workdir / "out.prof", prog, "work") == {"looper": 6, "<module>": 2}
    assert calls_in(workdir / "out.prof", prog)["spin"] >= 1  # recorded up to the stop
    assert thread_names(report_part(ours.stderr)) == ["MainThread", "looper"]
    assert error_lines(ours.stderr) == []


BLOCKED_DAEMONS = """\
import threading, time

def work(n):
    return sum(range(n))

ready = threading.Barrier(3)

def waits_for_an_event():
    for _ in range(4):
        work(10)
    ready.wait()
    threading.Event().wait()  # never set

def sleeps():
    for _ in range(5):
        work(10)
    ready.wait()
    time.sleep(10**6)

threading.Thread(target=waits_for_an_event, name="waiter", daemon=True).start()
threading.Thread(target=sleeps, name="sleeper", daemon=True).start()
ready.wait()
print("main code ends", flush=True)
"""


def test_daemon_threads_blocked_forever(threadprof, python, write, workdir, engine):
    prog = write("prog.py", BLOCKED_DAEMONS)
    ours = threadprof("run", "--engine", engine, "-o", "out.prof", "prog.py")
    plain = python("prog.py")
    assert plain.returncode == ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout == "main code ends\n"
    assert callers_of(workdir / "out.prof", prog, "work") == {
        "waits_for_an_event": 4,
        "sleeps": 5,
    }
    assert sorted(thread_names(report_part(ours.stderr))) == ["MainThread", "sleeper", "waiter"]


NEVER_ENDING = """\
import threading

def work(n):
    return sum(range(n))

started = threading.Event()

def forever():
    for _ in range(5):
        work(10)
    started.set()
    threading.Event().wait()  # never set: Python waits for this thread at exit

threading.Thread(target=forever, name="forever").start()
started.wait()
for _ in range(2):
    work(10)

def at_shutdown():
    # runs once the main code has ended, where the interpreter (or threadprof)
    # starts waiting for the threads; it waits too, as an executor's hook that
    # joins its workers does
    print("ready", flush=True)
    threading.Event().wait()

threading._register_atexit(at_shutdown)
"""


def test_thread_that_never_ends_then_sigterm(signalled, write, workdir, engine):
    # Python waits forever for a non-daemon thread; SIGTERM ends the wait, and
    # the profile is still written
    prog = write("prog.py", NEVER_ENDING)
    ours = signalled(signal.SIGTERM, "run", "--engine", engine, "-o", "out.prof", "prog.py")
    plain = signalled(signal.SIGTERM, "prog.py", cli=False)
    assert plain.returncode == ours.returncode == -signal.SIGTERM, ours.stderr
    assert callers_of(workdir / "out.prof", prog, "work") == {"forever": 5, "<module>": 2}
    assert thread_names(report_part(ours.stderr)) == ["MainThread", "forever"]


def test_thread_that_never_ends_then_ctrl_c(signalled, python, write, workdir):
    # Python 3.11 then exits with 0, 3.12 and 3.13 print the KeyboardInterrupt
    # and keep waiting; threadprof stops waiting, writes the profile and ends by
    # SIGINT, as after any Ctrl-C (docs/cli.md)
    prog = write("prog.py", NEVER_ENDING)
    ours = signalled(signal.SIGINT, "run", "-o", "out.prof", "prog.py")
    assert ours.returncode == -signal.SIGINT, ours.stderr
    assert error_lines(ours.stderr) == [
        "threadprof: error: interrupted while waiting for the program's threads"
    ]
    assert callers_of(workdir / "out.prof", prog, "work") == {"forever": 5, "<module>": 2}


SLEEPING = """\
import threading

def work(n):
    return sum(range(n))

threading.Thread(target=threading.Event().wait, args=(60,), name="sleeper").start()
work(10)
# the last thing before the wait for the threads, which is in C from 3.13
threading._register_atexit(lambda: print("ready", flush=True))
"""


def test_ctrl_c_while_waiting_for_a_sleeping_thread(signalled, write, workdir):
    # every version alike: the wait stops, the profile is written, the process
    # ends by SIGINT (3.13 reports the interrupt of its C wait as unraisable)
    prog = write("prog.py", SLEEPING)
    ours = signalled(signal.SIGINT, "run", "-o", "out.prof", "prog.py")
    assert ours.returncode == -signal.SIGINT, ours.stderr
    assert error_lines(ours.stderr) == [
        "threadprof: error: interrupted while waiting for the program's threads"
    ]
    assert "Traceback" not in ours.stderr
    assert callers_of(workdir / "out.prof", prog, "work") == {"<module>": 1}


def test_no_thread_left_behind_by_threadprof(threadprof, write):
    # threadprof starts no thread of its own that could keep a process alive
    write(
        "prog.py",
        """\
        import os, threading
        tasks = "/proc/self/task"  # every OS thread, where there is /proc
        print(len(os.listdir(tasks)) if os.path.isdir(tasks) else threading.active_count())
        """,
    )
    proc = threadprof("run", "-q", "prog.py")
    assert proc.stdout == "1\n", proc.stderr
