/* SPDX-License-Identifier: MIT */
#include "merge.h"

#include "columns.h"

#include <stdint.h>
#include <string.h>

enum {
    PARENT,
    FUNC,
    CALLS,
    WALL,
    WALL_SELF,
    CPU,
    CPU_SELF,
    NCOLS
};

/* A merged tree, built row by row: NCOLS int64 per node, row-major. */
typedef struct {
    int64_t *rows;
    Py_ssize_t n;
    tprof_keytab paths; /* parent << 32 | func -> the merged node */
} merged;

static int
add_to(int64_t *row, const int64_t *cols, Py_ssize_t n, Py_ssize_t v)
{
    for (int j = CALLS; j < NCOLS; j++) {
        if (__builtin_add_overflow(row[j], cols[j * n + v], &row[j])) {
            PyErr_SetString(PyExc_OverflowError,
                            "a merged total does not fit in 64 bits");
            return -1;
        }
    }
    return 0;
}

/* Merge one tree of n nodes into `m`, depth first so that children keep
 * the order of their first use; `remap` and `order` have room for n. */
static int
merge_one(merged *m, const int64_t *cols, Py_ssize_t n, Py_ssize_t *remap,
          Py_ssize_t *order)
{
    if (tprof_preorder(cols + PARENT * n, n, order) < 0) {
        return -1;
    }
    remap[0] = 0;
    int64_t *root = m->rows;
    for (int j = WALL; j < NCOLS; j++) { /* the roots' times; no calls */
        if (__builtin_add_overflow(root[j], cols[j * n], &root[j])) {
            PyErr_SetString(PyExc_OverflowError,
                            "a merged total does not fit in 64 bits");
            return -1;
        }
    }
    for (Py_ssize_t k = 1; k < n; k++) {
        Py_ssize_t v = order[k];
        int64_t parent = remap[cols[PARENT * n + v]];
        int64_t func = cols[FUNC * n + v];
        if (func < 0 || func > INT32_MAX) {
            PyErr_SetString(PyExc_OverflowError,
                            "a function id does not fit in 31 bits");
            return -1;
        }
        int64_t key = (int64_t)(((uint64_t)parent << 32) | (uint64_t)func);
        size_t i = tprof_keytab_slot(&m->paths, key);
        if (!m->paths.used[i]) {
            m->paths.used[i] = 1;
            m->paths.keys[i] = key;
            m->paths.values[i] = (int32_t)m->n;
            int64_t *row = m->rows + NCOLS * m->n++;
            memset(row, 0, NCOLS * 8);
            row[PARENT] = parent;
            row[FUNC] = func;
        }
        Py_ssize_t at = m->paths.values[i];
        if (add_to(m->rows + NCOLS * at, cols, n, v) < 0) {
            return -1;
        }
        remap[v] = at;
    }
    return 0;
}

static PyObject *
as_columns(const merged *m)
{
    PyObject *out = PyBytes_FromStringAndSize(NULL, 8 * NCOLS * m->n);
    if (out == NULL) {
        return NULL;
    }
    int64_t *cols = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t v = 0; v < m->n; v++) {
        for (int j = 0; j < NCOLS; j++) {
            cols[j * m->n + v] = m->rows[NCOLS * v + j];
        }
    }
    return out;
}

PyObject *
tprof_merge_paths(const int64_t *cols, Py_ssize_t n, Py_ssize_t *remap)
{
    merged m = {NULL, 1, {NULL, NULL, NULL, 0}};
    PyObject *result = NULL;
    Py_ssize_t *order = PyMem_Malloc((size_t)n * sizeof *order);
    m.rows = PyMem_Malloc((size_t)n * NCOLS * 8);
    if (order == NULL || m.rows == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (tprof_keytab_init(&m.paths, n) < 0) {
        goto done;
    }
    memset(m.rows, 0, NCOLS * 8);
    m.rows[PARENT] = -1;
    m.rows[FUNC] = -1;
    if (merge_one(&m, cols, n, remap, order) == 0) {
        result = as_columns(&m);
    }
done:
    PyMem_Free(order);
    PyMem_Free(m.rows);
    tprof_keytab_free(&m.paths);
    return result;
}

PyObject *
tprof_merge(PyObject *Py_UNUSED(module), PyObject *const *args,
            Py_ssize_t nargs)
{
    if (nargs != 1 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "_merge(trees) takes a list of buffers");
        return NULL;
    }
    PyObject *list = args[0];
    Py_ssize_t ntrees = PyList_GET_SIZE(list), total = 1, most = 1;
    merged m = {NULL, 1, {NULL, NULL, NULL, 0}};
    Py_ssize_t *remap = NULL, *order = NULL;
    PyObject *result = NULL;
    Py_buffer *views =
        tprof_buffers_get(list, 8 * NCOLS, 1,
                          "trees: not seven 8-byte integers per "
                          "node, for at least the root");
    if (views == NULL) {
        goto done;
    }
    for (Py_ssize_t t = 0; t < ntrees; t++) {
        total += views[t].len / (8 * NCOLS) - 1;
        most = Py_MAX(most, views[t].len / (8 * NCOLS));
    }
    m.rows = PyMem_Malloc((size_t)total * NCOLS * 8);
    remap = PyMem_Malloc((size_t)most * sizeof *remap);
    order = PyMem_Malloc((size_t)most * sizeof *order);
    if (m.rows == NULL || remap == NULL || order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (tprof_keytab_init(&m.paths, total) < 0) {
        goto done;
    }
    memset(m.rows, 0, NCOLS * 8); /* the root */
    m.rows[PARENT] = -1;
    m.rows[FUNC] = -1;
    for (Py_ssize_t t = 0; t < ntrees; t++) {
        Py_ssize_t n = views[t].len / (8 * NCOLS);
        if (merge_one(&m, (const int64_t *)views[t].buf, n, remap, order) < 0)
        {
            goto done;
        }
    }
    result = as_columns(&m);
done:
    if (views != NULL) {
        tprof_buffers_release(views, ntrees);
    }
    PyMem_Free(remap);
    PyMem_Free(order);
    PyMem_Free(m.rows);
    tprof_keytab_free(&m.paths);
    return result;
}
