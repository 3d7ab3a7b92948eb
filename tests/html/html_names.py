# SPDX-License-Identifier: MIT
"""Names shared by the HTML report's tests (their fixtures are in conftest.py)."""

from __future__ import annotations

#: Names that the page must show exactly as they are, whatever they hold.
WEIRD_QUALNAME = 'Cls."we\\ird"\n<locals>.fn</script><!--&amp; ünï 🐍'
WEIRD_FILE = 'dir "q"\\sub\r\n<b>fïle</b>&.py'
WEIRD_THREAD = 'wörker "1"\\n\n名前</script>'
WEIRD_C = '<built-in method "q"\\\n ü>'
WEIRD_ARG = 'a "b"\\\n</title><script>alert(1)</script>'

LEN = "<built-in function len>"
SLEEP = "<built-in function time.sleep>"
