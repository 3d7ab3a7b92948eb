/* SPDX-License-Identifier: MIT */
#include "outermost.h"

#include "columns.h"

#include <stdint.h>
#include <string.h>

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
    Py_ssize_t *first = PyMem_Calloc((size_t)n + 1, sizeof *first);
    Py_ssize_t *child = PyMem_Malloc((size_t)n * sizeof *child);
    Py_ssize_t *fill = PyMem_Malloc((size_t)n * sizeof *fill);
    Py_ssize_t *stack = PyMem_Malloc((size_t)n * sizeof *stack);
    size_t *slot = PyMem_Malloc((size_t)n * sizeof *slot);
    /* how many ancestors on the current path have each key (a key whose
     * count fell to 0 keeps its slot) */
    tprof_keytab kc;
    int rc = -1;
    if (tprof_keytab_init(&kc, n) < 0) {
        goto done;
    }
    if (!first || !child || !fill || !stack || !slot) {
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
                kc.values[slot[v]]--;
            }
            continue;
        }
        Py_ssize_t c = child[fill[v]++];
        size_t i = tprof_keytab_slot(&kc, keys[c]);
        if (!kc.used[i]) {
            kc.used[i] = 1;
            kc.keys[i] = keys[c];
            kc.values[i] = 0;
        }
        flags[c] = kc.values[i] == 0;
        kc.values[i]++;
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
    tprof_keytab_free(&kc);
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
    if (tprof_check_parents(parents, n) < 0) {
        goto done;
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

/* ---- totals per key ------------------------------------------------------
 */

enum {
    T_PARENT,
    T_FUNC,
    T_CALLS,
    T_WALL,
    T_WALL_SELF,
    T_CPU,
    T_CPU_SELF,
    T_NCOLS
};
enum {
    R_KEY,
    R_FIRST,
    R_CALLS,
    R_PRIM,
    R_WALL,
    R_WALL_SELF,
    R_CPU,
    R_CPU_SELF,
    R_WIDTH
};

static int
add(int64_t *sum, int64_t v)
{
    if (__builtin_add_overflow(*sum, v, sum)) {
        PyErr_SetString(PyExc_OverflowError,
                        "a total does not fit in 64 bits");
        return -1;
    }
    return 0;
}

/* The rows of `totals`, once the keys and flags are known. */
static PyObject *
sum_rows(const int64_t *cols, const int64_t *keys, const char *flags,
         Py_ssize_t n, int edges)
{
    tprof_keytab rows; /* key -> its row */
    int64_t *out = PyMem_Malloc((size_t)(n > 0 ? n : 1) * R_WIDTH * 8);
    PyObject *result = NULL;
    if (tprof_keytab_init(&rows, n) < 0) {
        goto done;
    }
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t nrows = 0;
    for (Py_ssize_t v = 1; v < n; v++) {
        if (edges && cols[T_PARENT * n + v] == 0) {
            continue; /* a child of the root: no caller */
        }
        size_t i = tprof_keytab_slot(&rows, keys[v]);
        int64_t *row;
        if (!rows.used[i]) {
            rows.used[i] = 1;
            rows.keys[i] = keys[v];
            rows.values[i] = (int32_t)nrows;
            row = out + R_WIDTH * nrows++;
            memset(row, 0, R_WIDTH * 8);
            row[R_KEY] = keys[v];
            row[R_FIRST] = v;
        }
        else {
            row = out + R_WIDTH * rows.values[i];
        }
        int64_t calls = cols[T_CALLS * n + v];
        if (add(&row[R_CALLS], calls) < 0 ||
            add(&row[R_WALL_SELF], cols[T_WALL_SELF * n + v]) < 0 ||
            add(&row[R_CPU_SELF], cols[T_CPU_SELF * n + v]) < 0 ||
            (flags[v] && (add(&row[R_PRIM], calls) < 0 ||
                          add(&row[R_WALL], cols[T_WALL * n + v]) < 0 ||
                          add(&row[R_CPU], cols[T_CPU * n + v]) < 0)))
        {
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize((const char *)out, nrows * R_WIDTH * 8);
done:
    tprof_keytab_free(&rows);
    PyMem_Free(out);
    return result;
}

PyObject *
tprof_totals(PyObject *Py_UNUSED(module), PyObject *const *args,
             Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError,
                        "_totals(columns, edges) takes 2 arguments");
        return NULL;
    }
    int edges = PyObject_IsTrue(args[1]);
    if (edges < 0) {
        return NULL;
    }
    Py_buffer cv;
    if (get_column(args[0], &cv, -1, "columns") < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    int64_t *keys = NULL, *parents = NULL;
    char *flags = NULL;
    if (cv.len / 8 % T_NCOLS != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "columns: not seven 8-byte integers per node");
        goto done;
    }
    Py_ssize_t n = cv.len / 8 / T_NCOLS;
    const int64_t *cols = (const int64_t *)cv.buf;
    if (tprof_check_parents(cols + T_PARENT * n, n) < 0) {
        goto done;
    }
    keys = PyMem_Malloc((size_t)(n > 0 ? n : 1) * 8);
    parents = PyMem_Malloc((size_t)(n > 0 ? n : 1) * 8);
    flags = PyMem_Malloc((size_t)(n > 0 ? n : 1));
    if (!keys || !parents || !flags) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t v = 0; v < n; v++) {
        int64_t parent = v == 0 ? 0 : cols[T_PARENT * n + v];
        parents[v] = parent;
        int64_t func = cols[T_FUNC * n + v];
        if (!edges) {
            keys[v] = func;
            continue;
        }
        /* a (caller, callee) pair as one key: both must fit in 32 bits */
        int64_t caller = cols[T_FUNC * n + parent];
        if (v > 0 && parent > 0 &&
            (caller < 0 || caller > INT32_MAX || func < 0 || func > INT32_MAX))
        {
            PyErr_SetString(PyExc_OverflowError,
                            "a function id does not fit in 32 bits");
            goto done;
        }
        keys[v] = (int64_t)(((uint64_t)caller << 32) | (uint64_t)func);
    }
    if (tprof_outermost_flags(parents, keys, n, flags) < 0) {
        goto done;
    }
    result = sum_rows(cols, keys, flags, n, edges);
done:
    PyMem_Free(keys);
    PyMem_Free(parents);
    PyMem_Free(flags);
    PyBuffer_Release(&cv);
    return result;
}
