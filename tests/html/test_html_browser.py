# SPDX-License-Identifier: MIT
"""The HTML report as a user sees it: opened from disk in headless Chromium.

Clicks, typing and the mouse wheel are real input events sent through the
DevTools protocol; what the page draws on its canvases is read back through
``window.threadprof`` (``visibleFrames()``, ``threadRows()``, ``state()``),
which reports what the last draw put where. Every test ends by checking that
the page reported no JavaScript error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from shared import LEN, SLEEP, WEIRD_C, WEIRD_QUALNAME, WEIRD_THREAD

pytestmark = pytest.mark.browser


def no_errors(page) -> None:
    assert page.js_errors() == []
    assert page.js("window.threadprof.errors") == []


def frames(page, name=None):
    page.js("document.getElementById('flame').scrollIntoView()")
    page.settle()
    out = page.js("window.threadprof.visibleFrames()")
    return out if name is None else [f for f in out if f["name"] == name]


def choose(page, selector: str, value: str) -> None:
    """Pick an option of a <select> and tell the page, as the browser does for a user."""
    page.js(
        f"(() => {{ const s = document.querySelector({json.dumps(selector)});"
        f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
    )
    page.settle()


def canvas_width(page) -> float:
    return page.js("document.getElementById('flame-canvas').getBoundingClientRect().width")


def test_loads_without_errors_and_screenshot(open_report, demo_snap, artifacts):
    page = open_report(demo_snap, "demo")
    page.js("window.threadprof.buildAll()")
    page.settle()
    assert page.js("document.title") == "threadprof: app.py"
    summary = page.js("document.getElementById('summary').textContent")
    assert "threads 3" in summary and "functions 8" in summary
    path = page.screenshot(artifacts / "html-report-demo.png", full_page=True)
    print(f"screenshot: {path}")
    assert path.stat().st_size > 10_000
    no_errors(page)


def test_flame_graph_shows_the_functions(open_report, demo_snap):
    page = open_report(demo_snap)
    # all threads merged: every function of every thread
    names = {f["name"] for f in frames(page)}
    assert names == {"all threads", "main", "fact", "ping", "pong", "helper", "run"} | {
        "{built-in function len}",
        "{built-in function time.sleep}",
    }
    choose(page, "#thread-select", "t:2")
    assert page.js("window.threadprof.state().selectionName") == "worker-2"
    assert [(f["name"], f["depth"]) for f in frames(page)] == [
        ("worker-2", 0),
        ("run", 1),
        ("{built-in function time.sleep}", 2),
    ]
    # a group merged: worker-1 and worker-2
    choose(page, "#thread-select", "g:1")
    assert {f["name"] for f in frames(page)} == {
        "worker-* (2 threads)",
        "run",
        "helper",
        "fact",
        "{built-in function time.sleep}",
    }
    no_errors(page)


def test_a_group_of_every_thread_shows_the_view_of_all(open_report, builder):
    builder.func("run", "app.py")
    builder.func("work", "app.py")
    C = builder.call
    builder.thread("worker-1", [C("run", 1, 10, [C("work", 2, 6)])])
    builder.thread("worker-2", [C("run", 1, 5, [C("work", 1, 4)])])
    page = open_report(builder.build())
    choose(page, "#thread-select", "g:0")
    assert page.js("window.threadprof.state().selectionName") == "worker-* (2 threads)"
    assert [(f["name"], f["depth"]) for f in frames(page)] == [
        ("worker-* (2 threads)", 0),
        ("run", 1),
        ("work", 2),
    ]
    (work,) = frames(page, "work")
    (run,) = frames(page, "run")
    assert work["width"] == pytest.approx(run["width"] * 10 / 15, abs=1)  # 6 + 4 of 15
    no_errors(page)


def test_one_thread_s_view_is_the_view_of_all_threads(open_report, builder):
    builder.func("run", "app.py")
    builder.func("work", "app.py")
    C = builder.call
    builder.thread("MainThread", [C("run", 1, 10, [C("work", 2, 6)])])
    page = open_report(builder.build())
    assert page.js("window.threadprof.state().selectionName") == "all threads"
    everything = [(f["name"], f["depth"], f["width"]) for f in frames(page)]
    assert [e[:2] for e in everything] == [("all threads", 0), ("run", 1), ("work", 2)]
    choose(page, "#thread-select", "t:0")
    assert [(f["name"], f["depth"], f["width"]) for f in frames(page)] == [
        ("MainThread", *everything[0][1:]),
        *everything[1:],
    ]
    no_errors(page)


def test_click_zooms_in_and_out(open_report, demo_snap):
    page = open_report(demo_snap)
    choose(page, "#thread-select", "t:0")
    width = canvas_width(page)
    (fact,) = [f for f in frames(page, "fact") if f["depth"] == 2]
    assert fact["width"] == pytest.approx(width * 30 / 100, abs=1)
    page.click(fact["x"] + fact["width"] / 2, fact["y"] + fact["height"] / 2)
    state = page.js("window.threadprof.state()")
    assert state["zoom"]["name"] == "fact" and state["zoom"]["depth"] == 2
    zoomed = [f for f in frames(page, "fact") if f["depth"] == 2]
    assert len(zoomed) == 1 and not zoomed[0]["ancestor"]
    assert zoomed[0]["x"] == pytest.approx(frames(page)[0]["x"], abs=0.5)
    assert zoomed[0]["width"] == pytest.approx(width, abs=0.5)  # the clicked frame fills the width
    # its callee, 20 of its 30 ticks, now two thirds of the width
    (inner,) = [f for f in frames(page, "fact") if f["depth"] == 3]
    assert inner["width"] == pytest.approx(width * 20 / 30, abs=1)
    # ping is no longer drawn: it is not under the zoomed frame
    assert frames(page, "ping") == []
    crumbs = page.js("document.getElementById('flame-crumbs').textContent")
    assert crumbs == "MainThread \u203a main \u203a fact"
    # clicking an ancestor zooms out to it
    (main,) = frames(page, "main")
    assert main["ancestor"]
    page.click(main["x"] + 20, main["y"] + main["height"] / 2)
    assert page.js("window.threadprof.state().zoom.name") == "main"
    # and Escape goes back to the whole tree
    page.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Escape", "code": "Escape"})
    page.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Escape", "code": "Escape"})
    page.settle()
    assert page.js("window.threadprof.state().zoom") == {
        "node": 0,
        "name": "MainThread",
        "depth": 0,
    }
    no_errors(page)


def test_search_highlights(open_report, demo_snap):
    page = open_report(demo_snap)
    page.click_selector("#search")
    page.type("PING")
    page.wait_for("window.threadprof.state().search === 'PING'")
    page.settle()
    drawn = frames(page)
    matched = {f["name"] for f in drawn if f["match"]}
    assert matched == {"ping"}
    assert all(f["match"] == (f["name"] == "ping") for f in drawn)
    info = page.js("document.getElementById('search-info').textContent")
    # ping's outermost frame holds 40 of the 210 wall ticks of all threads
    assert info == "1 function matches \u00b7 19.0% of wall time in all threads"
    # the function table lists the matches only
    rows = page.js("window.threadprof.functionRows()")
    assert [r["name"] for r in rows] == ["ping"]
    # a regular expression
    page.js("window.threadprof.search('/^p[io]ng$/')")
    page.settle()
    assert {f["name"] for f in frames(page) if f["match"]} == {"ping", "pong"}
    no_errors(page)


def test_measure_changes_widths(open_report, demo_snap):
    page = open_report(demo_snap)
    choose(page, "#thread-select", "t:0")
    width = canvas_width(page)

    def fact_width() -> float:
        (fact,) = [f for f in frames(page, "fact") if f["depth"] == 2]
        return fact["width"]

    assert fact_width() == pytest.approx(width * 30 / 100, abs=1)  # wall: 30 of 100
    page.click_selector('#measure button[data-measure="cpu"]')
    assert page.js("window.threadprof.state().measure") == "cpu"
    assert fact_width() == pytest.approx(width * 9 / 60, abs=1)  # CPU: 9 of 60
    page.click_selector('#measure button[data-measure="off"]')
    # off-CPU: fact has 21 of main's 40; but main's callees have 21 + 20 + 6 = 47 (main's
    # own CPU time, 25, exceeds its own wall time, 18), so they are scaled to fit in main
    assert fact_width() == pytest.approx(width * 21 / 47, abs=1)
    pressed = page.js(
        "[...document.querySelectorAll('#measure button')]"
        ".map(b => [b.dataset.measure, b.getAttribute('aria-pressed')])"
    )
    assert pressed == [["wall", "false"], ["cpu", "false"], ["off", "true"]]
    # the function table sorts by the measure
    assert page.js("document.querySelector('#func-table th.sorted').textContent") == "Off-CPU"
    no_errors(page)


def test_tooltip(open_report, demo_snap):
    page = open_report(demo_snap)
    choose(page, "#thread-select", "t:0")
    (pong,) = [f for f in frames(page, "pong") if f["depth"] == 3]
    page.mouse("mouseMoved", pong["x"] + pong["width"] / 2, pong["y"] + 5)
    page.settle()
    assert page.js("document.getElementById('tooltip').hidden") is False
    text = page.js("document.getElementById('tooltip').innerText")
    lines = text.split("\n")
    assert lines[:3] == ["pong", "app.py:40", "calls 2"]
    assert "wall\t25.0 ms\t15.0 ms" in lines  # total, self
    assert "CPU\t12.0 ms\t8.00 ms" in lines
    assert "off-CPU\t13.0 ms\t7.00 ms" in lines
    assert lines[-1] == "25.0% of wall time in MainThread"
    no_errors(page)


def test_function_table_and_callers(open_report, demo_snap):
    page = open_report(demo_snap)
    page.js("document.getElementById('functions').scrollIntoView()")
    page.settle()
    rows = page.js("window.threadprof.functionRows()")
    labels = {f.id: f.qualname if f.kind == "python" else f.display for f in demo_snap.functions}
    expected = {labels[fid]: s for fid, s in demo_snap.function_stats().items()}
    assert {r["name"] for r in rows} == set(expected)
    for r in rows:
        s = expected[r["name"]]
        assert (r["calls"], r["prim"], r["wall"], r["wallSelf"], r["cpu"], r["cpuSelf"]) == (
            s.calls,
            s.prim_calls,
            s.wall,
            s.wall_self,
            s.cpu,
            s.cpu_self,
        )
    walls = [r["wall"] for r in rows]
    assert walls == sorted(walls, reverse=True)
    # sort by name with a click on the header
    page.click_selector("#func-table th.name")
    names = [r["name"] for r in page.js("window.threadprof.functionRows()")]
    assert names == sorted(names)
    # select fact: its callers and callees
    page.click_selector("#func-table tbody tr:nth-child(1)")  # "fact" sorts first
    assert page.js("window.threadprof.state().selectedFunction") == "fact"
    names_in = (
        "[...document.querySelectorAll('#func-%s tbody td.name')].map(td => td.firstChild.data)"
    )
    callers = page.js(names_in % "callers")
    callees = page.js(names_in % "callees")
    assert sorted(callers) == ["fact", "main", "run"]
    assert callees == ["fact", "{built-in function len}"]
    # clicking a callee selects it
    page.click_selector("#func-callees tbody tr:nth-child(2)")
    assert page.js("window.threadprof.state().selectedFunction") == "{built-in function len}"
    no_errors(page)


def test_javascript_matches_the_model(open_report, builder):
    """The page derives merged trees, function and edge totals itself: it must agree
    with Snapshot.merged(), function_stats() and edge_stats()."""
    from html_synth import big_snapshot

    snap = big_snapshot(threads=12, nodes_per_thread=60, functions=25, seed=5)
    page = open_report(snap)
    labels = {f.id: f.qualname if f.kind == "python" else f.display for f in snap.functions}
    assert len(set(labels.values())) == len(labels)

    merged = snap.merged()
    want = {}
    for node, _depth in merged.walk():
        path = tuple(labels[f] for f in merged.path(node.id))
        want[path] = (
            node.calls,
            node.prim_calls,
            node.wall,
            node.wall_self,
            node.cpu,
            node.cpu_self,
        )
    got = {
        tuple(n["path"]): (n["calls"], n["prim"], n["wall"], n["wallSelf"], n["cpu"], n["cpuSelf"])
        for n in page.js("window.threadprof.tree('all')")
    }
    assert got == want

    for key, threads in (("all", snap.threads), ("t:3", [snap.threads[3]])):
        want_f = {
            labels[fid]: (s.calls, s.prim_calls, s.wall, s.wall_self, s.cpu, s.cpu_self)
            for fid, s in snap.function_stats(threads).items()
        }
        got_f = {
            r["name"]: (r["calls"], r["prim"], r["wall"], r["wallSelf"], r["cpu"], r["cpuSelf"])
            for r in page.js(f"window.threadprof.functionStats({json.dumps(key)})")
        }
        assert got_f == want_f
        edges = snap.edge_stats(threads)
        for fid in list(labels)[:8]:
            got_e = page.js(
                f"window.threadprof.edges({json.dumps(labels[fid])}, {json.dumps(key)})"
            )
            if got_e is None:
                continue
            for side, pick in (("callers", 1), ("callees", 0)):
                want_e = {
                    (labels[k[0]], labels[k[1]]): (e.calls, e.prim_calls, e.wall, e.cpu)
                    for k, e in edges.items()
                    if k[pick] == fid
                }
                assert {
                    (e["caller"], e["callee"]): (e["calls"], e["prim"], e["wall"], e["cpu"])
                    for e in got_e[side]
                } == want_e
    no_errors(page)


def test_threads_overview_and_timeline(open_report, demo_snap):
    page = open_report(demo_snap)
    page.js("document.getElementById('threads').scrollIntoView()")
    page.settle()
    rows = page.js("window.threadprof.threadRows()")
    assert [(r["kind"], r["name"]) for r in rows] == [
        ("thread", "MainThread"),
        ("group", "worker-*"),
        ("thread", "worker-1"),
        ("thread", "worker-2"),
    ]
    assert rows[0]["lanes"] == 5  # main > fact > fact > fact > len
    slices = page.js("window.threadprof.slices(0)")
    assert slices == [
        [[0, 100, "main"]],
        [[5, 35, "fact"], [40, 80, "ping"], [85, 97, "helper"]],
        [[10, 30, "fact"]],
        [[12, 20, "fact"]],
        [[14, 15, "{built-in function len}"]],
    ]
    # collapse the group with a click on its name
    box = page.js("document.getElementById('threads-canvas').getBoundingClientRect().toJSON()")
    group_y = box["top"] + 24 + rows[1]["y"] + 10
    page.click(box["left"] + 40, group_y)
    assert [r["name"] for r in page.js("window.threadprof.threadRows()")] == [
        "MainThread",
        "worker-*",
    ]
    # clicking a thread's name selects it for the flame graph
    page.click(box["left"] + 40, box["top"] + 24 + 10)
    assert page.js("window.threadprof.state().selection") == "t:0"
    # wheel zooms around the pointer, drag pans, double-click resets
    state = page.js("window.threadprof.state()")
    assert state["threadsWindow"] == [0, state["horizon"]]
    x = box["left"] + 320 + (box["width"] - 320) / 2
    page.wheel(x, box["top"] + 40, -300)
    v0, v1 = page.js("window.threadprof.state().threadsWindow")
    assert v1 - v0 < state["horizon"] / 1.5
    assert v0 < state["horizon"] / 2 < v1
    page.mouse("mousePressed", x, box["top"] + 40, button="left", buttons=1, clickCount=1)
    page.mouse("mouseMoved", x + 100, box["top"] + 40, buttons=1)
    page.mouse("mouseReleased", x + 100, box["top"] + 40, button="left", clickCount=1)
    page.settle()
    w0, w1 = page.js("window.threadprof.state().threadsWindow")
    assert w1 - w0 == pytest.approx(v1 - v0) and w0 < v0
    page.mouse("mousePressed", x, box["top"] + 40, button="left", buttons=1, clickCount=2)
    page.mouse("mouseReleased", x, box["top"] + 40, button="left", clickCount=2)
    page.settle()
    assert page.js("window.threadprof.state().threadsWindow") == [0, state["horizon"]]
    no_errors(page)


def test_a_threads_details_list_its_slow_steps(open_report, builder):
    from threadprof.model import SlowStep

    C = builder.call
    t = builder.thread(
        "MainThread", [C("loop", 1, 900, [C("handler", 2, 800, [C("parse", 1, 500)])])]
    )
    t.slow_steps += [SlowStep(200, 470, 2, 3, 450, task=4), SlowStep(10, 120, 2, 2, 120)]
    builder.task(t, "worker-4", [C("handler", 1, 470)], id=4)
    snap = builder.build()
    snap.slow_step = 100
    page = open_report(snap)
    page.js("document.getElementById('threads').scrollIntoView()")
    page.settle()
    box = page.js("document.getElementById('threads-canvas').getBoundingClientRect().toJSON()")
    row = page.js("window.threadprof.threadRows()")[0]
    page.mouse("mouseMoved", box["left"] + 40, box["top"] + 24 + row["y"] + 10)
    page.settle()
    lines = page.js("document.getElementById('tooltip').innerText").split("\n")
    assert "slow steps\t2 of tasks, 100 ms or more" in lines
    at = lines.index("470 ms at 200 ms: handler [task worker-4] \u2192 parse (450 ms)")
    assert lines[at + 1] == "120 ms at 10.0 ms: handler"
    no_errors(page)


def test_weird_names_render(open_report, weird_snap, artifacts):
    page = open_report(weird_snap, "weird")
    page.js("window.threadprof.buildAll()")
    page.settle()
    names = {f["name"] for f in frames(page)}
    assert names == {"all threads", WEIRD_QUALNAME, "{" + WEIRD_C[1:-1] + "}"}
    rows = page.js("window.threadprof.threadRows()")
    assert [r["name"] for r in rows] == [WEIRD_THREAD]
    cells = page.js(
        "[...document.querySelectorAll('#func-table td.name')].map(td => td.firstChild.data)"
    )
    assert set(cells) == {
        WEIRD_QUALNAME.replace("\n", "\u21b5"),
        "{" + WEIRD_C[1:-1].replace("\n", "\u21b5") + "}",
    }
    assert page.js("document.getElementById('summary').textContent").count("alert(1)") == 1
    assert page.js("document.querySelectorAll('script').length") == 2  # nothing injected
    page.js(f"window.threadprof.search({json.dumps(WEIRD_QUALNAME[:12])})")
    page.settle()
    assert [f["name"] for f in frames(page) if f["match"]] == [WEIRD_QUALNAME]
    print(f"screenshot: {page.screenshot(artifacts / 'html-report-weird.png')}")
    no_errors(page)


def test_without_cpu_time(open_report, make_builder):
    b = make_builder(cpu_mode="none")
    b.thread("MainThread", [b.call("main", 1, 10, cpu=0)], cpu_time=0)
    page = open_report(b.build())
    disabled = page.js("[...document.querySelectorAll('#measure button')].map(b => b.disabled)")
    assert disabled == [False, True, True]
    page.click_selector('#measure button[data-measure="cpu"]')
    assert page.js("window.threadprof.state().measure") == "wall"
    headers = page.js("[...document.querySelectorAll('#func-table th')].map(t => t.textContent)")
    assert headers == ["Function", "Calls", "Prim.", "Total", "Self"]
    no_errors(page)


def test_empty_snapshot(open_report, builder):
    page = open_report(builder.build())
    page.js("window.threadprof.buildAll()")
    page.settle()
    assert [f["name"] for f in frames(page)] == ["all threads"]
    assert page.js("window.threadprof.threadRows()") == []
    no_errors(page)


def test_a_thousand_threads_stay_responsive(open_report, artifacts):
    """100,000 call-tree nodes on 1,000 threads: the page loads, groups the threads
    and answers clicks quickly (the bounds are generous: CI machines are slow)."""
    from html_synth import big_snapshot

    snap = big_snapshot()
    start = time.monotonic()
    page = open_report(snap, "big", width=1400, height=1000)
    page.js("window.threadprof.buildAll()")
    page.settle()
    loaded = time.monotonic() - start
    rows = page.js("window.threadprof.threadRows()")
    assert [(r["kind"], r["name"]) for r in rows] == [
        ("thread", "MainThread"),
        ("group", "ThreadPoolExecutor-0_*"),
        ("group", "worker-*"),
        ("group", "Thread-* (serve)"),
    ]
    assert [r.get("members") for r in rows[1:]] == [600, 300, 99]
    timings = page.js(
        """(() => {
        const tp = window.threadprof, out = {};
        let t = performance.now();
        tp.select('t:7'); tp.buildAll(); out.thread = performance.now() - t;
        t = performance.now();
        tp.select('g:1'); tp.buildAll(); out.group = performance.now() - t;
        t = performance.now();
        tp.select('all'); tp.setMeasure('off'); tp.buildAll(); out.measure = performance.now() - t;
        t = performance.now();
        tp.search('handler_12'); tp.buildAll(); out.search = performance.now() - t;
        t = performance.now();
        tp.toggleGroup('ThreadPoolExecutor-0_*'); out.expand = performance.now() - t;
        return out; })()"""
    )
    print(f"1,000 threads: loaded in {loaded:.2f} s; {timings}")
    assert loaded < 20
    assert all(ms < 3000 for ms in timings.values()), timings
    assert len(page.js("window.threadprof.threadRows()")) == 4 + 600
    # zoom into the widest frame of the merged graph by clicking it
    page.js("window.threadprof.search('')")
    drawn = [f for f in frames(page) if f["depth"] == 1 and f["name"]]
    widest = max(drawn, key=lambda f: f["width"])
    t = time.monotonic()
    page.click(widest["x"] + widest["width"] / 2, widest["y"] + 5)
    assert time.monotonic() - t < 3
    assert page.js("window.threadprof.state().zoom.name") == widest["name"]
    print(f"screenshot: {page.screenshot(artifacts / 'html-report-1000-threads.png')}")
    no_errors(page)


def test_folded_cold_paths_draw_and_click(open_report):
    """Beyond its node budget the report folds cold subtrees: the page says
    how many, draws the folds as frames, and a click on one works."""
    from html_synth import big_snapshot

    snap = big_snapshot(threads=3, nodes_per_thread=2000, functions=100)
    page = open_report(snap, "folded", node_budget=3000)
    page.js("window.threadprof.buildAll()")
    page.settle()
    summary = page.js("document.getElementById('summary').textContent")
    assert "folded into [cold call paths]" in summary
    folds = frames(page, "[cold call paths]")
    assert folds
    fold = max(folds, key=lambda f: f["width"])
    page.click(fold["x"] + fold["width"] / 2, fold["y"] + 5)
    page.settle()
    assert page.js("window.threadprof.state().zoom.name") == "[cold call paths]"
    no_errors(page)


def test_downsampled_timeline(open_report):
    from html_synth import timeline_snapshot

    snap = timeline_snapshot(threads=2, calls_per_thread=20_000)
    page = open_report(snap, "downsampled", timeline_budget=2_000)
    note = page.js("document.getElementById('threads-note').textContent")
    assert note.startswith("The timeline is downsampled to keep this file small")
    state = page.js("window.threadprof.state()")
    assert state["quantum"] > 0
    # the view does not zoom in further than the quantum per pixel
    page.js("window.threadprof.setTimeWindow(1000, 1001)")
    v0, v1 = page.js("window.threadprof.state().threadsWindow")
    plot = page.js("document.getElementById('threads-scroll').clientWidth") - 320
    assert v1 - v0 == pytest.approx(state["quantum"] * plot)
    no_errors(page)


def test_c_and_sleep_names(open_report, demo_snap):
    """C functions show pstats' label in the flame graph and the tooltip says so."""
    page = open_report(demo_snap)
    choose(page, "#thread-select", "t:2")
    (sleep,) = frames(page, "{" + SLEEP[1:-1] + "}")
    page.mouse("mouseMoved", sleep["x"] + 10, sleep["y"] + 5)
    page.settle()
    text = page.js("document.getElementById('tooltip').innerText")
    assert text.split("\n")[:3] == ["{built-in function time.sleep}", "built-in (C)", "calls 5"]
    assert LEN not in text
    no_errors(page)


