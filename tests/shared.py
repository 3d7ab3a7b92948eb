# SPDX-License-Identifier: MIT
"""What the tests share: names for hand-built snapshots (the weird ones are
``weird_snap``'s, in tests/conftest.py), facts of this Python, and random
call trees."""

from __future__ import annotations

import random
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


#: An asyncio program in which one step of a task blocks its event loop for
#: 300 ms, in ``parse`` (line 3) called by ``handler`` (line 6).
BLOCKING_ASYNCIO = """\
import asyncio, time

def parse():
    time.sleep(0.3)

async def handler(i):
    await asyncio.sleep(0.001)
    if i == 3:
        parse()
    await asyncio.sleep(0.001)

async def main():
    await asyncio.gather(*(handler(i) for i in range(5)))

asyncio.run(main())
"""


def make_timer():
    """A fake timer: 1, 2, 3... one tick per read (the recorder reads it once
    per event, so every recorded time is known in advance)."""
    ticks = [0]

    def timer():
        ticks[0] += 1
        return ticks[0]

    return timer


def random_thread(rng: random.Random, nfuncs: int, big: int = 1):  # -> ThreadProfile
    """A thread of up to 400 nodes calling ``nfuncs`` functions, recursion
    included; its times are multiples of ``big`` (large ones overflow 64-bit
    sums)."""
    from threadprof.model import Node, ThreadProfile, build_tree

    nodes = [Node(0, -1, -1)]
    for v in range(1, rng.randrange(2, 400)):
        parent = rng.randrange(max(0, v - rng.choice((1, 4, 30))), v)
        wall = rng.randrange(10**6) * big
        func = rng.randrange(nfuncs)
        nodes.append(
            Node(v, parent, func, rng.randrange(4), 0, wall, wall // 2, wall // 3, wall // 5)
        )
    return ThreadProfile(1, 1, 1, "t", 0, 1, 1, 1, build_tree(nodes))


def profile_threads(threads: list, engine: str):  # -> threadprof.model.Snapshot
    """Start ``threads`` and wait for them, profiled with ``engine`` as
    ``threadprof.profile`` profiles; the snapshot."""
    import threadprof

    with threadprof.profile(engine=engine) as p:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return p.snapshot()
