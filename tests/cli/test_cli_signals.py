# SPDX-License-Identifier: MIT
"""Signals from outside: the profile is written and the process ends as the
program would have ended without threadprof.

Each program prints ``ready`` and then blocks reading stdin; the test sends the
signal, then closes stdin, so a program that survives the signal goes on. Each
run is compared with the same program under plain ``python``.
"""

from __future__ import annotations

import signal

import pytest
from cli_helpers import before_report, callers_of, calls_in, error_lines, report_part

from threadprof.model import thread_function_stats
from threadprof.readers import read_profile

PROGRAM = """\
import atexit, sys, threading
{setup}
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
print("ready", flush=True)
sys.stdin.read()  # the test sends the signal here
for _ in range(5):
    work(10)
print("survived", flush=True)
"""


def program(write, setup: str = ""):
    return write("prog.py", PROGRAM.format(setup=setup))


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_fatal_signal_writes_the_profile_and_kills(signalled, write, workdir, engine, signame):
    prog = program(write)
    signum = getattr(signal, signame)
    ours = signalled(signum, "run", "--engine", engine, "-o", "out.prof", "prog.py")
    plain = signalled(signum, "prog.py", cli=False)
    assert plain.returncode == -signum
    assert ours.returncode == plain.returncode, ours.stderr
    assert ours.stdout == plain.stdout == "ready\n"  # no atexit handler, as in Python
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "work": 7, "worker": 1}
    assert callers_of(workdir / "out.prof", prog, "work") == {"<module>": 4, "worker": 3}
    report = report_part(ours.stderr)
    assert "worker" in report and "wrote the pstats profile to out.prof" in report
    assert before_report(ours.stderr) == ""
    assert error_lines(ours.stderr) == []


def test_handler_frames_are_not_in_the_profile(signalled, write, workdir):
    program(write)
    ours = signalled(signal.SIGTERM, "run", "-o", "out.prof", "prog.py")
    assert ours.returncode == -signal.SIGTERM
    import pstats

    names = {name for _f, _l, name in pstats.Stats(str(workdir / "out.prof")).stats}
    assert "on_fatal_signal" not in names and "stop" not in names


def test_program_handler_is_kept_and_decides(signalled, write, workdir):
    # the program's handler turns SIGTERM into sys.exit(5)
    prog = program(
        write,
        setup="import signal\n"
        "def on_term(signum, frame):\n"
        "    print('handled', flush=True)\n"
        "    sys.exit(5)\n"
        "signal.signal(signal.SIGTERM, on_term)\n",
    )
    ours = signalled(signal.SIGTERM, "run", "-o", "out.prof", "prog.py")
    plain = signalled(signal.SIGTERM, "prog.py", cli=False)
    assert plain.returncode == 5
    assert ours.returncode == 5, ours.stderr
    assert ours.stdout == plain.stdout == "ready\nhandled\natexit ran\n"
    assert calls_in(workdir / "out.prof", prog) == {
        "<module>": 1,
        "work": 7,
        "worker": 1,
        "on_term": 1,
    }


def test_program_handler_that_returns_lets_the_program_go_on(signalled, write, workdir):
    prog = program(
        write,
        setup="import signal\n"
        "signal.signal(signal.SIGTERM, lambda s, f: print('handled', flush=True))\n",
    )
    ours = signalled(signal.SIGTERM, "run", "-o", "out.prof", "prog.py")
    plain = signalled(signal.SIGTERM, "prog.py", cli=False)
    assert plain.returncode == ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout == "ready\nhandled\nsurvived\natexit ran\n"
    assert calls_in(workdir / "out.prof", prog)["work"] == 12


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as nohup does for SIGHUP


def test_ignored_signal_stays_ignored(signalled, write, workdir):
    prog = program(write)
    ours = signalled(signal.SIGTERM, "run", "-o", "out.prof", "prog.py", preexec=_ignore_sigterm)
    plain = signalled(signal.SIGTERM, "prog.py", cli=False, preexec=_ignore_sigterm)
    assert plain.returncode == ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout == "ready\nsurvived\natexit ran\n"
    assert calls_in(workdir / "out.prof", prog)["work"] == 12


def test_sigint_from_outside(signalled, write, workdir, engine):
    prog = program(write)
    ours = signalled(signal.SIGINT, "run", "--engine", engine, "-o", "out.prof", "prog.py")
    plain = signalled(signal.SIGINT, "prog.py", cli=False)
    assert plain.returncode == -signal.SIGINT
    assert ours.returncode == plain.returncode, ours.stderr
    assert ours.stdout == plain.stdout == "ready\natexit ran\n"
    assert before_report(ours.stderr).splitlines()[-1] == "KeyboardInterrupt"
    assert calls_in(workdir / "out.prof", prog) == {"<module>": 1, "work": 7, "worker": 1}
    assert report_part(ours.stderr)


LOST = """\
import os, signal, sys, threading, time

def work(n):
    return sum(range(n))

def elsewhere(lock):
    work(10)
    # the signal lands in this thread; the main thread, blocked in a C call,
    # would never run a Python handler
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
    time.sleep(60)

def block():
    lock = threading.Lock()
    lock.acquire()
    threading.Thread(target=elsewhere, args=(lock,), daemon=True).start()
    lock.acquire()
    print("survived", flush=True)

if sys.argv[1:] == ["fork"]:
    pid = os.fork()
    if pid == 0:
        block()
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status), flush=True)
else:
    print("blocking", flush=True)
    block()
"""


def test_a_signal_that_lands_in_another_thread_still_ends_the_process(
    threadprof, python, write, workdir, engine
):
    prog = write("lost.py", LOST)
    plain = python("lost.py")
    assert plain.returncode == -signal.SIGTERM
    # the Python handler that writes the profile needs the main thread, blocked
    # in lock.acquire(): the signal is sent to it again until the handler runs
    ours = threadprof("run", "--engine", engine, "-q", "-o", "out.prof", "lost.py")
    assert ours.returncode == plain.returncode, ours.stderr
    assert ours.stdout == plain.stdout == "blocking\n"
    assert calls_in(workdir / "out.prof", prog) == {
        "<module>": 1,
        "block": 1,
        "elsewhere": 1,
        "work": 1,
    }


def test_a_forked_child_watches_its_own_signals(threadprof, python, write, workdir):
    prog = write("lost.py", LOST)
    plain = python("lost.py", "fork")
    assert plain.stdout == f"child {-signal.SIGTERM}\n"
    ours = threadprof("run", "-q", "-o", "out.tprof", "lost.py", "fork")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout
    snap = read_profile(workdir / "out.tprof")
    _root, child = snap.processes
    assert child.status == "killed by SIGTERM"
    calls = {}
    for t in snap.threads:
        if t.process == 1:
            for fid, stats in thread_function_stats(t).items():
                f = snap.functions[fid]
                if stats.calls and f.filename.endswith(prog.name):
                    calls[f.name] = calls.get(f.name, 0) + stats.calls
    assert calls == {"block": 1, "elsewhere": 1, "work": 1}
