/* SPDX-License-Identifier: MIT */
/*
 * subtree.h -- one subtree of a call tree's columns, made a tree of its own.
 *
 *   _core._subtree(columns, names, funcs) -> bytes | None
 *
 * `columns` holds native int64 columns, one per name in `names` (all the
 * nodes' first field, then all their second...), node 0 the root and every
 * parent before its children; "parent" and "func" must be among the names.
 * It finds the node nearest the root whose func is one of `funcs` (a tuple of
 * ints), breadth first with children in index order, and returns the columns
 * of a new tree: a root (parent -1, func -1, its "wall" and "cpu" those of
 * the node, every other field 0) whose one child is that node, followed by
 * the node's subtree depth first. None when no node has one of `funcs`. It
 * is how `threadprof run` keeps the program's frames and leaves out its own
 * launcher's before the model's objects are made. It owns nothing and keeps
 * no state.
 */
#ifndef THREADPROF_SUBTREE_H
#define THREADPROF_SUBTREE_H

#include "compat.h"

PyObject *tprof_subtree(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs);

#endif /* THREADPROF_SUBTREE_H */
