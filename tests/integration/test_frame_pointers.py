# SPDX-License-Identifier: MIT
"""The core keeps frame pointers (PEP 831), so that perf, eBPF tools and
debuggers unwind through the recorder without DWARF: every function of the
hot path sets up %rbp as the frame of its caller's chain."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess

import pytest

from threadprof import _core

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64" or shutil.which("objdump") is None,
    reason="reads x86-64 code with objdump",
)

# the recorder's entry points: one per engine and clock mode, and the cold
# path an event can reach
ENTRY_POINTS = [
    f"tprof_{kind}_{mode}"
    for kind in ("record", "mon_call", "mon_return", "mon_c_call", "mon_c_return")
    for mode in ("wall", "wall_cpu", "cpu", "user", "wall_tl", "cpu_tl")
] + ["tprof_attach", "tprof_new_node", "tprof_user_time"]


def _prologues() -> dict[str, list[str]]:
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", _core.__file__],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, list[str]] = {}
    name = None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <([\w.]+)>:$", line)
        if m:
            name = m.group(1)
            found[name] = []
        elif name is not None and "\t" in line and len(found[name]) < 12:
            found[name].append(" ".join(line.split("\t", 1)[1].split()))
    return found


def test_hot_path_functions_set_up_a_frame_pointer():
    prologues = _prologues()
    missing = [f for f in ENTRY_POINTS if f not in prologues]
    assert not missing, f"symbols not found (stripped build?): {missing}"
    for name in ENTRY_POINTS:
        insns = prologues[name]
        assert "push %rbp" in insns, (name, insns)
        assert "mov %rsp,%rbp" in insns, (name, insns)
        assert insns.index("push %rbp") < insns.index("mov %rsp,%rbp"), (name, insns)
