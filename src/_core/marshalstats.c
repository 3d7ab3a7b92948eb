/* SPDX-License-Identifier: MIT */
#include "marshalstats.h"

#include "bytebuf.h"

#include <stdint.h>
#include <string.h>

#define WIDTH 8 /* a row of _regroup: key, 0, then the six totals */
#define CALLS 2
#define PRIM_CALLS 3

/* marshal's type codes (Python/marshal.c) */
#define M_NULL '0'
#define M_INT 'i'
#define M_LONG 'l'
#define M_FLOAT 'g'
#define M_SMALL_TUPLE ')'
#define M_DICT '{'
#define M_REF 'r'
#define M_FLAG_REF 0x80 /* on an object that a later M_REF names */

/* The file as it is written, and the reference number of each group's key
 * once written (-1 before). */
typedef struct {
    tprof_bytebuf out;
    int64_t *refs;
    uint32_t nrefs;
} sink;

static int
sink_room(sink *s, size_t more)
{
    return tprof_bytebuf_reserve(&s->out, more);
}

static void
put_u32(sink *s, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        s->out.buf[s->out.len++] = (char)(v >> (8 * i));
    }
}

/* An int as marshal writes it: 32 bits, or 15-bit digits beyond. */
static int
put_int(sink *s, int64_t v)
{
    if (sink_room(s, 1 + 4 + 5 * 2) < 0) {
        return -1;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        s->out.buf[s->out.len++] = M_INT;
        put_u32(s, (uint32_t)(int32_t)v);
        return 0;
    }
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int32_t digits = 0;
    for (uint64_t w = u; w; w >>= 15) {
        digits++;
    }
    s->out.buf[s->out.len++] = M_LONG;
    put_u32(s, (uint32_t)(v < 0 ? -digits : digits));
    for (; u; u >>= 15) {
        s->out.buf[s->out.len++] = (char)(u & 0xFF);
        s->out.buf[s->out.len++] = (char)((u >> 8) & 0x7F);
    }
    return 0;
}

static int
put_float(sink *s, double x)
{
    if (sink_room(s, 9) < 0) {
        return -1;
    }
    s->out.buf[s->out.len++] = M_FLOAT;
    if (PyFloat_Pack8(x, s->out.buf + s->out.len, 1) < 0) {
        return -1;
    }
    s->out.len += 8;
    return 0;
}

static int
put_bytes(sink *s, const char *p, size_t n)
{
    return tprof_bytebuf_put(&s->out, p, n);
}

static int
put_code(sink *s, char code, int small)
{
    if (sink_room(s, 2) < 0) {
        return -1;
    }
    s->out.buf[s->out.len++] = code;
    if (code == M_SMALL_TUPLE) {
        s->out.buf[s->out.len++] = (char)small;
    }
    return 0;
}

/* The key of group `g` from `keys`: whole the first time, marked as a
 * reference, then by its reference number (as marshal's version 3 and later
 * share objects). 0, or -1 with ValueError set. */
static int
put_key(sink *s, PyObject *keys, int64_t g)
{
    if (g < 0 || g >= PyList_GET_SIZE(keys) ||
        !PyBytes_Check(PyList_GET_ITEM(keys, g)) ||
        PyBytes_GET_SIZE(PyList_GET_ITEM(keys, g)) == 0)
    {
        PyErr_Format(PyExc_ValueError, "group %lld has no marshalled key",
                     (long long)g);
        return -1;
    }
    if (s->refs[g] >= 0) {
        if (sink_room(s, 5) < 0) {
            return -1;
        }
        s->out.buf[s->out.len++] = M_REF;
        put_u32(s, (uint32_t)s->refs[g]);
        return 0;
    }
    PyObject *key = PyList_GET_ITEM(keys, g);
    size_t at = s->out.len;
    if (put_bytes(s, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key)) <
        0) {
        return -1;
    }
    s->out.buf[at] = (char)(s->out.buf[at] | M_FLAG_REF);
    s->refs[g] = s->nrefs++;
    return 0;
}

/* A tuple of two counts and two times (of `row`, in seconds). */
static int
put_entry(sink *s, const int64_t *row, int64_t first, int64_t second,
          int items, double unit, int self_at, int cum_at)
{
    return put_code(s, M_SMALL_TUPLE, items) < 0 || put_int(s, first) < 0 ||
                   put_int(s, second) < 0 ||
                   put_float(s, (double)row[self_at] * unit) < 0 ||
                   put_float(s, (double)row[cum_at] * unit) < 0
               ? -1
               : 0;
}

/* The stats dictionary into `s`; `by_callee` lists the pairs of each callee
 * (from first[g] to first[g + 1]). 0, or -1 with an exception set. */
