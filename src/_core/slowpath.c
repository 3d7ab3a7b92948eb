/* SPDX-License-Identifier: MIT */
#include "slowpath.h"

#include "lockops.h"

#include "tasks.h"

int
tprof_user_time(tprof_state *p, int64_t *out)
{
    int64_t now = 0;
    tprof_event_may_pause(p);
    int rc = tprof_state_now(p, &now);
    tprof_event_resumed(p);
    if (rc < 0) {
        if (!(p->errors & TPROF_ERR_TIMER)) {
            PyObject *exc = tprof_error_take();
            Py_XSETREF(p->error_text, exc ? PyObject_Repr(exc) : NULL);
            Py_XDECREF(exc);
        }
        PyErr_Clear();
        tprof_fail(p, TPROF_ERR_TIMER);
    }
    *out = now;
    return rc;
}

void
tprof_timeline_fail(tprof_state *p)
{
    tprof_fail(p, TPROF_ERR_TIMELINE);
}

void
tprof_timeline_spill_and_add(tprof_state *p, tprof_thread *ts, int64_t t,
                             int32_t code)
{
    for (tprof_thread *x = tprof_threads_first(p); x;
         x = tprof_threads_next(x)) {
        if (tprof_timeline_spill_all(&x->tl, &p->tl_sink, x->serial) < 0) {
            break; /* the sink keeps a ring from now on, and says why */
        }
    }
    if (tprof_timeline_add(&ts->tl, &p->tl_sink, ts->serial, t, code) != 0) {
        tprof_timeline_fail(p);
    }
}

tprof_node *
tprof_new_node(tprof_state *p, tprof_thread *ts, tprof_node *parent,
               const void *key, PyObject *callee, PyObject *self_arg)
{
#if TPROF_FREE_THREADED
    tprof_event_may_pause(p); /* the function table is locked */
#endif
    int64_t func;
    if (PyCode_Check(callee)) {
        func = tprof_functable_code(&p->funcs, (PyCodeObject *)callee);
    }
    else if (PyCFunction_Check(callee)) {
        func = tprof_functable_cfunc(&p->funcs, (PyCFunctionObject *)callee);
    }
    else if (self_arg == NULL || Py_TYPE(callee)->tp_descr_get == NULL) {
        /* not an event of CPython's: a callback called by hand */
        return NULL;
    }
    else {
        /* bind the descriptor as CPython's legacy events do, for the name */
        tprof_saved_error saved;
        tprof_error_save(&saved);
        PyObject *bound = Py_TYPE(callee)->tp_descr_get(
            callee, self_arg, (PyObject *)Py_TYPE(self_arg));
        func =
            bound && PyCFunction_Check(bound)
                ? tprof_functable_cfunc(&p->funcs, (PyCFunctionObject *)bound)
                : -1;
        Py_XDECREF(bound);
        tprof_error_restore(&saved);
    }
    tprof_node *n =
        func < 0 ? NULL
                 : tprof_tree_add(&ts->tree, parent, key, (uint32_t)func);
    if (n == NULL) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
    }
    else if (!PyCode_Check(callee)) {
        if (p->locks) {
            tprof_st_relaxed(&n->flags, tprof_lock_flags(p, key));
        }
    }
    else {
        int co_flags = ((PyCodeObject *)callee)->co_flags;
        uint32_t flags =
            ((co_flags & (CO_COROUTINE | CO_ITERABLE_COROUTINE))
                 ? (uint32_t)TPROF_NODE_AWAITS
                 : 0u) |
            ((co_flags & CO_ASYNC_GENERATOR) ? (uint32_t)TPROF_NODE_AGEN
                                             : 0u) |
            ((co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR |
                          CO_ITERABLE_COROUTINE))
                 ? (uint32_t)TPROF_NODE_GENLIKE
                 : 0u);
        tprof_st_relaxed(&n->flags, flags);
    }
#if TPROF_WATCH_CODE
    if (n != NULL && PyCode_Check(callee)) {
        /* found at once when its code object dies (codewatch.h) */
        tprof_func *f = tprof_functable_get(&p->funcs, n->func);
        n->same_func = f->nodes;
        f->nodes = n;
    }
#endif
    return n;
}

void
tprof_exit_hook(tprof_state *p)
{
    PyObject *hook = p->exit_hook;
    if (hook == NULL) {
        return;
    }
    Py_INCREF(p);
    Py_INCREF(hook);
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *res = PyObject_CallNoArgs(hook);
    if (res == NULL) {
        PyErr_WriteUnraisable(hook);
    }
    Py_XDECREF(res);
    tprof_error_restore(&saved);
    Py_DECREF(hook);
    Py_DECREF(p);
}

void
tprof_slow_step(tprof_state *p, tprof_thread *ts, uint32_t node, int64_t start,
                int64_t duration)
{
    tprof_step *step = tprof_seg_push(&ts->steps);
    if (step == NULL) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
        return;
    }
    step->start = start;
    step->duration = duration;
    step->node = node;
    step->where = ts->step_where;
    step->where_own = ts->step_where_own;
    step->task = ts->step_task != NULL ? ts->step_task->id : 0;
    tprof_st_release(&ts->steps_ready, ts->steps.len);
}

int
tprof_grow(tprof_state *p, tprof_thread *ts)
{
    if (tprof_stack_grow(&ts->stack) < 0) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
        return -1;
    }
    return 0;
}

/* Keep the span of the step of ts->step_task that ran from wall time
 * `start` to `end` (with a timeline). */
static void
tprof_task_span(tprof_state *p, tprof_thread *ts, int64_t start, int64_t end)
{
    tprof_span *span = tprof_seg_push(&ts->spans);
    if (span == NULL) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
        return;
    }
    span->start = start;
    span->end = end;
    span->task = ts->step_task->index;
    tprof_st_release(&ts->spans_ready, ts->spans.len);
}

void
tprof_task_step_end(tprof_state *p, tprof_thread *ts, int64_t start,
                    int64_t end)
{
    tprof_task *task = ts->step_task;
    /* only in its own thread: a step still running when profiling stops is
     * ended by the thread that stops it */
    if ((task->name == NULL || task->renamable) && tprof_tls.ts == ts &&
        tprof_tls.gen == tprof_gen_of(p))
    {
        tprof_task_name(p, task);
    }
    if (p->timeline) {
        tprof_task_span(p, ts, start, end);
    }
}

tprof_node *
tprof_step_begin(tprof_state *p, tprof_thread *ts, tprof_node *n,
                 uint32_t *kind, int64_t now)
{
    if (p->tasks && !(*kind & TPROF_FRAME_RESUMED) &&
        !(n->flags & TPROF_NODE_TASK))
    {
        n = tprof_task_start(p, ts, n, now);
        if (n == NULL) {
            return NULL;
        }
    }
    tprof_task *task = (n->flags & TPROF_NODE_TASK) ? tprof_task_of(n) : NULL;
    if (task != NULL) {
        tprof_add_relaxed(&task->steps, 1);
    }
    if (!ts->in_step) {
        *kind |= TPROF_FRAME_STEP;
        ts->in_step = 1;
        ts->step_where = n->id;
        ts->step_where_own = INT64_MIN;
        ts->step_task = task;
    }
    return n;
}
