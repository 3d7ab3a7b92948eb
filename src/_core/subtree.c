/* SPDX-License-Identifier: MIT */
#include "subtree.h"

#include "columns.h"

#include <stdint.h>

#define MAX_FUNCS 64

static int
wanted(int64_t func, const int64_t *funcs, Py_ssize_t nfuncs)
{
    for (Py_ssize_t i = 0; i < nfuncs; i++) {
        if (funcs[i] == func) {
            return 1;
        }
    }
    return 0;
}

/* The first node breadth first (children in index order) whose func is
 * wanted, or 0 if none; `first`/`kids` are the children in CSR form and
 * `queue` has room for n nodes. */
static Py_ssize_t
shallowest(const int64_t *func, const Py_ssize_t *first,
           const Py_ssize_t *kids, Py_ssize_t *queue, const int64_t *funcs,
           Py_ssize_t nfuncs)
{
    Py_ssize_t head = 0, tail = 0;
    for (Py_ssize_t c = first[0]; c < first[1]; c++) {
        queue[tail++] = kids[c];
    }
    while (head < tail) {
        Py_ssize_t v = queue[head++];
        if (wanted(func[v], funcs, nfuncs)) {
            return v;
        }
        for (Py_ssize_t c = first[v]; c < first[v + 1]; c++) {
            queue[tail++] = kids[c];
        }
    }
    return 0;
}

/* The subtree of `top` depth first into `order`; returns its size. `newid`
 * receives each visited node's index in the new tree (the root is 0). */
static Py_ssize_t
preorder(Py_ssize_t top, const Py_ssize_t *first, const Py_ssize_t *kids,
         Py_ssize_t *stack, Py_ssize_t *order, Py_ssize_t *newid)
{
    Py_ssize_t depth = 0, m = 0;
    stack[depth++] = top;
    while (depth > 0) {
        Py_ssize_t v = stack[--depth];
        order[m++] = v;
        newid[v] = m;
        for (Py_ssize_t c = first[v + 1]; c > first[v]; c--) {
            stack[depth++] = kids[c - 1];
        }
    }
    return m;
}

static PyObject *
columns_of(const int64_t *cols, Py_ssize_t n, Py_ssize_t k,
           const Py_ssize_t at[4], const Py_ssize_t *order, Py_ssize_t m,
           const Py_ssize_t *newid)
{
    Py_ssize_t total = m + 1;
    PyObject *out = PyBytes_FromStringAndSize(NULL, 8 * k * total);
    if (out == NULL) {
        return NULL;
    }
    int64_t *dst = (int64_t *)PyBytes_AS_STRING(out);
    Py_ssize_t top = order[0];
    for (Py_ssize_t j = 0; j < k; j++) {
        const int64_t *src = cols + j * n;
        int64_t *col = dst + j * total;
        if (j == at[0] || j == at[1]) { /* parent, func */
            col[0] = -1;
        }
        else if (j == at[2] || j == at[3]) { /* wall, cpu: the node's */
            col[0] = src[top];
        }
        else {
            col[0] = 0;
        }
        if (j == at[0]) {
            col[1] = 0;
            for (Py_ssize_t i = 1; i < m; i++) {
                col[i + 1] = newid[src[order[i]]];
            }
            continue;
        }
        for (Py_ssize_t i = 0; i < m; i++) {
            col[i + 1] = src[order[i]];
        }
    }
    return out;
}

static int
read_funcs(PyObject *tuple, int64_t *funcs, Py_ssize_t *nfuncs)
{
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) > MAX_FUNCS) {
        PyErr_SetString(PyExc_TypeError, "funcs: a tuple of at most 64 ints");
        return -1;
    }
    *nfuncs = PyTuple_GET_SIZE(tuple);
    for (Py_ssize_t i = 0; i < *nfuncs; i++) {
        long long f = PyLong_AsLongLong(PyTuple_GET_ITEM(tuple, i));
        if (f == -1 && PyErr_Occurred()) {
            return -1;
        }
        funcs[i] = (int64_t)f;
    }
    return 0;
}

PyObject *
tprof_subtree(PyObject *Py_UNUSED(module), PyObject *const *args,
              Py_ssize_t nargs)
{
    if (nargs != 3 || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "_subtree(columns, names, funcs) takes a buffer, a "
                        "tuple of names and a tuple of ints");
        return NULL;
    }
    PyObject *names = args[1];
    Py_ssize_t k = PyTuple_GET_SIZE(names);
    Py_ssize_t at[4] = {
        tprof_column_index(names, "parent"), tprof_column_index(names, "func"),
        tprof_column_index(names, "wall"), tprof_column_index(names, "cpu")};
    for (int i = 0; i < 4; i++) {
        if (at[i] == -2) {
            return NULL;
        }
    }
    if (at[0] < 0 || at[1] < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "names: 'parent' and 'func' must be among them");
        return NULL;
    }
    int64_t funcs[MAX_FUNCS];
    Py_ssize_t nfuncs = 0;
    if (read_funcs(args[2], funcs, &nfuncs) < 0) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t *work = NULL;
    if (view.len == 0 || view.len % (8 * k) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "columns: not one 8-byte integer per node and name, "
                        "for at least the root");
        goto done;
    }
    Py_ssize_t n = view.len / (8 * k);
    const int64_t *cols = (const int64_t *)view.buf;
    const int64_t *parent = cols + n * at[0];
    if (tprof_check_parents(parent, n) < 0) {
        goto done;
    }
    /* first (n + 1), kids (n), then a queue or stack, order and newid (n
     * each) */
    work = PyMem_Calloc((size_t)(5 * n + 1), sizeof *work);
    if (work == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t *first = work, *kids = work + n + 1, *scratch = kids + n;
    Py_ssize_t *order = scratch + n, *newid = order + n;
    for (Py_ssize_t v = 1; v < n; v++) {
        first[parent[v] + 1]++;
    }
    for (Py_ssize_t v = 0; v < n; v++) {
        first[v + 1] += first[v];
    }
    for (Py_ssize_t v = 1; v < n; v++) { /* newid counts the kids placed */
        kids[first[parent[v]] + newid[parent[v]]++] = v;
    }
    Py_ssize_t top =
        shallowest(cols + n * at[1], first, kids, scratch, funcs, nfuncs);
    if (top == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    Py_ssize_t m = preorder(top, first, kids, scratch, order, newid);
    result = columns_of(cols, n, k, at, order, m, newid);
done:
    PyMem_Free(work);
    PyBuffer_Release(&view);
    return result;
}
