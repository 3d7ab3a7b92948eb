# SPDX-License-Identifier: MIT
"""The size of the HTML report and the time to write it, for docs/benchmarks.md.

    python bench/html_report_size.py [--repeat 3] [--out DIR]

Three profiles:

* the bundled example (``examples/threaded_example.py``) profiled with a
  timeline, as ``threadprof run --timeline -o report.html`` would;
* a synthetic profile of 100,000 call-tree nodes on 1,000 threads
  (``tests/html/html_synth.py``: ``big_snapshot()``);
* a synthetic profile with 1,000,000 timeline calls on 4 threads
  (``timeline_snapshot()``), which the report downsamples.

For each it prints the file size, its gzip size (for reference: the file is
not compressed), and the best time of ``--repeat`` renderings, as a Markdown
table. ``--out DIR`` keeps the reports. ``--browser`` also opens each report
in headless Chromium (``tests/html/html_cdp.py``) and times the page, from
the start of the navigation: to its load event, and until all three views are
drawn; then a change of measure with every view redrawn.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "html"))
sys.path.insert(0, str(ROOT / "examples"))

import threadprof  # noqa: E402
from threadprof.exporters.html.data import report_data  # noqa: E402
from threadprof.exporters.html.page import render  # noqa: E402
from threadprof.model import Snapshot  # noqa: E402


def example() -> Snapshot:
    import threaded_example

    with threadprof.profile(timeline=True) as prof:
        threaded_example.run_pipeline()
    return prof.snapshot()


def describe(snap: Snapshot) -> str:
    nodes = sum(len(t.nodes) - 1 for t in snap.threads)
    calls = sum(t.timeline.events for t in snap.threads if t.timeline is not None) // 2
    text = f"{len(snap.threads):,} threads, {nodes:,} nodes, {len(snap.functions):,} functions"
    return text + (f", {calls:,} timeline calls" if calls else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--browser", action="store_true", help="time the page in Chromium")
    args = parser.parse_args()
    browser = start_browser() if args.browser else None
    from html_synth import big_snapshot, timeline_snapshot

    cases = [
        ("bundled example, with timeline", example),
        ("100,000 nodes on 1,000 threads", big_snapshot),
        ("1,000,000 timeline calls on 4 threads", timeline_snapshot),
    ]
    print(f"Python {platform.python_version()}, threadprof {threadprof.__version__}\n")
    head = "| profile | contents | HTML size | gzipped | time to write | timeline slices |"
    rule = "| --- | --- | ---: | ---: | ---: | ---: |"
    if browser:
        head += " page loaded | all views drawn | measure switched |"
        rule += " ---: | ---: | ---: |"
    print(head)
    print(rule)
    for label, make in cases:
        snap = make()
        best = float("inf")
        page = ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            page = render(snap)
            best = min(best, time.perf_counter() - start)
        data = page.encode("utf-8")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            name = label.split(",")[0].replace(" ", "-")
            (args.out / f"{name}.html").write_bytes(data)
        info = report_data(snap)
        shown = sum(t["timeline"]["shown"] for t in info["threads"] if t["timeline"])
        quantum = info["timeline_quantum"]
        slices = f"{shown:,}" + (f" (q = {quantum * snap.unit * 1e6:g} µs)" if quantum else "")
        row = (
            f"| {label} | {describe(snap)} | {len(data) / 1e6:.2f} MB | "
            f"{len(gzip.compress(data)) / 1e6:.2f} MB | {best:.2f} s | {slices} |"
        )
        if browser:
            row += " {:.2f} s | {:.2f} s | {:.2f} s |".format(*time_page(browser, data))
        print(row, flush=True)
    if browser:
        browser.close()


def start_browser():  # -> html_cdp.Browser
    import tempfile

    from html_cdp import Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        sys.exit("no Chromium found (apt-get install chromium)")
    return Browser(executable, Path(tempfile.mkdtemp()) / "profile")


def time_page(browser, data: bytes) -> tuple[float, float, float]:
    """Seconds from navigation until the page is ready (its data inflated and
    decoded) and until all views are drawn, and to redraw them for another measure."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_bytes(data)
        page = browser.new_page(1400, 1000)
        page.goto(path.as_uri())
        page.wait_for("window.threadprof !== undefined")
        loaded, drawn, switch = page.js(
            """(() => { const tp = window.threadprof;
            tp.buildAll(); const drawn = performance.now();
            const t = performance.now(); tp.setMeasure('cpu'); tp.buildAll();
            return [tp.readyAt / 1000, drawn / 1000, (performance.now() - t) / 1000];
            })()"""
        )
        errors = page.js_errors()
        page.close()
        if errors:
            sys.exit(f"the page reported errors: {errors}")
        return loaded, drawn, switch


if __name__ == "__main__":
    main()
