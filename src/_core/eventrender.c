/* SPDX-License-Identifier: MIT */
#include "eventrender.h"

#include "bytebuf.h"
#include "eventcodec.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    FORM_MICROS,
    FORM_NANOS,
    FORM_VARINT
};

#define SMALL 16 /* the longest suffix, separator or key accepted */

typedef struct {
    const char *data;
    Py_ssize_t len;
} piece;

typedef struct {
    PyObject_HEAD
    PyObject *template_fn; /* code -> bytes, or (first, later) */
    Py_ssize_t nfuncs;
    PyObject **cache; /* 2 * nfuncs: calls then returns; owned bytes */
    int form;
    int exact;     /* nanoseconds = ticks * whole, else round(ticks*factor) */
    int64_t whole; /* when exact */
    double factor; /* when not */
    char suffix[SMALL], sep[SMALL], packet_key[SMALL], time_key[SMALL];
    Py_ssize_t suffix_len, sep_len, packet_key_len, time_key_len;
    int need_sep; /* a separator goes before the next event */
    /* the replay (threadprof/replay.py) */
    int32_t *stack;
    Py_ssize_t depth, stack_cap;
    int64_t last; /* the time of the last event seen, in ticks */
    int started;
    Py_ssize_t skipped, closed, events;
    int64_t first_ns, last_ns; /* of the events written, when events > 0 */
    tprof_bytebuf out;         /* the output of one call */
} renderer;

static int
copy_small(PyObject *obj, char *dst, Py_ssize_t *len, const char *what)
{
    char *data;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(obj, &data, &n) < 0) {
        return -1;
    }
    if (n > SMALL) {
        PyErr_Format(PyExc_ValueError, "%s is longer than %d bytes", what,
                     SMALL);
        return -1;
    }
    memcpy(dst, data, (size_t)n);
    *len = n;
    return 0;
}

static PyObject *
renderer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {
        "template",  "nfuncs",         "form",       "scale",    "suffix",
        "separator", "separate_first", "packet_key", "time_key", NULL};
    PyObject *template_fn, *scale;
    Py_ssize_t nfuncs;
    const char *form;
    PyObject *suffix = NULL, *sep = NULL, *packet_key = NULL, *time_key = NULL;
    int separate_first = 0;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "OnsO|$SSpSS:_EventRenderer", kwlist, &template_fn,
            &nfuncs, &form, &scale, &suffix, &sep, &separate_first,
            &packet_key, &time_key))
    {
        return NULL;
    }
    if (!PyCallable_Check(template_fn)) {
        PyErr_SetString(PyExc_TypeError, "template must be callable");
        return NULL;
    }
    if (nfuncs < 0 || nfuncs > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "nfuncs out of range");
        return NULL;
    }
    int form_id;
    if (strcmp(form, "micros") == 0) {
        form_id = FORM_MICROS;
    }
    else if (strcmp(form, "nanos") == 0) {
        form_id = FORM_NANOS;
    }
    else if (strcmp(form, "varint") == 0) {
        form_id = FORM_VARINT;
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "form must be 'micros', 'nanos' or 'varint', not '%s'",
                     form);
        return NULL;
    }
    renderer *r = (renderer *)type->tp_alloc(type, 0);
    if (r == NULL) {
        return NULL;
    }
    r->form = form_id;
    r->nfuncs = nfuncs;
    r->need_sep = separate_first;
    if (PyLong_Check(scale)) {
        r->exact = 1;
        r->whole = PyLong_AsLongLong(scale);
        if (r->whole == -1 && PyErr_Occurred()) {
            goto fail;
        }
    }
    else {
        r->factor = PyFloat_AsDouble(scale);
        if (r->factor == -1.0 && PyErr_Occurred()) {
            goto fail;
        }
    }
    if ((suffix &&
         copy_small(suffix, r->suffix, &r->suffix_len, "suffix") < 0) ||
        (sep && copy_small(sep, r->sep, &r->sep_len, "separator") < 0) ||
        (packet_key && copy_small(packet_key, r->packet_key,
                                  &r->packet_key_len, "packet_key") < 0) ||
        (time_key &&
         copy_small(time_key, r->time_key, &r->time_key_len, "time_key") < 0))
    {
        goto fail;
    }
    r->cache = PyMem_Calloc(2 * (size_t)nfuncs + 1, sizeof(PyObject *));
    if (r->cache == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    r->template_fn = Py_NewRef(template_fn);
    return (PyObject *)r;
fail:
    Py_DECREF(r);
    return NULL;
}

