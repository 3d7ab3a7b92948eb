# SPDX-License-Identifier: MIT
"""Cutting frames out of timelines, as the CLI cuts them out of call trees."""

from __future__ import annotations

from array import array

import pytest

from threadprof import _core
from threadprof.model import EncodedChunk, Timeline, replace
from threadprof.trim import drop_activations, keep_activation

L, M, F, G, H = 0, 1, 2, 3, 4  # launcher, <module>, f, g, handler


def tl(events, dropped=0, chunk=None):
    """A timeline of ``(code, time)`` events, in chunks of ``chunk`` events."""
    if chunk is None:
        return Timeline.from_events(events, dropped)
    size = chunk

    def source():
        for i in range(0, len(events), size):
            part = events[i : i + size]
            yield array("i", [c for c, _ in part]), array("q", [t for _, t in part])

    return Timeline(source, len(events), dropped)


def run(*codes):
    """Events at times 0, 1, 2...: ``f`` a call, ``~f`` a return."""
    return [(c, t) for t, c in enumerate(codes)]


PROGRAM = run(L, M, F, G, ~G, ~F, ~M, L, ~L, ~L)  # the launcher around the program


def encoded_tl(events, chunk):
    """:func:`tl` whose chunks are still encoded (as spilled ones are)."""
    size = chunk

    def pieces():
        for i in range(0, len(events), size):
            part = events[i : i + size]
            funcs = array("i", [c for c, _ in part])
            times = array("q", [t for _, t in part])
            yield EncodedChunk(len(part), _core._encode_events(funcs, times, 5), 5)

    return Timeline.of_pieces(pieces, len(events))


def test_keep_activation_keeps_whole_encoded_chunks_encoded():
    # the launcher's call and return cut the first and last chunks; the
    # chunks between are kept as they are, still encoded
    events = run(L, M, *[F, ~F] * 6, ~M, L, ~L, ~L)
    out = keep_activation(encoded_tl(events, 4), M)
    assert list(out) == events[1:15]
    pieces = list(out.pieces())
    assert [type(p).__name__ for p in pieces] == ["tuple", "EncodedChunk", "EncodedChunk", "tuple"]
    assert [len(c) for c in out.codes()] == [3, 4, 4, 3]
    assert list(keep_activation(encoded_tl(events, 4), G)) == []


@pytest.mark.parametrize("chunk", [None, 1, 2, 3, 7])
def test_keep_activation_keeps_the_module_frame_only(chunk):
    out = keep_activation(tl(PROGRAM, chunk=chunk), M)
    assert list(out) == PROGRAM[1:7]
    assert out.events == 6
    assert out.dropped == 0
    assert list(out) == PROGRAM[1:7]  # every pass gives the same events


def test_keep_activation_when_the_limit_cut_the_call():
    # the stream starts inside <module>: everything up to its return is kept
    events = run(~G, F, ~F, ~M, L, ~L, ~L)
    out = keep_activation(tl(events, dropped=40, chunk=2), M)
    assert list(out) == events[:4]
    assert out.dropped == 40


def test_keep_activation_when_the_limit_dropped_everything_before_the_call():
    events = run(~L, M, F, ~F, ~M, ~L)
    out = keep_activation(tl(events, dropped=9), M)
    assert list(out) == events[1:5]
    assert out.dropped == 0  # the dropped events all came before the module


def test_keep_activation_without_the_function():
    out = keep_activation(tl(run(L, F, ~F, ~L), dropped=3), M)
    assert list(out) == [] and out.events == 0 and out.dropped == 3


def test_keep_activation_still_open_at_the_end():
    events = run(L, M, F, ~F, G)
    out = keep_activation(tl(events, chunk=2), M)
    assert list(out) == events[1:]


def test_keep_activation_of_none():
    assert keep_activation(None, M) is None


