# SPDX-License-Identifier: MIT
"""Snapshots shared by the exporter tests, built by hand (see ``tests/conftest.py``).

* ``tree_snap``: two threads with call trees only -- direct and mutual
  recursion, a frame already running at start (0 calls), a C function, two
  functions sharing one ``(file, line, name)``, CPU times unlike wall times.
* ``timeline_snap``: two threads with timelines in several chunks, one of them
  cut by ``--timeline-limit`` (it starts with returns whose calls are gone) and
  ending with frames still open, and a third thread without a timeline.
(``weird_snap`` is in tests/conftest.py, shared with the HTML tests.)
"""

from __future__ import annotations

import pytest
from exporter_data import compile_proto, timeline_events
from shared import LEN


@pytest.fixture
def tree_snap(builder):
    b = builder
    for name, line in (("main", 10), ("fact", 20), ("ping", 30), ("pong", 40), ("helper", 50)):
        b.func(name, "app.py", line)
    b.func("run", "app.py", 60)
    b.cfunc(LEN)
    helper2 = b.func("helper", "app.py", 50)  # another code object, same pstats key
    C = b.call
    # wall ticks (cpu ticks); self = inclusive - children's inclusive
    b.thread(
        "MainThread",
        [
            C("main", 1, 100, [  # self 18 (cpu 60 - 9 - 20 - 6 = 25)
                C("fact", 1, 30, [  # self 10 (9 - 5 = 4)
                    C("fact", 1, 20, [  # self 12 (5 - 3 = 2)
                        C("fact", 1, 8, [C(LEN, 1, 1)], cpu=3),  # self 7 (2); len 1 (1)
                    ], cpu=5),
                ], cpu=9),
                C("ping", 2, 40, [  # self 15 (20 - 12 = 8)
                    C("pong", 2, 25, [  # self 15 (12 - 4 = 8)
                        C("ping", 1, 10, [C("pong", 1, 4)], cpu=4),  # self 6 (0), 4 (4)
                    ], cpu=12),
                ], cpu=20),
                C("helper", 3, 12, cpu=6),
            ], cpu=60),
        ],
        native_id=4242,
    )  # fmt: skip
    b.thread(
        "worker-1",
        [
            C("run", 0, 60, [  # already running at start; self 5
                C("helper", 4, 20),
                C("fact", 2, 30, [C("fact", 2, 10)]),  # self 20, 10
                C(helper2, 1, 5),
            ]),
        ],
        native_id=4343,
    )  # fmt: skip
    return b.build()


@pytest.fixture
def timeline_snap(builder):
    b = builder
    b.cfunc(LEN)
    C = b.call
    main, worker = timeline_events()
    t1 = b.thread("MainThread", [C("main", 1, 40)], native_id=4242)
    b.timeline(t1, main, chunk=5)
    t2 = b.thread("worker-1", [C("helper", 2, 8)], native_id=4343)
    b.timeline(t2, worker, dropped=7, chunk=3)
    b.thread("idle", [C("sleep", 1, 50)], native_id=4444)  # no timeline
    return b.build(pid=4242)  # the main thread's native id, as on Linux


@pytest.fixture(scope="session")
def protoc():
    """:func:`compile_proto`, for the tests that decode protobuf output."""
    return compile_proto


@pytest.fixture(scope="session")
def pprof_pb2(tmp_path_factory):
    """pprof's profile messages, compiled from ``data/pprof_profile.proto``."""
    from pathlib import Path

    proto = Path(__file__).parent / "data" / "pprof_profile.proto"
    return compile_proto(proto, tmp_path_factory.mktemp("pprof"))
