/* SPDX-License-Identifier: MIT */
/*
 * columns.h -- what the loops over a call tree's int64 columns share: a
 * named column's place, the check that every parent comes before its
 * children, the depth-first order, a table from int64 keys to int32 values,
 * and the buffers of a list's items. No state.
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

/* The nodes depth first from the root (node 0 first), children in index
 * order, into `order` (n of them); parents are checked. 0, or -1 with an
 * exception set. */
int tprof_preorder(const int64_t *parents, Py_ssize_t n, Py_ssize_t *order);

/* The buffers of the items of `list`, each a whole number of `unit` bytes
 * (at least one unit if `nonempty`): a new array of them, or NULL with an
 * exception set (ValueError(`what`) for a bad size) and none held. */
Py_buffer *tprof_buffers_get(PyObject *list, Py_ssize_t unit, int nonempty,
                             const char *what);
/* Release the n buffers of tprof_buffers_get and free their array. */
void tprof_buffers_release(Py_buffer *views, Py_ssize_t n);

/* Open addressing from int64 keys to int32 values, in a power-of-two table
 * at least twice the number of keys it is made for. */
typedef struct {
    int64_t *keys;
    int32_t *values;
    uint8_t *used;
    size_t mask;
} tprof_keytab;

/* 0, or -1 with MemoryError set (the table is then free to tprof_keytab_free).
 */
int tprof_keytab_init(tprof_keytab *t, Py_ssize_t n);
void tprof_keytab_free(tprof_keytab *t);

/* The slot of `key`: where it is, or the free slot where it goes. */
size_t tprof_keytab_slot(const tprof_keytab *t, int64_t key);

#endif /* THREADPROF_COLUMNS_H */
