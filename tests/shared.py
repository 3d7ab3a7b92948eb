# SPDX-License-Identifier: MIT
"""Constants shared by the tests: names for hand-built snapshots (the weird
ones are ``weird_snap``'s, in tests/conftest.py) and facts of this Python."""

from __future__ import annotations

import sys
import sysconfig

#: A free-threaded build (3.13t).
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
#: The engines of this Python.
ENGINES = ["legacy", "monitoring"] if sys.version_info >= (3, 12) else ["legacy"]

#: Names that every format and view must carry through unchanged: quotes,
#: backslashes, line breaks, the separators of the text formats (``;``, ``%``),
#: what could end an HTML element or start markup (``</script>``, ``<!--``,
#: ``&``), and non-ASCII text.
WEIRD_QUALNAME = 'Cls."we\\ird"\n<locals>.fn</script><!--&amp;;x%41 ünï 🐍'
WEIRD_FILE = 'dir "q"\\sub\r\n<b>fïle</b>&;%.py'
WEIRD_THREAD = 'wörker "1"\\n\n名前</script>;%0A'
WEIRD_C = '<built-in method "q"\\\n ü>'
WEIRD_ARG = 'a "b"\\\n</title><script>alert(1)</script>'

LEN = "<built-in function len>"
SLEEP = "<built-in function time.sleep>"
