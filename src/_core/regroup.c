/* SPDX-License-Identifier: MIT */
#include "regroup.h"

#include "columns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 8 /* a row: key, first, then the six totals */
#define FIRST_TOTAL 2

/* The group key of a row's key, or -1 with ValueError set. */
static int
group_key(int64_t key, int edges, const int64_t *group, Py_ssize_t ngroup,
          int64_t *out)
{
    int64_t caller = edges ? (int64_t)((uint64_t)key >> 32) : 0;
    int64_t callee = edges ? (int64_t)((uint64_t)key & 0xFFFFFFFFu) : key;
    if (caller < 0 || caller >= ngroup || callee < 0 || callee >= ngroup) {
        PyErr_SetString(PyExc_ValueError,
                        "a function id of the totals has no group");
        return -1;
    }
    int64_t gcaller = group[caller], gcallee = group[callee];
    if (edges && (gcaller < 0 || gcaller > INT32_MAX || gcallee < 0 ||
                  gcallee > INT32_MAX))
    {
        PyErr_SetString(PyExc_OverflowError,
                        "a group does not fit in 32 bits");
        return -1;
    }
    *out = edges ? (int64_t)(((uint64_t)gcaller << 32) | (uint64_t)gcallee)
                 : gcallee;
    return 0;
}

static int
by_key(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sum `rows` (n of them) into `out` by group; returns the rows made, or -1
 * with an exception set. */
static Py_ssize_t
sum_by_group(const int64_t *const *tables, const Py_ssize_t *sizes,
             Py_ssize_t ntables, Py_ssize_t n, int edges, const int64_t *group,
             Py_ssize_t ngroup, int64_t *out)
{
    tprof_keytab tab; /* group key -> its row */
    Py_ssize_t nrows = -1;
    if (tprof_keytab_init(&tab, n) < 0) {
        goto done;
    }
    Py_ssize_t made = 0;
    for (Py_ssize_t t = 0; t < ntables; t++) {
        for (Py_ssize_t r = 0; r < sizes[t]; r++) {
            const int64_t *row = tables[t] + WIDTH * r;
            int64_t key;
            if (group_key(row[0], edges, group, ngroup, &key) < 0) {
                goto done;
            }
            size_t i = tprof_keytab_slot(&tab, key);
            int64_t *sum;
            if (!tab.used[i]) {
                tab.used[i] = 1;
                tab.keys[i] = key;
                tab.values[i] = (int32_t)made;
                sum = out + WIDTH * made++;
                memset(sum, 0, WIDTH * 8);
                sum[0] = key;
            }
            else {
                sum = out + WIDTH * tab.values[i];
            }
            for (int j = FIRST_TOTAL; j < WIDTH; j++) {
                if (__builtin_add_overflow(sum[j], row[j], &sum[j])) {
                    PyErr_SetString(PyExc_OverflowError,
                                    "a total does not fit in 64 bits");
                    goto done;
                }
            }
        }
    }
    qsort(out, (size_t)made, WIDTH * 8, by_key);
    nrows = made;
done:
    tprof_keytab_free(&tab);
    return nrows;
}

PyObject *
tprof_regroup(PyObject *Py_UNUSED(module), PyObject *const *args,
              Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "_regroup(tables, group, edges) takes a list of "
                        "buffers, a buffer and a flag");
        return NULL;
    }
    int edges = PyObject_IsTrue(args[2]);
    if (edges < 0) {
        return NULL;
    }
    PyObject *list = args[0];
    Py_ssize_t ntables = PyList_GET_SIZE(list);
    Py_buffer gv;
    if (PyObject_GetBuffer(args[1], &gv, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    const int64_t **tables =
        PyMem_Malloc((size_t)(ntables > 0 ? ntables : 1) * sizeof *tables);
    Py_ssize_t *sizes =
        PyMem_Malloc((size_t)(ntables > 0 ? ntables : 1) * sizeof *sizes);
    PyObject *bytes = NULL; /* the rows, made in place and then cut */
    Py_ssize_t n = 0;
    Py_buffer *views = tprof_buffers_get(
        list, WIDTH * 8, 0, "tables: not rows of eight 8-byte integers");
    if (views == NULL) {
        goto done;
    }
    if (!tables || !sizes) {
        PyErr_NoMemory();
        goto done;
    }
    if (gv.len % 8 != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "group: not one 8-byte integer per function");
        goto done;
    }
    for (Py_ssize_t t = 0; t < ntables; t++) {
        tables[t] = (const int64_t *)views[t].buf;
        sizes[t] = views[t].len / (WIDTH * 8);
        n += sizes[t];
    }
    bytes = PyBytes_FromStringAndSize(NULL, n * WIDTH * 8);
    if (bytes == NULL) {
        goto done;
    }
    Py_ssize_t rows =
        sum_by_group(tables, sizes, ntables, n, edges, (const int64_t *)gv.buf,
                     gv.len / 8, (int64_t *)PyBytes_AS_STRING(bytes));
    if (rows >= 0 && _PyBytes_Resize(&bytes, rows * WIDTH * 8) == 0) {
        result = bytes; /* the reference moves */
        bytes = NULL;
    }
done:
    if (views != NULL) {
        tprof_buffers_release(views, ntables);
    }
    PyMem_Free(tables);
    PyMem_Free(sizes);
    Py_XDECREF(bytes);
    PyBuffer_Release(&gv);
    return result;
}
