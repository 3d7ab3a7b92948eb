# SPDX-License-Identifier: MIT
"""The C core's timeline event loop (``_core._EventRenderer``) against a Python
reference built on :mod:`threadprof.replay`: the same bytes for every form,
on clean and broken streams, in any chunking."""

from __future__ import annotations

import random
from array import array

import pytest

from threadprof import _core
from threadprof.exporters._common import event_renderer, ns_converter, ns_scale, render_events
from threadprof.exporters._protobuf import varint
from threadprof.exporters.chrome import micros
from threadprof.model import Timeline
from threadprof.replay import replay

NFUNCS = 5


def template(code: int) -> bytes:
    return b"R%d:" % ~code if code < 0 else b"C%d:" % code


def reference(events, form, unit, chunk, **layout):
    """What the renderer must write, from the Python replay and formatters."""
    to_ns = ns_converter(unit)
    sep = layout.get("separator", b"")
    out = []
    first = layout.get("separate_first", False)
    seen = set()
    written = []
    rep = replay(_timeline(events, chunk))
    for part in rep:
        for code, t in part:
            ns = to_ns(t)
            tmpl = template(code)
            if form == "varint" and code >= 0 and code not in seen:
                seen.add(code)
                tmpl = b"first" + tmpl
            if form == "micros":
                text = tmpl + micros(ns).encode() + layout.get("suffix", b"")
            elif form == "nanos":
                text = tmpl + str(ns).encode() + layout.get("suffix", b"")
            else:
                body = layout["time_key"] + varint(ns) + tmpl
                text = layout["packet_key"] + varint(len(body)) + body
            out.append(sep + text if first else text)
            first = True
            written.append(ns)
    return b"".join(out), rep, written


def _timeline(events, chunk):
    def source():
        step = chunk or max(len(events), 1)
        for i in range(0, len(events), step):
            part = events[i : i + step]
            yield array("i", [c for c, _ in part]), array("q", [t for _, t in part])

    return Timeline(source, len(events))


def rendered(events, form, unit, chunk, **layout):
    def tmpl(code):
        if form == "varint" and code >= 0:
            return b"first" + template(code), template(code)
        return template(code)

    snapshot = type("S", (), {"functions": [type("F", (), {"id": i}) for i in range(NFUNCS)]})
    snapshot.unit = unit
    renderer = event_renderer(snapshot, tmpl, form, **layout)
    return b"".join(render_events(_timeline(events, chunk), renderer)), renderer


LAYOUTS = {
    "micros": {"suffix": b"}", "separator": b",\n", "separate_first": True},
    "nanos": {"suffix": b"}", "separator": b","},
    "varint": {"packet_key": b"\x0a", "time_key": b"\x40"},
}


def random_stream(rng: random.Random, n: int, broken: bool) -> list[tuple[int, int]]:
    events, stack, t = [], [], rng.randrange(0, 10**6)
    for _ in range(n):
        t += rng.choice((0, 1, 7, 999, 1000, 1500, 123456789))
        if broken and rng.random() < 0.1:
            # a return of anything, or a time that goes back
            events.append((~rng.randrange(NFUNCS), t - rng.randrange(0, 3000)))
        elif stack and rng.random() < 0.5:
            events.append((~stack.pop(), t))
        else:
            f = rng.randrange(NFUNCS)
            stack.append(f)
            events.append((f, t))
    return events


@pytest.mark.parametrize("form", sorted(LAYOUTS))
@pytest.mark.parametrize("broken", [False, True])
@pytest.mark.parametrize("unit", [1e-9, 1e-6, 0.5e-9, 1 / 2.445e9])
def test_same_bytes_as_the_python_reference(form, broken, unit):
    rng = random.Random(f"{form}{broken}{unit}")
    for trial in range(20):
        events = random_stream(rng, rng.randrange(0, 400), broken)
        chunk = rng.choice((None, 1, 3, 64))
        want, rep, written = reference(events, form, unit, chunk, **LAYOUTS[form])
        got, renderer = rendered(events, form, unit, chunk, **LAYOUTS[form])
        assert got == want, (trial, events, chunk)
        assert (renderer.skipped, renderer.closed) == (rep.skipped, rep.closed)
        assert renderer.events == len(written)
        assert renderer.first_ns == (written[0] if written else None)
        assert renderer.last_ns == (written[-1] if written else None)


def test_ties_round_to_even_as_python_does():
    events = [(0, t) for t in range(12)] + [(~0, 12)] * 12
    got, _ = rendered(events, "nanos", 0.5e-9, None, separator=b" ")
    halves = [round(t * 0.5) for t in range(12)] + [6] * 12
    assert got == b" ".join(b"C0:%d" % h for h in halves[:12]) + b" " + b" ".join(
        b"R0:%d" % h for h in halves[12:]
    )
    assert ns_scale(0.5e-9) == 0.5 and ns_scale(1e-6) == 1000


def test_micros_are_exact():
    events = [(0, 0), (1, 1), (2, 10), (3, 1500), (~3, 1234567), (~2, 10**15 + 1)]
    got, _ = rendered(events, "micros", 1e-9, None, separator=b" ")
    assert got == (
        b"C0:0 C1:0.001 C2:0.01 C3:1.5 R3:1234.567 R2:1000000000000.001 "
        b"R1:1000000000000.001 R0:1000000000000.001"
    )


def test_varint_packets_carry_their_length():
    events = [(1, 300), (~1, 2**40)]
    got, _ = rendered(events, "varint", 1e-9, None, packet_key=b"\x0a", time_key=b"\x40")
    first = b"\x40" + varint(300) + b"firstC1:"
    second = b"\x40" + varint(2**40) + b"R1:"
    assert got == b"\x0a" + bytes([len(first)]) + first + b"\x0a" + bytes([len(second)]) + second


def test_each_template_is_asked_for_once():
    asked = []

    def tmpl(code):
        asked.append(code)
        return b"x"

    renderer = _core._EventRenderer(tmpl, 3, "nanos", 1)
    for _ in range(3):
        renderer.render(array("i", [0, 1, ~1, ~0]), array("q", [1, 2, 3, 4]))
    assert asked == [0, 1, ~1, ~0]


def test_bad_input_raises():
    renderer = _core._EventRenderer(lambda code: b"", 2, "nanos", 1)
    with pytest.raises(ValueError, match="names no function"):
        renderer.render(array("i", [2]), array("q", [0]))
    with pytest.raises(ValueError, match="more times than functions"):
        renderer.render(array("i", [0]), array("q", [0, 1]))
    with pytest.raises(ValueError, match="whole number of 8-byte"):
        renderer.render(array("i", [0]), b"1234")
    with pytest.raises(ValueError, match="form must be"):
        _core._EventRenderer(lambda code: b"", 2, "seconds", 1)
    with pytest.raises(ValueError, match="longer than"):
        _core._EventRenderer(lambda code: b"", 2, "nanos", 1, suffix=b"x" * 17)
    wrong = _core._EventRenderer(lambda code: "text", 2, "nanos", 1)
    with pytest.raises(TypeError, match="pair of bytes"):
        wrong.render(array("i", [0]), array("q", [0]))
    failing = _core._EventRenderer(lambda code: 1 / 0, 2, "nanos", 1)
    with pytest.raises(ZeroDivisionError):
        failing.render(array("i", [0]), array("q", [0]))
    huge = _core._EventRenderer(lambda code: b"", 2, "nanos", 10**9)
    with pytest.raises(OverflowError):
        huge.render(array("i", [0]), array("q", [2**62]))
