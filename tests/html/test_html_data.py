# SPDX-License-Identifier: MIT
"""The HTML report without a browser: the embedded data, escaping, downsampling, registry."""

from __future__ import annotations

import base64
import itertools
import json
import re
import zlib
from importlib import resources

import pytest
from shared import LEN, WEIRD_C, WEIRD_FILE, WEIRD_QUALNAME, WEIRD_THREAD

from threadprof import __version__
from threadprof.exporters import exporter_for_path, get_exporter
from threadprof.exporters.html import data as html_data
from threadprof.exporters.html import render
from threadprof.exporters.html.data import (
    DATA_VERSION,
    EDGE_FIELDS,
    FUNCTION_FIELDS,
    NODE_FIELDS,
    SLOW_STEPS_SHOWN,
    embed_json,
    report_data,
)
from threadprof.exporters.html.page import SCRIPTS, script
from threadprof.model import Function, SlowStep

DATA_RE = re.compile(
    r'<script type="application/octet-stream" id="threadprof-data"'
    r' data-encoding="deflate-raw, base64">(.*?)</script>',
    re.DOTALL,
)


def plain(data: dict) -> dict:
    """The report's data as the page reads it: its integer arrays as lists."""
    return json.loads(embed_json(data))


def embedded(page: str) -> dict:
    """The JSON document that a rendered page carries."""
    found = DATA_RE.findall(page)
    assert len(found) == 1
    return json.loads(zlib.decompress(base64.b64decode(found[0], validate=True), wbits=-15))


@pytest.fixture
def small_snap(builder):
    b = builder
    b.func("main", "app.py", 10)
    b.func("work", "app.py", 20)
    b.cfunc(LEN)
    C = b.call
    b.thread("MainThread", [C("main", 1, 10, [C("work", 2, 6, [C(LEN, 3, 1)], cpu=4)], cpu=8)])
    worker = b.thread("worker-1", [C("work", 1, 3), C("main", 1, 2)], first_seen=5)
    b.timeline(
        worker,
        [
            ("call", "work", 5),
            ("ret", "work", 8),
            ("call", "main", 8),
            ("call", LEN, 9),
            ("ret", LEN, 9),
            ("ret", "main", 10),
        ],
    )
    return b.build()


