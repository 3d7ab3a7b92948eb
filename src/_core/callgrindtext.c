/* SPDX-License-Identifier: MIT */
#include "callgrindtext.h"

#include "bytebuf.h"
#include "nsscale.h"

#include <stdint.h>
#include <string.h>

#define WIDTH 8 /* a row of _regroup: key, 0, then the six totals */
#define CALLS 2
#define FUNC 3 /* int64 per group in `funcs`: file, name, line */

typedef struct {
    tprof_bytebuf out;
    const int64_t *funcs;
    Py_ssize_t ngroups;
    PyObject *files, *names;     /* lists of bytes */
    uint32_t *file_id, *name_id; /* callgrind's ids, 0 before first use */
    uint32_t nfile_ids, nname_ids;
    tprof_nsscale scale;
} writer;

static int
put(writer *w, const char *p, size_t n)
{
    return tprof_bytebuf_put(&w->out, p, n);
}

static int
put_str(writer *w, const char *s)
{
    return put(w, s, strlen(s));
}

static int
put_int(writer *w, int64_t v)
{
    return tprof_bytebuf_put_decimal(&w->out, v);
}

/* "(id) name" the first time the name at `index` of `list` is written,
 * "(id)" after; 0, or -1 with an exception set. */
static int
put_name(writer *w, PyObject *list, uint32_t *ids, uint32_t *nids,
         int64_t index)
{
    if (index < 0 || index >= PyList_GET_SIZE(list) ||
        !PyBytes_Check(PyList_GET_ITEM(list, index)))
    {
        PyErr_SetString(PyExc_ValueError, "a name index outside its list");
        return -1;
    }
    int first = ids[index] == 0;
    if (first) {
        ids[index] = ++*nids;
    }
    if (put(w, "(", 1) < 0 || put_int(w, ids[index]) < 0 || put(w, ")", 1) < 0)
    {
        return -1;
    }
    if (!first) {
        return 0;
    }
    PyObject *name = PyList_GET_ITEM(list, index);
    return put(w, " ", 1) < 0 ? -1
                              : put(w, PyBytes_AS_STRING(name),
                                    (size_t)PyBytes_GET_SIZE(name));
}

/* fl=, fn= (or cfl=, cfn= with `called`) of group `g`. */
static int
put_function(writer *w, int64_t g, int called)
{
    if (g < 0 || g >= w->ngroups) {
        PyErr_SetString(PyExc_ValueError, "a group outside funcs");
        return -1;
    }
    const int64_t *f = w->funcs + FUNC * g;
    return put_str(w, called ? "cfl=" : "fl=") < 0 ||
                   put_name(w, w->files, w->file_id, &w->nfile_ids, f[0]) <
                       0 ||
                   put_str(w, called ? "\ncfn=" : "\nfn=") < 0 ||
                   put_name(w, w->names, w->name_id, &w->nname_ids, f[1]) < 0
               ? -1
               : 0;
}

/* "line a b": a line and two costs in ns. */
static int
put_costs(writer *w, int64_t line, const int64_t *row, const long cols[2],
          int64_t out[2])
{
    if (tprof_nsscale_apply(&w->scale, row[cols[0]], &out[0]) < 0 ||
        tprof_nsscale_apply(&w->scale, row[cols[1]], &out[1]) < 0)
    {
        return -1;
    }
    return put_int(w, line) < 0 || put(w, " ", 1) < 0 ||
                   put_int(w, out[0]) < 0 || put(w, " ", 1) < 0 ||
                   put_int(w, out[1]) < 0
               ? -1
               : 0;
}

