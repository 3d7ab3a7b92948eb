/* SPDX-License-Identifier: MIT */
#include "columns.h"

Py_ssize_t
tprof_column_index(PyObject *names, const char *name)
{
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
        PyObject *item = PyTuple_GET_ITEM(names, j);
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "names must be strings");
            return -2;
        }
        if (PyUnicode_CompareWithASCIIString(item, name) == 0) {
            return j;
        }
    }
    return -1;
}

int
tprof_check_parents(const int64_t *parents, Py_ssize_t n)
{
    for (Py_ssize_t v = 1; v < n; v++) {
        if (parents[v] < 0 || parents[v] >= v) {
            PyErr_Format(PyExc_ValueError,
                         "node %zd: its parent must come before it", v);
            return -1;
        }
    }
    return 0;
}

int
tprof_keytab_init(tprof_keytab *t, Py_ssize_t n)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)n) {
        cap *= 2;
    }
    t->keys = PyMem_Malloc(cap * sizeof(int64_t));
    t->values = PyMem_Malloc(cap * sizeof(int32_t));
    t->used = PyMem_Calloc(cap, 1);
    t->mask = cap - 1;
    if (t->keys == NULL || t->values == NULL || t->used == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

void
tprof_keytab_free(tprof_keytab *t)
{
    PyMem_Free(t->keys);
    PyMem_Free(t->values);
    PyMem_Free(t->used);
    t->keys = NULL;
    t->values = NULL;
    t->used = NULL;
}

size_t
tprof_keytab_slot(const tprof_keytab *t, int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & t->mask;
    while (t->used[i] && t->keys[i] != key) {
        i = (i + 1) & t->mask;
    }
    return i;
}
