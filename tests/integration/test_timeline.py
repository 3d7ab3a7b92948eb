# SPDX-License-Identifier: MIT
"""Timeline mode: every call and return of every thread, in order, bounded."""

from __future__ import annotations

import os
import sys
import sysconfig
import threading

import pytest
from shared import make_timer

import threadprof


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def replay(snap, thread):
    """Replay a thread's timeline into {path: calls}, checking nesting."""
    stack: list[int] = []
    counts: dict[tuple[int, ...], int] = {}
    last = None
    for code, t in thread.timeline:
        assert last is None or t >= last
        last = t
        if code >= 0:
            stack.append(code)
            path = tuple(stack)
            counts[path] = counts.get(path, 0) + 1
        else:
            assert stack and stack[-1] == ~code, "a return that does not match its call"
            stack.pop()
    return counts, stack


def tree_counts(thread):
    """{path: calls + seeded} from the call tree, as the timeline has them."""
    out = {}
    for node, _depth in thread.walk():
        out[tuple(thread.path(node.id))] = node.calls or 1
    return out


def test_timeline_replays_into_the_call_tree(engine):
    def work():
        fib(12)
        sorted([3, 1, 2])

    with threadprof.profile(engine=engine, timeline=True) as p:
        threads = [threading.Thread(target=work, name=f"tl-{i}") for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    snap = p.snapshot()
    for name in ("tl-0", "tl-1", "tl-2"):
        th = snap.thread(name)
        counts, open_frames = replay(snap, th)
        assert open_frames == []  # balanced at stop
        assert counts == tree_counts(th)
        assert th.timeline.events == 2 * sum(counts.values())
        assert th.timeline.dropped == 0


def test_exact_timestamps_under_a_fake_timer(engine):
    def c():
        pass

    def a():
        c()
        c()

    prof = threadprof.Profile(make_timer(), 1.0, engine=engine, timeline=True)
    prof.runcall(a)
    snap = prof.snapshot()
    th = snap.thread("MainThread")
    names = {f.id: f.name for f in snap.functions}
    events = [
        (("call " if code >= 0 else "ret  ") + names[code if code >= 0 else ~code], t)
        for code, t in th.timeline
    ]
    # enable reads the timer once (tick 1 = the origin); then one tick per event
    assert events[:6] == [
        ("call a", 1),
        ("call c", 2),
        ("ret  c", 3),
        ("call c", 4),
        ("ret  c", 5),
        ("ret  a", 6),
    ]


def test_spilled_timeline_keeps_memory_bounded(engine):
    with threadprof.profile(engine=engine, timeline=True) as p:
        fib(20)  # 21891 calls: 43782 events
        mid = p._memory()
        fib(23)  # 92735 calls more
        end = p._memory()
    snap = p.snapshot()
    th = snap.thread("MainThread")
    counts, open_frames = replay(snap, th)
    assert open_frames == []
    fib_id = next(f.id for f in snap.functions if f.name == "fib")
    assert sum(n for path, n in counts.items() if path[-1] == fib_id) == 21891 + 92735
    assert end - mid < 64 * 1024  # the events went to the spill file


def test_spilled_chunks_are_written_to_the_profile_as_they_were_spilled(engine, tmp_path):
    """Each full chunk goes to the spill file encoded as a .tprof section
    holds it: the snapshot's timeline gives those chunks still encoded, and
    writing the profile copies them, byte for byte, into its sections."""
    from threadprof import tprof
    from threadprof.exporters import get_exporter
    from threadprof.model import EncodedChunk

    with threadprof.profile(engine=engine, timeline=True) as p:
        fib(23)  # 92735 calls: 185470 events, most of them spilled
    snap = p.snapshot()
    tl = snap.thread("MainThread").timeline
    pieces = list(tl.pieces())
    encoded = [piece for piece in pieces if isinstance(piece, EncodedChunk)]
    assert sum(piece.count for piece in encoded) >= 185470 - 2 * tprof.CHUNK_EVENTS
    assert [piece.count for piece in encoded[-5:]] == [tprof.CHUNK_EVENTS] * 5
    decoded = [piece.decode() if isinstance(piece, EncodedChunk) else piece for piece in pieces]
    assert decoded == list(tl.chunks())
    path = tmp_path / "x.tprof"
    get_exporter("tprof").write(snap, path)
    data = path.read_bytes()
    assert all(piece.payload in data for piece in encoded)
    back = tprof.read(path)
    assert list(back.thread("MainThread").timeline) == list(tl)
    assert fib_count(back) == 92735


def fib_calls(n):
    return 1 if n < 2 else 1 + fib_calls(n - 1) + fib_calls(n - 2)


def fib_count(snap, closed=True):
    th = snap.thread("MainThread")
    counts, open_frames = replay(snap, th)
    assert open_frames == [] or not closed
    fib_id = next(f.id for f in snap.functions if f.name == "fib")
    return sum(n for path, n in counts.items() if path[-1] == fib_id)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_profile_reused_across_fork_gets_its_own_spill_file(engine):
    # spilled before the fork, enabled again on both sides: each process
    # must append to a spill file of its own, or each reads the other's
    # events where its own should be
    p = threadprof.Profile(engine=engine, timeline=True)
    p.runcall(fib, 20)
    assert p._timeline_fd >= 0
    before = fib_calls(20)
    early = p.snapshot()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            p.runcall(fib, 21)
            status = 0 if fib_count(p.snapshot()) == before + fib_calls(21) else 2
            if fib_count(early) != before:  # read from the copy, same descriptor
                status = 3
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    p.runcall(fib, 19)
    assert fib_count(p.snapshot()) == before + fib_calls(19)
    assert fib_count(early) == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_while_recording_spills_to_its_own_file(engine):
    p = threadprof.Profile(engine=engine, timeline=True)
    p.enable()
    fib(20)
    early = p.snapshot()  # the snapshot() call itself is still open in it
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            fib(21)
            p.disable()
            status = 0 if fib_count(p.snapshot()) == fib_calls(21) else 2
            if fib_count(early, closed=False) != fib_calls(20):  # the kept file
                status = 3
        finally:
            os._exit(status)
    fib(19)
    p.disable()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert fib_count(p.snapshot()) == fib_calls(20) + fib_calls(19)


SPILL_FAILS = """
import json, resource, signal, sys, threading
import threadprof

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit: EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

p = threadprof.Profile(engine=sys.argv[1], timeline=True)
if sys.argv[2] == "budget":  # the spill of every thread at once fails
    p._timeline_budget = 5000
p.enable()
fib(22)
mid = p._memory()
threads = [threading.Thread(target=fib, args=(25,)) for _ in range(2)]
for t in threads:
    t.start()
fib(27)
for t in threads:
    t.join()
end = p._memory()
p.disable()  # a degraded timeline is a warning, not a failure
snap = p.snapshot()
out = {"grew": end - mid, "warnings": snap.warnings, "threads": []}
for th in snap.threads:
    out["threads"].append({
        "events": th.timeline.events,
        "dropped": th.timeline.dropped,
        "calls": sum(n.calls for n in th.nodes[1:]),
        "timeline": [[code, t] for code, t in th.timeline],
    })
print(json.dumps(out))
"""


def check_suffix(timeline):
    """The last events of a well-nested run: times in order, and every return
    matches its call unless that call came before the first kept event."""
    stack, last = [], None
    for code, t in timeline:
        assert last is None or t >= last
        last = t
        if code >= 0:
            stack.append(code)
        elif stack:
            assert stack.pop() == ~code
    return stack


@pytest.mark.parametrize("spill", ["own", "budget"])
def test_a_failing_spill_file_falls_back_to_a_ring_without_duplicates(engine, spill, tmp_path):
    # RLIMIT_FSIZE makes the spill file's writes fail past 1 MiB, as a full
    # TMPDIR would: before the fix memory grew with every event and the chunks
    # written before the failure were read twice
    import json
    import subprocess

    script = tmp_path / "spill_fails.py"
    script.write_text(SPILL_FAILS)
    proc = subprocess.run(
        [sys.executable, str(script), engine, spill], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    [warning] = [w for w in out["warnings"] if "spill file" in w]
    assert "File too large" in warning and "last 262144 events" in warning
    assert out["grew"] < 3 * 4 * 1024 * 1024  # three rings of 3 MiB, not 20 MB of events
    for th in out["threads"]:
        assert th["events"] == len(th["timeline"])
        assert th["events"] + th["dropped"] == 2 * th["calls"]  # each event once
        assert th["events"] <= 262144 or th["dropped"] == 0
        check_suffix(th["timeline"])


def test_timeline_limit_keeps_the_last_events(engine):
    with threadprof.profile(engine=engine, timeline=True, timeline_limit=5000) as p:
        fib(20)
    snap = p.snapshot()
    tl = snap.thread("MainThread").timeline
    events = list(tl)
    assert len(events) == tl.events == 5000
    assert tl.dropped > 0
    assert tl.dropped + tl.events >= 2 * 21891
    times = [t for _, t in events]
    assert times == sorted(times)


def test_snapshot_while_running_has_the_open_calls(engine):
    with threadprof.profile(engine=engine, timeline=True) as p:

        def outer():
            return p.snapshot()

        snap = outer()
    th = snap.thread("MainThread")
    _counts, open_frames = replay(snap, th)
    names = [snap.functions[f].name for f in open_frames]
    assert "outer" in names  # still running when the snapshot was taken


def test_no_timeline_unless_asked(engine):
    with threadprof.profile(engine=engine) as p:
        fib(5)
    assert all(t.timeline is None for t in p.snapshot().threads)


def test_negative_limit_is_an_error():
    with pytest.raises(ValueError, match="timeline_limit"):
        threadprof.Profile(timeline=True, timeline_limit=-1)


@pytest.mark.skipif(
    bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    reason="without the GIL no thread spills the chunks of the others: the memory "
    "budget is not enforced (docs/design.md)",
)
def test_threads_that_end_do_not_keep_timeline_memory(engine):
    """Short threads never fill a chunk; the memory budget spills them all."""

    def short():
        fib(9)  # 109 calls: a chunk that never fills

    def run(budget):
        p = threadprof.Profile(engine=engine, timeline=True, seed_stacks=True)
        if budget:
            p._timeline_budget = budget  # events, across all threads
        with p:
            for _ in range(20):
                threads = [threading.Thread(target=short) for _ in range(10)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            return p, p._memory()

    _, kept = run(None)  # the default budget is far above these 44k events
    p, spilled = run(4096)
    # each of the 200 threads had at least a 64-event chunk of 12-byte events
    assert kept - spilled >= 200 * 64 * 12
    snap = p.snapshot()
    fib_id = next(f.id for f in snap.functions if f.name == "fib")
    workers = [t for t in snap.threads if t.name != "MainThread"]
    assert len(workers) == 200
    for th in workers:
        counts, open_frames = replay(snap, th)
        assert open_frames == []
        assert sum(n for path, n in counts.items() if path[-1] == fib_id) == 109


@pytest.mark.parametrize("limit", [0, 5000])
def test_the_codes_alone_are_the_chunks_codes(engine, limit):
    """Timeline.codes(), which the trims read (from the spill file, the codes
    without their times), gives the codes of chunks(): spilled chunks, chunks
    in memory, and a limit's cut in the first of them."""
    with threadprof.profile(engine=engine, timeline=True, timeline_limit=limit) as p:
        fib(23)  # 92735 calls: spilled unless limited
    tl = p.snapshot().thread("MainThread").timeline
    assert tl.codes_source is not None
    chunks = list(tl.chunks())
    codes = list(tl.codes())
    assert [len(c) for c in codes] == [len(f) for f, _ in chunks]
    assert codes == [f for f, _ in chunks]
    assert sum(map(len, codes)) == tl.events
    assert (tl.dropped > 0) == (limit > 0)