def test_cli_run_writes_a_report(open_report, tmp_path):
    """``threadprof run -o report.html app.py``: the report of a real run, with threads."""
    script = tmp_path / "app.py"
    script.write_text(
        "import threading\n"
        "def crunch(n):\n"
        "    return sum(i * i for i in range(n))\n"
        "def worker():\n"
        "    crunch(20000)\n"
        "threads = [threading.Thread(target=worker, name=f'crunch-{i}') for i in range(3)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        "for t in threads:\n"
        "    t.join()\n"
    )
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "threadprof", "run", "-o", str(out), str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote the html profile" in proc.stderr
    page = open_report(out)
    rows = page.js("window.threadprof.threadRows()")
    assert ("group", "crunch-*") in [(r["kind"], r["name"]) for r in rows]
    names = {r["name"] for r in page.js("window.threadprof.functionStats('all')")}
    assert {"crunch", "worker", "<genexpr>"} <= {n.rsplit(".", 1)[-1] for n in names}
    no_errors(page)


def test_deep_recursion(open_report, builder):
    """A stack 2,000 frames deep: the flame graph draws the rows a canvas can hold and
    says so; the timeline shows 8 levels until asked for all of them."""
    from threadprof.model import Node, Timeline, build_tree

    depth = 2000
    thread = builder.thread("MainThread", [builder.call("f", 1, 1)])
    nodes = [Node(0, -1, -1)]
    for i in range(1, depth + 1):
        ticks = 10 * (depth + 1 - i)
        nodes.append(Node(i, i - 1, 0, calls=1, wall=ticks, wall_self=10, cpu=ticks, cpu_self=10))
    thread.nodes = build_tree(nodes)
    events = [(0, 10 * i) for i in range(depth)] + [(~0, 10 * depth + i) for i in range(depth)]
    thread.timeline = Timeline.from_events(events)
    page = open_report(builder.build())
    drawn = frames(page)
    assert 1000 < max(f["depth"] for f in drawn) < depth
    crumbs = page.js("document.getElementById('flame-crumbs').textContent")
    assert "Frames deeper than the first rows are not drawn" in crumbs
    # zooming into the deepest frame drawn shows every frame below it, under the
    # root, a row standing for the callers in between, and the 12 nearest callers
    deepest = max(drawn, key=lambda f: f["depth"])
    page.js(f"window.threadprof.zoomTo({deepest['node']})")
    zoomed = frames(page)
    assert [f["node"] for f in zoomed[:2]] == [0, -2]
    assert sum(f["ancestor"] for f in zoomed) == 1 + 1 + 12
    assert sum(not f["ancestor"] for f in zoomed) == depth - deepest["depth"] + 1
    assert "not drawn" not in page.js("document.getElementById('flame-crumbs').textContent")
    # a click on that row zooms out to the nearest caller it stands for
    row = zoomed[1]
    page.click(row["x"] + 50, row["y"] + 5)
    assert page.js("window.threadprof.state().zoom.depth") == deepest["depth"] - 13
    (row,) = page.js("window.threadprof.threadRows()")
    assert row["lanes"] == 8
    page.js("document.getElementById('threads').scrollIntoView()")
    page.settle()
    box = page.js("document.getElementById('threads-canvas').getBoundingClientRect().toJSON()")
    page.click(box["left"] + 30, box["top"] + 24 + 20 + 8)  # "show all 2000 levels"
    (row,) = page.js("window.threadprof.threadRows()")
    assert row["lanes"] == depth
    no_errors(page)


