# SPDX-License-Identifier: MIT
"""Screenshot an HTML report in headless Chromium, as docs/img/report-html.png is made.

    threadprof run --timeline -q -o report.html examples/threaded_example.py
    python tools/html_screenshot.py report.html docs/img/report-html.png

Options: ``--width``/``--height`` of the viewport (1280 x 1160), ``--full`` for
the whole page rather than the viewport, ``--js EXPR`` to run in the page
first (e.g. ``"threadprof.select('t:1')"``; ``window.threadprof`` is the
page's scripting hook). It uses the DevTools driver of the browser tests,
``tests/html/html_cdp.py``, and ``websocket-client``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "html"))

from html_cdp import Browser, find_chromium


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1160)
    parser.add_argument("--full", action="store_true", help="the whole page")
    parser.add_argument("--js", action="append", default=[], help="run EXPR in the page first")
    args = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        sys.exit("no Chromium found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        browser = Browser(executable, Path(tmp) / "profile")
        try:
            page = browser.new_page(args.width, args.height)
            page.goto(args.report.resolve().as_uri())
            page.wait_for("window.threadprof !== undefined")  # the data inflates first
            page.js("window.threadprof.buildAll()")
            for expr in args.js:
                page.js(expr)
            page.settle()
            page.screenshot(args.png, full_page=args.full)
            errors = page.js_errors()
        finally:
            browser.close()
    if errors:
        sys.exit(f"the page reported errors: {errors}")
    print(f"{args.png}: {args.png.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
