# SPDX-License-Identifier: MIT
"""The model's plain data classes (``threadprof._record``): what ``dataclasses``
gave them, and the startup they save."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap

import pytest

from threadprof._record import Frozen, Record
from threadprof.model import (
    Function,
    Node,
    Snapshot,
    ThreadProfile,
    Timeline,
    replace,
)


def _snapshot() -> Snapshot:
    funcs = [Function(0, "python", "f", "C.f", "a.py", 3), Function(1, "c", "<len>", "", "~", 0)]
    nodes = [Node(0, -1, -1, wall=9, children=[1]), Node(1, 0, 0, 2, 2, 9, 4, 8, 3, [2])]
    nodes.append(Node(2, 1, 1, calls=5, prim_calls=5, wall=5, wall_self=5))
    thread = ThreadProfile(7, 1234, 99, "MainThread", 0, 10, 10, 8, nodes, ["w"])
    return Snapshot("wall", 1e-9, funcs, [thread], "exact", "monitoring", 42, 1.5, 10, "3.12.1")


def test_fields_follow_the_init_parameters_in_order():
    assert Node._fields == (
        "id",
        "parent",
        "func",
        "calls",
        "prim_calls",
        "wall",
        "wall_self",
        "cpu",
        "cpu_self",
        "children",
    )
    assert Function._fields == ("id", "kind", "name", "qualname", "filename", "lineno")
    assert set(Snapshot._fields) == set(Snapshot.__slots__)
    assert repr(Node(3, 1, 2, calls=4)) == (
        "Node(id=3, parent=1, func=2, calls=4, prim_calls=0, wall=0, wall_self=0, cpu=0,"
        " cpu_self=0, children=[])"
    )


def test_equality_compares_every_field_and_the_class():
    a, b = _snapshot(), _snapshot()
    assert a == b
    b.threads[0].nodes[2].cpu_self = 1
    assert a != b
    assert Node(1, 0, 0) != Node(1, 0, 1)
    # the same fields in another class are not equal
    assert Timeline(list, 3) != Node(list, 3, 0)  # type: ignore[arg-type]
    assert Node(1, 0, 0).__eq__(object()) is NotImplemented


def test_mutable_ones_are_unhashable_frozen_ones_hash_by_value():
    with pytest.raises(TypeError):
        hash(Node(0, -1, -1))
    f = Function(0, "python", "f", "f", "a.py", 1)
    assert hash(f) == hash(Function(0, "python", "f", "f", "a.py", 1))
    assert {f: 1}[Function(0, "python", "f", "f", "a.py", 1)] == 1
    with pytest.raises(AttributeError, match="cannot assign to field 'name'"):
        f.name = "g"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'name'"):
        del f.name  # type: ignore[misc]
    with pytest.raises(AttributeError):
        f.extra = 1  # type: ignore[attr-defined]  # slots: no other attributes


def test_list_defaults_are_fresh_per_object():
    a, b = Node(0, -1, -1), Node(0, -1, -1)
    a.children.append(1)
    assert b.children == []
    s = Snapshot("wall", 1.0, [], [])
    assert s.argv == [] and s.warnings == [] and s.argv is not s.warnings


def test_pickle_and_copies_keep_every_field():
    snap = _snapshot()
    for twin in (pickle.loads(pickle.dumps(snap)), copy.deepcopy(snap)):
        assert twin == snap
        assert twin.threads[0].nodes[1] is not snap.threads[0].nodes[1]
    f = snap.functions[0]
    assert pickle.loads(pickle.dumps(f)) == f  # frozen: set through object.__setattr__
    shallow = copy.copy(snap)
    assert shallow == snap and shallow.threads is snap.threads


def test_replace_changes_only_what_it_names():
    snap = _snapshot()
    other = replace(snap, pid=7, argv=["x"])
    assert (other.pid, other.argv) == (7, ["x"])
    assert other.threads is snap.threads and snap.pid == 42
    assert replace(snap.functions[0], lineno=9).lineno == 9
    with pytest.raises(TypeError):
        replace(snap, no_such_field=1)
    if sys.version_info >= (3, 13):
        assert copy.replace(snap, pid=8).pid == 8


def test_a_class_whose_init_misses_a_slot_is_refused():
    with pytest.raises(TypeError, match=r"must take its fields"):

        class Bad(Record):
            __slots__ = ("a", "b")

            def __init__(self, a: int) -> None:
                self.a = a

    class Good(Frozen):
        __slots__ = ("a", "b")  # any order: the fields' order is __init__'s

        def __init__(self, a: int, b: int = 2) -> None:
            self._set(a, b)

    assert (
        repr(Good(1)) == "test_a_class_whose_init_misses_a_slot_is_refused.<locals>.Good(a=1, b=2)"
    )


def _importers(importtime: str, module: str) -> set[str]:
    """The modules that imported ``module`` first, from ``-X importtime``'s
    tree (a module's line comes after those of the modules it imported, one
    level deeper)."""
    rows = []
    for line in importtime.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rpartition("|")[2]
            rows.append((len(name) - len(name.lstrip()), name.strip()))
    out = set()
    for i, (depth, name) in enumerate(rows):
        if name == module:
            out.add(next((n for d, n in rows[i + 1 :] if d < depth), "<top>"))
    return out


def test_a_run_imports_neither_dataclasses_nor_inspect(tmp_path):
    """No module of threadprof imports ``dataclasses`` or ``inspect`` (with
    ``ast``, ``dis`` and ``tokenize``), which cost a third of a short run.
    (From 3.14 on argparse's colours import them through ``_colorize``.)"""
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading
            t = threading.Thread(target=sum, args=([1, 2],))
            t.start(); t.join()
            """
        )
    )
    out_path = str(tmp_path / "x.tprof")
    for extra in ([], ["--timeline"]):
        cmd = [sys.executable, "-X", "importtime", "-m", "threadprof", "run", *extra]
        out = subprocess.run(
            [*cmd, "-o", out_path, str(script)], capture_output=True, text=True, check=True
        )
        assert _importers(out.stderr, "threadprof.report") == {"threadprof.cli.run"}
        for module in ("dataclasses", "inspect"):
            by = _importers(out.stderr, module)
            assert not any(m.startswith("threadprof") or m == "<top>" for m in by), (module, by)
            assert by <= {"_colorize", "dataclasses"}, (module, by)
