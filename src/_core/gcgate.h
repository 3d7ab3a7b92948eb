/* SPDX-License-Identifier: MIT */
/*
 * gcgate.h -- a gc.callbacks entry that calls a function now and then.
 *
 * A followed process writes checkpoints of its profile (what a crash leaves
 * of it) from the garbage collector's callbacks: a program that allocates
 * collects often, in whatever thread allocates, at a point where Python code
 * may run, and no thread or signal is needed. A callback written in Python
 * would be a call that its own profiler records at every collection, all
 * over the call tree. This one is a built-in, which the collector calls from
 * C and no profiler sees: it reads the monotonic clock and, when a
 * checkpoint is due, calls the Python function (whose calls are recorded,
 * then cut out of the profile once in a while, not at every collection).
 *
 * The gate owns its due time and interval (doubled after each call, up to a
 * maximum). Collections do not overlap, so no two threads touch them at
 * once; a call made while the function runs (a collection inside it) is
 * skipped.
 */
#ifndef THREADPROF_GCGATE_H
#define THREADPROF_GCGATE_H

#include "compat.h"

/* _core._gc_gate(func, first, most): a callable for gc.callbacks that calls
 * func() at the end of the first collection `first` seconds or more from now,
 * then at intervals doubled each time up to `most` seconds. */
PyObject *tprof_gc_gate(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs);

#endif /* THREADPROF_GCGATE_H */
