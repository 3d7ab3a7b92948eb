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
tprof_preorder(const int64_t *parents, Py_ssize_t n, Py_ssize_t *order)
{
    if (n == 0 || tprof_check_parents(parents, n) < 0) {
        return n == 0 ? 0 : -1;
    }
    /* the children as a compact list: first[v] .. first[v + 1] in kids */
    Py_ssize_t *first = PyMem_Calloc((size_t)n + 1, sizeof *first);
    Py_ssize_t *kids = PyMem_Malloc((size_t)n * sizeof *kids);
    Py_ssize_t *stack = PyMem_Malloc((size_t)n * sizeof *stack);
    if (first == NULL || kids == NULL || stack == NULL) {
        PyMem_Free(first);
        PyMem_Free(kids);
        PyMem_Free(stack);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t v = 1; v < n; v++) {
        first[parents[v] + 1]++;
    }
    for (Py_ssize_t v = 0; v < n; v++) {
        first[v + 1] += first[v];
    }
    for (Py_ssize_t v = 1; v < n; v++) { /* in index order */
        kids[first[parents[v]]++] = v;
    }
    /* first[v] is now where v's children end, and where v + 1's begin */
    Py_ssize_t depth = 0, m = 0;
    stack[depth++] = 0;
    while (depth > 0) {
        Py_ssize_t v = stack[--depth];
        order[m++] = v;
        for (Py_ssize_t c = first[v], start = v ? first[v - 1] : 0; c > start;
             c--) {
            stack[depth++] = kids[c - 1];
        }
    }
    PyMem_Free(first);
    PyMem_Free(kids);
    PyMem_Free(stack);
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

Py_buffer *
tprof_buffers_get(PyObject *list, Py_ssize_t unit, int nonempty,
                  const char *what)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    Py_buffer *views = PyMem_Calloc((size_t)(n > 0 ? n : 1), sizeof *views);
    if (views == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyObject_GetBuffer(PyList_GET_ITEM(list, i), &views[i],
                               PyBUF_SIMPLE) < 0) {
            tprof_buffers_release(views, i);
            return NULL;
        }
        if (views[i].len % unit != 0 || (nonempty && views[i].len == 0)) {
            PyErr_SetString(PyExc_ValueError, what);
            tprof_buffers_release(views, i + 1);
            return NULL;
        }
    }
    return views;
}

void
tprof_buffers_release(Py_buffer *views, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        PyBuffer_Release(&views[i]);
    }
    PyMem_Free(views);
}
