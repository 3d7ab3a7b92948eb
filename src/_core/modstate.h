/* SPDX-License-Identifier: MIT */
/*
 * modstate.h -- the state of the threadprof._core module object.
 *
 * Owns what the module makes at import: its types, ProfilerError, the strings
 * the thread lookups use and the C API's session. Nothing here is a
 * file-scope global: code that needs it reaches it from a profiler (whose
 * type belongs to the module) or by importing the module (the C API).
 * module.c defines the module and fills this in; it is loaded in the main
 * interpreter only (module.c says why).
 */
#ifndef THREADPROF_MODSTATE_H
#define THREADPROF_MODSTATE_H

#include "compat.h"

typedef struct tprof_module_state {
    PyTypeObject *profiler_type;
    PyTypeObject *moncb_type;   /* the sys.monitoring callback (moncb.h) */
    PyObject *error;            /* threadprof.ProfilerError */
    PyObject *str_threading_py; /* "threading.py", interned */
    PyObject *str_name;         /* "_name", interned */
    /* the C API's session (capi.c) */
    PyObject *capi_last;   /* the profiler the C API started last */
    char *capi_out_path;   /* where Stop writes, or NULL */
    char *capi_out_format; /* its format, or NULL (from the path) */
} tprof_module_state;

extern PyModuleDef tprof_moduledef;

/* The state of the module that defined `type` or one of its bases. */
static inline tprof_module_state *
tprof_module_state_of(PyTypeObject *type)
{
    PyObject *m = PyType_GetModuleByDef(type, &tprof_moduledef);
    return m ? (tprof_module_state *)PyModule_GetState(m) : NULL;
}

#endif /* THREADPROF_MODSTATE_H */
