# SPDX-License-Identifier: MIT
"""Events and helpers shared by the exporter tests (their fixtures are in conftest.py)."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys

from shared import LEN


def timeline_events():
    """The two timelines of ``timeline_snap``: ``(kind, func, tick)``."""
    main = [
        ("call", "main", 0),
        ("call", "fact", 10),
        ("call", "fact", 12),
        ("call", LEN, 13),
        ("ret", LEN, 14),
        ("ret", "fact", 15),
        ("ret", "fact", 20),
        ("call", "ping", 20),  # same tick as the return before it
        ("ret", "ping", 20),  # zero-length slice
        ("call", "ping", 25),
        ("ret", "ping", 31),
        ("ret", "main", 40),
    ]
    worker = [
        ("ret", "helper", 3),  # its call was dropped
        ("ret", "run", 4),  # and so was this one's
        ("call", "helper", 5),
        ("call", "fact", 6),
        ("ret", "fact", 9),
        ("ret", "helper", 11),
        ("call", "helper", 12),
        ("call", "fact", 13),  # both still open at the end: closed at 13
    ]
    return main, worker


def compile_proto(source, out_dir):
    """Compile the ``.proto`` file ``source`` with ``python -m grpc_tools.protoc``
    into ``out_dir`` and import the generated ``<stem>_pb2`` module. Skips the
    test where grpcio-tools cannot be installed (it has no wheel for a
    free-threaded CPython, and its source build needs the network for more
    than PyPI)."""
    if importlib.util.find_spec("grpc_tools") is None:
        import pytest

        pytest.skip("grpcio-tools is not installed (no wheel for this CPython)")
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={source.parent}",
        f"--python_out={out_dir}",
        str(source),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    name = f"{source.stem}_pb2"
    spec = importlib.util.spec_from_file_location(name, out_dir / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CountingSink:
    """A binary file that keeps nothing: it counts the bytes written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def lazy_timeline_snapshot(make_builder, sink, chunks, per_chunk):
    """A one-thread snapshot whose timeline is generated chunk by chunk, as a
    recorded timeline is read from its file; returns it and a list that gets
    ``sink.size`` each time the exporter asks for the next chunk."""
    from array import array

    from threadprof.model import Timeline

    b = make_builder(unit=1e-9)
    main = b.func("main")
    leaf = b.func("leaf")
    seen: list[int] = []

    def source():
        t = 1_000_000_000
        for k in range(chunks):
            seen.append(sink.size)
            funcs = array("i")
            times = array("q")
            if k == 0:
                funcs.append(main)
                times.append(t)
            for _ in range(per_chunk // 2):
                funcs.extend((leaf, ~leaf))
                times.extend((t + 1, t + 1234))
                t += 2000
            yield funcs, times
        seen.append(sink.size)
        # main is still open: the exporter closes it

    thread = b.thread("T", [])
    thread.timeline = Timeline(source, chunks * (per_chunk + 1))
    return b.build(), seen


def assert_streams(name, make_builder):
    """``name`` writes each chunk of a timeline before it asks for the next one."""
    from threadprof.exporters import get_exporter

    sink = CountingSink()
    snap, seen = lazy_timeline_snapshot(make_builder, sink, chunks=20, per_chunk=100)
    get_exporter(name).dump(snap, sink)
    assert len(seen) == 21
    assert all(a < b for a, b in itertools.pairwise(seen)), seen
    assert sink.size > seen[-1]  # and then the closing of the open frame


def assert_bounded_memory(name, make_builder, events=80_000, limit=1 << 20):
    """Exporting a long lazy timeline needs memory for a chunk, not for the trace:
    less than ``limit`` bytes at the peak, for more than ``limit`` bytes of output
    (measured: a few hundred KB, whatever the number of events)."""
    import tracemalloc

    from threadprof.exporters import get_exporter

    sink = CountingSink()
    snap, _ = lazy_timeline_snapshot(make_builder, sink, chunks=events // 1000, per_chunk=1000)
    tracemalloc.start()
    try:
        get_exporter(name).dump(snap, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.size > limit  # the output is larger than all that was held
    assert peak < limit, f"peak {peak} bytes for {sink.size} bytes of output"
    return sink.size
