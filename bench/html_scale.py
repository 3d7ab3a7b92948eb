# SPDX-License-Identifier: MIT
"""A million-node profile made into an HTML report: time, memory, and the page.

    python bench/html_scale.py [--nodes 1000000] [--repeat 3] [--browser]

Two profiles of ``--nodes`` call-tree nodes, each written to a ``.tprof`` by
a child process:

* ``deep``: ``bench/diff_scale.py``'s four threads of random trees over
  20,000 functions whose paths run deep and are all distinct (so the merged
  view and its caller/callee table are as large as they get);
* ``wide``: ``bench/scale.py``'s synthetic program (every ``f_i`` called from
  every ``g_j``) profiled on one thread.

Each is converted by ``threadprof convert FILE -o FILE.html`` in a fresh
process; the table gives the best wall time of ``--repeat`` and the largest
peak resident memory (``ru_maxrss`` from ``wait4``), the page's size, and with
``--browser`` the page in headless Chromium (bench/html_report_size.py's
timing: from the navigation to the data decoded, and to all views drawn).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def make(kind: str, nodes: int, path: str) -> None:
    """Write the ``kind`` profile of about ``nodes`` nodes to ``path`` (in a child)."""
    from threadprof import tprof

    if kind == "deep":
        import diff_scale

        snap = diff_scale.make(nodes, 4, extra=False)
    else:
        import scale

        import threadprof

        program = scale.synthetic_program(nodes)
        with threadprof.profile() as prof:
            for g in program:
                g()
        snap = prof.snapshot()
    with open(path, "wb") as f:
        tprof.write(snap, f)


def convert(path: str, out: str, repeat: int) -> tuple[float, int]:
    """The best wall time and the largest peak RSS (KiB) of ``threadprof convert``."""
    argv = [sys.executable, "-m", "threadprof", "convert", path, "-o", out]
    quiet = [(os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    best, rss = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        pid = os.posix_spawn(sys.executable, argv, os.environ, file_actions=quiet)
        _pid, status, usage = os.wait4(pid, 0)
        best = min(best, time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"threadprof convert {path} failed")
        rss = max(rss, usage.ru_maxrss)
    return best, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="time the page in Chromium")
    parser.add_argument("--make", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make(args.make[0], args.nodes, args.make[1])
        return
    browser = None
    if args.browser:
        from html_report_size import start_browser

        browser = start_browser()
    import threadprof

    print(f"Python {platform.python_version()}, threadprof {threadprof.__version__}\n")
    head = "| profile | convert to HTML | peak RSS | page size |"
    rule = "| --- | ---: | ---: | ---: |"
    if browser:
        head += " page ready | all views drawn |"
        rule += " ---: | ---: |"
    print(head)
    print(rule)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("deep", "wide"):
            path = os.path.join(tmp, f"{kind}.tprof")
            sizes = ["--nodes", str(args.nodes)]
            subprocess.run([sys.executable, __file__, *sizes, "--make", kind, path], check=True)
            out = path + ".html"
            seconds, rss = convert(path, out, args.repeat)
            page = os.path.getsize(out) / 1e6
            row = f"| {kind} | {seconds:.2f} s | {rss / 1024:.0f} MB | {page:.1f} MB |"
            if browser:
                from html_report_size import time_page

                ready, drawn, _switch = time_page(browser, Path(out).read_bytes())
                row += f" {ready:.2f} s | {drawn:.2f} s |"
            print(row, flush=True)
    if browser:
        browser.close()


if __name__ == "__main__":
    main()