def test_every_control_without_errors(open_report, demo_snap, weird_snap):
    """Sweep the pointer over both canvases, click every frame, column, selection and
    measure, type odd searches and resize the window: the page reports no error."""
    for snap in (demo_snap, weird_snap):
        page = open_report(snap, width=1000, height=800)
        options = page.js(
            "[...document.querySelectorAll('#thread-select option')].map(o => o.value)"
        )
        for k, value in enumerate(options):
            choose(page, "#thread-select", value)
            for measure in ("cpu", "off", "wall") if k < 2 else ("wall",):
                page.click_selector(f'#measure button[data-measure="{measure}"]')
                for fr in frames(page)[:: 1 if value == "all" else 3]:
                    page.mouse("mouseMoved", fr["x"] + fr["width"] / 2, fr["y"] + 3)
            for fr in frames(page)[1:6]:
                page.click(fr["x"] + fr["width"] / 2, fr["y"] + 3)
        for query in ("/[/", "/./", "(", "\\", "ü", "zzz", ""):
            page.js(f"window.threadprof.search({json.dumps(query)})")
            page.settle()
        page.js("document.getElementById('threads').scrollIntoView()")
        page.settle()
        box = page.js("document.getElementById('threads-canvas').getBoundingClientRect().toJSON()")
        for y in range(int(box["top"]) + 2, int(box["top"] + box["height"]), 17):
            for x in (box["left"] + 10, box["left"] + 500, box["left"] + 900):
                page.mouse("mouseMoved", x, y)
        page.wheel(box["left"] + 100, box["top"] + 50, 120)  # over the names: scrolls
        page.wheel(box["left"] + 600, box["top"] + 50, 500, dx=300)
        for th in range(page.js("document.querySelectorAll('#func-table th').length")):
            page.click_selector(f"#func-table th:nth-child({th + 1})")
        for row in range(
            1, 1 + min(5, page.js("document.querySelectorAll('#func-table tbody tr').length"))
        ):
            page.click_selector(f"#func-table tbody tr:nth-child({row})")
        page.resize(700, 600)
        page.settle()
        page.resize(1400, 900)
        page.settle()
        no_errors(page)


