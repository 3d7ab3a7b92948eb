/* SPDX-License-Identifier: MIT */
/*
 * capi.c -- the function table behind include/threadprof.h.
 *
 * A thin layer over the Python API (threadprof.api and the exporter
 * registry): embedders get the same behaviour as Python users. Everything
 * here is cold. Each function checks the GIL first and never touches Python
 * without it; errors become a status code and a per-thread message.
 */
#include "capi.h"

#include "modstate.h"
#include "state.h"

#include <stdarg.h>
#include <stdio.h>

#include "threadprof.h"

#ifndef THREADPROF_VERSION
#define THREADPROF_VERSION "0+unknown"
#endif

static TPROF_TLS char tprof_capi_error[512];

static int
tprof_capi_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tprof_capi_error, sizeof(tprof_capi_error), fmt, ap);
    va_end(ap);
    return status;
}

/* Turn the current Python exception into a status and a message. */
static int
tprof_capi_fail_python(int status)
{
    PyObject *exc = tprof_error_take();
    PyObject *text = exc ? PyObject_Str(exc) : NULL;
    const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
    if (msg == NULL) {
        PyErr_Clear();
        msg = "unknown error";
    }
    tprof_capi_fail(status, "%s%s%s", exc ? Py_TYPE(exc)->tp_name : "",
                    exc ? ": " : "", msg);
    Py_XDECREF(text);
    Py_XDECREF(exc);
    return status;
}

static int
tprof_capi_ok(void)
{
    tprof_capi_error[0] = '\0';
    return THREADPROF_OK;
}

/* The calling thread's attached thread state, or NULL. Not
 * PyGILState_Check: it answers 1 without looking once a subinterpreter has
 * existed. */
static PyThreadState *
tprof_capi_tstate(void)
{
    if (!Py_IsInitialized()) {
        return NULL;
    }
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

/* The GIL (an attached thread state), in the main interpreter: where the
 * module and the profiler live (module.c). */
#define TPROF_CAPI_REQUIRE_GIL()                                              \
    do {                                                                      \
        PyThreadState *tstate_ = tprof_capi_tstate();                         \
        if (tstate_ == NULL) {                                                \
            return tprof_capi_fail(                                           \
                THREADPROF_ERR_NO_GIL,                                        \
                "the calling thread does not hold the GIL");                  \
        }                                                                     \
        if (PyThreadState_GetInterpreter(tstate_) !=                          \
            PyInterpreterState_Main()) {                                      \
            return tprof_capi_fail(THREADPROF_ERR_INTERPRETER,                \
                                   "threadprof's C API works in the main "    \
                                   "interpreter only, not a subinterpreter"); \
        }                                                                     \
    } while (0)

static const char *
tprof_capi_version(void)
{
    return THREADPROF_VERSION;
}

static const char *
tprof_capi_last_error(void)
{
    return tprof_capi_error;
}

/* threadprof.api.<name>(*args, **kwargs), a new reference or NULL. */
static PyObject *
tprof_capi_call(const char *name, PyObject *args, PyObject *kwargs)
{
    PyObject *api = PyImport_ImportModule("threadprof.api");
    if (api == NULL) {
        return NULL;
    }
    PyObject *func = PyObject_GetAttrString(api, name);
    Py_DECREF(api);
    if (func == NULL) {
        return NULL;
    }
    PyObject *empty = args ? NULL : PyTuple_New(0);
    PyObject *res = (args || empty)
                        ? PyObject_Call(func, args ? args : empty, kwargs)
                        : NULL;
    Py_XDECREF(empty);
    Py_DECREF(func);
    return res;
}

/* The state of the imported threadprof._core, where the session lives (the
 * profiler the C API started last, which Write uses after Stop, and the
 * output settings of Start), or NULL with an exception set. */
static tprof_module_state *
tprof_capi_state(void)
{
    PyObject *m = PyImport_ImportModule("threadprof._core");
    if (m == NULL) {
        return NULL;
    }
    tprof_module_state *st = PyModule_GetState(m);
    Py_DECREF(m); /* sys.modules keeps it */
    return st;
}

static char *
tprof_capi_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = PyMem_RawMalloc(n);
    if (d != NULL) {
        memcpy(d, s, n);
    }
    return d;
}

static int tprof_capi_write(const char *path, const char *format,
                            const char *thread);

