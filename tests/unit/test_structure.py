# SPDX-License-Identifier: MIT
"""The package's structure: its modules import each other without a circle,
counting the imports inside functions too (a lazy import that only hides a
circle is one), and hold no mutable state at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import threadprof

PACKAGE = Path(threadprof.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = ["threadprof", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text("utf-8")) for p in PACKAGE.rglob("*.py")}


def imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in it."""
    is_package = name + ".__init__" in known or any(k.startswith(name + ".") for k in known)
    base = name.split(".") if is_package else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                origin = ".".join(base[: len(base) - node.level + 1])
                module = f"{origin}.{node.module}" if node.module else origin
            else:
                module = node.module or ""
            # `from . import api` imports the module api; `from .x import f` imports x
            targets = [f"{module}.{a.name}" for a in node.names] + [module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("threadprof"):
                out.add(target)
    return out


def test_no_import_circle():
    mods = modules()
    known = set(mods)
    graph = {name: imports(name, tree, known) for name, tree in mods.items()}
    # a package's __init__ is imported before any of its modules; a module
    # importing its own package (or an ancestor) for a name is not a circle of
    # the package's making unless the __init__ imports the module back
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not name.startswith(d + ".")}
    assert len(graph) > 30
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


MUTABLE = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def test_no_mutable_module_state():
    """No ``global`` statement, and no module-level list, dict or set that is
    not a constant table (named in capitals, or private and never assigned to)."""
    for name, tree in modules().items():
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Global), f"{name}: global statement"
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, MUTABLE):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    assert isinstance(target, ast.Name), f"{name}: {ast.dump(target)}"
                    constant = target.id.lstrip("_").isupper() or target.id == "__all__"
                    assert constant, f"{name}: module-level mutable {target.id}"


def test_the_package_loads_each_part_of_its_api_when_first_used():
    code = """
import sys, threadprof
assert "threadprof.model" not in sys.modules and "threadprof.api" not in sys.modules
from threadprof import Profile, Snapshot
import threadprof.api, threadprof.model
assert Profile is threadprof.api.Profile and Snapshot is threadprof.model.Snapshot
assert set(threadprof.__all__) <= set(dir(threadprof))
namespace = {}
exec("from threadprof import *", namespace)
assert set(threadprof.__all__) <= set(namespace)
try:
    threadprof.no_such_name
except AttributeError as exc:
    print(exc)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == "module 'threadprof' has no attribute 'no_such_name'\n"
