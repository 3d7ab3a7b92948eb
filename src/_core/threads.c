/* SPDX-License-Identifier: MIT */
#include "threads.h"

#include "clock.h"

#include <limits.h>

TP_TLS tp_tls_t tp_tls;

/* Process-wide counters, advanced atomically on a free-threaded build. */
static uint64_t tp_gen_counter;
static uint64_t tp_serial_counter;

uint64_t
tp_threads_new_gen(void)
{
    return tp_add_seqcst(&tp_gen_counter, 1);
}

uint64_t
tp_threads_serial(void)
{
    if (tp_tls.serial == 0) {
        tp_tls.serial = tp_add_seqcst(&tp_serial_counter, 1);
    }
    return tp_tls.serial;
}

/* Interned strings, made once by tp_threads_init and never freed. */
static PyObject *tp_threading_py; /* "threading.py" */
static PyObject *tp_name_attr;    /* "_name" */

int
tp_threads_init(void)
{
    if (tp_threading_py == NULL) {
        tp_threading_py = PyUnicode_InternFromString("threading.py");
    }
    if (tp_name_attr == NULL) {
        tp_name_attr = PyUnicode_InternFromString("_name");
    }
    return tp_threading_py != NULL && tp_name_attr != NULL ? 0 : -1;
}

/* threading.Thread._name, read without running Python code. */
static PyObject *
tp_thread_name_of(PyObject *thread)
{
    PyObject *attr = tp_name_attr;
    PyObject *name = PyObject_GenericGetAttr(thread, attr);
    if (name != NULL && !PyUnicode_Check(name)) {
        Py_CLEAR(name);
    }
    return name;
}

/* The threading.Thread whose _bootstrap frame is among `frame` and its
 * callers (a new reference), or NULL. A thread started by threading runs
 * Python code before it enters threading._active. */
static PyObject *
tp_thread_from_frames(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyFrameObject *f = (PyFrameObject *)Py_XNewRef(frame);
    while (f != NULL) {
        PyCodeObject *code = tp_frame_code(f);
        if (PyUnicode_Check(code->co_name) &&
            (PyUnicode_CompareWithASCIIString(code->co_name, "_bootstrap") ==
                 0 ||
             PyUnicode_CompareWithASCIIString(code->co_name,
                                              "_bootstrap_inner") == 0) &&
            PyUnicode_Tailmatch(code->co_filename, tp_threading_py, 0,
                                PY_SSIZE_T_MAX, 1) == 1)
        {
            PyObject *self = PyFrame_GetVarString(f, "self");
            Py_DECREF(f);
            if (self == NULL) {
                PyErr_Clear();
            }
            return self;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
#else
    (void)frame;
#endif
    return NULL;
}

/* Learn the name of the thread with this ident from threading._active, or
 * from the frames it runs. */
static void
tp_thread_lookup(tp_profiler *p, unsigned long ident, PyFrameObject *frame,
                 PyObject **name, PyObject **ref)
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
    if (thread == NULL && tp_threading_py != NULL) {
        thread = tp_thread_from_frames(frame ? frame : PyEval_GetFrame());
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
    tp_timeline_free(&ts->tl);
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

/* The calling thread's record in p's current generation, or NULL. */
static tp_thread *
tp_thread_find(tp_profiler *p, uint64_t serial)
{
    for (tp_thread *ts = tp_threads_first(p); ts; ts = tp_threads_next(ts)) {
        if (ts->serial == serial) {
            return ts;
        }
    }
    return NULL;
}

tp_thread *
tp_thread_attach(tp_profiler *p, PyFrameObject *frame)
{
    uint64_t serial = tp_threads_serial();
    tp_thread *ts = tp_thread_find(p, serial);
    if (ts != NULL) {
        goto found;
    }

    unsigned long ident = PyThread_get_thread_ident();
    PyObject *name, *ref;
    /* The lookup may run Python code (a GC pass) and so pause. */
    Py_INCREF(p);
    tp_event_may_pause(p);
    tp_thread_lookup(p, ident, frame, &name, &ref);
    tp_event_resumed(p);
    if (Py_REFCNT(p) == 1) {
        /* the profiler was dropped meanwhile: we hold the last reference */
        Py_XDECREF(name);
        Py_XDECREF(ref);
        tp_event_end();
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
    /* a record is complete before other threads can see it */
    tp_mutex_lock(&p->reg_lock);
    ts->gen = tp_gen_of(p);
    tp_st_release(p->threads_tail, ts);
    p->threads_tail = &ts->next;
    tp_mutex_unlock(&p->reg_lock);
found:
    ts->detached = 0;
    tp_tls.gen = tp_gen_of(p);
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
