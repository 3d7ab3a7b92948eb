/* SPDX-License-Identifier: MIT */
/*
 * regroup.h -- totals of several call trees summed by groups of functions.
 *
 *   _core._regroup(tables, group, edges) -> bytes
 *
 * `tables` is a list of _core._totals results (rows of eight int64: key,
 * first node, calls, primitive calls, wall, wall_self, cpu, cpu_self), one
 * per thread, each of functions or (`edges`) of caller << 32 | callee pairs;
 * `group` maps each function id to its group (native int64, one per
 * function: the pstats key, or the callgrind name, that functions share).
 * The result has a row of the same eight int64 per group or pair of groups,
 * summed over every table, sorted by key (the group, or caller group << 32
 * | callee group); its "first node" is 0. Recursion stays judged on each
 * thread's own stack by function, as cProfile's totals are, before the
 * functions are grouped. OverflowError if a sum leaves 64 bits; ValueError
 * for a function id outside `group`. It owns nothing and keeps no state.
 */
#ifndef THREADPROF_REGROUP_H
#define THREADPROF_REGROUP_H

#include "compat.h"

PyObject *tprof_regroup(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs);

#endif /* THREADPROF_REGROUP_H */
