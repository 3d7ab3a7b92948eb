/* SPDX-License-Identifier: MIT */
/*
 * pageview.h -- the HTML report's integer arrays, made from a call tree's
 * int64 columns and totals rows without a Python object per value.
 *
 *   _core._page_view(flat, keep, fmap, next) -> (nodes, folded, new)
 *   _core._page_table(rows, edges, fmap, next) -> (flat, new)
 *   _core._json_ints(buffer) -> bytes
 *
 * `flat` holds a call tree's columns parent, func, calls, prim_calls, wall,
 * wall_self, cpu, cpu_self (n int64 each, one after the other; every parent
 * before its children). _page_view keeps at most `keep` nodes below the
 * root, the hottest by inclusive wall time (ties to the earlier node); the
 * subtrees left out under a kept node become one last child of it, function
 * -2, holding their calls and inclusive times as its own. It returns the
 * kept tree depth first (children in index order, the root left out) as
 * rows of eight int64: the distance back to the parent's row (the root's
 * row is 0), the function's page index, then the six values; and how many
 * nodes were left out.
 *
 * _page_table turns _regroup's rows (of functions, or of caller << 32 |
 * callee pairs with `edges`) into the page's rows: the page index of the
 * function (or of the caller and of the callee), then the six totals.
 *
 * Page indices: `fmap` is a writable int64 buffer, the page index of
 * function f at f + 2 (-1: none yet). A function without one gets `next`,
 * then `next` + 1 and so on, in order of first use; `new` lists those
 * functions (int64). ValueError for a function outside `fmap` or a bad
 * tree; OverflowError if a sum leaves 64 bits. No state.
 *
 * _json_ints writes int64 values as a JSON array of integers.
 */
#ifndef THREADPROF_PAGEVIEW_H
#define THREADPROF_PAGEVIEW_H

#include "compat.h"

PyObject *tprof_page_view(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs);
PyObject *tprof_page_table(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs);
PyObject *tprof_json_ints(PyObject *module, PyObject *buffer);

#endif /* THREADPROF_PAGEVIEW_H */
