# SPDX-License-Identifier: MIT
"""The self-contained HTML report as an output format (``-o report.html``).

The report itself lives in :mod:`threadprof.html_report`; this module is its
entry in the exporter registry: ``dump(snapshot, out)`` writes the page in UTF-8.
"""

from __future__ import annotations

from ..html_report import dump

__all__ = ["dump"]
