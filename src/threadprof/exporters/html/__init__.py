# SPDX-License-Identifier: MIT
"""The HTML report (``-o report.html``): one self-contained file that a browser opens from disk.

* :mod:`.data` turns the model into the JSON document the page embeds;
* :mod:`.lanes` lays out and downsamples the timelines in it;
* :mod:`.page` bundles the page's scripts and style sheet (``assets/``,
  written for threadprof, no third-party code) and the data into one HTML page
  with no network access.

To add a report section: compute what it shows in :mod:`threadprof.model`,
embed it in :func:`.data.report_data`, and render it in a script of its own
in ``assets/js/``, listed in :data:`.page.SCRIPTS`.
"""

from __future__ import annotations

from .page import dump, render

__all__ = ["dump", "render"]
