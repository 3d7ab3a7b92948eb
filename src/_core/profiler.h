/* SPDX-License-Identifier: MIT */
/*
 * profiler.h -- the Profiler type: a profiler's life as Python sees it.
 *
 * Owns enable, disable, clear, attach, detach and snapshot, each under the
 * object's critical section (two threads of a free-threaded build may call
 * them at once), and which profiler is enabled (tprof_active, state.h). The
 * recording state it heads is state.h's; the engine it drives is behind the
 * operations of engine.h.
 */
#ifndef THREADPROF_PROFILER_H
#define THREADPROF_PROFILER_H

#include "state.h"

typedef struct tprof_profiler {
    tprof_state s;     /* what the engines and the recorder see; first */
    unsigned reported; /* tprof_error bits already raised by disable() */
    PyObject *weakreflist;
} tprof_profiler;

/* Create the Profiler type of `module` (a new reference), or NULL. */
PyObject *tprof_profiler_type_create(PyObject *module);

/* Reset the enabled profiler in a child process after fork(). */
void tprof_profiler_after_fork(tprof_state *p);

/* After Py_FinalizeEx: no profiler is enabled any more. Its object went with
 * the interpreter, so it is forgotten, not released. */
void tprof_profiler_forget_active(void);

#endif /* THREADPROF_PROFILER_H */