@pytest.mark.parametrize("chunk", [None, 1, 2, 4])
def test_drop_activations_removes_handler_calls(chunk):
    events = run(M, F, H, G, ~G, ~H, ~F, H, ~H, ~M)
    out = drop_activations(tl(events, chunk=chunk), {H})
    assert list(out) == [events[i] for i in (0, 1, 6, 9)]
    assert out.events == 4


def test_drop_activations_of_several_functions_and_a_stream_cut_inside_one():
    events = run(G, ~G, ~H, M, H + 1, ~(H + 1), H, ~H, ~M)
    out = drop_activations(tl(events, dropped=5, chunk=3), {H, H + 1})
    assert list(out) == [events[3], events[8]]
    assert out.dropped == 5


def test_drop_activations_keeps_what_a_stray_return_does_not_explain():
    # without dropped events a return with no call is dropped alone
    events = run(M, ~H, F, ~F, ~M)
    out = drop_activations(tl(events), {H})
    assert list(out) == [events[i] for i in (0, 2, 3, 4)]


def test_drop_activations_open_at_the_end():
    events = run(M, H, F, ~F)
    assert list(drop_activations(tl(events, chunk=1), {H})) == [events[0]]


def test_drop_activations_without_any_is_the_same_timeline():
    timeline = tl(PROGRAM)
    assert drop_activations(timeline, {H}) is timeline
    assert drop_activations(None, {H}) is None
    assert drop_activations(timeline, set()) is timeline


def test_a_code_found_across_two_codes_is_not_a_match():
    from threadprof.trim import _find

    # little-endian 00 01 00 00 | 00 00 00 00 holds 01 00 00 00 (code 1) at
    # byte 1, across the two codes; big-endian 00 00 01 00 | ... at byte 2
    codes = array("i", [0x100, 0, 1, 0x100, 0x10000])
    data = codes.tobytes()
    assert _find(data, 1, 0) == 2
    assert _find(data, 1, 3) == -1
    assert _find(data, 0, 0) == 1
    assert _find(data, 0x100, 1) == 3
    assert _find(data, ~5, 0) == -1
    # whole timelines: the module's code 1 is found only where it is
    events = run(0x100, 0, 1, 0x10000, ~0x10000, ~1, ~0, ~0x100)
    out = keep_activation(tl(events, chunk=3), 1)
    assert list(out) == events[2:6]


def _shape(thread):
    """Each node as its path of functions with its fields: the tree whatever
    its numbering."""
    nodes = thread.nodes
    out = {}

    def visit(nid, path):
        n = nodes[nid]
        path = (*path, n.func)
        row = (n.calls, n.prim_calls, n.wall, n.wall_self, n.cpu, n.cpu_self)
        out[path] = [*out.get(path, []), row]
        for c in n.children:
            visit(c, path)

    visit(0, ())
    return out


@pytest.mark.parametrize("seed", range(40))
def test_drop_frames_on_columns_equals_on_nodes(seed):
    """The one-pass drop on a tree held as columns gives the tree that the drop
    on node objects gives, the slow steps moved the same way."""
    import random

    from shared import random_thread

    from threadprof.model import NodeColumns, SlowStep
    from threadprof.trim import drop_frames

    rng = random.Random(seed)
    thread = random_thread(rng, 7)
    size = len(thread.nodes)
    thread.slow_steps = [
        SlowStep(0, 5, rng.randrange(1, size), rng.randrange(1, size), 3) for _ in range(4)
    ]
    funcs = set(rng.sample(range(7), rng.randrange(0, 3)))
    by_nodes = drop_frames(thread, funcs)
    held = replace(thread, nodes=None, columns=NodeColumns.of_nodes(thread.nodes))
    assert held._nodes is None
    by_columns = drop_frames(held, funcs)
    assert by_columns._nodes is None  # no node objects were made
    assert _shape(by_columns) == _shape(by_nodes)

    def steps(t):
        paths = {i: tuple(t.path(i)) for i in range(len(t.nodes))}
        return [(paths[s.node], paths[s.where]) for s in t.slow_steps]

    assert steps(by_columns) == steps(by_nodes)
