/* SPDX-License-Identifier: MIT */
/*
 * sigwatch.h -- a fatal signal that Python's handler would never see.
 *
 * `threadprof run` handles SIGTERM and SIGHUP in Python, to write the profile
 * before the process dies. CPython runs a Python handler in the main thread,
 * between two bytecodes; a signal that lands in another thread, or just
 * before the main thread blocks in a C call (a lock, a queue), leaves the
 * main thread blocked, and the process, which the default action would have
 * ended, hangs.
 *
 * The watch wraps CPython's C handler of each watched signal: after calling
 * it, it arms a one-shot POSIX timer that sends the signal again to the main
 * thread 100 ms later, unless the Python handler has said that it runs. The
 * blocked call then returns with EINTR and the Python handler runs. No thread
 * is started (os.fork warns about threads). Linux only (the timers target a
 * thread); elsewhere the watch is a no-op.
 *
 * Process-wide by nature, one watch at a time. A forked child inherits the
 * wrappers but not the timers: it watches again.
 */
#ifndef THREADPROF_SIGWATCH_H
#define THREADPROF_SIGWATCH_H

#include "compat.h"

/* _core._sigwatch_start(signums): watch these signals (a tuple of ints),
 * whose handlers are Python's now, on behalf of the calling thread, which
 * must be the main thread. False where signals cannot be watched. */
PyObject *tprof_sigwatch_start(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs);

/* _core._sigwatch_handled(): the Python handler runs; stop sending. */
PyObject *tprof_sigwatch_handled(PyObject *module, PyObject *unused);

/* _core._sigwatch_stop(): delete the timers and give CPython's handlers
 * back where the wrappers still are. */
PyObject *tprof_sigwatch_stop(PyObject *module, PyObject *unused);

#endif /* THREADPROF_SIGWATCH_H */
