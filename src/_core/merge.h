/* SPDX-License-Identifier: MIT */
/*
 * merge.h -- several call trees united by path from the root, in C.
 *
 *   _core._merge(trees) -> bytes
 *
 * `trees` is a list of call trees, each as seven native int64 columns one
 * after the other (parent, func, calls, wall, wall_self, cpu, cpu_self; node
 * 0 the root, every parent before its children), the layout of a raw
 * snapshot's nodes. The result is the merged tree in the same layout: a node
 * per distinct path of functions from the root, in order of first use (tree
 * by tree, node by node), holding the sums of the nodes on that path; the
 * root holds the sums of the roots. Children keep the order of their first
 * use. Primitive calls are the caller's to judge on the merged tree.
 * OverflowError if a sum leaves 64 bits or a function id 31; ValueError for a
 * malformed tree. It owns nothing and keeps no state.
 */
#ifndef THREADPROF_MERGE_H
#define THREADPROF_MERGE_H

#include "compat.h"

PyObject *tprof_merge(PyObject *module, PyObject *const *args,
                      Py_ssize_t nargs);

/* One tree of n nodes (the layout above, n >= 1) merged by path, as bytes;
 * remap[v] gets the merged node of node v. NULL with an exception set. */
PyObject *tprof_merge_paths(const int64_t *cols, Py_ssize_t n,
                            Py_ssize_t *remap);

#endif /* THREADPROF_MERGE_H */
