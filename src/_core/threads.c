/* SPDX-License-Identifier: MIT */
#include "threads.h"

#include "clock.h"

#include <limits.h>

TP_TLS tp_tls_t tp_tls;

/* Both counters are only advanced with the GIL held. */
static uint64_t tp_gen_counter;
static uint64_t tp_serial_counter;

uint64_t
tp_threads_new_gen(void)
{
    return ++tp_gen_counter;
}

uint64_t
tp_threads_serial(void)
{
    if (tp_tls.serial == 0) {
        tp_tls.serial = ++tp_serial_counter;
    }
    return tp_tls.serial;
}

/* threading.Thread._name, read without running Python code. */
static PyObject *
tp_thread_name_of(PyObject *thread)
{
    static PyObject *attr;
    if (attr == NULL) {
        attr = PyUnicode_InternFromString("_name");
        if (attr == NULL) {
            return NULL;
        }
    }
    PyObject *name = PyObject_GenericGetAttr(thread, attr);
    if (name != NULL && !PyUnicode_Check(name)) {
        Py_CLEAR(name);
    }
    return name;
}

/* Learn the name of the thread with this ident from threading._active. */
static void
tp_thread_lookup(tp_profiler *p, unsigned long ident, PyObject **name,
                 PyObject **ref)
{
    *name = NULL;
    *ref = NULL;
    if (p->threading_active == NULL) {
        return;
    }
    tp_saved_error saved;
    tp_error_save(&saved);
    PyObject *key = PyLong_FromUnsignedLong(ident);
    PyObject *thread = NULL;
    if (key != NULL) {
        thread = PyDict_GetItemWithError(p->threading_active, key);
        Py_XINCREF(thread);
        Py_DECREF(key);
    }
    if (thread != NULL) {
        *name = tp_thread_name_of(thread);
        *ref = PyWeakref_NewRef(thread, NULL);
        Py_DECREF(thread);
    }
    tp_error_restore(&saved);
}

static void
tp_thread_free(tp_thread *ts)
{
    Py_CLEAR(ts->name);
    Py_CLEAR(ts->thread_ref);
    tp_tree_free(&ts->tree);
    tp_stack_free(&ts->stack);
    tp_mem_free(ts);
}

void
tp_threads_free(tp_thread *list)
{
    while (list != NULL) {
        tp_thread *next = list->next;
        tp_thread_free(list);
        list = next;
    }
}

tp_thread *
tp_thread_attach(tp_profiler *p)
{
    uint64_t serial = tp_threads_serial();
    tp_thread *ts;
    for (ts = p->threads; ts != NULL; ts = ts->next) {
        if (ts->serial == serial) {
            goto found;
        }
    }

    unsigned long ident = PyThread_get_thread_ident();
    PyObject *name, *ref;
    /* The lookup may run Python code (a GC pass) and so release the GIL. */
    Py_INCREF(p);
    p->busy++;
    tp_thread_lookup(p, ident, &name, &ref);
    p->busy--;
    if (Py_REFCNT(p) == 1) {
        /* the profiler was dropped meanwhile: we hold the last reference */
        Py_XDECREF(name);
        Py_XDECREF(ref);
        Py_DECREF(p);
        return NULL;
    }
    Py_DECREF(p);

    ts = tp_mem_alloc(sizeof(*ts));
    if (ts == NULL || tp_tree_init(&ts->tree) < 0) {
        tp_mem_free(ts);
        goto nomemory;
    }
    if (tp_stack_init(&ts->stack, tp_tree_node(&ts->tree, 0)) < 0) {
        tp_tree_free(&ts->tree);
        tp_mem_free(ts);
        goto nomemory;
    }
    ts->gen = p->gen;
    ts->serial = serial;
    ts->ident = ident;
    ts->native_id = PyThread_get_thread_native_id();
    ts->name = name;
    ts->thread_ref = ref;
    ts->first_wall = INT64_MIN;
    if (p->mode != TP_MODE_USER) {
        ts->first_wall = ts->last_wall = tp_clock_wall();
        if (p->mode != TP_MODE_WALL) {
            ts->cpu_base = tp_clock_thread_cpu();
        }
    }
    *p->threads_tail = ts;
    p->threads_tail = &ts->next;
found:
    tp_tls.gen = p->gen;
    tp_tls.ts = ts;
    return ts;

nomemory:
    Py_XDECREF(name);
    Py_XDECREF(ref);
    tp_profiler_fail(p, TP_ERR_NOMEMORY);
    return NULL;
}

