/* SPDX-License-Identifier: MIT */
#include "pprofsamples.h"

#include "bytebuf.h"
#include "columns.h"
#include "nsscale.h"

#include <stdint.h>
#include <string.h>

#define COLS 5             /* parent, func, calls, wall_self, cpu_self */
#define SAMPLE_KEY 0x12    /* Profile.sample: field 2, length-delimited */
#define LOCATIONS_KEY 0x0A /* Sample.location_id: field 1, packed */
#define VALUES_KEY 0x12    /* Sample.value: field 2, packed */
#define VARINT_MAX 10

static size_t
put_varint(char *out, uint64_t v)
{
    size_t n = 0;
    while (v > 0x7F) {
        out[n++] = (char)((v & 0x7F) | 0x80);
        v >>= 7;
    }
    out[n++] = (char)v;
    return n;
}

static size_t
varint_size(uint64_t v)
{
    size_t n = 1;
    for (; v > 0x7F; v >>= 7) {
        n++;
    }
    return n;
}

/* One sample of node `v` into `b`: its stack and values are first written
 * at the end of `b` (room for them reserved), then moved behind their keys
 * and lengths. 0, or -1 with an exception set. */
static int
put_sample(tprof_bytebuf *b, const int64_t *col, Py_ssize_t n, Py_ssize_t v,
           const int64_t *locs, Py_ssize_t nlocs, const Py_buffer *prefix,
           const Py_buffer *tail, int types, const tprof_nsscale *scale)
{
    const int64_t *parent = col, *func = col + n, *calls = col + 2 * n;
    const int64_t *wall_self = col + 3 * n, *cpu_self = col + 4 * n;
    /* the stack: a varint per frame, at most the depth + the prefix */
    size_t depth = 0;
    for (Py_ssize_t u = v; u > 0; u = parent[u]) {
        depth++;
    }
    size_t most = (depth + (size_t)prefix->len / 8) * VARINT_MAX;
    if (tprof_bytebuf_reserve(b, 2 * most + 8 * VARINT_MAX + 3 * 12 +
                                     (size_t)tail->len) < 0)
    {
        return -1;
    }
    char *stack = b->buf + b->len + most + 4 * VARINT_MAX; /* scratch */
    size_t slen = 0;
    for (Py_ssize_t u = v; u > 0; u = parent[u]) {
        int64_t f = func[u];
        if (f < 0 || f >= nlocs || locs[f] <= 0) {
            PyErr_Format(PyExc_ValueError, "function %lld has no location",
                         (long long)f);
            return -1;
        }
        slen += put_varint(stack + slen, (uint64_t)locs[f]);
    }
    const int64_t *pre = prefix->buf;
    for (Py_ssize_t i = 0; i < prefix->len / 8; i++) {
        slen += put_varint(stack + slen, (uint64_t)pre[i]);
    }
    int64_t values[3];
    int nvalues = 0;
    if (types != 2 &&
        tprof_nsscale_apply(scale, wall_self[v], &values[nvalues++]) < 0)
    {
        return -1;
    }
    if (types != 1 &&
        tprof_nsscale_apply(scale, cpu_self[v], &values[nvalues++]) < 0)
    {
        return -1;
    }
    values[nvalues++] = calls[v];
    char packed[3 * VARINT_MAX];
    size_t plen = 0;
    for (int i = 0; i < nvalues; i++) {
        plen += put_varint(packed + plen, (uint64_t)values[i]);
    }
    size_t body = 1 + varint_size(slen) + slen + 1 + varint_size(plen) + plen +
                  (size_t)tail->len;
    char *out = b->buf + b->len;
    out[0] = SAMPLE_KEY;
    size_t at = 1 + put_varint(out + 1, body);
    out[at++] = LOCATIONS_KEY;
    at += put_varint(out + at, slen);
    memmove(out + at, stack, slen); /* the scratch lies beyond: no overlap */
    at += slen;
    out[at++] = VALUES_KEY;
    at += put_varint(out + at, plen);
    memcpy(out + at, packed, plen);
    at += plen;
    memcpy(out + at, tail->buf, (size_t)tail->len);
    b->len += at + (size_t)tail->len;
    return 0;
}

PyObject *
tprof_pprof_samples(PyObject *Py_UNUSED(module), PyObject *const *args,
                    Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "_pprof_samples(flat, locs, prefix, tail, types, "
                        "scale) takes 6 arguments");
        return NULL;
    }
    long types = PyLong_AsLong(args[4]);
    if (types == -1 && PyErr_Occurred()) {
        return NULL;
    }
    tprof_nsscale scale;
    if (types < 0 || types > 2) {
        PyErr_SetString(PyExc_ValueError, "types: 0, 1 or 2");
        return NULL;
    }
    if (tprof_nsscale_of(args[5], &scale) < 0) {
        return NULL;
    }
    Py_buffer bufs[4];
    int held = 0;
    PyObject *result = NULL;
    tprof_bytebuf b = {NULL, 0, 0};
    Py_ssize_t *order = NULL;
    for (; held < 4; held++) {
        if (PyObject_GetBuffer(args[held], &bufs[held], PyBUF_SIMPLE) < 0) {
            goto done;
        }
    }
    Py_ssize_t n = bufs[0].len / (COLS * 8);
    if (bufs[0].len % (COLS * 8) || n == 0 || bufs[1].len % 8 ||
        bufs[2].len % 8) {
        PyErr_SetString(PyExc_ValueError,
                        "flat, locs, prefix: not int64 columns of a tree");
        goto done;
    }
    order = PyMem_Malloc((size_t)n * sizeof *order);
    if (order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (tprof_preorder(bufs[0].buf, n, order) < 0) {
        goto done;
    }
    for (Py_ssize_t k = 1; k < n; k++) {
        if (put_sample(&b, bufs[0].buf, n, order[k], bufs[1].buf,
                       bufs[1].len / 8, &bufs[2], &bufs[3], (int)types,
                       &scale) < 0)
        {
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(b.buf ? b.buf : "", (Py_ssize_t)b.len);
done:
    while (held > 0) {
        PyBuffer_Release(&bufs[--held]);
    }
    PyMem_Free(order);
    tprof_bytebuf_free(&b);
    return result;
}
