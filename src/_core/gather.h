/* SPDX-License-Identifier: MIT */
/*
 * gather.h -- integer attributes of many objects, as columns, in C.
 *
 *   _core._gather(objects, names) -> bytes
 *
 * For a list of objects and a tuple of attribute names, the attributes as
 * native int64, name after name (all the objects' first attribute, then all
 * their second...): how a call tree of threadprof.model.Node objects becomes
 * the columns that the .tprof writer and the C loops take. OverflowError for
 * a value outside int64, TypeError for one that is not an integer. It owns
 * nothing and keeps no state.
 */
#ifndef THREADPROF_GATHER_H
#define THREADPROF_GATHER_H

#include "compat.h"

PyObject *tprof_gather(PyObject *module, PyObject *const *args,
                       Py_ssize_t nargs);

#endif /* THREADPROF_GATHER_H */