static int
renderer_traverse(renderer *r, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(r));
    Py_VISIT(r->template_fn);
    return 0;
}

static int
renderer_clear(renderer *r)
{
    Py_CLEAR(r->template_fn);
    return 0;
}

static void
renderer_dealloc(renderer *r)
{
    PyTypeObject *type = Py_TYPE(r);
    PyObject_GC_UnTrack(r);
    renderer_clear(r);
    if (r->cache != NULL) {
        for (Py_ssize_t i = 0; i < 2 * r->nfuncs; i++) {
            Py_XDECREF(r->cache[i]);
        }
        PyMem_Free(r->cache);
    }
    PyMem_Free(r->stack);
    tprof_bytebuf_free(&r->out);
    type->tp_free((PyObject *)r);
    Py_DECREF(type);
}

/* ---- the output buffer ------------------------------------------------ */

static char *
put(char *out, const char *data, Py_ssize_t n)
{
    memcpy(out, data, (size_t)n);
    return out + n;
}

static const char DIGIT_PAIRS[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353"
    "6"
    "3738394041424344454647484950515253545556575859606162636465666768697071727"
    "3"
    "7475767778798081828384858687888990919293949596979899";

/* `v` in decimal, two digits at a time. */
static char *
put_u64(char *out, uint64_t v)
{
    char tmp[20];
    int n = 20;
    while (v >= 100) {
        unsigned pair = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--n] = DIGIT_PAIRS[pair + 1];
        tmp[--n] = DIGIT_PAIRS[pair];
    }
    if (v >= 10) {
        tmp[--n] = DIGIT_PAIRS[v * 2 + 1];
        tmp[--n] = DIGIT_PAIRS[v * 2];
    }
    else {
        tmp[--n] = (char)('0' + v);
    }
    memcpy(out, tmp + n, (size_t)(20 - n));
    return out + (20 - n);
}

/* nanoseconds as microseconds, exact and without trailing zeros:
 * 1234567 -> "1234.567", 1500 -> "1.5", 2000 -> "2" */
static char *
put_micros(char *out, int64_t ns)
{
    uint64_t v = (uint64_t)ns;
    if (ns < 0) {
        *out++ = '-';
        v = 0 - v;
    }
    out = put_u64(out, v / 1000);
    unsigned r = (unsigned)(v % 1000);
    if (r != 0) {
        *out++ = '.';
        *out++ = (char)('0' + r / 100);
        if (r % 100 != 0) {
            *out++ = (char)('0' + r / 10 % 10);
            if (r % 10 != 0) {
                *out++ = (char)('0' + r % 10);
            }
        }
    }
    return out;
}

static char *
put_nanos(char *out, int64_t ns)
{
    if (ns < 0) {
        *out++ = '-';
        return put_u64(out, 0 - (uint64_t)ns);
    }
    return put_u64(out, (uint64_t)ns);
}

