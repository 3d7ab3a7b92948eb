/* SPDX-License-Identifier: MIT */
/*
 * outermost.h -- cProfile's rule for recursion over a call tree, in C.
 *
 *   _core._outermost(parents, keys) -> bytes
 *
 * A call tree given as columns (int64 `parents`, every parent before its
 * children, node 0 the root; int64 `keys`, one per node) gets a flag per
 * node: 1 if no ancestor below the root has the node's key, else 0 (0 for
 * the root). With the function as the key this gives primitive calls and
 * cumulative times, with a (caller, callee) pair the same for edges
 * (threadprof/model.py). One depth-first walk with a count per key; it owns
 * nothing and keeps no state.
 */
#ifndef THREADPROF_OUTERMOST_H
#define THREADPROF_OUTERMOST_H

#include "compat.h"

#include <stdint.h>

PyObject *tprof_outermost(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs);

/*   _core._totals(columns, edges) -> bytes
 *
 * cProfile's totals of a call tree, per function or (`edges`) per caller and
 * callee pair, in one walk: `columns` are the tree's parent, func, calls,
 * wall, wall_self, cpu and cpu_self columns (native int64, one after the
 * other); the result has a row of eight int64 per function or pair, in the
 * order of its first node: the function (or caller << 32 | callee), that
 * first node, calls, primitive calls, wall (outermost only), wall_self, cpu
 * (outermost only), cpu_self. The children of the root make no pair.
 * OverflowError if a total leaves 64 bits or (edges) a function id 32. */
PyObject *tprof_totals(PyObject *module, PyObject *const *args,
                       Py_ssize_t nargs);

/* The flags of a tree whose `parents` are checked (parents[v] < v for every
 * v >= 1; parents[0] is not read); -1 with MemoryError set. */
int tprof_outermost_flags(const int64_t *parents, const int64_t *keys,
                          Py_ssize_t n, char *flags);

#endif /* THREADPROF_OUTERMOST_H */
