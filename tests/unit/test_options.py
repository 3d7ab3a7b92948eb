# SPDX-License-Identifier: MIT
"""Every place that spells out the profiling options agrees with
threadprof/options.py, the one list of them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import threadprof
from threadprof import _core
from threadprof.cli import build_parser
from threadprof.options import CLOCKS, COROUTINES, ENGINES, OPTIONS, session_options

STUB = Path(_core.__file__).with_name("_core.pyi")


def expected(options, kind_of, session=False):
    return [(o.name, kind_of(o), o.session_value if session else o.default) for o in options]


def cprofile_kind(o):
    return "positional" if o.positional else "keyword"


def keyword(o):
    return "keyword"


def described(params):
    kinds = {
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.KEYWORD_ONLY: "keyword",
    }
    return [
        (p.name, kinds[p.kind], p.default)
        for p in params
        if p.name not in ("self", "cls", "$type")
    ]


def test_the_c_signature_and_keyword_list():
    sig = inspect.signature(_core.Profiler)
    assert described(sig.parameters.values()) == expected(OPTIONS, cprofile_kind)
    # the keyword list accepts every option, in cProfile's positional order too
    for o in OPTIONS:
        _core.Profiler(**{o.name: o.default})
    positional = [o.default for o in OPTIONS if o.positional]
    _core.Profiler(*positional)
    with pytest.raises(TypeError):
        _core.Profiler(no_such_option=1)


def test_the_stub():
    tree = ast.parse(STUB.read_text("utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Profiler"]
    (new,) = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__new__"]
    args = new.args
    positional = args.args[1:]  # cls
    assert len(positional) == len(args.defaults)
    got = [
        (a.arg, "positional", ast.literal_eval(d))
        for a, d in zip(positional, args.defaults, strict=True)
    ]
    got += [
        (a.arg, "keyword", ast.literal_eval(d))
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    assert got == expected(OPTIONS, cprofile_kind)


def test_profile_takes_every_option():
    sig = inspect.signature(threadprof.Profile.__init__)
    assert described(sig.parameters.values()) == expected(OPTIONS, cprofile_kind)


@pytest.mark.parametrize("api", [threadprof.start, threadprof.profile.__init__])
def test_start_and_profile_take_the_session_options(api):
    got = described(inspect.signature(api).parameters.values())
    if api is threadprof.profile.__init__:  # profile's own: docs/processes.md
        got.remove(("subprocesses", "keyword", False))
    assert sorted(got) == sorted(expected(session_options(), keyword, session=True))


def test_the_command_line_choices():
    _top, commands = build_parser()
    choices = {a.dest: a.choices for a in commands["run"]._actions if a.choices}
    assert tuple(choices["clock"]) == CLOCKS
    assert tuple(choices["engine"]) == ENGINES
    assert tuple(choices["coroutines"]) == COROUTINES
    for clock in CLOCKS:
        _core.Profiler(clock=clock)
    for engine in ENGINES:
        try:
            _core.Profiler(engine=engine)
        except ValueError as exc:  # monitoring before 3.12
            assert engine == "monitoring" and "3.12" in str(exc)
    for counting in COROUTINES:
        assert _core.Profiler(coroutines=counting).coroutines == counting
    with pytest.raises(ValueError, match="unknown coroutines 'each'"):
        _core.Profiler(coroutines="each")