static int
varint_len(uint64_t v)
{
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static char *
put_varint(char *out, uint64_t v)
{
    while (v >= 0x80) {
        *out++ = (char)((v & 0x7F) | 0x80);
        v >>= 7;
    }
    *out++ = (char)v;
    return out;
}

/* ---- one event -------------------------------------------------------- */

static int
to_ns(renderer *r, int64_t ticks, int64_t *ns)
{
    if (r->exact) {
        if (__builtin_mul_overflow(ticks, r->whole, ns)) {
            PyErr_SetString(PyExc_OverflowError,
                            "a timeline time does not fit in 64 bits of "
                            "nanoseconds");
            return -1;
        }
        return 0;
    }
    double v = (double)ticks * r->factor;
    if (!(v > -9.2e18 && v < 9.2e18)) {
        PyErr_SetString(PyExc_OverflowError,
                        "a timeline time does not fit in 64 bits of "
                        "nanoseconds");
        return -1;
    }
    /* rounded to the nearest, ties to even, as Python's round() */
    int64_t i = (int64_t)v; /* towards zero */
    double frac = v - (double)i;
    if (frac > 0.5 || (frac == 0.5 && (i & 1))) {
        i++;
    }
    else if (frac < -0.5 || (frac == -0.5 && (i & 1))) {
        i--;
    }
    *ns = i;
    return 0;
}

/* The template of `code`: from the cache, or asked for once. `once` is set
 * to the bytes of a first use that differ from the later ones. */
static PyObject *
template_of(renderer *r, int32_t code, PyObject **once)
{
    Py_ssize_t i = code >= 0 ? code : r->nfuncs + ~code;
    *once = NULL;
    if (r->cache[i] != NULL) {
        return r->cache[i];
    }
    PyObject *got = PyObject_CallFunction(r->template_fn, "i", (int)code);
    if (got == NULL) {
        return NULL;
    }
    PyObject *later = got;
    if (PyTuple_Check(got) && PyTuple_GET_SIZE(got) == 2) {
        *once = PyTuple_GET_ITEM(got, 0);
        later = PyTuple_GET_ITEM(got, 1);
    }
    if (!PyBytes_Check(later) || (*once != NULL && !PyBytes_Check(*once))) {
        PyErr_Format(PyExc_TypeError,
                     "a template must be bytes or a pair of bytes, not %.100s",
                     Py_TYPE(got)->tp_name);
        *once = NULL;
        Py_DECREF(got);
        return NULL;
    }
    r->cache[i] = Py_NewRef(later);
    Py_XINCREF(*once);
    Py_DECREF(got);
    return r->cache[i];
}

/* Append event `code` at `ticks` (already repaired). */
static int
emit(renderer *r, int32_t code, int64_t ticks)
{
    int64_t ns;
    if (to_ns(r, ticks, &ns) < 0) {
        return -1;
    }
    PyObject *once;
    PyObject *tmpl = template_of(r, code, &once);
    if (tmpl == NULL) {
        return -1;
    }
    PyObject *use = once ? once : tmpl;
    const char *data = PyBytes_AS_STRING(use);
    Py_ssize_t n = PyBytes_GET_SIZE(use);
    /* the template, 20 digits and a sign or two varints, the small parts */
    if (tprof_bytebuf_reserve(&r->out, (size_t)n + 32 + 4 * SMALL) < 0) {
        Py_XDECREF(once);
        return -1;
    }
    char *out = r->out.buf + r->out.len;
    if (r->need_sep) {
        out = put(out, r->sep, r->sep_len);
    }
    r->need_sep = 1;
    switch (r->form) {
    case FORM_MICROS:
        out = put(out, data, n);
        out = put_micros(out, ns);
        out = put(out, r->suffix, r->suffix_len);
        break;
    case FORM_NANOS:
        out = put(out, data, n);
        out = put_nanos(out, ns);
        out = put(out, r->suffix, r->suffix_len);
        break;
    default: {
        uint64_t body = (uint64_t)r->time_key_len +
                        (uint64_t)varint_len((uint64_t)ns) + (uint64_t)n;
        out = put(out, r->packet_key, r->packet_key_len);
        out = put_varint(out, body);
        out = put(out, r->time_key, r->time_key_len);
        out = put_varint(out, (uint64_t)ns);
        out = put(out, data, n);
    }
    }
    Py_XDECREF(once);
    r->out.len = (size_t)(out - r->out.buf);
    if (r->events == 0) {
        r->first_ns = ns;
    }
    r->last_ns = ns;
    r->events++;
    return 0;
}

static int
push(renderer *r, int32_t code)
{
    if (r->depth == r->stack_cap) {
        Py_ssize_t cap = r->stack_cap ? r->stack_cap * 2 : 256;
        int32_t *stack = PyMem_Realloc(r->stack, (size_t)cap * sizeof *stack);
        if (stack == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        r->stack = stack;
        r->stack_cap = cap;
    }
    r->stack[r->depth++] = code;
    return 0;
}

/* One event of the stream, repaired as replay.py does. */
static int
feed(renderer *r, int32_t code, int64_t t)
{
    if (!r->started) {
        r->started = 1;
    }
    else if (t < r->last) {
        t = r->last;
    }
    r->last = t;
    if (code >= 0) {
        return push(r, code) < 0 ? -1 : emit(r, code, t);
    }
    int32_t func = ~code;
    if (r->depth > 0 && r->stack[r->depth - 1] == func) {
        r->depth--;
        return emit(r, code, t);
    }
    Py_ssize_t at = r->depth - 1;
    while (at >= 0 && r->stack[at] != func) {
        at--;
    }
    if (at < 0) {
        r->skipped++;
        return 0;
    }
    while (r->depth > at) {
        int32_t open = r->stack[--r->depth];
        if (emit(r, ~open, t) < 0) {
            return -1;
        }
        if (r->depth > at) {
            r->closed++;
        }
    }
    return 0;
}

static PyObject *
take_output(renderer *r)
{
    PyObject *out =
        PyBytes_FromStringAndSize(r->out.buf, (Py_ssize_t)r->out.len);
    r->out.len = 0;
    return out;
}

static PyObject *
renderer_render(renderer *r, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "render(funcs, times) takes 2 "
                                         "arguments");
        return NULL;
    }
    Py_buffer fv, tv;
    if (tprof_chunk_get(args[0], args[1], r->nfuncs, &fv, &tv) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t n = fv.len / 4;
    const int32_t *funcs = (const int32_t *)fv.buf;
    const int64_t *times = (const int64_t *)tv.buf;
    r->out.len = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (feed(r, funcs[k], times[k]) < 0) {
            goto done;
        }
    }
    result = take_output(r);
done:
    PyBuffer_Release(&fv);
    PyBuffer_Release(&tv);
    return result;
}