def test_inline_frame_of_a_notebook(browser, demo_snap, tmp_path):
    """What %%threadprof shows in a notebook: the report in an <iframe srcdoc>,
    which draws as the file does."""
    from threadprof.exporters.html.page import inline_frame

    path = tmp_path / "notebook-output.html"
    path.write_text(f"<!DOCTYPE html><html><body>{inline_frame(demo_snap)}</body></html>")
    page = browser.new_page(1280, 900)
    try:
        page.goto(path.as_uri())
        inner = "document.querySelector('iframe.threadprof-report').contentWindow"
        page.wait_for(f"{inner}.threadprof !== undefined")
        assert page.js(f"{inner}.threadprof.errors") == []
        assert page.js(f"{inner}.document.getElementById('thread-select').options.length") == 5
        summary = page.js(f"{inner}.document.getElementById('summary').textContent")
        assert "threads 3" in summary
        assert page.js_errors() == []
    finally:
        page.close()


def task_snap(builder):
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 100, [C("main", 1, 90), C("fetch", 2, 60)])])
    builder.task(t, "Task-1", [C("main", 1, 90, cpu=5)], id=1, await_time=85)
    for i in range(2):
        task = builder.task(
            t,
            f"fetch-{i}",
            [C("fetch", 1, 30, [C("sleep", 2, 25, cpu=0)], cpu=5)],
            id=2 + i,
            creator=1,
            steps=2,
            await_time=25,
            first_seen=10 + 30 * i,
        )
        task.step_spans = [(10 + 30 * i, 13 + 30 * i), (38 + 30 * i, 40 + 30 * i)]
    builder.thread("worker", [C("idle", 1, 10)])
    return builder.build()


