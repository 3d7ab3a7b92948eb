# SPDX-License-Identifier: MIT
"""Makes a Python process that ``threadprof run`` started a follower
(threadprof.follow): this directory is first on the PYTHONPATH that the
profiled program's children inherit, so a starting interpreter imports this
module. It runs the ``sitecustomize`` that it stands in front of, if any,
then starts profiling. An interpreter without threadprof runs unprofiled."""


def _follow() -> None:
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    own = sys.modules.pop(__name__)
    try:
        import sitecustomize  # noqa: F401  (the one this stands in front of)
    except Exception as exc:  # as site.py reports a failing sitecustomize
        if not (isinstance(exc, ImportError) and exc.name == "sitecustomize"):
            import traceback

            traceback.print_exc()
    # the import that runs this module ends by taking it from sys.modules
    sys.modules.setdefault(__name__, own)
    if not os.environ.get("THREADPROF_FOLLOW"):
        return
    # multiprocessing's resource tracker runs none of the program's code: not
    # followed, and threadprof not even imported (the forkserver is followed,
    # so that the processes it forks are)
    if any("multiprocessing.resource_tracker import" in a for a in getattr(sys, "orig_argv", ())):
        return
    try:
        from threadprof.boot import boot
    except Exception:
        return
    boot()


_follow()
