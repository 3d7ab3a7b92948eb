/* SPDX-License-Identifier: MIT */
#include "outermost.h"

#include <stdint.h>
#include <string.h>

/* How many ancestors on the current path have each key: open addressing,
 * a power-of-two table at least twice the number of nodes. */
typedef struct {
    int64_t *keys;
    int32_t *counts; /* 0: a free slot (a key whose count fell to 0 stays) */
    uint8_t *used;
    size_t mask;
} key_counts;

static size_t
slot_of(const key_counts *kc, int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & kc->mask;
    while (kc->used[i] && kc->keys[i] != key) {
        i = (i + 1) & kc->mask;
    }
    return i;
}

static int
get_column(PyObject *obj, Py_buffer *view, Py_ssize_t n, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (view->len % 8 != 0 || (n >= 0 && view->len / 8 != n)) {
        PyErr_Format(PyExc_ValueError, "%s: not one 8-byte integer per node",
                     what);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The walk, once the columns are checked: children as a compact list
 * (first[v] .. first[v+1] in `child`), then depth first from the root. */

int
tprof_outermost_flags(const int64_t *parents, const int64_t *keys,
                      Py_ssize_t n, char *flags)
{
    if (n == 0) {
        return 0;
    }
    size_t cap = 16;
    while (cap < 2 * (size_t)n) {
        cap *= 2;
    }
    Py_ssize_t *first = PyMem_Calloc((size_t)n + 1, sizeof *first);
    Py_ssize_t *child = PyMem_Malloc((size_t)n * sizeof *child);
    Py_ssize_t *fill = PyMem_Malloc((size_t)n * sizeof *fill);
    Py_ssize_t *stack = PyMem_Malloc((size_t)n * sizeof *stack);
    size_t *slot = PyMem_Malloc((size_t)n * sizeof *slot);
    key_counts kc = {PyMem_Malloc(cap * sizeof(int64_t)),
                     PyMem_Malloc(cap * sizeof(int32_t)), PyMem_Calloc(cap, 1),
                     cap - 1};
    int rc = -1;
    if (!first || !child || !fill || !stack || !slot || !kc.keys ||
        !kc.counts || !kc.used)
    {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t v = 1; v < n; v++) {
        first[parents[v] + 1]++;
    }
    for (Py_ssize_t v = 0; v < n; v++) {
        first[v + 1] += first[v];
        fill[v] = first[v];
    }
    for (Py_ssize_t v = 1; v < n; v++) {
        child[fill[parents[v]]++] = v;
    }
    /* fill[v] now walks v's children again: the next one to visit */
    for (Py_ssize_t v = 0; v < n; v++) {
        fill[v] = first[v];
    }
    flags[0] = 0;
    Py_ssize_t depth = 0;
    stack[depth++] = 0;
    while (depth > 0) {
        Py_ssize_t v = stack[depth - 1];
        if (fill[v] == first[v + 1]) { /* all its children done: leave v */
            depth--;
            if (v != 0) {
                kc.counts[slot[v]]--;
            }
            continue;
        }
        Py_ssize_t c = child[fill[v]++];
        size_t i = slot_of(&kc, keys[c]);
        if (!kc.used[i]) {
            kc.used[i] = 1;
            kc.keys[i] = keys[c];
            kc.counts[i] = 0;
        }
        flags[c] = kc.counts[i] == 0;
        kc.counts[i]++;
        slot[c] = i;
        stack[depth++] = c;
    }
    rc = 0;
done:
    PyMem_Free(first);
    PyMem_Free(child);
    PyMem_Free(fill);
    PyMem_Free(stack);
    PyMem_Free(slot);
    PyMem_Free(kc.keys);
    PyMem_Free(kc.counts);
    PyMem_Free(kc.used);
    return rc;
}

PyObject *
tprof_outermost(PyObject *Py_UNUSED(module), PyObject *const *args,
                Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError,
                        "_outermost(parents, keys) takes 2 arguments");
        return NULL;
    }
    Py_buffer pv, kv;
    if (get_column(args[0], &pv, -1, "parents") < 0) {
        return NULL;
    }
    Py_ssize_t n = pv.len / 8;
    if (get_column(args[1], &kv, n, "keys") < 0) {
        PyBuffer_Release(&pv);
        return NULL;
    }
    PyObject *result = NULL;
    const int64_t *parents = (const int64_t *)pv.buf;
    for (Py_ssize_t v = 1; v < n; v++) {
        if (parents[v] < 0 || parents[v] >= v) {
            PyErr_Format(PyExc_ValueError,
                         "node %zd: its parent must come before it", v);
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, n);
    if (result != NULL &&
        tprof_outermost_flags(parents, (const int64_t *)kv.buf, n,
                              PyBytes_AS_STRING(result)) < 0)
    {
        Py_CLEAR(result);
    }
done:
    PyBuffer_Release(&pv);
    PyBuffer_Release(&kv);
    return result;
}
