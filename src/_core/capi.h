/* SPDX-License-Identifier: MIT */
/*
 * capi.h -- publishing the C API table (include/threadprof.h) in a capsule.
 */
#ifndef THREADPROF_CAPI_H
#define THREADPROF_CAPI_H

#include "compat.h"

/* Add the capsule `_C_API` to the module. Returns -1 with an exception set
 * on failure. */
int tprof_capi_add(PyObject *module);

#endif /* THREADPROF_CAPI_H */