static int
tprof_capi_start(const Threadprof_Options *opt)
{
    TPROF_CAPI_REQUIRE_GIL();
    tprof_module_state *st = tprof_capi_state();
    if (st == NULL) {
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    if (tprof_active_get() != NULL) {
        return tprof_capi_fail(THREADPROF_ERR_RUNNING,
                               "a threadprof profiler is already running");
    }
    Threadprof_Options o = THREADPROF_OPTIONS_INIT;
    if (opt != NULL) {
        if (opt->size < offsetof(Threadprof_Options, output_format) +
                            sizeof(opt->output_format))
        {
            return tprof_capi_fail(
                THREADPROF_ERR_ARGUMENT,
                "Threadprof_Options.size is too small "
                "(initialise with THREADPROF_OPTIONS_INIT)");
        }
        o = *opt;
    }
    if (o.timeline_limit < 0) {
        return tprof_capi_fail(THREADPROF_ERR_ARGUMENT,
                               "timeline_limit must be >= 0");
    }
    PyObject *kw = Py_BuildValue(
        "{sssssOsL}", "clock", o.clock ? o.clock : "wall", "engine",
        o.engine ? o.engine : "auto", "timeline",
        o.timeline ? Py_True : Py_False, "timeline_limit", o.timeline_limit);
    if (kw == NULL) {
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    PyObject *empty = PyTuple_New(0);
    PyObject *p = empty ? tprof_capi_call("start", empty, kw) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(kw);
    if (p == NULL) {
        int status = PyErr_ExceptionMatches(PyExc_ValueError)
                         ? THREADPROF_ERR_ARGUMENT
                         : THREADPROF_ERR_PYTHON;
        return tprof_capi_fail_python(status);
    }
    Py_XSETREF(st->capi_last, p);
    PyMem_RawFree(st->capi_out_path);
    PyMem_RawFree(st->capi_out_format);
    st->capi_out_path = tprof_capi_strdup(o.output_path);
    st->capi_out_format = tprof_capi_strdup(o.output_format);
    return tprof_capi_ok();
}

static int
tprof_capi_stop(void)
{
    TPROF_CAPI_REQUIRE_GIL();
    tprof_module_state *st = tprof_capi_state();
    if (st == NULL) {
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    if (tprof_active_get() == NULL) {
        return tprof_capi_fail(THREADPROF_ERR_NOT_RUNNING,
                               "threadprof is not running");
    }
    PyObject *profiler = Py_NewRef((PyObject *)tprof_active_get());
    PyObject *snap = tprof_capi_call("stop", NULL, NULL);
    if (snap == NULL) {
        Py_DECREF(profiler);
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    Py_DECREF(snap);
    Py_XSETREF(st->capi_last, profiler);
    if (st->capi_out_path != NULL) {
        return tprof_capi_write(st->capi_out_path, st->capi_out_format, NULL);
    }
    return tprof_capi_ok();
}

static int
tprof_capi_attach(void)
{
    TPROF_CAPI_REQUIRE_GIL();
    if (tprof_active_get() == NULL) {
        return tprof_capi_fail(THREADPROF_ERR_NOT_RUNNING,
                               "threadprof is not running");
    }
    PyObject *res = PyObject_CallMethod((PyObject *)tprof_active_get(),
                                        "attach_current_thread", NULL);
    if (res == NULL) {
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    Py_DECREF(res);
    return tprof_capi_ok();
}

static int
tprof_capi_detach(void)
{
    TPROF_CAPI_REQUIRE_GIL();
    if (tprof_active_get() == NULL) {
        return tprof_capi_fail(THREADPROF_ERR_NOT_RUNNING,
                               "threadprof is not running");
    }
    PyObject *res = PyObject_CallMethod((PyObject *)tprof_active_get(),
                                        "detach_current_thread", NULL);
    if (res == NULL) {
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    Py_DECREF(res);
    return tprof_capi_ok();
}

static int
tprof_capi_write(const char *path, const char *format, const char *thread)
{
    TPROF_CAPI_REQUIRE_GIL();
    if (path == NULL || path[0] == '\0') {
        return tprof_capi_fail(THREADPROF_ERR_ARGUMENT,
                               "the output path is NULL or empty");
    }
    tprof_module_state *st = tprof_capi_state();
    if (st == NULL) {
        return tprof_capi_fail_python(THREADPROF_ERR_PYTHON);
    }
    tprof_state *active = tprof_active_get();
    PyObject *profiler = active ? (PyObject *)active : st->capi_last;
    if (profiler == NULL) {
        return tprof_capi_fail(THREADPROF_ERR_NO_DATA,
                               "nothing has been profiled yet");
    }
    PyObject *res = NULL;
    PyObject *args = Py_BuildValue("(Oszz)", profiler, path, format, thread);
    if (args != NULL) {
        res = tprof_capi_call("_capi_write", args, NULL);
        Py_DECREF(args);
    }
    if (res == NULL) {
        /* the Python side raises ValueError for a bad format or thread,
         * OSError-like OutputError for I/O, ProfilerError for no data */
        int status = THREADPROF_ERR_PYTHON;
        if (PyErr_ExceptionMatches(st->error)) {
            status = THREADPROF_ERR_NO_DATA;
        }
        else if (PyErr_ExceptionMatches(PyExc_LookupError)) {
            status = THREADPROF_ERR_ARGUMENT;
        }
        else if (PyErr_ExceptionMatches(PyExc_ValueError)) {
            status = THREADPROF_ERR_FORMAT;
        }
        else if (PyErr_ExceptionMatches(PyExc_OSError)) {
            status = THREADPROF_ERR_IO;
        }
        return tprof_capi_fail_python(status);
    }
    Py_DECREF(res);
    return tprof_capi_ok();
}

int
tprof_capi_at_exit(struct tprof_module_state *st, tprof_state *active)
{
    if (st->capi_last != (PyObject *)active || st->capi_out_path == NULL) {
        return 0;
    }
    if (tprof_capi_stop() != THREADPROF_OK) {
        PySys_WriteStderr("threadprof: error: %s\n", tprof_capi_error);
    }
    return 1;
}

static const Threadprof_CAPI tprof_capi_table = {
    .version = THREADPROF_CAPI_VERSION,
    .Version = tprof_capi_version,
    .LastError = tprof_capi_last_error,
    .Start = tprof_capi_start,
    .Stop = tprof_capi_stop,
    .AttachCurrentThread = tprof_capi_attach,
    .DetachCurrentThread = tprof_capi_detach,
    .Write = tprof_capi_write,
};

int
tprof_capi_add(PyObject *module)
{
    PyObject *capsule = PyCapsule_New((void *)&tprof_capi_table,
                                      THREADPROF_CAPSULE_NAME, NULL);
    if (capsule == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "_C_API", capsule) < 0) {
        Py_DECREF(capsule);
        return -1;
    }
    return 0;
}
