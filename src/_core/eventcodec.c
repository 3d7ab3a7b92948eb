/* SPDX-License-Identifier: MIT */
#include "eventcodec.h"

#include "varints.h"

#include <stdint.h>
#include <string.h>

#define HEAD TPROF_EVENTS_HEAD
#define TIMES_PLAIN 0 /* shuffled int64 times, then shuffled int32 codes */
#define TIMES_DELTA 1 /* the same with differences of the times */
#define VARINTS TPROF_EVENTS_VARINTS
#define MAX_VARINT TPROF_MAX_VARINT

/* A buffer of a whole number of `width`-byte items. */
static int
get_items(PyObject *obj, Py_buffer *view, Py_ssize_t width, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (view->len % width != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s: not a whole number of %zd-byte items", what, width);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

int
tprof_chunk_get(PyObject *funcs, PyObject *times, Py_ssize_t nfuncs,
                Py_buffer *fv, Py_buffer *tv)
{
    if (get_items(funcs, fv, 4, "funcs") < 0) {
        return -1;
    }
    if (get_items(times, tv, 8, "times") < 0) {
        PyBuffer_Release(fv);
        return -1;
    }
    if (tv->len / 8 != fv->len / 4) {
        PyErr_SetString(
            PyExc_ValueError,
            "a timeline chunk has more times than functions, or fewer");
        goto fail;
    }
    const int32_t *codes = (const int32_t *)fv->buf;
    for (Py_ssize_t k = 0, n = fv->len / 4; k < n; k++) {
        if (codes[k] < -nfuncs || codes[k] >= nfuncs) {
            PyErr_SetString(PyExc_ValueError,
                            "a timeline event names no function");
            goto fail;
        }
    }
    return 0;
fail:
    PyBuffer_Release(fv);
    PyBuffer_Release(tv);
    return -1;
}

static int
get_count(PyObject *obj, Py_ssize_t *out)
{
    Py_ssize_t v = PyLong_AsSsize_t(obj);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "a count below zero");
        return -1;
    }
    *out = v;
    return 0;
}

/* Byte i of item k goes to out[i * n + k], least significant byte first. */
static void
shuffle64(unsigned char *out, const int64_t *items, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n; k++) {
        uint64_t v = (uint64_t)items[k];
        for (int i = 0; i < 8; i++) {
            out[i * n + k] = (unsigned char)(v >> (8 * i));
        }
    }
}

static void
shuffle32(unsigned char *out, const int32_t *items, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n; k++) {
        uint32_t v = (uint32_t)items[k];
        for (int i = 0; i < 4; i++) {
            out[i * n + k] = (unsigned char)(v >> (8 * i));
        }
    }
}

/* VARINTS (varints.h). */
static PyObject *
encode_varints(const int32_t *funcs, const int64_t *times, Py_ssize_t n)
{
    unsigned char *buf = PyMem_Malloc(TPROF_EVENTS_BOUND(n));
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    unsigned char *end = tprof_varints_encode(buf, funcs, times, (size_t)n);
    PyObject *result = PyBytes_FromStringAndSize((const char *)buf, end - buf);
    PyMem_Free(buf);
    return result;
}

/* TIMES_DELTA, or TIMES_PLAIN where a difference leaves int64. */
static PyObject *
encode_shuffled(const int32_t *funcs, const int64_t *times, Py_ssize_t n)
{
    PyObject *result = NULL;
    int64_t *deltas = PyMem_Malloc(n > 0 ? (size_t)n * sizeof(int64_t) : 1);
    if (deltas == NULL) {
        return PyErr_NoMemory();
    }
    /* differences of consecutive times (the first kept): small and alike,
     * which zlib packs well; plain times where a difference overflows */
    int mode = TIMES_DELTA;
    if (n > 0) {
        deltas[0] = times[0];
    }
    for (Py_ssize_t k = 1; k < n; k++) {
        if (__builtin_sub_overflow(times[k], times[k - 1], &deltas[k])) {
            mode = TIMES_PLAIN;
            break;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, HEAD + 12 * n);
    if (result != NULL) {
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        memset(out, 0, HEAD);
        out[0] = (unsigned char)mode;
        shuffle64(out + HEAD, mode == TIMES_DELTA ? deltas : times, n);
        shuffle32(out + HEAD + 8 * n, funcs, n);
    }
    PyMem_Free(deltas);
    return result;
}

PyObject *
tprof_encode_events(PyObject *Py_UNUSED(module), PyObject *const *args,
                    Py_ssize_t nargs)
{
    if (nargs != 3 && nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "_encode_events(funcs, times, nfuncs, shuffled=False) "
                        "takes 3 or 4 arguments");
        return NULL;
    }
    Py_ssize_t nfuncs;
    if (get_count(args[2], &nfuncs) < 0) {
        return NULL;
    }
    int shuffled = nargs == 4 ? PyObject_IsTrue(args[3]) : 0;
    if (shuffled < 0) {
        return NULL;
    }
    Py_buffer fv, tv;
    if (tprof_chunk_get(args[0], args[1], nfuncs, &fv, &tv) < 0) {
        return NULL;
    }
    Py_ssize_t n = fv.len / 4;
    const int32_t *funcs = (const int32_t *)fv.buf;
    const int64_t *times = (const int64_t *)tv.buf;
    PyObject *result = shuffled ? encode_shuffled(funcs, times, n)
                                : encode_varints(funcs, times, n);
    PyBuffer_Release(&fv);
    PyBuffer_Release(&tv);
    return result;
}

