# SPDX-License-Identifier: MIT
"""``pytest --threadprof``, as a user runs it: pytest in a subprocess on a
sample project whose tests start threads, with and without pytest-xdist."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from threadprof.readers import read_profile

PROJECT = {
    "pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n",
    "test_threads.py": """\
        import threading

        def work(n):
            return n * 2

        def run_threads(calls):
            def load():
                return [work(i) for i in range(calls)]

            threads = [threading.Thread(target=load, name=f"loader-{k}") for k in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        def test_two_threads():
            run_threads(5)

        def test_more_calls():
            run_threads(7)
        """,
    "test_plain.py": """\
        from test_threads import work

        def test_in_the_main_thread():
            assert [work(i) for i in range(3)] == [0, 2, 4]

        def test_that_fails():
            assert work(1) == 3
        """,
}


@pytest.fixture
def project(tmp_path):
    for name, text in PROJECT.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def pytest_run(project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def calls_of(snapshot, name: str) -> int:
    ids = {f.id for f in snapshot.functions if f.name == name}
    return sum(n.calls for t in snapshot.threads for n in t.nodes if n.func in ids)


def test_session_profile_sees_the_tests_threads(project):
    proc = pytest_run(project, "--threadprof", "--threadprof-top", "1000")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the failing test's status is kept
    assert "1 failed, 3 passed" in proc.stdout
    snap = read_profile(project / ".threadprof" / "session.tprof")
    names = [t.name for t in snap.threads]
    assert names.count("loader-0") == 2 and names.count("loader-1") == 2
    # 2 threads x (5 + 7) calls, then 3 + 1 in the main thread: exact
    assert calls_of(snap, "work") == 2 * (5 + 7) + 3 + 1
    summary = proc.stdout.split("threadprof ====", 1)[1]
    assert "work (test_threads.py:3)" in summary
    assert "_pytest" not in summary  # the tests' code, not pytest's
    assert "threadprof: 1 profile(s) in .threadprof/" in summary


def test_a_profile_per_test(project):
    proc = pytest_run(project, "--threadprof", "--threadprof-scope=test", "--threadprof-dir=prof")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    files = sorted(p.name for p in (project / "prof").iterdir())
    assert files == [
        "test_plain.py_test_in_the_main_thread.tprof",
        "test_plain.py_test_that_fails.tprof",
        "test_threads.py_test_more_calls.tprof",
        "test_threads.py_test_two_threads.tprof",
    ]
    more = read_profile(project / "prof" / "test_threads.py_test_more_calls.tprof")
    assert calls_of(more, "work") == 2 * 7
    assert sorted(t.name for t in more.threads)[-2:] == ["loader-0", "loader-1"]
    assert "the 4 slowest of 4 tests (wall time):" in proc.stdout
    assert "test_threads.py::test_more_calls" in proc.stdout


def test_a_profile_per_module(project):
    proc = pytest_run(project, "--threadprof", "--threadprof-scope=module")
    assert proc.returncode == 1
    files = sorted(p.name for p in (project / ".threadprof").iterdir())
    assert files == ["test_plain.py.tprof", "test_threads.py.tprof"]
    threads = read_profile(project / ".threadprof" / "test_threads.py.tprof")
    assert calls_of(threads, "work") == 2 * (5 + 7)


def test_without_the_option_nothing_happens(project):
    """Not even an import of threadprof (and of its C core) in the run."""
    (project / "test_modules.py").write_text(
        "import sys\n\ndef test_threadprof_not_loaded():\n"
        "    assert 'threadprof' not in sys.modules\n"
    )
    proc = pytest_run(project)
    assert proc.returncode == 1
    assert "1 failed, 4 passed" in proc.stdout
    assert not (project / ".threadprof").exists()
    assert "threadprof" not in proc.stdout


def test_xdist_workers_profiles_are_merged(project):
    proc = pytest_run(project, "--threadprof", "-n", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    snap = read_profile(project / ".threadprof" / "session.tprof")
    # every worker's threads, named after it; the calls of all of them
    assert calls_of(snap, "work") == 2 * (5 + 7) + 3 + 1
    prefixes = {t.name.split(":", 1)[0] for t in snap.threads}
    assert prefixes == {"gw0", "gw1"}
    parts = sorted(p.name for p in (project / ".threadprof").glob("session-*.tprof"))
    assert parts == ["session-gw0.tprof", "session-gw1.tprof"]


def test_xdist_per_test_summary_reaches_the_controller(project):
    proc = pytest_run(project, "--threadprof", "--threadprof-scope=test", "-n", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the 4 slowest of 4 tests (wall time):" in proc.stdout
    assert len(list((project / ".threadprof").glob("*.tprof"))) == 4


def test_test_ids_that_read_the_same_as_file_names_get_files_of_their_own(project):
    (project / "test_params.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('x', ['a/b', 'a_b', 'a b'])\n"
        "def test_p(x):\n    pass\n"
    )
    proc = pytest_run(project, "test_params.py", "--threadprof", "--threadprof-scope=test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(p.name for p in (project / ".threadprof").iterdir())
    assert files == [
        "test_params.py_test_p_a_b-2.tprof",
        "test_params.py_test_p_a_b-3.tprof",
        "test_params.py_test_p_a_b.tprof",
    ]