static PyObject *
renderer_finish(renderer *r, PyObject *Py_UNUSED(ignored))
{
    r->out.len = 0;
    r->closed += r->depth;
    while (r->depth > 0) {
        if (emit(r, ~r->stack[--r->depth], r->last) < 0) {
            return NULL;
        }
    }
    return take_output(r);
}

static PyObject *
ns_or_none(renderer *r, int64_t ns)
{
    if (r->events == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(ns);
}

static PyObject *
renderer_get_first_ns(renderer *r, void *Py_UNUSED(closure))
{
    return ns_or_none(r, r->first_ns);
}

static PyObject *
renderer_get_last_ns(renderer *r, void *Py_UNUSED(closure))
{
    return ns_or_none(r, r->last_ns);
}

static PyMethodDef renderer_methods[] = {
    {"render", (PyCFunction)(void (*)(void))renderer_render, METH_FASTCALL,
     "render(funcs, times) -> bytes: a chunk's events (int32 codes, int64 "
     "ticks), repaired and written."},
    {"finish", (PyCFunction)renderer_finish, METH_NOARGS,
     "finish() -> bytes: the returns of the frames still open, at the last "
     "time seen."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef renderer_members[] = {
    {"skipped", Py_T_PYSSIZET, offsetof(renderer, skipped), Py_READONLY,
     "Returns that matched no open call."},
    {"closed", Py_T_PYSSIZET, offsetof(renderer, closed), Py_READONLY,
     "Frames closed by the repair (out of order or open at the end)."},
    {"events", Py_T_PYSSIZET, offsetof(renderer, events), Py_READONLY,
     "Events written."},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef renderer_getset[] = {
    {"first_ns", (getter)renderer_get_first_ns, NULL,
     "The time of the first event written, in nanoseconds, or None.", NULL},
    {"last_ns", (getter)renderer_get_last_ns, NULL,
     "The time of the last event written, in nanoseconds, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot renderer_slots[] = {
    {Py_tp_new, renderer_new},
    {Py_tp_dealloc, renderer_dealloc},
    {Py_tp_traverse, renderer_traverse},
    {Py_tp_clear, renderer_clear},
    {Py_tp_methods, renderer_methods},
    {Py_tp_members, renderer_members},
    {Py_tp_getset, renderer_getset},
    {Py_tp_doc, "_EventRenderer(template, nfuncs, form, scale, *, suffix, "
                "separator, separate_first, packet_key, time_key): writes "
                "one thread's timeline events (eventrender.h)."},
    {0, NULL},
};

static PyType_Spec renderer_spec = {
    .name = "threadprof._core._EventRenderer",
    .basicsize = sizeof(renderer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = renderer_slots,
};

PyObject *
tprof_eventrender_type_create(PyObject *module)
{
    return PyType_FromModuleAndSpec(module, &renderer_spec, NULL);
}
