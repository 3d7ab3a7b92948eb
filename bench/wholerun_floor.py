# SPDX-License-Identifier: MIT
"""Run a script as ``python script.py args`` would, under a no-op floor.

    python bench/wholerun_floor.py floor|floor-mon script.py [args ...]

The floors of ``bench/run.py`` (``floor``: ``_tpfloor``'s C ``Py_tracefunc``
that does nothing, in every thread; ``floor-mon``: its C callback that does
nothing, registered with ``sys.monitoring`` for the events threadprof takes),
installed before the script starts and left on to its end: what receiving
every event costs a whole run, the least any deterministic profiler can cost.
Nothing else is imported, so that the floor's startup is Python's.
"""

import os
import runpy
import sys

#: the sys.monitoring events threadprof's monitoring engine takes
EVENTS = (
    "PY_START",
    "PY_RESUME",
    "PY_RETURN",
    "PY_YIELD",
    "PY_THROW",
    "PY_UNWIND",
    "CALL",
    "C_RETURN",
    "C_RAISE",
)


def register_floor(callback: str = "mon_noop") -> tuple[int, int]:
    """Register ``_tpfloor``'s ``callback`` with ``sys.monitoring`` for
    :data:`EVENTS` under a free tool id; returns (tool id, event mask), for
    ``sys.monitoring.set_events`` to switch it on."""
    import _tpfloor

    mon = sys.monitoring
    tool = next(i for i in (3, 4, 1, 0, 5) if mon.get_tool(i) is None)
    mon.use_tool_id(tool, "threadprof-bench-floor")
    mask = 0
    for name in EVENTS:
        event = getattr(mon.events, name)
        mon.register_callback(tool, event, getattr(_tpfloor, callback))
        mask |= event
    return tool, mask


def install(config: str) -> None:
    if config == "floor":
        import _tpfloor

        _tpfloor.install()
        return
    tool, mask = register_floor()
    sys.monitoring.set_events(tool, mask)


def main() -> None:
    config, script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    install(config)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