def test_tasks_are_lanes_under_their_thread(open_report, builder):
    page = open_report(task_snap(builder))
    page.js("document.getElementById('threads').scrollIntoView()")
    page.settle()
    rows = page.js("window.threadprof.threadRows()")
    assert [(r["kind"], r.get("name"), r.get("indent")) for r in rows] == [
        ("thread", "MainThread", None),
        ("tasks", None, None),
        ("task", "Task-1", 2),
        ("task", "fetch-0", 3),
        ("task", "fetch-1", 3),
        ("thread", "worker", None),
    ]
    box = page.js("document.getElementById('threads-canvas').getBoundingClientRect().toJSON()")
    # a task's details, then a click on its name shows its tree in the flame graph
    fetch1 = rows[4]
    page.mouse("mouseMoved", box["left"] + 60, box["top"] + 24 + fetch1["y"] + 10)
    page.settle()
    lines = page.js("document.getElementById('tooltip').innerText").split("\n")
    assert lines[0] == "fetch-1"
    assert "awaiting\t25.0 ms (83.3%)" in lines and "steps\t2" in lines
    page.click(box["left"] + 60, box["top"] + 24 + fetch1["y"] + 10)
    assert page.js("window.threadprof.state().selection") == "k:0:2"
    assert [(f["name"], f["depth"]) for f in frames(page)] == [
        ("fetch-1", 0),
        ("fetch", 1),
        ("sleep", 2),
    ]
    assert page.js("document.getElementById('thread-select').value") == "k:0:2"
    # the tasks fold away with a click on their line
    page.js("document.getElementById('threads').scrollIntoView()")
    page.settle()
    page.click(box["left"] + 60, box["top"] + 24 + rows[1]["y"] + 10)
    assert [r["kind"] for r in page.js("window.threadprof.threadRows()")] == [
        "thread",
        "tasks",
        "thread",
    ]
    no_errors(page)


