# SPDX-License-Identifier: MIT
"""The repair of timelines shared by the Chrome, Perfetto and speedscope exporters."""

from __future__ import annotations

from array import array

from threadprof.model import Timeline
from threadprof.replay import replay

F, G, H = 0, 1, 2


def run(events, chunk=None):
    """Replay ``(code, time)`` events; return the flat events, the chunk sizes and the replay."""
    if chunk is None:
        timeline = Timeline.from_events(events)
    else:

        def source():
            for i in range(0, len(events), chunk):
                part = events[i : i + chunk]
                yield array("i", [c for c, _ in part]), array("q", [t for _, t in part])

        timeline = Timeline(source, len(events))
    rep = replay(timeline)
    chunks = list(rep)
    return [e for c in chunks for e in c], [len(c) for c in chunks], rep


def test_balanced_stream_unchanged():
    events = [(F, 0), (G, 1), (~G, 2), (G, 2), (~G, 2), (~F, 5)]
    out, sizes, rep = run(events)
    assert out == events
    assert sizes == [6]
    assert (rep.skipped, rep.closed) == (0, 0)


def test_chunks_follow_the_timeline():
    events = [(F, 0), (G, 1), (~G, 2), (G, 3), (~G, 4), (~F, 5)]
    out, sizes, _ = run(events, chunk=4)
    assert out == events
    assert sizes == [4, 2]


def test_leading_unmatched_returns_skipped():
    events = [(~G, 1), (~F, 2), (H, 3), (~H, 4), (~F, 5)]
    out, _, rep = run(events, chunk=1)
    assert out == [(H, 3), (~H, 4)]
    assert rep.skipped == 3


def test_open_frames_closed_at_the_last_time():
    events = [(F, 0), (G, 1), (H, 2), (~H, 7)]
    out, sizes, rep = run(events)
    assert out == [(F, 0), (G, 1), (H, 2), (~H, 7), (~G, 7), (~F, 7)]
    assert sizes == [4, 2]
    assert rep.closed == 2


def test_return_of_an_outer_frame_closes_the_inner_ones():
    events = [(F, 0), (G, 1), (H, 2), (~F, 3), (G, 4), (~G, 5)]
    out, _, rep = run(events)
    assert out == [(F, 0), (G, 1), (H, 2), (~H, 3), (~G, 3), (~F, 3), (G, 4), (~G, 5)]
    assert rep.closed == 2


def test_recursion_returns_the_innermost():
    events = [(F, 0), (F, 1), (F, 2), (~F, 3), (~F, 4), (~F, 5)]
    out, _, _ = run(events)
    assert out == events


def test_time_never_goes_back():
    events = [(F, 5), (G, 3), (~G, 4), (~F, 9)]
    out, _, _ = run(events)
    assert out == [(F, 5), (G, 5), (~G, 5), (~F, 9)]


def test_empty_timeline():
    out, sizes, rep = run([])
    assert (out, sizes) == ([], [])
    assert (rep.skipped, rep.closed) == (0, 0)


def test_only_unmatched_returns():
    out, sizes, rep = run([(~F, 1), (~G, 2)])
    assert (out, sizes, rep.skipped) == ([], [], 2)