void
tp_thread_refresh_name(tp_thread *ts)
{
    if (ts->thread_ref == NULL) {
        return;
    }
    tp_saved_error saved;
    tp_error_save(&saved);
    PyObject *thread = tp_weakref_get(ts->thread_ref);
    if (thread != NULL) {
        PyObject *name = tp_thread_name_of(thread);
        if (name != NULL) {
            Py_XSETREF(ts->name, name);
        }
        Py_DECREF(thread);
    }
    tp_error_restore(&saved);
}

/* -- the engine ------------------------------------------------------------
 */

static int
tp_set_profile_all(Py_tracefunc func, PyObject *obj)
{
#if TP_HAVE_SET_PROFILE_ALL
    PyEval_SetProfileAllThreads(func, obj);
    return 0;
#else
    PyThreadState *me = PyThreadState_Get();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(me);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts))
    {
        if (_PyEval_SetProfile(ts, func, obj) < 0) {
            return -1;
        }
    }
    return 0;
#endif
}

static PyObject *
tp_threading_call(const char *method, PyObject *arg)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) {
        return NULL;
    }
    PyObject *res = arg ? PyObject_CallMethod(threading, method, "O", arg)
                        : PyObject_CallMethod(threading, method, NULL);
    Py_DECREF(threading);
    return res;
}

int
tp_engine_install(tp_profiler *p)
{
    /* Threads started from now on get the trampoline ... */
    PyObject *prev = tp_threading_call("getprofile", NULL);
    if (prev == NULL) {
        return -1;
    }
    Py_XSETREF(p->prev_hook, prev);
    PyObject *res = tp_threading_call("setprofile", p->bootstrap);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    if (p->threading_active == NULL) {
        PyObject *threading = PyImport_ImportModule("threading");
        if (threading == NULL) {
            return -1;
        }
        p->threading_active = PyObject_GetAttrString(threading, "_active");
        Py_DECREF(threading);
        if (p->threading_active != NULL && !PyDict_Check(p->threading_active))
        {
            Py_CLEAR(p->threading_active);
        }
        PyErr_Clear();
    }
    /* ... and every running thread gets the recorder now. */
    if (tp_set_profile_all(p->callback, (PyObject *)p) < 0) {
        return -1;
    }
    return 0;
}

void
tp_engine_remove(tp_profiler *p)
{
    tp_saved_error saved;
    tp_error_save(&saved);
    /* first the running threads, so that the calls below are not recorded */
    if (tp_set_profile_all(NULL, NULL) < 0) {
        PyErr_WriteUnraisable((PyObject *)p);
    }
    PyObject *current = tp_threading_call("getprofile", NULL);
    if (current == p->bootstrap) {
        PyObject *res = tp_threading_call(
            "setprofile", p->prev_hook ? p->prev_hook : Py_None);
        Py_XDECREF(res);
    }
    Py_XDECREF(current);
    Py_CLEAR(p->prev_hook);
    tp_error_restore(&saved);
}

/* -- the trampoline --------------------------------------------------------
 */

static int
tp_event_code(PyObject *event)
{
    static const char *names[] = {
        [PyTrace_CALL] = "call",
        [PyTrace_RETURN] = "return",
        [PyTrace_C_CALL] = "c_call",
        [PyTrace_C_RETURN] = "c_return",
        [PyTrace_C_EXCEPTION] = "c_exception",
    };
    if (!PyUnicode_Check(event)) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i] && PyUnicode_CompareWithASCIIString(event, names[i]) == 0)
        {
            return (int)i;
        }
    }
    return -1;
}

/* Called as a Python profile function by the first event of a thread that
 * threading started: replace it with the recorder and hand the event on. */
static PyObject *
tp_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    tp_profiler *p = (tp_profiler *)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "expected (frame, event, arg)");
        return NULL;
    }
    if (!p->enabled) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    Py_INCREF(p); /* replacing the hook drops the trampoline's reference */
    PyEval_SetProfile(p->callback, self);
    int what = tp_event_code(args[1]);
    if (what >= 0 && PyFrame_Check(args[0])) {
        PyObject *arg = args[2] == Py_None ? NULL : args[2];
        p->callback(self, (PyFrameObject *)args[0], what, arg);
    }
    Py_DECREF(p);
    Py_RETURN_NONE;
}

static PyMethodDef tp_bootstrap_def = {
    "_threadprof_bootstrap",
    (PyCFunction)(void (*)(void))tp_bootstrap,
    METH_FASTCALL,
    "Installs threadprof's recorder in a thread started by threading.",
};

PyObject *
tp_bootstrap_new(tp_profiler *p)
{
    return PyCFunction_New(&tp_bootstrap_def, (PyObject *)p);
}
