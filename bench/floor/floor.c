/* SPDX-License-Identifier: MIT */
/*
 * _tpfloor: the floor of a deterministic profiler, for the benchmark.
 *
 * The floor is what any profiler built on the legacy profile hook pays before
 * it does any work of its own: a Py_tracefunc that returns 0 at once,
 * installed in every thread the way threadprof installs its own hook
 * (PyEval_SetProfileAllThreads on 3.12+, a walk over the thread states with
 * _PyEval_SetProfile on 3.11), plus a threading.setprofile trampoline that
 * installs it in threads started later. threadprof's overhead is compared to
 * this floor's.
 *
 * The module also offers:
 *   - a counting variant of the same hook, to count the profile events of a
 *     workload (the same events the floor and threadprof receive);
 *   - a clock variant that reads CLOCK_MONOTONIC once per event and nothing
 *     else: the floor plus the one clock read a wall-clock profiler cannot
 *     avoid (and mon_clock, the same for sys.monitoring);
 *   - mon_noop, a vectorcall builtin that does nothing, to register with
 *     sys.monitoring: the floor of a profiler built on sys.monitoring (3.12+);
 *   - mon_noop_vc, the same as an object of a type of its own whose
 *     vectorcall slot does nothing: sys.monitoring calls it without the
 *     builtin function's wrapper (keyword check, recursion depth, thread
 *     state lookup), as threadprof's callbacks are called;
 *   - collect(f), which calls f(); the callgrind runs collect instructions
 *     only inside it (--toggle-collect=tpfloor_collect_region).
 *
 * Everything here runs with the GIL held, so the counters need no atomics.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define N_WHAT 8 /* PyTrace_CALL .. PyTrace_OPCODE */

static unsigned long long event_counts[N_WHAT];
/* the hook new threads get from the trampoline; NULL while uninstalled */
static Py_tracefunc current_hook;

static int
tpfloor_noop(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

static int
tpfloor_count(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)arg;
    if ((unsigned)what < N_WHAT) {
        event_counts[what]++;
    }
    return 0;
}

/* where the clock variants store their reads, so that no read is optimised
 * away */
static volatile int64_t clock_sink;

static inline void
read_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    clock_sink = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
tpfloor_clock(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    read_clock();
    return 0;
}

/* Sets func as the profile function of every thread state of this
 * interpreter. */
static int
set_all_threads(Py_tracefunc func)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyEval_SetProfileAllThreads(func, NULL);
    return PyErr_Occurred() ? -1 : 0;
#else
    PyInterpreterState *interp =
        PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts))
    {
        if (_PyEval_SetProfile(ts, func, NULL) < 0) {
            return -1;
        }
    }
    return 0;
#endif
}

/* threading.setprofile() hands this to sys.setprofile() at the start of every
 * new Thread; on its first event it replaces itself with the C hook. */
static PyObject *
tpfloor_trampoline(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    PyEval_SetProfile(current_hook, NULL);
    Py_RETURN_NONE;
}

static PyObject *
set_threading_profile(PyObject *module, int on)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) {
        return NULL;
    }
    PyObject *arg = Py_None;
    if (on) {
        arg = PyObject_GetAttrString(module, "_trampoline");
        if (arg == NULL) {
            Py_DECREF(threading);
            return NULL;
        }
    }
    else {
        Py_INCREF(arg);
    }
    PyObject *res = PyObject_CallMethod(threading, "setprofile", "O", arg);
    Py_DECREF(arg);
    Py_DECREF(threading);
    return res;
}

