# SPDX-License-Identifier: MIT
"""Helpers shared by the format modules: time units, names, and text escaping.

Times: every format but pstats writes integer nanoseconds. A tick of the
built-in clocks is one nanosecond; for any unit that is a whole number of
nanoseconds the conversion is an exact integer product, so that sums in the
output equal sums of the snapshot.

Names: the call-tree formats that have fields for a file and a line give a
Python function its ``qualname`` and a C function the label that pstats prints
(``{built-in method builtins.len}``); the formats whose frames are a single
string use :attr:`Function.display <threadprof.model.Function.display>`,
``qualname (file:line)`` or that C label.

Escaping: the line-based text formats (collapsed stacks, callgrind) cannot hold
a newline in a name, and collapsed stacks cannot hold a ``;``. They
percent-encode those characters as URL encoding does (``;`` -> ``%3B``,
newline -> ``%0A``), and ``%`` itself as ``%25``, so that
``urllib.parse.unquote`` gives the original name back. Every other character,
backslashes, quotes and non-ASCII letters included, is written as it is, in
UTF-8.
"""

from __future__ import annotations

import functools
import operator
from array import array
from collections.abc import Callable, Iterator
from urllib.parse import quote

from .. import _core
from .._version import __version__
from ..model import Function, Snapshot, Timeline

__all__ = [
    "LINE_BREAKS",
    "creator",
    "escape_text",
    "event_renderer",
    "function_name",
    "function_table",
    "ns_converter",
    "ns_scale",
    "render_events",
    "text_escaper",
]

#: Every character that ``str.splitlines`` treats as a line boundary.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def creator() -> str:
    """``threadprof <version>``, for the formats that name the program that wrote them."""
    return f"threadprof {__version__}"


def ns_scale(unit: float) -> int | float:
    """Nanoseconds per tick of ``unit`` seconds: an ``int`` when a tick is a
    whole number of nanoseconds (the conversion is then an exact product),
    else a ``float`` (the product is rounded to the nearest nanosecond)."""
    factor = unit * 1e9
    whole = round(factor)
    if whole >= 1 and abs(factor - whole) <= 1e-9 * whole:
        return whole
    return factor


def ns_converter(unit: float) -> Callable[[int], int]:
    """A function from ticks of ``unit`` seconds to integer nanoseconds.

    Exact (an integer product) when a tick is a whole number of nanoseconds;
    otherwise rounded to the nearest nanosecond, which never reverses the order
    of two times.
    """
    scale = ns_scale(unit)
    if isinstance(scale, int):
        return functools.partial(operator.mul, scale)
    return lambda ticks: round(ticks * scale)


#: A function code's template for :func:`event_renderer`: bytes, or a pair
#: ``(first, later)`` when a function's first use is written differently.
Template = Callable[[int], "bytes | tuple[bytes, bytes]"]


def event_renderer(
    snapshot: Snapshot, template: Template, form: str, **layout: bytes | bool
) -> _core._EventRenderer:
    """A writer of one thread's timeline events as a format describes them.

    The C core's loop (``_core._EventRenderer``, see ``eventrender.h``)
    repairs the events as :mod:`threadprof.replay` says and writes each one:
    ``template(code)`` is asked once per function code (``~func`` for a
    return) for the bytes that precede the event's time (or follow it, for
    ``form="varint"``), and ``form`` says how the time in nanoseconds is
    written: ``"micros"`` (exact decimal microseconds), ``"nanos"`` or
    ``"varint"`` (a length-delimited protobuf message whose first field is
    the time). ``layout`` gives ``suffix``, ``separator``,
    ``separate_first``, ``packet_key`` and ``time_key``. Once its events are
    written, its ``first_ns``, ``last_ns``, ``skipped`` and ``closed`` say
    what was.
    """
    nfuncs = max((f.id for f in snapshot.functions), default=-1) + 1
    return _core._EventRenderer(template, nfuncs, form, ns_scale(snapshot.unit), **layout)


def render_events(timeline: Timeline, renderer: _core._EventRenderer) -> Iterator[bytes]:
    """``timeline``'s events written by ``renderer``, chunk by chunk."""
    for funcs, times in timeline.chunks():
        if type(funcs) is not array:
            funcs = array("i", funcs)
        if type(times) is not array:
            times = array("q", times)
        out = renderer.render(funcs, times)
        if out:
            yield out
    out = renderer.finish()
    if out:
        yield out


def text_escaper(reserved: str) -> Callable[[str], str]:
    """A function that percent-encodes ``%``, the line breaks and ``reserved`` in a name."""
    table = {ord(c): quote(c, safe="") for c in "%" + LINE_BREAKS + reserved}
    return lambda text: text.translate(table)


#: Percent-encodes ``%`` and line breaks (see the module docstring).
escape_text = text_escaper("")


def function_name(func: Function) -> str:
    """A function's name where the format has separate file and line fields."""
    return func.display if func.kind == "c" else func.qualname


def function_table(snapshot: Snapshot) -> dict[int, Function]:
    """The snapshot's functions by id."""
    return {f.id: f for f in snapshot.functions}
