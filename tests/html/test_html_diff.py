# SPDX-License-Identifier: MIT
"""The HTML page of ``threadprof diff``: a differential flame graph, opened
from disk in headless Chromium, its colours, tooltip and widths read back."""

from __future__ import annotations

import pytest

from threadprof.diff import compare
from threadprof.exporters.html.diffpage import render_diff

pytestmark = pytest.mark.browser


def _snapshots(builder_type):
    out = []
    specs = [
        # before: work 40, same 20, gone 10 under main
        lambda C: [C("main", 1, 100, [C("work", 2, 40), C("same", 1, 20), C("gone", 1, 10)])],
        # after: work 80 (grew), same 20, shrink... new 10, gone is gone
        lambda C: [C("main", 1, 140, [C("work", 4, 80), C("same", 1, 20), C("new", 3, 10)])],
    ]
    for spec in specs:
        b = builder_type()
        for name in ("main", "work", "same", "gone", "new"):
            b.func(name, "app.py")
        b.thread("MainThread", spec(b.call))
        out.append(b.build())
    return out


def frames(page):
    page.js("document.getElementById('flame').scrollIntoView()")
    page.settle()
    return {f["name"]: f for f in page.js("window.threadprof.diffFrames()")}


def test_differential_flame_graph(open_report, builder, tmp_path):
    before, after = _snapshots(type(builder))
    path = tmp_path / "diff.html"
    path.write_text(render_diff(compare(before, after, names=("old.tprof", "new.tprof"))))
    page = open_report(path)
    assert page.js("document.title") == "threadprof diff: old.tprof -> new.tprof"
    summary = page.js("document.getElementById('summary').textContent")
    assert summary.startswith("compared old.tprof \u2192 new.tprof")
    # one tree, all threads merged: the thread lanes and selector are hidden
    for selector in ("#threads", "label:has(#thread-select)", "#bar nav a[href='#threads']"):
        shown = f"getComputedStyle(document.querySelector({selector!r})).display"
        assert page.js(shown) == "none", selector
    shown = frames(page)
    assert set(shown) == {"main", "work", "same", "new"}  # widths of the after profile
    work, same, new = shown["work"], shown["same"], shown["new"]
    assert (work["calls"], work["callsBefore"], work["wall"], work["wallBefore"]) == (
        4,
        2,
        80e6,
        40e6,
    )
    assert work["width"] == pytest.approx(8 * new["width"], rel=0.01)
    assert work["color"].startswith("hsl(2,") and same["color"] == "hsl(0,0%,93%)"
    assert new["color"] == "hsl(2,85%,55%)"  # new: the deepest red
    light = int(work["color"].split(",")[2].rstrip("%)"))
    assert 55 < light < 93  # grew by half of its larger value
    # the tooltip: before, after and the change
    flame = {f["name"]: f for f in page.js("window.threadprof.visibleFrames()") if f["name"]}
    w = flame["work"]
    page.mouse("mouseMoved", w["x"] + w["width"] / 2, w["y"] + 5)
    page.settle()
    lines = page.js("document.getElementById('tooltip').innerText").split("\n")
    assert lines[0] == "work"
    assert "calls\t2\t4\t+2\t+100.0%" in lines
    assert "wall\t40.0 ms\t80.0 ms\t+40.0 ms\t+100.0%" in lines
    # the before widths show what is gone, in blue
    page.js("window.threadprof.setWidths('before')")
    page.settle()
    shown = frames(page)
    assert set(shown) == {"main", "work", "same", "gone"}
    assert shown["gone"]["color"] == "hsl(218,80%,55%)"
    pressed = page.js(
        "[...document.querySelectorAll('#widths button')].map(b => b.getAttribute('aria-pressed'))"
    )
    assert pressed == ["false", "true"]
    assert page.js_errors() == [] and page.js("window.threadprof.errors") == []
