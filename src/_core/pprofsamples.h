/* SPDX-License-Identifier: MIT */
/*
 * pprofsamples.h -- a pprof profile's Sample messages for every node of a
 * call tree, written from its int64 columns.
 *
 *   _core._pprof_samples(flat, locs, prefix, tail, types, scale) -> bytes
 *
 * `flat` holds the columns parent, func, calls, wall_self, cpu_self (n
 * int64 each, every parent before its children); `locs` the location id of
 * each function id (int64; 0: none); `prefix` the location ids that every
 * stack goes on with (innermost first); `tail` the encoded fields (labels)
 * that end every sample; `types` the values: 0 wall, CPU and calls; 1 wall
 * and calls; 2 CPU and calls, times in nanoseconds (`scale`: nsscale.h).
 * One Sample (field 2 of Profile) per node but the root, depth first with
 * children in index order: its stack of location ids from the node up to
 * the root, then `prefix`, and its values, packed. ValueError for a
 * function without a location or a bad tree; OverflowError for a time
 * beyond 64 bits. No state.
 */
#ifndef THREADPROF_PPROFSAMPLES_H
#define THREADPROF_PPROFSAMPLES_H

#include "compat.h"

PyObject *tprof_pprof_samples(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs);

#endif /* THREADPROF_PPROFSAMPLES_H */
