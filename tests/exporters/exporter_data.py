# SPDX-License-Identifier: MIT
"""Names, events and helpers shared by the exporter tests (their fixtures are in conftest.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

LEN = "<built-in function len>"

#: Names that every format must carry through unchanged.
WEIRD_QUALNAME = 'Cls."we\\ird"\n<locals>.fn;x%41 ünï 🐍'
WEIRD_FILE = 'dir "q"\\sub\r\nfïle;%.py'
WEIRD_THREAD = 'wörker "1"\\n\n名前;%0A'
WEIRD_C = '<built-in method "q"\\\n ü>'


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
    into ``out_dir`` and import the generated ``<stem>_pb2`` module."""
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
