/* SPDX-License-Identifier: MIT */
#include "threads.h"

#include "clock.h"
#include "modstate.h"

#include <limits.h>

TPROF_TLS tprof_tls_t tprof_tls;

/* Process-wide counters, advanced atomically on a free-threaded build. */
static uint64_t tprof_gen_counter;
static uint64_t tprof_serial_counter;

uint64_t
tprof_threads_new_gen(void)
{
    return tprof_add_seqcst(&tprof_gen_counter, 1);
}

uint64_t
tprof_threads_serial(void)
{
    if (tprof_tls.serial == 0) {
        tprof_tls.serial = tprof_add_seqcst(&tprof_serial_counter, 1);
    }
    return tprof_tls.serial;
}

/* threading.Thread._name, read without running Python code. */
static PyObject *
tprof_thread_name_of(tprof_state *p, PyObject *thread)
{
    PyObject *name = PyObject_GenericGetAttr(thread, p->mod->str_name);
    if (name != NULL && !PyUnicode_Check(name)) {
        Py_CLEAR(name);
    }
    return name;
}

/* The local `self` of a frame (a new reference), or NULL. */
static PyObject *
tprof_frame_self(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyFrame_GetVarString(f, "self");
#else
    PyObject *locals = PyFrame_GetLocals(f);
    if (locals == NULL) {
        return NULL;
    }
    PyObject *self = PyMapping_GetItemString(locals, "self");
    Py_DECREF(locals);
    return self;
#endif
}

/* The threading.Thread whose _bootstrap frame is among `frame` and its
 * callers (a new reference), or NULL. A thread started by threading runs
 * Python code before it enters threading._active. */
