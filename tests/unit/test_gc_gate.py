# SPDX-License-Identifier: MIT
"""``_core._gc_gate`` (src/_core/gcgate.h): the built-in ``gc.callbacks``
entry behind a follower's checkpoints. It calls its function at the end of
a collection once the interval has passed, never at a collection's start,
never inside its own call, and doubles the interval after each call up to
the maximum."""

from __future__ import annotations

import gc
import time

import pytest

import threadprof
from threadprof import _core


def test_it_calls_when_due_at_the_end_of_a_collection_only():
    calls = []
    gate = _core._gc_gate(lambda: calls.append(1), 0.0, 0.0)
    gate("start", {})
    assert calls == []
    gate("stop", {"generation": 0})
    gate("stop", {"generation": 0})
    assert calls == [1, 1]  # an interval of 0: due at every collection


def test_it_waits_for_the_interval_and_doubles_it():
    calls = []
    gate = _core._gc_gate(lambda: calls.append(time.monotonic()), 0.2, 0.4)
    t0 = time.monotonic()
    gate("stop", {})
    assert calls == []  # not due before 0.2 s
    while not calls:
        gate("stop", {})
        time.sleep(0.01)
    assert calls[0] - t0 >= 0.2
    gate("stop", {})
    assert len(calls) == 1  # the next is 0.4 s later (doubled, the maximum)
    while len(calls) < 3:
        gate("stop", {})
        time.sleep(0.01)
    assert calls[1] - calls[0] >= 0.4
    assert calls[2] - calls[1] >= 0.4  # not doubled past the maximum


def test_a_collection_inside_its_call_does_not_call_it_again():
    calls = []

    def checkpoint():
        calls.append(1)
        gc.collect()  # runs the gate again, inside this call

    gate = _core._gc_gate(checkpoint, 0.0, 0.0)
    gc.callbacks.append(gate)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(gate)
    assert calls == [1]


def test_the_profiler_records_its_function_but_not_the_gate():
    def checkpoint():
        pass

    gate = _core._gc_gate(checkpoint, 0.0, 0.0)
    profiler = threadprof.Profile()
    gc.callbacks.append(gate)
    try:
        profiler.runcall(gc.collect)
    finally:
        gc.callbacks.remove(gate)
    snap = profiler.snapshot()
    calls = {snap.functions[f].name: s.calls for f, s in snap.function_stats().items()}
    assert calls["checkpoint"] == 1
    assert not [name for name in calls if "gate" in name]


def test_an_error_in_its_function_is_the_collectors_to_report():
    def fails():
        raise RuntimeError("checkpoint failed")

    gate = _core._gc_gate(fails, 0.0, 0.0)
    with pytest.raises(RuntimeError, match="checkpoint failed"):
        gate("stop", {})


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((1, 0.0, 0.0), TypeError),
        ((print, -1.0, 1.0), ValueError),
        ((print, 1.0, float("nan")), ValueError),
        ((print, "1", 1.0), TypeError),
        ((print, 1.0), TypeError),
    ],
)
def test_bad_arguments_are_refused(args, error):
    with pytest.raises(error):
        _core._gc_gate(*args)
