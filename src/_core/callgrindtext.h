/* SPDX-License-Identifier: MIT */
/*
 * callgrindtext.h -- the body of a callgrind file's part written from
 * _regroup's rows, without a Python string per line.
 *
 *   _core._callgrind_part(rows, pairs, funcs, files, names, scale, own,
 *                         incl) -> (body, total0, total1)
 *
 * `rows` and `pairs` are _regroup's rows by callgrind function (a group),
 * of functions and of caller << 32 | callee pairs, sorted by key. `funcs`
 * holds three int64 per group: its file's index in `files`, its name's in
 * `names` (bytes, as the file writes them) and its first line. `scale` is
 * nanoseconds a tick: an int (an exact product) or a float (the product
 * rounded half to even); `own` and `incl` name the row's columns of the
 * two events' own and inclusive costs. Per function, in the order of
 * `rows`: fl=, fn=, its line and own costs, then per callee (in the order
 * of `pairs`) cfl=, cfn=, calls= and the inclusive costs; file and function
 * names compressed as callgrind does ("(id) name" the first time, "(id)"
 * after, ids from 1 in order of first use). Lines end with "\n" but the
 * last. The totals are the sums of the own costs. ValueError for a group
 * outside `funcs` or an index outside `files`/`names`; OverflowError if a
 * cost leaves 64 bits. No state.
 */
#ifndef THREADPROF_CALLGRINDTEXT_H
#define THREADPROF_CALLGRINDTEXT_H

#include "compat.h"

PyObject *tprof_callgrind_part(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs);

#endif /* THREADPROF_CALLGRINDTEXT_H */