static int
put_stats(sink *s, const int64_t *rows, Py_ssize_t nrows, const int64_t *pairs,
          const Py_ssize_t *first, const Py_ssize_t *by_callee,
          Py_ssize_t ngroups, PyObject *keys, double unit, int self_at,
          int cum_at)
{
    if (put_code(s, M_DICT, 0) < 0) {
        return -1;
    }
    for (Py_ssize_t r = 0; r < nrows; r++) {
        const int64_t *row = rows + WIDTH * r;
        int64_t g = row[0];
        if (put_key(s, keys, g) < 0 ||
            put_entry(s, row, row[PRIM_CALLS], row[CALLS], 5, unit, self_at,
                      cum_at) < 0 ||
            put_code(s, M_DICT, 0) < 0)
        {
            return -1;
        }
        if (g < ngroups) {
            for (Py_ssize_t i = first[g]; i < first[g + 1]; i++) {
                const int64_t *pair = pairs + WIDTH * by_callee[i];
                int64_t caller = (int64_t)((uint64_t)pair[0] >> 32);
                if (put_key(s, keys, caller) < 0 ||
                    put_entry(s, pair, pair[CALLS], pair[PRIM_CALLS], 4, unit,
                              self_at, cum_at) < 0)
                {
                    return -1;
                }
            }
        }
        if (put_code(s, M_NULL, 0) < 0) {
            return -1;
        }
    }
    return put_code(s, M_NULL, 0);
}

PyObject *
tprof_pstats_marshal(PyObject *Py_UNUSED(module), PyObject *const *args,
                     Py_ssize_t nargs)
{
    if (nargs != 6 || !PyList_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "_pstats_marshal(rows, pairs, keys, unit, self_at, "
                        "cum_at) takes two buffers, a list and three numbers");
        return NULL;
    }
    double unit = PyFloat_AsDouble(args[3]);
    long self_at = PyLong_AsLong(args[4]), cum_at = PyLong_AsLong(args[5]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (self_at < CALLS || self_at >= WIDTH || cum_at < CALLS ||
        cum_at >= WIDTH) {
        PyErr_SetString(PyExc_ValueError, "self_at, cum_at: not a total");
        return NULL;
    }
    Py_buffer rv, pv;
    if (PyObject_GetBuffer(args[0], &rv, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &pv, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&rv);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t ngroups = PyList_GET_SIZE(args[2]);
    Py_ssize_t npairs = pv.len / (WIDTH * 8);
    Py_ssize_t *first = PyMem_Calloc((size_t)ngroups + 2, sizeof *first);
    Py_ssize_t *by_callee =
        PyMem_Malloc((size_t)(npairs ? npairs : 1) * sizeof *by_callee);
    sink s = {
        {NULL, 0, 0}, PyMem_Malloc((size_t)(ngroups ? ngroups : 1) * 8), 0};
    if (rv.len % (WIDTH * 8) != 0 || pv.len % (WIDTH * 8) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "rows, pairs: not rows of eight 8-byte integers");
        goto done;
    }
    if (first == NULL || by_callee == NULL || s.refs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memset(s.refs, 0xFF, (size_t)ngroups * 8); /* -1: not written yet */
    /* each callee's pairs together, in their order: a counting sort */
    const int64_t *pairs = pv.buf;
    for (Py_ssize_t i = 0; i < npairs; i++) {
        int64_t callee = (int64_t)((uint64_t)pairs[WIDTH * i] & 0xFFFFFFFFu);
        if (callee >= ngroups) {
            PyErr_Format(PyExc_ValueError, "group %lld has no marshalled key",
                         (long long)callee);
            goto done;
        }
        first[callee + 2]++;
    }
    for (Py_ssize_t g = 2; g < ngroups + 2; g++) {
        first[g] += first[g - 1];
    }
    for (Py_ssize_t i = 0; i < npairs; i++) { /* first + 1: where each goes */
        int64_t callee = (int64_t)((uint64_t)pairs[WIDTH * i] & 0xFFFFFFFFu);
        by_callee[first[callee + 1]++] = i;
    }
    if (put_stats(&s, rv.buf, rv.len / (WIDTH * 8), pairs, first, by_callee,
                  ngroups, args[2], unit, (int)self_at, (int)cum_at) == 0)
    {
        result = PyBytes_FromStringAndSize(s.out.buf, (Py_ssize_t)s.out.len);
    }
done:
    PyMem_Free(first);
    PyMem_Free(by_callee);
    tprof_bytebuf_free(&s.out);
    PyMem_Free(s.refs);
    PyBuffer_Release(&rv);
    PyBuffer_Release(&pv);
    return result;
}