static int
put_body(writer *w, const int64_t *rows, Py_ssize_t nrows,
         const int64_t *pairs, Py_ssize_t npairs, const long own[2],
         const long incl[2], int64_t total[2])
{
    Py_ssize_t j = 0; /* pairs are sorted by caller, as rows by group */
    for (Py_ssize_t r = 0; r < nrows; r++) {
        const int64_t *row = rows + WIDTH * r;
        int64_t g = row[0], cost[2];
        if ((r && put(w, "\n", 1) < 0) || put_function(w, g, 0) < 0 ||
            put(w, "\n", 1) < 0 ||
            put_costs(w, w->funcs[FUNC * g + 2], row, own, cost) < 0)
        {
            return -1;
        }
        if (__builtin_add_overflow(total[0], cost[0], &total[0]) ||
            __builtin_add_overflow(total[1], cost[1], &total[1]))
        {
            PyErr_SetString(PyExc_OverflowError, "a total leaves 64 bits");
            return -1;
        }
        while (j < npairs && (int64_t)((uint64_t)pairs[WIDTH * j] >> 32) < g) {
            j++; /* a caller that is no function of the rows */
        }
        for (; j < npairs && (int64_t)((uint64_t)pairs[WIDTH * j] >> 32) == g;
             j++) {
            const int64_t *pair = pairs + WIDTH * j;
            int64_t callee = (int64_t)((uint64_t)pair[0] & 0xFFFFFFFFu);
            if (put(w, "\n", 1) < 0 || put_function(w, callee, 1) < 0 ||
                put_str(w, "\ncalls=") < 0 || put_int(w, pair[CALLS]) < 0 ||
                put(w, " ", 1) < 0 ||
                put_int(w, w->funcs[FUNC * callee + 2]) < 0 ||
                put(w, "\n", 1) < 0 ||
                put_costs(w, w->funcs[FUNC * g + 2], pair, incl, cost) < 0)
            {
                return -1;
            }
        }
    }
    return 0;
}

/* The two columns of `pair` (a tuple of two ints from 2 to 7) into cols. */
static int
columns_of(PyObject *pair, long cols[2])
{
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_TypeError, "own, incl: pairs of columns");
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        cols[i] = PyLong_AsLong(PyTuple_GET_ITEM(pair, i));
        if (cols[i] == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (cols[i] < CALLS || cols[i] >= WIDTH) {
            PyErr_SetString(PyExc_ValueError, "own, incl: not a total");
            return -1;
        }
    }
    return 0;
}

PyObject *
tprof_callgrind_part(PyObject *Py_UNUSED(module), PyObject *const *args,
                     Py_ssize_t nargs)
{
    if (nargs != 8 || !PyList_Check(args[3]) || !PyList_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "_callgrind_part(rows, pairs, funcs, files, names, "
                        "scale, own, incl) takes three buffers, two lists, a "
                        "number and two pairs");
        return NULL;
    }
    long own[2], incl[2];
    if (columns_of(args[6], own) < 0 || columns_of(args[7], incl) < 0) {
        return NULL;
    }
    writer w = {.files = args[3], .names = args[4]};
    if (tprof_nsscale_of(args[5], &w.scale) < 0) {
        return NULL;
    }
    Py_buffer bufs[3];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 3; held++) {
        if (PyObject_GetBuffer(args[held], &bufs[held], PyBUF_SIMPLE) < 0) {
            goto done;
        }
    }
    if (bufs[0].len % (WIDTH * 8) || bufs[1].len % (WIDTH * 8) ||
        bufs[2].len % (FUNC * 8))
    {
        PyErr_SetString(PyExc_ValueError,
                        "rows, pairs, funcs: not whole rows of int64");
        goto done;
    }
    w.funcs = bufs[2].buf;
    w.ngroups = bufs[2].len / (FUNC * 8);
    w.file_id = PyMem_Calloc((size_t)PyList_GET_SIZE(w.files) + 1, 4);
    w.name_id = PyMem_Calloc((size_t)PyList_GET_SIZE(w.names) + 1, 4);
    if (w.file_id == NULL || w.name_id == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t total[2] = {0, 0};
    if (put_body(&w, bufs[0].buf, bufs[0].len / (WIDTH * 8), bufs[1].buf,
                 bufs[1].len / (WIDTH * 8), own, incl, total) == 0)
    {
        result = Py_BuildValue("(y#LL)", w.out.buf ? w.out.buf : "",
                               (Py_ssize_t)w.out.len, (long long)total[0],
                               (long long)total[1]);
    }
done:
    while (held > 0) {
        PyBuffer_Release(&bufs[--held]);
    }
    PyMem_Free(w.file_id);
    PyMem_Free(w.name_id);
    tprof_bytebuf_free(&w.out);
    return result;
}
