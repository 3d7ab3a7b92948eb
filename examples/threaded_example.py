# SPDX-License-Identifier: MIT
"""A small multi-threaded pipeline: the example that threadprof's README profiles.

    python3 -m threadprof run examples/threaded_example.py

Six threads besides the main one, each with a name, do a mix of CPU work and
waiting::

    producer ──queue──▶ parser-1, parser-2 ──submit──▶ pool: hasher_0 .. hasher_2
    (json.dumps,        (queue.get, json.loads,        (barrier, hashlib.sha256,
     time.sleep)          re, a shared lock)             sorting)

The call counts of the pipeline's functions are fixed by the constants below,
whatever the scheduling: ``make_record`` and ``parse_record`` run
``N_RECORDS`` times, ``parse_batch`` and ``digest_batch`` ``N_BATCHES`` times,
``hasher_ready`` ``POOL_WORKERS`` times. Which thread runs which batch varies
from run to run. The printed result line is the same on every run.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

N_RECORDS = 1200
BATCH = 50
N_BATCHES = N_RECORDS // BATCH
N_PARSERS = 2
POOL_WORKERS = 3
PRODUCER_PAUSE = 0.002  # seconds slept after each batch: the producer's I/O

THREAD_NAMES = (
    "producer",
    *(f"parser-{i + 1}" for i in range(N_PARSERS)),
    *(f"hasher_{i}" for i in range(POOL_WORKERS)),
)

LINE_RE = re.compile(r"^(?P<host>[a-z]+-\d+) (?P<verb>GET|PUT|POST) (?P<path>/\S*) (?P<ms>\d+)$")
VERBS = ("GET", "PUT", "POST")


def make_record(i: int) -> str:
    """One JSON-encoded log record; deterministic in ``i``."""
    host = f"web-{i % 7}"
    line = f"{host} {VERBS[i % 3]} /api/v1/items/{i * 37 % 1000} {(i * 7919) % 500}"
    samples = [(i * k * 2654435761) % 1000 for k in range(1, 25)]
    return json.dumps({"id": i, "line": line, "samples": samples})


def produce(out: queue.Queue[list[str] | None]) -> None:
    """Emit the records in batches, pausing after each one as if it read a socket."""
    batch: list[str] = []
    for i in range(N_RECORDS):
        batch.append(make_record(i))
        if len(batch) == BATCH:
            out.put(batch)
            batch = []
            time.sleep(PRODUCER_PAUSE)
    for _ in range(N_PARSERS):
        out.put(None)  # one end-of-stream marker per parser


def parse_record(text: str) -> dict[str, object]:
    """Decode one record and pick its log line apart."""
    rec = json.loads(text)
    m = LINE_RE.match(rec["line"])
    if m is None:
        raise ValueError(f"bad line: {rec['line']!r}")
    samples = sorted(rec["samples"])
    return {
        "id": rec["id"],
        "host": m["host"],
        "verb": m["verb"],
        "path": m["path"],
        "ms": int(m["ms"]),
        "median": samples[len(samples) // 2],
    }


def parse_batch(batch: list[str]) -> list[dict[str, object]]:
    return [parse_record(text) for text in batch]


def hasher_ready(barrier: threading.Barrier) -> None:
    """Hold each pool worker until all have started, so the pool has all its threads."""
    barrier.wait()


def digest_batch(records: list[dict[str, object]]) -> tuple[int, str]:
    """Sort a parsed batch by id and hash it."""
    h = hashlib.sha256()
    for rec in sorted(records, key=lambda r: r["id"]):  # type: ignore[arg-type, return-value]
        h.update(json.dumps(rec, sort_keys=True).encode())
    first = min(r["id"] for r in records)  # type: ignore[type-var]
    return first, h.hexdigest()  # type: ignore[return-value]


def parse_worker(
    inbox: queue.Queue[list[str] | None],
    pool: ThreadPoolExecutor,
    futures: list[Future[tuple[int, str]]],
    stats: dict[str, int],
    lock: threading.Lock,
) -> None:
    """Take batches off the queue, parse them, hand them to the pool, count verbs."""
    while True:
        batch = inbox.get()
        if batch is None:
            return
        records = parse_batch(batch)
        future = pool.submit(digest_batch, records)
        with lock:
            futures.append(future)
            for rec in records:
                stats[rec["verb"]] = stats.get(rec["verb"], 0) + 1  # type: ignore[index]


def run_pipeline() -> str:
    """Run the whole pipeline and return its one-line summary."""
    inbox: queue.Queue[list[str] | None] = queue.Queue(maxsize=4)
    futures: list[Future[tuple[int, str]]] = []
    stats: dict[str, int] = {}
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=POOL_WORKERS, thread_name_prefix="hasher") as pool:
        barrier = threading.Barrier(POOL_WORKERS)
        ready = [pool.submit(hasher_ready, barrier) for _ in range(POOL_WORKERS)]
        threads = [threading.Thread(target=produce, args=(inbox,), name="producer")]
        threads += [
            threading.Thread(
                target=parse_worker,
                args=(inbox, pool, futures, stats, lock),
                name=f"parser-{i + 1}",
            )
            for i in range(N_PARSERS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for f in ready:
            f.result()
        digests = sorted(f.result() for f in futures)
    total = hashlib.sha256("".join(d for _, d in digests).encode()).hexdigest()
    verbs = " ".join(f"{v}={stats.get(v, 0)}" for v in VERBS)
    return (
        f"processed {sum(stats.values())} records in {len(digests)} batches "
        f"on {len(THREAD_NAMES)} threads: {verbs} digest={total[:16]}"
    )


def main() -> None:
    print(run_pipeline())


if __name__ == "__main__":
    main()