def test_a_process_tree_lists_its_processes_and_each_threads_pid(open_report, make_builder):
    from threadprof.merge import merge_processes
    from threadprof.model import Process

    parts = []
    for pid, ppid, argv in ((700, 1, ["app.py"]), (701, 700, ["python", "-c", "worker"])):
        b = make_builder()
        b.thread("MainThread", [b.call("work", 2, 30, [b.call("leaf", 3, 9)])])
        parts.append((Process(pid, ppid, argv, 0, 0, "exited"), b.build(pid=pid, argv=argv)))
    parts.append((Process(702, 700, ["python", "crash.py"], 3, 3, "crashed"), None))
    page = open_report(merge_processes(parts), "processes")
    page.js("window.threadprof.buildAll()")
    page.settle()
    summary = page.js("document.getElementById('summary').textContent")
    assert "processes 3" in summary
    assert "pid 701 (parent 700, 30.0 ms, exited) python -c worker" in summary
    assert "pid 702 (parent 700, crashed) python crash.py" in summary
    assert "MainThread (pid 701)" in page.js("document.body.textContent")
    no_errors(page)


def test_contention_lists_the_locks_and_draws_who_made_whom_wait(open_report, builder, artifacts):
    from threadprof.model import LOCK_ACQUIRE, LOCK_RELEASE, LockOps

    b = builder
    C = b.call
    acq, rel = (
        "<method 'acquire' of '_thread.lock' objects>",
        "<method 'release' of '_thread.lock' objects>",
    )
    for i in range(2):
        b.thread(f"w-{i}", [C("worker", 1, 100, [C(acq, 1, 1), C(rel, 1, 1)])])
    a, r = LOCK_ACQUIRE, LOCK_RELEASE
    # w-0 holds 1..10; w-1 waits from 2 to 11 (8 ms of it in w-0's hold), holds to 15
    b.threads[0].lock_ops = LockOps.of_rows([(0, 1, 7, 2, a), (10, 10, 7, 3, r)])
    b.threads[1].lock_ops = LockOps.of_rows([(2, 11, 7, 2, a), (15, 15, 7, 3, r)])
    page = open_report(b.build(), "contention")
    page.js("document.getElementById('contention').scrollIntoView()")
    page.settle()
    got = page.js("window.threadprof.contention()")
    assert got["shown"] is True
    (lock,) = got["locks"]
    assert lock["name"] == "threading.Lock in worker (app.py:10)"
    assert (lock["waits"], lock["wait"], lock["holds"], lock["hold"]) == (2, 10, 2, 13)
    assert got["edges"] == [
        {
            "waiter": "w-1: worker (app.py:10)",
            "holder": "w-0: worker (app.py:10)",
            "how": "held",
            "weight": 8,
            "lock": "threading.Lock in worker (app.py:10)",
        }
    ]
    table = page.js("document.getElementById('lock-table').textContent")
    assert "threading.Lock in worker (app.py:10)" in table and "10.0 ms" in table
    paths = page.js("document.querySelectorAll('#blocker-graph path.edge.held').length")
    labels = page.js(
        "[...document.querySelectorAll('#blocker-graph text.side')].map(t => t.firstChild.data)"
    )
    assert paths == 1 and labels == ["w-1: worker (app.py:10)", "w-0: worker (app.py:10)"]
    # w-0 and w-1 are a pool; no queue of work was seen
    (pool,) = got["pools"]
    assert (pool["key"], pool["workers"], pool["queued"], pool["underused"]) == (
        "w-*",
        2,
        None,
        None,
    )
    assert pool["busy"] + pool["blocked"] + pool["idle"] == pool["wall"] == 200
    pools = page.js("[...document.querySelectorAll('#pool-table td')].map(td => td.textContent)")
    assert pools[:2] == ["w-*", "2"] and pools[-2:] == ["\u2013", "\u2013"]
    page.screenshot(artifacts / "html-report-contention.png", full_page=True)
    no_errors(page)


def test_no_lock_waited_the_section_has_only_the_pools(open_report, demo_snap):
    from threadprof.pools import pools

    page = open_report(demo_snap, "demo")
    page.js("window.threadprof.buildAll()")
    page.settle()
    got = page.js("window.threadprof.contention()")
    assert got["shown"] is True and got["locks"] == []
    assert page.js("document.getElementById('lock-box').hidden") is True
    rows = page.js("document.querySelectorAll('#pool-table tbody tr').length")
    assert rows == len(got["pools"]) == len(pools(demo_snap)) > 0
    no_errors(page)


def test_no_lock_waited_and_no_pool_no_contention_section(open_report, builder):
    builder.thread("MainThread", [builder.call("main", 1, 10)])
    page = open_report(builder.build(), "single")
    page.js("window.threadprof.buildAll()")
    page.settle()
    assert page.js("window.threadprof.contention()")["shown"] is False
    no_errors(page)
