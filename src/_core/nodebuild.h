/* SPDX-License-Identifier: MIT */
/*
 * nodebuild.h -- a call tree's node objects made from its columns, in C.
 *
 *   _core._build_nodes(node_type, columns, names) -> list
 *
 * `columns` holds native int64 columns, one per name in `names` (all the
 * nodes' first field, then all their second...), node i at index i, node 0
 * the root and every parent ("parent" must be among the names) before its
 * children. Each node is an instance of `node_type` (threadprof.model.Node)
 * made without running its __init__: its `id` is its index, the named fields
 * come from the columns, `children` lists its children in index order, and
 * `prim_calls`, unless named, is `calls` where no ancestor below the root has
 * the node's `func` and 0 elsewhere (outermost.h). Fields that are plain
 * object slots of the type are stored straight into them; any other is set
 * as an attribute. It owns nothing and keeps no state.
 */
#ifndef THREADPROF_NODEBUILD_H
#define THREADPROF_NODEBUILD_H

#include "compat.h"

PyObject *tprof_build_nodes(PyObject *module, PyObject *const *args,
                            Py_ssize_t nargs);

#endif /* THREADPROF_NODEBUILD_H */
