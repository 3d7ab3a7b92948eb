/* SPDX-License-Identifier: MIT */
/*
 * marshalstats.h -- a pstats file written from _regroup's rows, without the
 * Python dictionary that marshal would read it from.
 *
 *   _core._pstats_marshal(rows, pairs, keys, unit, self_at, cum_at) -> bytes
 *
 * `rows` are _regroup's rows of pstats keys (eight int64: group, 0, calls,
 * primitive calls, wall, wall_self, cpu, cpu_self), `pairs` its rows of
 * caller group << 32 | callee group, both sorted by key; `keys` holds, per
 * group, its (file, line, name) key as marshal writes it without references
 * (version 2), each written once and then referred to; `self_at` and
 * `cum_at` name the columns of the own and cumulative times, which are
 * multiplied by `unit` (seconds a tick). The result is what marshal.dumps
 * makes of cProfile's stats dictionary for them: {key: (primitive calls,
 * calls, own, cumulative, {caller key: (calls, primitive calls, own,
 * cumulative)})}, keys in the order of `rows`, each one's callers in the
 * order of `pairs`. ValueError for a group without a key or bad rows.
 * No state.
 */
#ifndef THREADPROF_MARSHALSTATS_H
#define THREADPROF_MARSHALSTATS_H

#include "compat.h"

PyObject *tprof_pstats_marshal(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs);

#endif /* THREADPROF_MARSHALSTATS_H */