def test_exact_data_of_a_small_snapshot(small_snap):
    assert NODE_FIELDS == (
        "parent_back",
        "func",
        "calls",
        "prim_calls",
        "wall",
        "wall_self",
        "cpu",
        "cpu_self",
    )
    assert FUNCTION_FIELDS == NODE_FIELDS[1:]
    assert EDGE_FIELDS == ("caller", "callee", *NODE_FIELDS[2:])
    # functions: main 0, work 1, len 2
    main_edges = [*(0, 1, 2, 2, 6, 5, 4, 3), *(1, 2, 3, 3, 1, 1, 1, 1)]
    assert plain(report_data(small_snap)) == {
        "version": DATA_VERSION,
        "generator": f"threadprof {__version__}",
        "clock": "wall",
        "unit": 1e-3,
        "cpu_mode": "exact",
        "engine": "",
        "start_time": 0.0,
        "duration": 10,
        "horizon": 10,
        "python_version": "3.12.0",
        "argv": ["app.py"],
        "processes": [],
        "warnings": [],
        "timeline_quantum": 0,
        "nodes": 5,
        "folded": 0,
        "files": ["app.py", "~"],
        "funcs": [0, "main", 0, 10, 0, "work", 0, 20, 1, "{built-in function len}", 1, 0],
        "groups": [
            {
                "pattern": "MainThread",
                "members": [0],
                "wall": 10,
                "cpu": 8,
                "first": 0,
                "last": 10,
            },
            {"pattern": "worker-*", "members": [1], "wall": 5, "cpu": 5, "first": 5, "last": 10},
        ],
        "threads": [
            {
                "name": "MainThread",
                "pid": 0,
                "serial": 1,
                "ident": 1001,
                "native_id": 2001,
                "first": 0,
                "last": 10,
                "wall": 10,
                "cpu": 8,
                "calls": 6,
                "group": 0,
                "warnings": [],
                "view": {
                    "name": "MainThread",
                    "root": [10, 0, 8, 0],
                    # main, work (called by main), len (called by work)
                    "nodes": [
                        *(1, 0, 1, 1, 10, 4, 8, 4),
                        *(1, 1, 2, 2, 6, 5, 4, 3),
                        *(1, 2, 3, 3, 1, 1, 1, 1),
                    ],
                    "functions": [
                        *(0, 1, 1, 10, 4, 8, 4),
                        *(1, 2, 2, 6, 5, 4, 3),
                        *(2, 3, 3, 1, 1, 1, 1),
                    ],
                    "edges": main_edges,
                    "folded": 0,
                },
                "timeline": None,
            },
            {
                "name": "worker-1",
                "pid": 0,
                "serial": 2,
                "ident": 1002,
                "native_id": 2002,
                "first": 5,
                "last": 10,
                "wall": 5,
                "cpu": 5,
                "calls": 2,
                "group": 1,
                "warnings": [],
                "view": {
                    "name": "worker-1",
                    "root": [5, 0, 5, 0],
                    # two roots: work, then main (two nodes back to the root)
                    "nodes": [*(1, 1, 1, 1, 3, 3, 3, 3), *(2, 0, 1, 1, 2, 2, 2, 2)],
                    "functions": [*(0, 1, 1, 2, 2, 2, 2), *(1, 1, 1, 3, 3, 3, 3)],
                    "edges": [],
                    "folded": 0,
                },
                "timeline": {
                    "events": 6,
                    "dropped": 0,
                    "calls": 3,
                    "shown": 3,
                    # depth 0: work 5..8, main 8..10; depth 1: len 9..9
                    "lanes": [[5, 3, 1, 0, 2, 0], [9, 0, 2]],
                },
            },
        ],
        "merged": {
            "all": {
                "name": "all threads",
                "root": [15, 0, 13, 0],
                # main (of both threads), its work and len, then the worker's work
                "nodes": [
                    *(1, 0, 2, 2, 12, 6, 10, 6),
                    *(1, 1, 2, 2, 6, 5, 4, 3),
                    *(1, 2, 3, 3, 1, 1, 1, 1),
                    *(4, 1, 1, 1, 3, 3, 3, 3),
                ],
                "functions": [
                    *(0, 2, 2, 12, 6, 10, 6),
                    *(1, 3, 3, 9, 8, 7, 6),
                    *(2, 3, 3, 1, 1, 1, 1),
                ],
                "edges": main_edges,
                "folded": 0,
            },
        },
        "contention": {"total": 0, "locks": [], "edges": [], "pools": []},
    }


def test_exact_json_text_of_a_tiny_snapshot(builder):
    builder.func("f<x>", "a.py", 1)
    t = builder.thread("T", [builder.call("f<x>", 2, 5, cpu=3)])
    builder.timeline(t, [("call", "f<x>", 0), ("ret", "f<x>", 5)])
    text = embed_json(report_data(builder.build()))
    view = (
        '"root":[5,0,3,0],"nodes":[1,0,2,2,5,5,3,3],"functions":[0,2,2,5,5,3,3],"edges":[],'
        '"folded":0'
    )
    assert text == (
        '{"version":3,"generator":"threadprof ' + __version__ + '","clock":"wall",'
        '"unit":0.001,"cpu_mode":"exact","engine":"","start_time":0.0,"duration":5,'
        '"horizon":5,"python_version":"3.12.0","argv":["app.py"],"processes":[],"warnings":[],'
        '"timeline_quantum":0,"nodes":1,"folded":0,"files":["a.py"],"funcs":[0,"f\\u003cx>",0,1],'
        '"groups":[{"pattern":"T","members":[0],"wall":5,"cpu":3,"first":0,"last":5}],'
        '"threads":[{"name":"T","pid":0,"serial":1,"ident":1001,"native_id":2001,"first":0,"last":5,'
        '"wall":5,"cpu":3,"calls":2,"group":0,"warnings":[],"view":{"name":"T",' + view + "},"
        '"timeline":{"events":2,"dropped":0,"calls":1,"shown":1,"lanes":[[0,5,0]]}}],'
        '"merged":{"all":{"name":"all threads","view_of":"t:0"}},'
        '"contention":{"total":0,"locks":[],"edges":[],"pools":[]}}'
    )