static PyObject *
tpfloor_install(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"hook", NULL};
    const char *hook = "noop";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|s:install", kwlist,
                                     &hook)) {
        return NULL;
    }
    if (strcmp(hook, "noop") == 0) {
        current_hook = tpfloor_noop;
    }
    else if (strcmp(hook, "count") == 0) {
        current_hook = tpfloor_count;
    }
    else if (strcmp(hook, "clock") == 0) {
        current_hook = tpfloor_clock;
    }
    else {
        PyErr_Format(PyExc_ValueError, "unknown hook %s", hook);
        return NULL;
    }
    PyObject *res = set_threading_profile(module, 1);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    if (set_all_threads(current_hook) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
tpfloor_uninstall(PyObject *module, PyObject *unused)
{
    (void)unused;
    if (set_all_threads(NULL) < 0) {
        return NULL;
    }
    current_hook = NULL;
    return set_threading_profile(module, 0);
}

static PyObject *
tpfloor_counts(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    static const char *names[N_WHAT] = {"call",     "exception", "line",
                                        "return",   "c_call",    "c_exception",
                                        "c_return", "opcode"};
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (int i = 0; i < N_WHAT; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(event_counts[i]);
        if (v == NULL || PyDict_SetItemString(d, names[i], v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

static PyObject *
tpfloor_reset(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    memset(event_counts, 0, sizeof event_counts);
    Py_RETURN_NONE;
}

/* The sys.monitoring floor: any arguments, returns None (never DISABLE). */
static PyObject *
tpfloor_mon_noop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    Py_RETURN_NONE;
}

/* The sys.monitoring floor plus one clock read. */
static PyObject *
tpfloor_mon_clock(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    read_clock();
    Py_RETURN_NONE;
}

/* mon_noop_vc: a callable whose vectorcall slot does nothing. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
} tpfloor_vc;

static PyObject *
tpfloor_vc_call(PyObject *callable, PyObject *const *args, size_t nargsf,
                PyObject *kwnames)
{
    (void)callable;
    (void)args;
    (void)nargsf;
    (void)kwnames;
    Py_RETURN_NONE;
}

static PyTypeObject tpfloor_vc_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_tpfloor.VectorcallNoop",
    .tp_basicsize = sizeof(tpfloor_vc),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(tpfloor_vc, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* Not static and never inlined: callgrind toggles collection on its entry and
 * exit by name. */
__attribute__((noinline, visibility("default"))) PyObject *
tpfloor_collect_region(PyObject *func)
{
    return PyObject_CallNoArgs(func);
}

static PyObject *
tpfloor_collect(PyObject *module, PyObject *func)
{
    (void)module;
    return tpfloor_collect_region(func);
}

static PyMethodDef tpfloor_methods[] = {
    {"install", (PyCFunction)(void (*)(void))tpfloor_install,
     METH_VARARGS | METH_KEYWORDS,
     "install(hook='noop'): set the hook ('noop', 'count' or 'clock') in "
     "every thread"},
    {"uninstall", tpfloor_uninstall, METH_NOARGS,
     "remove the hook from every thread"},
    {"counts", tpfloor_counts, METH_NOARGS,
     "event counts of the counting hook, by kind"},
    {"reset", tpfloor_reset, METH_NOARGS, "zero the event counts"},
    {"mon_noop", (PyCFunction)(void (*)(void))tpfloor_mon_noop, METH_FASTCALL,
     "a sys.monitoring callback that does nothing"},
    {"mon_clock", (PyCFunction)(void (*)(void))tpfloor_mon_clock,
     METH_FASTCALL,
     "a sys.monitoring callback that reads CLOCK_MONOTONIC and does nothing "
     "else"},
    {"collect", tpfloor_collect, METH_O,
     "collect(f): call f() (callgrind collects only here)"},
    {"_trampoline", (PyCFunction)(void (*)(void))tpfloor_trampoline,
     METH_FASTCALL,
     "threading.setprofile trampoline: installs the hook in a new thread"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef tpfloor_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_tpfloor",
    .m_doc = "The no-op profiler floor for threadprof's benchmark.",
    .m_size = -1,
    .m_methods = tpfloor_methods,
};

PyMODINIT_FUNC
PyInit__tpfloor(void)
{
    PyObject *m = PyModule_Create(&tpfloor_module);
    if (m == NULL || PyType_Ready(&tpfloor_vc_type) < 0) {
        Py_XDECREF(m);
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    /* the no-op hooks share nothing (the counting hook is not for
     * free-threaded scaling runs): importing the floor keeps the GIL off */
    if (PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    tpfloor_vc *vc = PyObject_New(tpfloor_vc, &tpfloor_vc_type);
    if (vc == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    vc->vectorcall = tpfloor_vc_call;
    if (PyModule_AddObject(m, "mon_noop_vc", (PyObject *)vc) < 0) {
        Py_DECREF(vc);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
