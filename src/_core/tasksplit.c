/* SPDX-License-Identifier: MIT */
#include "tasksplit.h"

#include "columns.h"
#include "merge.h"

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

/* The tree of one task: the subtrees of `roots` (nroots nodes, by their
 * position in `order`, the preorder of the n nodes of `cols`; `size` the
 * size of each node's subtree) under a root of their own, merged by path. */
static PyObject *
task_tree(const int64_t *cols, Py_ssize_t n, const Py_ssize_t *order,
          const Py_ssize_t *pos, const Py_ssize_t *size,
          const Py_ssize_t *roots, Py_ssize_t nroots)
{
    Py_ssize_t m = 1;
    for (Py_ssize_t r = 0; r < nroots; r++) {
        m += size[roots[r]];
    }
    int64_t *out = PyMem_Calloc((size_t)m * NCOLS, 8);
    Py_ssize_t *local = PyMem_Malloc((size_t)m * sizeof *local);
    PyObject *tree = NULL;
    if (out == NULL || local == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    out[PARENT * m] = -1;
    out[FUNC * m] = -1;
    Py_ssize_t k = 1;
    for (Py_ssize_t r = 0; r < nroots; r++) {
        Py_ssize_t top = roots[r], from = pos[top];
        out[WALL * m] += cols[WALL * n + top];
        out[CPU * m] += cols[CPU * n + top];
        for (Py_ssize_t i = from; i < from + size[top]; i++, k++) {
            Py_ssize_t v = order[i];
            for (int j = FUNC; j < NCOLS; j++) {
                out[j * m + k] = cols[j * n + v];
            }
            /* a node's parent is in the subtree before it, or is its root's
             * parent: the new root */
            out[PARENT * m + k] =
                v == top ? 0 : k - (i - pos[cols[PARENT * n + v]]);
        }
    }
    tree = tprof_merge_paths(out, m, local);
done:
    PyMem_Free(out);
    PyMem_Free(local);
    return tree;
}

static PyObject *
split(const int64_t *cols, Py_ssize_t n, const int64_t *pairs,
      Py_ssize_t npairs, Py_ssize_t ntasks)
{
    PyObject *result = NULL, *thread = NULL, *remap = NULL, *tasks = NULL;
    Py_ssize_t *order = PyMem_Malloc((size_t)n * sizeof *order);
    Py_ssize_t *pos = PyMem_Malloc((size_t)n * sizeof *pos);
    Py_ssize_t *size = PyMem_Malloc((size_t)n * sizeof *size);
    Py_ssize_t *ids = PyMem_Malloc((size_t)n * sizeof *ids);
    /* the roots of each task, grouped by task (counting sort) */
    Py_ssize_t *first = PyMem_Calloc((size_t)ntasks + 1, sizeof *first);
    Py_ssize_t *roots = PyMem_Malloc((size_t)(npairs + 1) * sizeof *roots);
    if (order == NULL || pos == NULL || size == NULL || ids == NULL ||
        first == NULL || roots == NULL)
    {
        PyErr_NoMemory();
        goto done;
    }
    if (tprof_preorder(cols + PARENT * n, n, order) < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        pos[order[i]] = i;
        size[i] = 1;
    }
    for (Py_ssize_t v = n - 1; v > 0; v--) {
        size[cols[PARENT * n + v]] += size[v];
    }
    for (Py_ssize_t i = 0; i < npairs; i++) {
        int64_t node = pairs[2 * i], task = pairs[2 * i + 1];
        if (node <= 0 || node >= n) {
            PyErr_SetString(PyExc_ValueError,
                            "task_nodes: a node outside the tree");
            goto done;
        }
        if (task >= 0 && task < ntasks) {
            first[task + 1]++;
        }
    }
    for (Py_ssize_t t = 0; t < ntasks; t++) {
        first[t + 1] += first[t];
    }
    for (Py_ssize_t i = 0; i < npairs; i++) {
        int64_t task = pairs[2 * i + 1];
        if (task >= 0 && task < ntasks) {
            roots[first[task]++] = (Py_ssize_t)pairs[2 * i];
        }
    }
    for (Py_ssize_t t = ntasks; t > 0; t--) { /* undo the counting */
        first[t] = first[t - 1];
    }
    first[0] = 0;
    thread = tprof_merge_paths(cols, n, ids);
    remap = PyBytes_FromStringAndSize(NULL, 8 * n);
    tasks = PyList_New(ntasks);
    if (thread == NULL || remap == NULL || tasks == NULL) {
        goto done;
    }
    int64_t *r = (int64_t *)PyBytes_AS_STRING(remap);
    for (Py_ssize_t v = 0; v < n; v++) {
        r[v] = ids[v];
    }
    for (Py_ssize_t t = 0; t < ntasks; t++) {
        PyObject *tree = task_tree(cols, n, order, pos, size, roots + first[t],
                                   first[t + 1] - first[t]);
        if (tree == NULL) {
            goto done;
        }
        PyList_SET_ITEM(tasks, t, tree);
    }
    result = PyTuple_Pack(3, thread, remap, tasks);
done:
    Py_XDECREF(thread);
    Py_XDECREF(remap);
    Py_XDECREF(tasks);
    PyMem_Free(order);
    PyMem_Free(pos);
    PyMem_Free(size);
    PyMem_Free(ids);
    PyMem_Free(first);
    PyMem_Free(roots);
    return result;
}

PyObject *
tprof_split_tasks(PyObject *Py_UNUSED(module), PyObject *const *args,
                  Py_ssize_t nargs)
{
    Py_ssize_t ntasks;
    if (nargs != 3 || (ntasks = PyLong_AsSsize_t(args[2])) < 0) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError,
                            "_split_tasks(tree, task_nodes, ntasks) takes two "
                            "buffers and a count >= 0");
        }
        return NULL;
    }
    Py_buffer tree, pairs;
    if (PyObject_GetBuffer(args[0], &tree, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &pairs, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&tree);
        return NULL;
    }
    PyObject *result = NULL;
    if (tree.len == 0 || tree.len % (8 * NCOLS) != 0 || pairs.len % 16 != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "_split_tasks: not seven int64 columns of at least "
                        "the root, and int64 pairs");
    }
    else {
        result = split((const int64_t *)tree.buf, tree.len / (8 * NCOLS),
                       (const int64_t *)pairs.buf, pairs.len / 16, ntasks);
    }
    PyBuffer_Release(&tree);
    PyBuffer_Release(&pairs);
    return result;
}
