/* SPDX-License-Identifier: MIT */
/*
 * lifetime.h -- the process-wide state tied to the interpreter's lifetime.
 *
 * Owns the registrations the module makes with the process when it loads:
 * the fork handler (os.register_at_fork), the handler that stops a running
 * profiler at Python's exit (atexit: the C API session is written then, as
 * Threadprof_Stop would), and the reset after Py_FinalizeEx (Py_AtExit) of
 * what outlives an interpreter in static storage (the enabled profiler, the
 * audit hook's flag), so that a second Py_Initialize starts clean.
 */
#ifndef THREADPROF_LIFETIME_H
#define THREADPROF_LIFETIME_H

#include "compat.h"

/* Make the registrations for `module` (once per interpreter). Returns -1
 * with an exception set on failure. */
int tprof_lifetime_register(PyObject *module);

#endif /* THREADPROF_LIFETIME_H */
