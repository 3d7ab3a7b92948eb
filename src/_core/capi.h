/* SPDX-License-Identifier: MIT */
/*
 * capi.h -- publishing the C API table (include/threadprof.h) in a capsule.
 */
#ifndef THREADPROF_CAPI_H
#define THREADPROF_CAPI_H

#include "state.h"

/* Add the capsule `_C_API` to the module. Returns -1 with an exception set
 * on failure. */
int tprof_capi_add(PyObject *module);

struct tprof_module_state;

/* At Python's exit, with `active` still running: if the C API started it
 * with an output path, stop it and write the output as Threadprof_Stop
 * would (a failure is one line on stderr) and return 1; else return 0. */
int tprof_capi_at_exit(struct tprof_module_state *st, tprof_state *active);

#endif /* THREADPROF_CAPI_H */