def test_embedded_json_text():
    assert embed_json({"a": "</script><!--", "b": "é\n", "c": [1, 2.5]}) == (
        '{"a":"\\u003c/script>\\u003c!--","b":"\\u00e9\\n","c":[1,2.5]}'
    )


def test_the_page_embeds_the_data(small_snap):
    page = render(small_snap)
    assert page.startswith("<!DOCTYPE html>")
    assert embedded(page) == plain(report_data(small_snap))
    assert "@@" not in page  # every placeholder filled
    assert "<title>threadprof: app.py</title>" in page


def test_no_network_access(small_snap):
    page = render(small_snap)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "fetch(" not in page and "XMLHttpRequest" not in page


def test_names_are_escaped(weird_snap):
    page = render(weird_snap)
    raw = DATA_RE.findall(page)[0]
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", raw)  # nothing in it can end the script element
    assert "<" not in embed_json(report_data(weird_snap))  # nor in the JSON inside
    data = embedded(page)
    assert data["threads"][0]["name"] == WEIRD_THREAD
    assert data["funcs"][1] == WEIRD_QUALNAME
    assert data["files"][0] == WEIRD_FILE
    assert data["funcs"][5] == "{" + WEIRD_C[1:-1] + "}"
    assert data["argv"][1].endswith("</title><script>alert(1)</script>")
    # the title is HTML-escaped and on one line
    title = re.findall(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title == [
        "threadprof: app.py a &quot;b&quot;\\ &lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    ]
    # the page has exactly its own script elements
    assert page.count("<script") == 2 and page.count("</script>") == 2


def test_surrogates_and_control_characters(builder):
    b = builder
    b.func("bad\udcff\x00\x1b name", "f\udc80.py", 3)
    b.thread("t\x07", [b.call("bad\udcff\x00\x1b name", 1, 5)])
    page = render(b.build(argv=["d\udcff/app.py"]))
    assert "<title>threadprof: d\\udcff/app.py</title>" in page
    data = embedded(page)
    assert data["funcs"][1] == "bad\udcff\x00\x1b name"
    assert data["files"] == ["f\udc80.py"]
    page.encode("utf-8")  # no lone surrogate reaches the file


def test_functions_are_renumbered_densely(builder):
    from threadprof.model import Snapshot

    b = builder
    C = b.call
    b.thread("MainThread", [C(0, 1, 5)])
    snap = b.build()
    snap = Snapshot(
        clock="wall",
        unit=1e-9,
        functions=[
            Function(7, "python", "unused", "unused", "u.py", 1),
            Function(0, "python", "used", "Mod.used", "m.py", 2),
        ],
        threads=snap.threads,
    )
    data = report_data(snap)
    assert data["funcs"] == [0, "Mod.used", 0, 2]  # only what the trees use, as index 0
    assert data["files"] == ["m.py"]


def test_unknown_function_id(builder):
    b = builder
    b.func("known")
    thread = b.thread("MainThread", [b.call("known", 1, 5)])
    thread.nodes[1].func = 42
    data = report_data(b.build())
    assert data["funcs"] == [0, "<function 42>", 0, 0]
    assert data["files"] == ["?"]


def test_groups_in_order_of_first_thread(builder):
    C = builder.call
    for name in ("MainThread", "pool_1", "io", "pool_2", "pool_3"):
        builder.thread(name, [C("f", 1, 1)])
    data = report_data(builder.build())
    assert [(g["pattern"], g["members"]) for g in data["groups"]] == [
        ("MainThread", [0]),
        ("pool_*", [1, 3, 4]),
        ("io", [2]),
    ]
    assert [t["group"] for t in data["threads"]] == [0, 1, 2, 1, 1]
    # a group of several threads has a merged view; one of a single thread has not
    assert list(data["merged"]) == ["all", "g:1"]
    assert data["merged"]["g:1"]["name"] == "pool_* (3 threads)"
    assert list(data["merged"]["g:1"]["functions"]) == [0, 3, 3, 3, 3, 3, 3]


def test_timeline_repaired(builder):
    """A timeline cut by --timeline-limit: returns without calls are skipped, frames
    still open at the end are closed at the last time."""
    C = builder.call
    t = builder.thread("MainThread", [C("a", 1, 10, [C("b", 1, 5)])])
    builder.timeline(
        t,
        [("ret", "b", 1), ("ret", "a", 2), ("call", "a", 3), ("call", "b", 4), ("ret", "b", 6)],
        dropped=5,
    )
    tl = report_data(builder.build())["threads"][0]["timeline"]
    assert tl == {
        "events": 5,
        "dropped": 5,
        "calls": 2,
        "shown": 2,
        "lanes": [[3, 3, 0], [4, 2, 1]],  # a 3..6 (closed at the end), b 4..6
    }


def _decode(lanes):
    """``[(start, end, func)]`` per depth."""
    out = []
    for flat in lanes:
        t = 0
        slices = []
        for k in range(0, len(flat), 3):
            start = t + flat[k]
            end = start + flat[k + 1]
            slices.append((start, end, flat[k + 2]))
            t = end
        out.append(slices)
    return out


def test_a_pass_over_the_budget_stops_at_once(builder, monkeypatch):
    """Laying out a timeline never holds more slices than the budget: a pass
    that would stops, and the next merges more (a 14-million-call timeline
    once took 820 MB)."""
    from threadprof.exporters.html import lanes

    C = builder.call
    t = builder.thread("MainThread", [C("loop", 1, 10_000)])
    events = [("call", "loop", 0)]
    for i in range(100):  # 100 calls of 10 ticks, 10 ticks apart
        events += [("call", "work", 20 * i), ("ret", "work", 20 * i + 10)]
    events.append(("ret", "loop", 2000))
    builder.timeline(t, events)
    snap = builder.build()
    tl = snap.threads[0].timeline
    assert lanes._lanes(tl, 1, lambda f: f, room=50) is None  # 101 slices: over
    assert lanes._lanes(tl, 1, lambda f: f, room=101).calls == 101
    biggest: list[int] = []
    real = lanes._lanes

    def watched(timeline, q, funcs, room):
        laid = real(timeline, q, funcs, room)
        if laid is not None:
            biggest.append(sum(len(lane) // 3 for lane in laid.lanes))
        return laid

    monkeypatch.setattr(lanes, "_lanes", watched)
    data = report_data(snap, timeline_budget=30)
    assert data["threads"][0]["timeline"]["shown"] <= 30
    assert max(biggest) <= 30  # no pass kept more than the budget


def test_timeline_downsampled(builder):
    C = builder.call
    t = builder.thread("MainThread", [C("loop", 1, 10_000)])
    events = [("call", "loop", 0)]
    time = 0
    for i in range(200):  # 200 calls of 3 ticks, one tick apart, and a long one
        events += [("call", "short", time), ("ret", "short", time + 3)]
        time += 4
        if i == 100:
            events += [("call", "long", time), ("ret", "long", time + 1000)]
            time += 1000
    events.append(("ret", "loop", time))
    builder.timeline(t, events)
    data = report_data(builder.build(), timeline_budget=20)
    q = data["timeline_quantum"]
    tl = data["threads"][0]["timeline"]
    assert q > 0 and q & (q - 1) == 0  # a power of two
    assert tl["calls"] == 202
    assert tl["shown"] <= 20
    lanes = _decode(tl["lanes"])
    # every call is in exactly one slice: kept ones as themselves, the others counted
    assert sum(1 if f >= 0 else -f for lane in lanes for _s, _e, f in lane) == 202
    for lane in lanes:
        for (_s1, e1, _f1), (s2, _e2, _f2) in itertools.pairwise(lane):
            assert e1 <= s2  # in order, never overlapping
        for s, e, f in lane:
            assert f < 0 or e - s >= q or len(lane) == 1
    names = data["funcs"][1::4]
    depth1 = lanes[1]
    long_slices = [(s, e) for s, e, f in depth1 if f >= 0 and names[f] == "long"]
    assert long_slices == [(101 * 4, 101 * 4 + 1000)]  # the long call is kept exactly
    merged = [-f for _s, _e, f in depth1 if f < 0]
    assert merged == [101, 99]  # the short calls before and after it, merged


def test_timeline_not_downsampled_within_budget(builder):
    C = builder.call
    t = builder.thread("MainThread", [C("f", 3, 6)])
    events = [("call", "f", 0), ("ret", "f", 1), ("call", "f", 2)]
    builder.timeline(t, [*events, ("ret", "f", 3), ("call", "f", 4), ("ret", "f", 5)])
    data = report_data(builder.build(), timeline_budget=3)
    assert data["timeline_quantum"] == 0
    assert data["threads"][0]["timeline"]["shown"] == 3


def test_empty_snapshot(builder):
    page = render(builder.build())
    data = embedded(page)
    assert data["threads"] == [] and data["funcs"] == []


def test_registered_as_a_format(small_snap, tmp_path):
    exporter = get_exporter("html")
    assert exporter_for_path("out/Report.HTML") is exporter
    assert exporter_for_path("report.htm") is exporter
    path = tmp_path / "report.html"
    exporter.write(small_snap, path)
    assert path.read_bytes() == render(small_snap).encode("utf-8")
    assert exporter.to_bytes(small_snap) == exporter.to_bytes(small_snap)  # deterministic
    only = embedded(exporter.to_bytes(small_snap, thread="worker-*").decode())
    assert [t["name"] for t in only["threads"]] == ["worker-1"]


def test_assets_are_ours_and_inlined(small_snap):
    page = render(small_snap)
    assets = resources.files("threadprof.exporters.html").joinpath("assets")
    for name in ("report.css", *(f"js/{n}" for n in SCRIPTS)):
        text = assets.joinpath(name).read_text("utf-8")
        assert text.startswith("/* SPDX-License-Identifier: MIT */")
        assert "</" not in text and "<!--" not in text
        assert text in page


def test_every_script_is_bundled_once_in_order():
    """SCRIPTS is the registry of the page's scripts: it lists every file of
    assets/js, and the bundle holds each once, in that order, in one closure."""
    folder = resources.files("threadprof.exporters.html").joinpath("assets", "js")
    on_disk = sorted(p.name for p in folder.iterdir() if p.name.endswith(".js"))
    assert sorted(SCRIPTS) == on_disk
    bundle = script()
    at = [bundle.index(folder.joinpath(n).read_text("utf-8")) for n in SCRIPTS]
    assert at == sorted(at)
    assert bundle.startswith("(async function () {") and bundle.endswith("})();\n")


# -- folding cold subtrees beyond the node budget ----------------------------------


def _tree(spec):
    """Nodes from ``(parent, func, calls, wall_self)`` rows (ids in order), with
    inclusive walls summed up the tree and CPU at half the wall."""
    from threadprof.model import Node, build_tree

    nodes = [Node(0, -1, -1)]
    for i, (parent, func, calls, wall_self) in enumerate(spec, 1):
        nodes.append(Node(i, parent, func, calls, calls, 0, wall_self, 0, wall_self // 2))
    build_tree(nodes)
    for node in reversed(nodes):
        node.wall = node.wall_self + sum(nodes[c].wall for c in node.children)
        node.cpu = node.cpu_self + sum(nodes[c].cpu for c in node.children)
    return nodes


def test_fold_keeps_the_hottest_nodes_and_sums_the_rest():
    from threadprof.exporters.html.data import FOLDED, fold

    #      1 (f0: 100 + kids)
    #     / \\
    #    2   3         2: f1, 50 + kids; 3: f2, 5
    #   / \\
    #  4   5           4: f3, 40; 5: f4, 2 (with 6: f5, 1 below it)
    #      |
    #      6
    nodes = _tree(
        [(0, 0, 1, 100), (1, 1, 2, 50), (1, 2, 3, 5), (2, 3, 4, 40), (2, 4, 5, 2), (5, 5, 6, 1)]
    )
    out, folded = fold(nodes, 3)
    assert folded == 3  # nodes 3, 5 and 6
    kept = [(n.id, n.parent, n.func, n.calls, n.wall, n.wall_self) for n in out[1:]]
    assert kept == [
        (1, 0, 0, 1, 198, 100),
        (2, 1, 1, 2, 93, 50),
        (3, 2, 3, 4, 40, 40),
        # the folds, after the kept nodes: under node 1 what node 3 held, under
        # node 2 what nodes 5 and 6 held (node 6 is inside node 5's subtree)
        (4, 1, FOLDED, 3, 5, 5),
        (5, 2, FOLDED, 5, 3, 3),
    ]
    assert out[4].cpu == out[4].cpu_self == 2 and out[5].cpu == 1
    assert out[1].children == [2, 4] and out[2].children == [3, 5]
    # every node's inclusive time is still its self time plus its children's
    for n in out:
        assert n.wall == n.wall_self + sum(out[c].wall for c in n.children)
    assert fold(nodes, 6) == (nodes, 0)


def test_fold_breaks_ties_by_the_earlier_node():
    from threadprof.exporters.html.data import FOLDED, fold

    nodes = _tree([(0, 0, 1, 10), (0, 1, 1, 10), (0, 2, 1, 10)])
    out, folded = fold(nodes, 2)
    assert folded == 1
    assert [(n.func, n.wall) for n in out[1:]] == [(0, 10), (1, 10), (FOLDED, 10)]


def test_report_beyond_the_node_budget_folds_each_view_exactly():
    from html_synth import big_snapshot

    from threadprof.exporters.html.data import FOLDED, VIEW_FLOOR

    snap = big_snapshot(threads=6, nodes_per_thread=3000, functions=200)
    whole = report_data(snap)
    data = report_data(snap, node_budget=12_000)
    assert whole["folded"] == 0
    views = [t["view"] for t in data["threads"]] + list(data["merged"].values())
    shown = sum(len(v["nodes"]) // len(NODE_FIELDS) for v in views)
    assert shown <= 12_000 + len(views) * VIEW_FLOOR
    assert data["folded"] == sum(v["folded"] for v in views) > 0
    label = data["funcs"].index("[cold call paths]")
    folded_index = label // 4
    assert data["funcs"][label - 1] == 0
    before = [t["view"] for t in whole["threads"]] + list(whole["merged"].values())
    for old, new in zip(before, views, strict=True):
        # the root and the tables are those of the whole tree
        assert new["root"] == old["root"]
        assert _named(new["functions"], 7, 1, data) == _named(old["functions"], 7, 1, whole)
        assert _named(new["edges"], 8, 2, data) == _named(old["edges"], 8, 2, whole)
        rows = _rows(new)
        old_rows = _rows(old)
        folds = [r for r in rows if r[1] == folded_index]
        assert len(rows) - len(folds) + new["folded"] == len(old_rows)
        # every node's inclusive wall time is its self time plus its
        # children's, and the children of the root hold all the time
        kids: dict[int, int] = {}
        for k, r in enumerate(rows, 1):
            kids[k - r[0]] = kids.get(k - r[0], 0) + r[4]
        for k, r in enumerate(rows, 1):
            assert r[4] == r[5] + kids.get(k, 0)
        assert kids[0] == sum(r[4] for k, r in enumerate(old_rows, 1) if k - r[0] == 0)
        # a fold is a leaf that holds the inclusive time as its own
        assert all(r[4] == r[5] and r[6] == r[7] for r in folds)
    assert FOLDED < 0


def _named(flat, stride, keys, data):
    """A table's rows with their function indices made (label, file, line), sorted."""
    funcs = data["funcs"]
    rows = []
    for i in range(0, len(flat), stride):
        row = list(flat[i : i + stride])
        for k in range(keys):
            f = row[k]
            row[k] = (funcs[4 * f + 1], data["files"][funcs[4 * f + 2]], funcs[4 * f + 3])
        rows.append(row)
    return sorted(rows)


def _rows(view):
    """A view's nodes as rows of NODE_FIELDS, in pre-order (row k is node k + 1)."""
    flat = view["nodes"]
    return [flat[i : i + len(NODE_FIELDS)] for i in range(0, len(flat), len(NODE_FIELDS))]


def test_a_diff_page_folds_nothing_so_its_baselines_stay_aligned(make_builder, monkeypatch):
    from threadprof.diff import compare
    from threadprof.exporters.html import data as data_module
    from threadprof.exporters.html.diffpage import page_data

    snaps = []
    for extra in (0, 1):
        b = make_builder()
        for name in ("main", "a", "b", "c"):
            b.func(name, "app.py")
        C = b.call
        b.thread(
            "MainThread",
            [C("main", 1, 100, [C("a", 1, 40 + extra), C("b", 1, 20), C("c", 1, 10)])],
        )
        snaps.append(b.build())
    monkeypatch.setattr(data_module, "NODE_BUDGET", 1)
    monkeypatch.setattr(data_module, "VIEW_FLOOR", 1)
    assert report_data(snaps[1])["folded"] > 0  # the budget would fold these trees
    data = page_data(compare(snaps[0], snaps[1]))
    assert data["folded"] == 0
    view = data["threads"][0]["view"]
    assert len(view["baseline"]) // 5 == len(view["nodes"]) // len(NODE_FIELDS) == 4
    assert data["merged"]["all"] == {"name": "all threads", "view_of": "t:0"}  # the same tree


def test_a_threads_slow_steps_of_tasks_longest_first(builder):
    C = builder.call
    t = builder.thread(
        "MainThread", [C("run_forever", 1, 900, [C("handler", 3, 800, [C("parse", 1, 500)])])]
    )
    builder.thread("idle", [C("run_forever", 1, 10)])
    # nodes: 1 run_forever, 2 handler, 3 parse
    t.slow_steps += [SlowStep(10, 120, 2, 2, 120)] + [
        SlowStep(200 + i, 300 + i, 2, 3, 290, task=i % 2) for i in range(SLOW_STEPS_SHOWN)
    ]
    builder.task(t, "handler-task", [C("handler", 1, 10)], id=1)
    snap = builder.build()
    snap.slow_step = 100
    data = report_data(snap)
    steps = data["threads"][0]["slow_steps"]
    assert (steps["count"], steps["least"]) == (SLOW_STEPS_SHOWN + 1, 100)
    handler, parse = (
        data["funcs"][4 * i + 1] for i in (steps["longest"][0][2], steps["longest"][0][3])
    )
    assert (handler, parse) == ("handler", "parse")
    assert [s[:2] for s in steps["longest"]] == [
        [200 + i, 300 + i] for i in reversed(range(SLOW_STEPS_SHOWN))
    ]  # the 120-tick step is not among the 10 longest
    assert [s[5] for s in steps["longest"][:2]] == ["handler-task", None]
    assert "slow_steps" not in data["threads"][1]


def test_a_threads_tasks_are_lanes(builder, monkeypatch):
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 100, [C("fetch", 3, 90)])])
    builder.task(t, "Task-1", [C("main", 1, 90, cpu=5)], id=1, await_time=85)
    for i in range(3):
        task = builder.task(
            t, f"fetch-{i}", [C("fetch", 1, 30, cpu=4)], id=2 + i, creator=1, steps=2,
            await_time=26, first_seen=10 * i,
        )  # fmt: skip
        task.step_spans = [(10 * i, 10 * i + 2), (10 * i + 28, 10 * i + 30)]
    data = report_data(builder.build())
    lanes = data["threads"][0]["tasks"]
    assert data["threads"][0]["task_count"] == 4
    assert [(lane["name"], lane["depth"], lane["tasks"]) for lane in lanes] == [
        ("Task-1", 0, 1),
        ("fetch-0", 1, 1),
        ("fetch-1", 1, 1),
        ("fetch-2", 1, 1),
    ]
    fetch = lanes[2]
    assert (fetch["first"], fetch["last"], fetch["wall"], fetch["cpu"]) == (10, 40, 30, 4)
    assert (fetch["await"], fetch["steps"], fetch["spans"]) == (26, 2, [10, 12, 38, 40])
    assert fetch["view"]["name"] == "fetch-1"
    # past the lanes a page draws, tasks of one pattern share a lane
    monkeypatch.setattr(html_data, "TASK_LANES", 3)
    lanes = report_data(builder.build())["threads"][0]["tasks"]
    assert [(lane["name"], lane["tasks"], lane["spans"]) for lane in lanes] == [
        ("Task-1", 1, []),
        ("fetch-* (3 tasks)", 3, []),
    ]
    assert lanes[1]["wall"] == 90 and lanes[1]["await"] == 78
