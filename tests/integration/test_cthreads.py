# SPDX-License-Identifier: MIT
"""Threads created in C (pthreads entering Python with PyGILState_Ensure)."""

from __future__ import annotations

import sys

import pytest

import threadprof


def callback():
    return sum(range(10))


def callback_counts(snap):
    """{native id: calls of `callback`} over the threads of a snapshot."""
    out = {}
    for th in snap.threads:
        n = sum(
            node.calls for node in th.nodes[1:] if snap.functions[node.func].name == "callback"
        )
        out[th.native_id] = out.get(th.native_id, 0) + n
    return out


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
@pytest.mark.parametrize("hold", [False, True])
def test_monitoring_engine_covers_c_threads_automatically(cthreads, hold):
    with threadprof.profile(engine="monitoring") as p:
        native_ids = cthreads.run(callback, 3, 250, hold=hold)
    counts = callback_counts(p.snapshot())
    assert len(set(native_ids)) == 3
    for nid in native_ids:
        assert counts[nid] == 250


@pytest.mark.parametrize("hold", [False, True])
def test_attach_current_thread_covers_c_threads(cthreads, engine, hold):
    with threadprof.profile(engine=engine) as p:
        native_ids = cthreads.run(
            callback, 3, 100, attach=threadprof.attach_current_thread, hold=hold
        )
    counts = callback_counts(p.snapshot())
    for nid in native_ids:
        assert counts[nid] == 100


def test_legacy_engine_without_attach_misses_c_threads(cthreads):
    """The documented limit of the legacy engine: nothing reaches C threads."""
    with threadprof.profile(engine="legacy") as p:
        native_ids = cthreads.run(callback, 2, 10)
        callback()
    counts = callback_counts(p.snapshot())
    assert all(counts.get(nid, 0) == 0 for nid in native_ids)


def test_detach_current_thread_stops_recording_that_thread(cthreads, engine):
    state = {"n": 0}

    def attach_some():
        # attach for the first 5 calls of each thread, then detach
        state["n"] += 1
        if state["n"] <= 4:
            threadprof.attach_current_thread()
        else:
            threadprof.detach_current_thread()

    with threadprof.profile(engine=engine) as p:
        native_ids = cthreads.run(callback, 1, 10, attach=attach_some, hold=False)
    counts = callback_counts(p.snapshot())
    assert counts[native_ids[0]] == 4  # calls 1..4 attached (state 1..4)
