# SPDX-License-Identifier: MIT
"""A long timeline of the bundled threaded example, recorded and exported.

    python bench/timeline_formats.py [--events 10000000] [--formats chrome,perfetto,...]

Runs examples/threaded_example.py in a loop under ``threadprof.profile(
timeline=True)`` until about N timeline events were recorded, sampling the
process's resident memory (RSS) as it goes, then writes the .tprof file and
converts it to every format, each conversion in a fresh process (so that its
peak RSS is its own) and the best of ``--repeat`` (3), reporting wall time
(start-up not counted), events per second, CPU time, file size and peak
RSS. Memory that does not grow with the number of events is the point: the
recorder spills its buffers to disk, and the timeline exporters stream.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import runpy
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "threaded_example.py"
FORMATS = "tprof,perfetto,chrome,speedscope,collapsed,pprof,callgrind,pstats,html"
EXT = {
    "tprof": ".tprof",
    "perfetto": ".pftrace",
    "chrome": ".trace.json",
    "speedscope": ".speedscope.json",
    "collapsed": ".folded",
    "pprof": ".pb.gz",
    "callgrind": ".callgrind",
    "pstats": ".prof",
    "html": ".html",
}


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def record(events: int, out: pathlib.Path) -> dict:
    import threadprof

    samples = []
    with threadprof.profile(timeline=True) as p:
        done = 0
        rounds = 0
        example = runpy.run_path(str(EXAMPLE), run_name="example")
        t0 = time.perf_counter()
        while done < events:
            example["run_pipeline"]()
            rounds += 1
            snap = p.snapshot()
            done = sum(t.timeline.events for t in snap.threads if t.timeline)
            samples.append((done, rss_mib()))
        elapsed = time.perf_counter() - t0
    snap = p.snapshot()
    total = sum(t.timeline.events for t in snap.threads if t.timeline)
    t1 = time.perf_counter()
    from threadprof.exporters import get_exporter

    get_exporter("tprof").write(snap, out)
    write_s = time.perf_counter() - t1
    return {
        "events": total,
        "rounds": rounds,
        "record_s": elapsed,
        "memory_bytes_per_event_in_core": 12,
        "rss_samples": samples,
        "tprof_write_s": write_s,
        "tprof_bytes": out.stat().st_size,
    }


def convert(src: pathlib.Path, fmt: str, dest: pathlib.Path) -> dict:
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork+exec
    code = (
        "import sys, time\n"
        "from threadprof import cli\n"
        "t, c = time.perf_counter(), time.process_time()\n"
        f"rc = cli.main(['convert', {str(src)!r}, '-o', {str(dest)!r}, '--format', {fmt!r}])\n"
        "el, cpu = time.perf_counter() - t, time.process_time() - c\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(rc, el, cpu, hwm.split()[1])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    last = proc.stdout.strip().splitlines()[-1].split()
    rc, seconds, cpu, maxrss_kib = int(last[0]), float(last[1]), float(last[2]), int(last[3])
    return {
        "format": fmt,
        "status": rc,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "bytes": dest.stat().st_size if dest.exists() else 0,
        "peak_rss_mib": maxrss_kib / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--formats", default=FORMATS)
    ap.add_argument("--repeat", type=int, default=3, help="conversions: the best of N")
    ap.add_argument("--json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        src = work / "run.tprof"
        rec = record(args.events, src)
        n = rec["events"]
        print(f"python {sys.version.split()[0]}: {n:,} timeline events in {rec['rounds']} rounds")
        print(f"recording: {rec['record_s']:.1f} s; RSS by events recorded:")
        for done, rss in rec["rss_samples"][:: max(1, len(rec["rss_samples"]) // 8)]:
            print(f"  {done:>12,} events  {rss:8.1f} MiB")
        print(f"  {rec['rss_samples'][-1][0]:>12,} events  {rec['rss_samples'][-1][1]:8.1f} MiB")
        rate = n / rec["tprof_write_s"] / 1e6
        print(
            f".tprof: {rec['tprof_bytes'] / n:.2f} bytes/event on disk, 12 in memory;"
            f" written in {rec['tprof_write_s']:.1f} s ({rate:.2f} M events/s)"
        )
        results = []
        head = ("format", "seconds", "M ev/s", "CPU s", "MiB", "B/event", "peak RSS MiB")
        print(f"conversions: the best of {args.repeat}, in process (start-up not counted)")
        print("{:<11} {:>8} {:>7} {:>6} {:>9} {:>8} {:>13}".format(*head))
        for fmt in args.formats.split(","):
            runs = [convert(src, fmt, work / f"out{EXT[fmt]}") for _ in range(args.repeat)]
            r = min(runs, key=lambda run: run["seconds"])
            results.append(r)
            print(
                f"{fmt:<11} {r['seconds']:>8.1f} {n / r['seconds'] / 1e6:>7.2f}"
                f" {min(run['cpu_seconds'] for run in runs):>6.1f}"
                f" {r['bytes'] / 2**20:>9.1f} {r['bytes'] / n:>8.2f} {r['peak_rss_mib']:>13.1f}"
                + ("" if r["status"] == 0 else f"  (exit {r['status']})")
            )
            (work / f"out{EXT[fmt]}").unlink(missing_ok=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"record": rec, "convert": results}, f, indent=2)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
