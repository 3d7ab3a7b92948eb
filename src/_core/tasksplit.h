/* SPDX-License-Identifier: MIT */
/*
 * tasksplit.h -- a thread's call tree split into the tree of the thread and
 * a tree per asyncio task, in C.
 *
 *   _core._split_tasks(tree, task_nodes, ntasks)
 *       -> (thread tree, remap, [task tree, ...])
 *
 * `tree` is a raw snapshot's tree (seven native int64 columns: parent, func,
 * calls, wall, wall_self, cpu, cpu_self; every parent before its children).
 * `task_nodes` holds int64 pairs (node, task index): the nodes of the tasks'
 * coroutines, each the root of its task's calls there (tasks.h); an index
 * outside [0, ntasks) is ignored. The thread tree is `tree` merged by path
 * (a task's coroutine node is one with the same function's node beside
 * it), `remap` its node id per node of `tree` (int64 bytes), and task tree
 * k is task k's subtrees under a root of their own (parent -1, func -1, its
 * wall and cpu the sums of theirs, the rest 0), merged by path; every tree
 * in the layout of `tree`. It owns nothing and keeps no state.
 */
#ifndef THREADPROF_TASKSPLIT_H
#define THREADPROF_TASKSPLIT_H

#include "compat.h"

PyObject *tprof_split_tasks(PyObject *module, PyObject *const *args,
                            Py_ssize_t nargs);

#endif /* THREADPROF_TASKSPLIT_H */
