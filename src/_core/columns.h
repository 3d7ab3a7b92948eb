/* SPDX-License-Identifier: MIT */
/*
 * columns.h -- what the loops over a call tree's int64 columns share: a
 * named column's place, and the check that every parent comes before its
 * children. No state.
 */
#ifndef THREADPROF_COLUMNS_H
#define THREADPROF_COLUMNS_H

#include "compat.h"

#include <stdint.h>

/* The index of `name` in the tuple `names`; -1 if absent, -2 with TypeError
 * set if one of the names is not a string. */
Py_ssize_t tprof_column_index(PyObject *names, const char *name);

/* 0 if parents[v] is in [0, v) for every node v >= 1 (parents[0] is not
 * read); -1 with ValueError set, naming the first node that breaks it. */
int tprof_check_parents(const int64_t *parents, Py_ssize_t n);

#endif /* THREADPROF_COLUMNS_H */