/* The next varint of [*in, end) into *v; 0, or -1 if it is cut short or
 * longer than 64 bits. */
static int
get_varint(const unsigned char **in, const unsigned char *end, uint64_t *v)
{
    uint64_t value = 0;
    const unsigned char *p = *in;
    for (int shift = 0; shift < 7 * MAX_VARINT; shift += 7) {
        if (p == end) {
            return -1;
        }
        unsigned char byte = *p++;
        if (shift == 63 && byte > 1) {
            return -1; /* bits beyond the 64th */
        }
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *v = value;
            *in = p;
            return 0;
        }
    }
    return -1;
}

/* VARINTS into `times` (unless NULL: the times are skipped) and `funcs`;
 * NULL, or the reason it is corrupt. */
static const char *
decode_varints(const unsigned char *in, const unsigned char *end, Py_ssize_t n,
               Py_ssize_t nfuncs, int64_t *times, int32_t *funcs)
{
    uint64_t sum = 0, v;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (get_varint(&in, end, &v) < 0) {
            return "size";
        }
        if (times != NULL) {
            sum += (uint64_t)tprof_unzigzag(v); /* modulo 2**64, as written */
            times[k] = (int64_t)sum;
        }
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        if (get_varint(&in, end, &v) < 0) {
            return "size";
        }
        int64_t code = tprof_unzigzag(v);
        if (code < -nfuncs || code >= nfuncs) {
            return "functions";
        }
        funcs[k] = (int32_t)code;
    }
    return in == end ? NULL : "size";
}

/* A ValueError whose message is one of the reasons tprof.py words for the
 * user: "encoding", "size", "times", "functions". */
static PyObject *
corrupt(const char *reason)
{
    PyErr_SetString(PyExc_ValueError, reason);
    return NULL;
}

PyObject *
tprof_decode_events(PyObject *Py_UNUSED(module), PyObject *const *args,
                    Py_ssize_t nargs)
{
    if (nargs != 3 && nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "_decode_events(payload, count, nfuncs, "
                        "codes_only=False) takes 3 or 4 arguments");
        return NULL;
    }
    Py_ssize_t n, nfuncs;
    if (get_count(args[1], &n) < 0 || get_count(args[2], &nfuncs) < 0) {
        return NULL;
    }
    int codes_only = nargs == 4 ? PyObject_IsTrue(args[3]) : 0;
    if (codes_only < 0) {
        return NULL;
    }
    Py_buffer pv;
    if (PyObject_GetBuffer(args[0], &pv, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *in = (const unsigned char *)pv.buf;
    PyObject *funcs_out = NULL, *times_out = NULL, *result = NULL;
    if (pv.len < HEAD || in[0] > VARINTS) {
        corrupt("encoding");
        goto done;
    }
    for (int i = 1; i < HEAD; i++) {
        if (in[i] != 0) {
            corrupt("encoding");
            goto done;
        }
    }
    if (n > (PY_SSIZE_T_MAX - HEAD) / 15 ||
        (in[0] == VARINTS ? pv.len < HEAD + 2 * n || pv.len > HEAD + 15 * n
                          : pv.len != HEAD + 12 * n))
    {
        corrupt("size");
        goto done;
    }
    times_out = PyBytes_FromStringAndSize(NULL, 8 * n);
    funcs_out = PyBytes_FromStringAndSize(NULL, 4 * n);
    if (times_out == NULL || funcs_out == NULL) {
        goto done;
    }
    int64_t *times = (int64_t *)PyBytes_AS_STRING(times_out);
    int32_t *funcs = (int32_t *)PyBytes_AS_STRING(funcs_out);
    if (in[0] == VARINTS) {
        const char *why = decode_varints(in + HEAD, in + pv.len, n, nfuncs,
                                         codes_only ? NULL : times, funcs);
        if (why != NULL) {
            corrupt(why);
            goto done;
        }
        if (codes_only) {
            Py_SETREF(times_out, PyBytes_FromStringAndSize(NULL, 0));
        }
        result = times_out ? PyTuple_Pack(2, funcs_out, times_out) : NULL;
        goto done;
    }
    const unsigned char *t = in + HEAD, *f = in + HEAD + 8 * n;
    int delta = in[0] == TIMES_DELTA;
    int64_t sum = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (uint64_t)t[i * n + k] << (8 * i);
        }
        if (!delta || k == 0) {
            sum = (int64_t)v;
        }
        else if (__builtin_add_overflow(sum, (int64_t)v, &sum)) {
            corrupt("times");
            goto done;
        }
        times[k] = sum;
        uint32_t u = 0;
        for (int i = 0; i < 4; i++) {
            u |= (uint32_t)f[i * n + k] << (8 * i);
        }
        funcs[k] = (int32_t)u;
        if (funcs[k] < -nfuncs || funcs[k] >= nfuncs) {
            corrupt("functions");
            goto done;
        }
    }
    if (codes_only) {
        Py_SETREF(times_out, PyBytes_FromStringAndSize(NULL, 0));
    }
    result = times_out ? PyTuple_Pack(2, funcs_out, times_out) : NULL;
done:
    Py_XDECREF(funcs_out);
    Py_XDECREF(times_out);
    PyBuffer_Release(&pv);
    return result;
}
