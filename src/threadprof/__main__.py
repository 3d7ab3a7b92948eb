# SPDX-License-Identifier: MIT
"""``python -m threadprof``: the same command line as the ``threadprof`` script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
