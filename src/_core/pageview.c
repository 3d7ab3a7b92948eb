/* SPDX-License-Identifier: MIT */
#include "pageview.h"

#include "bytebuf.h"
#include "columns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COLS 8      /* parent, func, then the six values */
#define VALUES 6    /* calls, prim_calls, wall, wall_self, cpu, cpu_self */
#define FOLDED (-2) /* the function of a node that stands for folded ones */

/* The page's function indices (pageview.h): the map and the functions that
 * got one here, in order. */
typedef struct {
    int64_t *map;
    Py_ssize_t len;
    int64_t next;
    int64_t *added;
    Py_ssize_t nadded, cap;
} page_funcs;

static int
page_funcs_open(page_funcs *pf, Py_buffer *view, PyObject *map, PyObject *next)
{
    memset(pf, 0, sizeof *pf);
    if (PyObject_GetBuffer(map, view, PyBUF_WRITABLE) < 0) {
        return -1;
    }
    if (view->len % 8 != 0) {
        PyErr_SetString(PyExc_ValueError, "fmap: not 8-byte integers");
        PyBuffer_Release(view);
        return -1;
    }
    pf->map = view->buf;
    pf->len = view->len / 8;
    pf->next = PyLong_AsLongLong(next);
    if (pf->next == -1 && PyErr_Occurred()) {
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The page index of function `f` into *out (a new one if it has none);
 * 0, or -1 with an exception set. */
static int
page_index(page_funcs *pf, int64_t f, int64_t *out)
{
    if (f < FOLDED || f - FOLDED >= (int64_t)pf->len) {
        PyErr_Format(PyExc_ValueError,
                     "function %lld is outside the page's map of functions",
                     (long long)f);
        return -1;
    }
    int64_t *slot = &pf->map[f - FOLDED];
    if (*slot < 0) {
        if (pf->nadded == pf->cap) {
            Py_ssize_t cap = pf->cap ? 2 * pf->cap : 64;
            int64_t *grown =
                PyMem_Realloc(pf->added, (size_t)cap * sizeof *grown);
            if (grown == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            pf->added = grown;
            pf->cap = cap;
        }
        pf->added[pf->nadded++] = f;
        *slot = pf->next++;
    }
    *out = *slot;
    return 0;
}

/* `items` (a tuple, stolen) with the functions added (int64 bytes) after
 * them; NULL if `items` is NULL, and then the functions added have no index
 * again. The buffer is released and the list freed either way. */
static PyObject *
page_funcs_close(page_funcs *pf, Py_buffer *view, PyObject *items)
{
    PyObject *out = NULL;
    if (items != NULL) {
        Py_ssize_t n = PyTuple_GET_SIZE(items);
        PyObject *added = PyBytes_FromStringAndSize(
            (const char *)pf->added, pf->nadded * (Py_ssize_t)8);
        out = added ? PyTuple_New(n + 1) : NULL;
        if (out != NULL) {
            for (Py_ssize_t i = 0; i < n; i++) {
                PyTuple_SET_ITEM(out, i,
                                 Py_NewRef(PyTuple_GET_ITEM(items, i)));
            }
            PyTuple_SET_ITEM(out, n, Py_NewRef(added));
        }
        Py_XDECREF(added);
        Py_DECREF(items);
    }
    if (out == NULL) { /* the caller's map stays as it was */
        for (Py_ssize_t i = 0; i < pf->nadded; i++) {
            pf->map[pf->added[i] - FOLDED] = -1;
        }
    }
    PyMem_Free(pf->added);
    PyBuffer_Release(view);
    return out;
}

static int
by_wall_down(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static int
add_checked(int64_t *sum, int64_t v)
{
    if (__builtin_add_overflow(*sum, v, sum)) {
        PyErr_SetString(PyExc_OverflowError,
                        "a folded total does not fit in 64 bits");
        return -1;
    }
    return 0;
}

/* A tree of at most `keep` nodes below the root (pageview.h), in `tp`
 * (parents), `tf` (functions) and `tv` (VALUES per node): its size, and the
 * nodes left out in *folded; -1 with an exception set. The arrays hold 2n
 * nodes. */
static Py_ssize_t
fold_tree(const int64_t *col, Py_ssize_t n, Py_ssize_t keep, int64_t *tp,
          int64_t *tf, int64_t *tv, Py_ssize_t *folded)
{
    const int64_t *parent = col, *func = col + n, *values = col + 2 * n;
    const int64_t *wall = col + 4 * n;
    int all = n - 1 <= keep, none = !all && keep == 0;
    int64_t threshold = 0;
    Py_ssize_t room = 0, m = 0, nf = 0, result = -1;
    int64_t *walls = NULL, *new_id = PyMem_Malloc((size_t)n * 8);
    int64_t *fold_of = PyMem_Malloc((size_t)n * 8);
    if (new_id == NULL || fold_of == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (!all && !none) {
        walls = PyMem_Malloc((size_t)(n - 1) * 8);
        if (walls == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        memcpy(walls, wall + 1, (size_t)(n - 1) * 8);
        qsort(walls, (size_t)(n - 1), 8, by_wall_down);
        threshold = walls[keep - 1];
        for (Py_ssize_t i = 0; i < keep; i++) {
            room += walls[i] == threshold;
        }
    }
    /* kept nodes first, numbered in index order; then one fold per kept
     * parent that has folded children, in order of its first */
    int64_t *fold_parent = tp + n, *fold_values = tv + (size_t)VALUES * n;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t p = i ? new_id[parent[i]] : -1;
        new_id[i] = -1;
        if (i && p < 0) {
            continue; /* inside a folded subtree: counted with its top */
        }
        int64_t w = wall[i];
        if (i == 0 || all ||
            (!none && (w > threshold || (w == threshold && room > 0))))
        {
            room -= !all && i && w == threshold;
            new_id[i] = m;
            fold_of[m] = -1;
            tp[m] = p;
            tf[m] = func[i];
            for (int j = 0; j < VALUES; j++) {
                tv[VALUES * m + j] = values[j * n + i];
            }
            m++;
            continue;
        }
        int64_t k = fold_of[p];
        if (k < 0) {
            k = fold_of[p] = nf++;
            fold_parent[k] = p;
            memset(fold_values + VALUES * k, 0, VALUES * 8);
        }
        int64_t *f = fold_values + VALUES * k;
        const int64_t calls = values[i], prim = values[n + i],
                      cpu = values[4 * n + i];
        if (add_checked(&f[0], calls) < 0 || add_checked(&f[1], prim) < 0 ||
            add_checked(&f[2], w) < 0 || add_checked(&f[3], w) < 0 ||
            add_checked(&f[4], cpu) < 0 || add_checked(&f[5], cpu) < 0)
        {
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < nf; k++) { /* the folds after the kept */
        tp[m + k] = fold_parent[k];
        tf[m + k] = FOLDED;
        memmove(tv + VALUES * (m + k), fold_values + VALUES * k, VALUES * 8);
    }
    *folded = n - m;
    result = m + nf;
done:
    PyMem_Free(walls);
    PyMem_Free(new_id);
    PyMem_Free(fold_of);
    return result;
}

PyObject *
tprof_page_view(PyObject *Py_UNUSED(module), PyObject *const *args,
                Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(
            PyExc_TypeError,
            "_page_view(flat, keep, fmap, next) takes 4 arguments");
        return NULL;
    }
    Py_ssize_t keep = PyLong_AsSsize_t(args[1]);
    if (keep == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (keep < 0) {
        PyErr_SetString(PyExc_ValueError, "keep: a count, not negative");
        return NULL;
    }
    Py_buffer cv, mv;
    if (PyObject_GetBuffer(args[0], &cv, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    page_funcs pf;
    if (page_funcs_open(&pf, &mv, args[2], args[3]) < 0) {
        PyBuffer_Release(&cv);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t n = cv.len / (COLS * 8), *order = NULL, *pos = NULL;
    int64_t *tp = NULL, *tf = NULL, *tv = NULL;
    if (cv.len % (COLS * 8) != 0 || n == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "flat: not eight int64 columns of a rooted tree");
        goto done;
    }
    const int64_t *col = cv.buf;
    if (tprof_check_parents(col, n) < 0) {
        goto done;
    }
    tp = PyMem_Malloc((size_t)n * 2 * 8);
    tf = PyMem_Malloc((size_t)n * 2 * 8);
    tv = PyMem_Malloc((size_t)n * 2 * VALUES * 8);
    order = PyMem_Malloc((size_t)n * 2 * sizeof *order);
    pos = PyMem_Malloc((size_t)n * 2 * sizeof *pos);
    if (!tp || !tf || !tv || !order || !pos) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t folded, size = fold_tree(col, n, keep, tp, tf, tv, &folded);
    if (size < 0 || tprof_preorder(tp, size, order) < 0) {
        goto done;
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        pos[order[k]] = k;
    }
    PyObject *rows = PyBytes_FromStringAndSize(NULL, (size - 1) * COLS * 8);
    if (rows == NULL) {
        goto done;
    }
    int64_t *out = (int64_t *)PyBytes_AS_STRING(rows);
    for (Py_ssize_t k = 1; k < size; k++, out += COLS) {
        Py_ssize_t v = order[k];
        out[0] = k - pos[tp[v]];
        if (page_index(&pf, tf[v], &out[1]) < 0) {
            Py_DECREF(rows);
            goto done;
        }
        memcpy(out + 2, tv + VALUES * v, VALUES * 8);
    }
    result = Py_BuildValue("(Nn)", rows, folded);
done:
    PyMem_Free(tp);
    PyMem_Free(tf);
    PyMem_Free(tv);
    PyMem_Free(order);
    PyMem_Free(pos);
    PyBuffer_Release(&cv);
    return page_funcs_close(&pf, &mv, result); /* (nodes, folded, added) */
}

PyObject *
tprof_page_table(PyObject *Py_UNUSED(module), PyObject *const *args,
                 Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(
            PyExc_TypeError,
            "_page_table(rows, edges, fmap, next) takes 4 arguments");
        return NULL;
    }
    int edges = PyObject_IsTrue(args[1]);
    if (edges < 0) {
        return NULL;
    }
    Py_buffer rv, mv;
    if (PyObject_GetBuffer(args[0], &rv, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    page_funcs pf;
    if (page_funcs_open(&pf, &mv, args[2], args[3]) < 0) {
        PyBuffer_Release(&rv);
        return NULL;
    }
    PyObject *flat = NULL, *result = NULL;
    Py_ssize_t nrows = rv.len / (COLS * 8), width = edges ? 8 : 7;
    if (rv.len % (COLS * 8) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "rows: not rows of eight 8-byte integers");
        goto done;
    }
    flat = PyBytes_FromStringAndSize(NULL, nrows * width * 8);
    if (flat == NULL) {
        goto done;
    }
    const int64_t *rows = rv.buf;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(flat);
    /* the callers' indices first, then the callees': as the Python path */
    for (int pass = 0; pass < (edges ? 2 : 1); pass++) {
        for (Py_ssize_t r = 0; r < nrows; r++) {
            uint64_t key = (uint64_t)rows[COLS * r];
            int64_t f = !edges ? (int64_t)key
                        : pass ? (int64_t)(key & 0xFFFFFFFFu)
                               : (int64_t)(key >> 32);
            if (page_index(&pf, f, &out[width * r + pass]) < 0) {
                Py_CLEAR(flat);
                goto done;
            }
        }
    }
    for (Py_ssize_t r = 0; r < nrows; r++) {
        memcpy(out + width * r + (width - VALUES), rows + COLS * r + 2,
               VALUES * 8);
    }
    result = PyTuple_Pack(1, flat);
    Py_DECREF(flat);
done:
    PyBuffer_Release(&rv);
    return page_funcs_close(&pf, &mv, result); /* (flat, added) */
}

PyObject *
tprof_json_ints(PyObject *Py_UNUSED(module), PyObject *buffer)
{
    Py_buffer v;
    if (PyObject_GetBuffer(buffer, &v, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t n = v.len / 8;
    const int64_t *values = v.buf;
    tprof_bytebuf text = {NULL, 0, 0};
    if (v.len % 8) {
        PyErr_SetString(PyExc_ValueError, "not 8-byte integers");
        goto done;
    }
    /* "[" "]" and at most 20 digits, a sign and a comma per value */
    if (tprof_bytebuf_reserve(&text, (size_t)n * 22 + 2) < 0 ||
        tprof_bytebuf_put(&text, "[", 1) < 0)
    {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((i && tprof_bytebuf_put(&text, ",", 1) < 0) ||
            tprof_bytebuf_put_decimal(&text, values[i]) < 0)
        {
            goto done;
        }
    }
    if (tprof_bytebuf_put(&text, "]", 1) == 0) {
        result = PyBytes_FromStringAndSize(text.buf, (Py_ssize_t)text.len);
    }
done:
    tprof_bytebuf_free(&text);
    PyBuffer_Release(&v);
    return result;
}
