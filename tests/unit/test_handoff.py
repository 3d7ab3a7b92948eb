# SPDX-License-Identifier: MIT
"""A follower's raw profile (threadprof.handoff.write_raw) as the root reads
it (threadprof.follow.read_raw): the C core's raw snapshot, made the model
only in the root, with the follower's pid, command line and Python version;
refused if it is not one or another version of threadprof wrote it."""

from __future__ import annotations

import marshal
import os
import sys

import pytest

import threadprof
from threadprof.build import python_version
from threadprof.follow import Follow, read_raw
from threadprof.follower import Follower
from threadprof.handoff import RAW_FORMAT, mark_start, write_raw, write_raw_checkpoint


def leaf():
    pass


def recorded(timeline=False):
    profiler = threadprof.Profile(timeline=timeline)
    profiler.enable()
    for _ in range(6):
        leaf()
    profiler.disable()
    return profiler


def leaf_calls(snap):
    stats = snap.function_stats()
    return sum(s.calls for f, s in stats.items() if snap.functions[f].name == "leaf")


def test_the_raw_profile_and_its_end_round_trip(tmp_path):
    profiler = recorded()
    write_raw(str(tmp_path), "42-1", profiler._raw_snapshot(), "killed by SIGTERM", True)
    assert sorted(os.listdir(tmp_path)) == ["42-1.end", "42-1.raw"]  # no temporary left
    snap = read_raw(str(tmp_path / "42-1.raw"))
    assert leaf_calls(snap) == 6
    assert (snap.pid, snap.argv, snap.python_version) == (
        os.getpid(),
        sys.argv,
        python_version(),
    )
    assert (tmp_path / "42-1.end").read_text() == '{"status": "killed by SIGTERM"}'


def test_a_short_command_line_and_a_checkpoint_without_timelines(tmp_path):
    profiler = recorded(timeline=True)
    write_raw_checkpoint(str(tmp_path), "7-2", profiler._raw_snapshot(), False)
    assert os.listdir(tmp_path) == ["7-2.part.raw"]
    snap = read_raw(str(tmp_path / "7-2.part.raw"))
    assert leaf_calls(snap) == 6
    assert snap.argv == sys.argv[:1]
    assert all(t.timeline is None for t in snap.threads)


def test_nothing_is_written_once_the_roots_directory_is_gone(tmp_path):
    gone = str(tmp_path / "gone")
    write_raw(gone, "1-1", recorded()._raw_snapshot(), "exited", True)
    write_raw_checkpoint(gone, "1-1", recorded()._raw_snapshot(), True)
    assert not os.path.exists(gone)


@pytest.mark.parametrize(
    "data",
    [
        {"format": RAW_FORMAT, "version": "0.0.0-other"},
        {"format": "something else", "version": threadprof.__version__},
        ["not", "a", "dict"],
    ],
)
def test_another_versions_or_a_strange_file_is_refused(tmp_path, data):
    path = tmp_path / "1-1.raw"
    path.write_bytes(marshal.dumps(data))
    with pytest.raises(ValueError, match="not a raw profile of threadprof"):
        read_raw(str(path))


def test_the_root_says_which_profile_it_cannot_read_and_keeps_how_it_ended(tmp_path, monkeypatch):
    from threadprof.handoff import write_json

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    follow = Follow({})
    try:
        mark_start(follow.dir, "4242-1", True)
        with open(os.path.join(follow.dir, "4242-1.raw"), "wb") as f:
            marshal.dump({"format": RAW_FORMAT, "version": "0.0.0-other"}, f)
        write_json(os.path.join(follow.dir, "4242-1.end"), {"status": "exited 3"})
        root = recorded().snapshot()
        merged = follow.gather(root, "exited")
    finally:
        follow.remove()
    _root, child = merged.processes
    assert (child.pid, child.status, child.recorded) == (4242, "exited 3", False)
    (warning,) = [w for w in merged.warnings if "4242" in w]
    assert warning.startswith("process 4242: its profile cannot be read, left out (ValueError:")
    assert "not a raw profile of threadprof" in warning
    assert not os.path.exists(follow.dir)


@pytest.fixture
def follow(tmp_path, monkeypatch):
    """The root's directory of followers (removed after the test)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    follow = Follow({})
    yield follow
    follow.remove()


@pytest.mark.parametrize("timeline", [False, True])
def test_a_follower_that_recorded_nothing_is_not_listed_and_prints_nothing(
    follow, capsys, timeline
):
    """A follower killed as it started, before its profiler recorded a call,
    takes back its start mark and its checkpoint: the root lists it no more
    than one killed before it could mark its start."""
    follower = Follower(follow.dir, True, threadprof.Profile(timeline=timeline))
    follower.follow_key = "9-3"
    mark_start(follow.dir, "9-3", True)
    with open(os.path.join(follow.dir, "9-3.part.raw"), "wb"):
        pass
    follower.end()
    assert os.listdir(follow.dir) == []
    assert capsys.readouterr() == ("", "")
    root = recorded().snapshot()
    assert follow.gather(root, "exited") is root  # no follower started


@pytest.mark.parametrize("timeline", [False, True])
def test_a_follower_that_recorded_a_call_writes_its_profile_and_how_it_ended(
    follow, capsys, timeline
):
    follower = Follower(follow.dir, True, recorded(timeline))
    follower.follow_key = f"{os.getpid()}-4"
    mark_start(follow.dir, follower.follow_key, True)
    follower.status = "killed by SIGTERM"
    follower.end()
    key = follower.follow_key
    profile = f"{key}.tprof" if timeline else f"{key}.raw"
    assert sorted(os.listdir(follow.dir)) == sorted([f"{key}.end", profile, f"{key}.start"])
    assert capsys.readouterr() == ("", "")
    merged = follow.gather(recorded().snapshot(), "exited")
    assert [(p.status, p.recorded) for p in merged.processes] == [
        ("exited", True),
        ("killed by SIGTERM", True),
    ]
    assert leaf_calls(merged) == 12