static PyObject *
tprof_thread_from_frames(tprof_state *p, PyFrameObject *frame)
{
    PyFrameObject *f = (PyFrameObject *)Py_XNewRef(frame);
    while (f != NULL) {
        PyCodeObject *code = tprof_frame_code(f);
        if (PyUnicode_Check(code->co_name) &&
            (PyUnicode_CompareWithASCIIString(code->co_name, "_bootstrap") ==
                 0 ||
             PyUnicode_CompareWithASCIIString(code->co_name,
                                              "_bootstrap_inner") == 0) &&
            PyUnicode_Tailmatch(code->co_filename, p->mod->str_threading_py, 0,
                                PY_SSIZE_T_MAX, 1) == 1)
        {
            PyObject *self = tprof_frame_self(f);
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
    return NULL;
}

/* Learn the name of the thread with this ident from threading._active, or
 * from the frames it runs. */
static void
tprof_thread_lookup(tprof_state *p, unsigned long ident, PyFrameObject *frame,
                    PyObject **name, PyObject **ref)
{
    *name = NULL;
    *ref = NULL;
    if (p->threading_active == NULL) {
        return;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *key = PyLong_FromUnsignedLong(ident);
    PyObject *thread = NULL;
    if (key != NULL) {
        thread = PyDict_GetItemWithError(p->threading_active, key);
        Py_XINCREF(thread);
        Py_DECREF(key);
    }
    if (thread == NULL) {
        thread =
            tprof_thread_from_frames(p, frame ? frame : PyEval_GetFrame());
    }
    if (thread != NULL) {
        *name = tprof_thread_name_of(p, thread);
        *ref = PyWeakref_NewRef(thread, NULL);
        Py_DECREF(thread);
    }
    tprof_error_restore(&saved);
}

/* Drop a thread's task records. */
static void
tprof_tasks_free(tprof_thread *ts)
{
    for (uint32_t i = 0; i < ts->tasks.len; i++) {
        tprof_task *rec = tprof_seg_at(&ts->tasks, i);
        Py_CLEAR(rec->name);
        Py_CLEAR(rec->renamed);
    }
    tprof_seg_free(&ts->tasks);
    tprof_seg_free(&ts->spans);
    Py_CLEAR(ts->loop);
}

static void
tprof_thread_free(tprof_thread *ts)
{
    Py_CLEAR(ts->name);
    Py_CLEAR(ts->thread_ref);
    tprof_tree_free(&ts->tree);
    tprof_stack_free(&ts->stack);
    tprof_timeline_free(&ts->tl);
    tprof_susp_free(&ts->susp);
    tprof_seg_free(&ts->steps);
    tprof_seg_free(&ts->lockops);
    tprof_tasks_free(ts);
    tprof_mem_free(ts);
}

static void
tprof_threads_free(tprof_thread *list)
{
    while (list != NULL) {
        tprof_thread *next = list->next;
        tprof_thread_free(list);
        list = next;
    }
}

void
tprof_threads_init(tprof_state *p)
{
    p->threads = p->retired = NULL;
    p->threads_tail = &p->threads;
}

void
tprof_threads_retire_all(tprof_state *p)
{
    tprof_mutex_lock(&p->reg_lock);
    tprof_thread **tail = &p->retired;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = p->threads;
    tprof_st_release(&p->threads, NULL);
    p->threads_tail = &p->threads;
    tprof_st_relaxed(&p->gen, tprof_threads_new_gen());
    tprof_mutex_unlock(&p->reg_lock);
}

int
tprof_threads_reap(tprof_state *p)
{
    /* Without the GIL a running callback may hold an old record on its fast
     * path, which does not count in `busy`: only a stopped profiler reaps. */
    if (p->retired != NULL && tprof_ld_seqcst(&p->busy) == 0 &&
        !(TPROF_FREE_THREADED && tprof_ld_relaxed(&p->enabled)))
    {
        tprof_threads_free(p->retired);
        p->retired = NULL;
        return 1;
    }
    return 0;
}

void
tprof_threads_drop_all(tprof_state *p)
{
    tprof_threads_free(p->threads);
    tprof_threads_free(p->retired);
    tprof_threads_init(p);
}

size_t
tprof_threads_bytes(tprof_state *p)
{
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (tprof_thread *t = pass ? p->retired : p->threads; t; t = t->next)
        {
            total += sizeof(*t) + tprof_timeline_bytes(&t->tl) +
                     tprof_seg_bytes(&t->tree.nodes) +
                     tprof_seg_bytes(&t->lockops) +
                     (size_t)t->tree.cap * sizeof(tprof_node *) +
                     (size_t)tprof_stack_cap(&t->stack) * sizeof(tprof_frame);
        }
    }
    return total;
}

/* The calling thread's record in p's current generation, or NULL. */
static tprof_thread *
tprof_thread_find(tprof_state *p, uint64_t serial)
{
    for (tprof_thread *ts = tprof_threads_first(p); ts;
         ts = tprof_threads_next(ts))
    {
        if (ts->serial == serial) {
            return ts;
        }
    }
    return NULL;
}

tprof_thread *
tprof_thread_attach(tprof_state *p, PyFrameObject *frame)
{
    uint64_t serial = tprof_threads_serial();
    tprof_thread *ts = tprof_thread_find(p, serial);
    if (ts != NULL) {
        goto found;
    }

    unsigned long ident = PyThread_get_thread_ident();
    PyObject *name, *ref;
    /* The lookup may run Python code (a GC pass) and so pause. */
    Py_INCREF(p);
    tprof_event_may_pause(p);
    tprof_thread_lookup(p, ident, frame, &name, &ref);
    tprof_event_resumed(p);
    if (Py_REFCNT(p) == 1) {
        /* the profiler was dropped meanwhile: we hold the last reference */
        Py_XDECREF(name);
        Py_XDECREF(ref);
        tprof_event_end();
        Py_DECREF(p);
        return NULL;
    }
    Py_DECREF(p);

    ts = tprof_mem_alloc(sizeof(*ts));
    if (ts == NULL || tprof_tree_init(&ts->tree) < 0) {
        tprof_mem_free(ts);
        goto nomemory;
    }
    if (tprof_stack_init(&ts->stack, tprof_tree_node(&ts->tree, 0)) < 0) {
        tprof_tree_free(&ts->tree);
        tprof_mem_free(ts);
        goto nomemory;
    }
    tprof_seg_init(&ts->steps, sizeof(tprof_step));
    tprof_seg_init(&ts->tasks, sizeof(tprof_task));
    tprof_seg_init(&ts->spans, sizeof(tprof_span));
    tprof_seg_init(&ts->lockops, sizeof(tprof_lockop));
    ts->serial = serial;
    ts->ident = ident;
    ts->native_id = PyThread_get_thread_native_id();
    ts->name = name;
    ts->thread_ref = ref;
    ts->first_wall = INT64_MIN;
    if (p->mode != TPROF_MODE_USER) {
        ts->first_wall = ts->last_wall = tprof_clock_wall();
        if (p->mode != TPROF_MODE_WALL) {
            ts->cpu_base = tprof_clock_thread_cpu();
        }
    }
    /* a record is complete before other threads can see it */
    tprof_mutex_lock(&p->reg_lock);
    ts->gen = tprof_gen_of(p);
    tprof_st_release(p->threads_tail, ts);
    p->threads_tail = &ts->next;
    tprof_mutex_unlock(&p->reg_lock);
found:
    ts->detached = 0;
    tprof_tls.gen = tprof_gen_of(p);
    tprof_tls.ts = ts;
    return ts;

nomemory:
    Py_XDECREF(name);
    Py_XDECREF(ref);
    tprof_fail(p, TPROF_ERR_NOMEMORY);
    return NULL;
}

void
tprof_thread_refresh_name(tprof_state *p, tprof_thread *ts)
{
    if (ts->thread_ref == NULL) {
        return;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *thread = tprof_weakref_get(ts->thread_ref);
    if (thread != NULL) {
        PyObject *name = tprof_thread_name_of(p, thread);
        if (name != NULL) {
            Py_XSETREF(ts->name, name);
        }
        Py_DECREF(thread);
    }
    tprof_error_restore(&saved);
}
