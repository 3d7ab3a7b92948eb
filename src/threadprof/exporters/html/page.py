# SPDX-License-Identifier: MIT
"""The HTML page: the template, the style sheet, the bundled scripts and the data.

The page's scripts are small files in ``assets/js/``, one per concern (the
embedded data, the shared state, each section); :func:`script` bundles them,
in the order of :data:`SCRIPTS`, into one (async) closure at export time, so the report
stays a single file that works offline. They share that closure's scope: a
script uses what an earlier one declares at its top level, and anything at
call time.

The page's title is HTML-escaped; the data is embedded by
:func:`.data.embed` and read back by ``base.js``, so names, files and thread names with quotes,
backslashes, newlines or any other text reach the page exactly as they are.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any, BinaryIO

from ...model import Snapshot
from .data import TIMELINE_BUDGET, embed, report_data

__all__ = ["SCRIPTS", "asset", "dump", "inline_frame", "page", "render", "script"]

#: The page's scripts, in the order they are bundled.
SCRIPTS = (
    "base.js",
    "data.js",
    "state.js",
    "diff.js",
    "flame.js",
    "threads.js",
    "functions.js",
    "contention.js",
    "page.js",
)


def asset(name: str) -> str:
    """The text of ``assets/<name>``, checked to be safe to inline."""
    text = resources.files(__package__).joinpath("assets", name).read_text("utf-8")
    if name != "template.html" and ("</" in text or "<!--" in text):  # would end the element
        raise RuntimeError(
            f"threadprof/exporters/html/assets/{name} must not contain '</' or '<!--'"
        )
    return text


def script() -> str:
    """The page's scripts bundled into one."""
    parts = [asset(f"js/{name}") for name in SCRIPTS]
    return '(async function () {\n  "use strict";\n\n' + "\n".join(parts) + "})();\n"


def _title(snapshot: Snapshot) -> str:
    """The page's title: the command line, on one line, its undecodable bytes
    (lone surrogates, from a file name in another encoding) as escapes."""
    what = " ".join(snapshot.argv) if snapshot.argv else "profile"
    return f"threadprof: {what}"


def render(
    snapshot: Snapshot,
    *,
    timeline_budget: int = TIMELINE_BUDGET,
    node_budget: int | None = None,
) -> str:
    """The whole HTML page for ``snapshot`` (the budgets: see :mod:`.data`)."""
    data = report_data(snapshot, timeline_budget=timeline_budget, node_budget=node_budget)
    return page(_title(snapshot), data)


def inline_frame(snapshot: Snapshot, height: int = 640) -> str:
    """The report of ``snapshot`` in an ``<iframe srcdoc>``, for a notebook's
    output: the page keeps a document of its own (its script and styles
    apart from the notebook's), and needs no file."""
    doc = html.escape(render(snapshot), quote=True)
    return (
        f'<iframe class="threadprof-report" srcdoc="{doc}" '
        f'style="width: 100%; height: {height}px; border: 1px solid #ccc"></iframe>'
    )


def page(title: str, data: dict[str, Any]) -> str:
    """The page titled ``title`` (one line) with the report data ``data``."""
    title = title.replace("\n", " ").encode("utf-8", "backslashreplace").decode("utf-8")
    parts = {
        "TITLE": html.escape(title),
        "CSS": asset("report.css"),
        "DATA": embed(data),
        "JS": script(),
    }
    # one pass, so that nothing substituted is substituted again
    return re.sub(r"@@(TITLE|CSS|DATA|JS)@@", lambda m: parts[m[1]], asset("template.html"))


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write the HTML report of ``snapshot`` to the binary file ``out`` (UTF-8)."""
    out.write(render(snapshot).encode("utf-8"))
