/* SPDX-License-Identifier: MIT */
#include "tasks.h"

#include "slowpath.h"

/* `obj` (a new reference, or NULL) kept in the profiler's `*slot` unless
 * another thread kept one first (these are made lazily, by whichever thread
 * starts a task first): the one kept, borrowed, or NULL. */
static PyObject *
tprof_publish(PyObject **slot, PyObject *obj)
{
    if (obj != NULL && !tprof_cas(slot, NULL, obj)) {
        Py_DECREF(obj);
    }
    return tprof_ld_acquire(slot);
}

/* asyncio.current_task and the method names, once asyncio is imported;
 * -1 (no error) until then. */
static int
tprof_asyncio_ready(tprof_state *p)
{
    if (tprof_ld_acquire(&p->current_task) != NULL) {
        return 0;
    }
    PyObject *name = PyUnicode_FromString("asyncio");
    PyObject *mod = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (mod == NULL) {
        return -1;
    }
    int ok =
        tprof_publish(&p->get_name, PyUnicode_InternFromString("get_name")) !=
            NULL &&
        tprof_publish(&p->get_loop, PyUnicode_InternFromString("get_loop")) !=
            NULL &&
        tprof_publish(&p->current_task,
                      PyObject_GetAttrString(mod, "current_task")) != NULL;
    Py_DECREF(mod);
    return ok ? 0 : -1;
}

/* asyncio's current task (a new reference), or NULL without an error when
 * there is none: asyncio not imported, no running loop, no task. */
static PyObject *
tprof_asyncio_task(tprof_state *p)
{
    if (tprof_asyncio_ready(p) < 0) {
        return NULL;
    }
    PyObject *task = PyObject_CallNoArgs(tprof_ld_acquire(&p->current_task));
    if (task == Py_None) {
        Py_DECREF(task);
        return NULL;
    }
    return task;
}

/* The number of the loop that runs `task`: a new number whenever the thread
 * runs another loop than its last (held, so that its address is not
 * reused). 0 when the loop cannot be had. */
static uint64_t
tprof_task_loop(tprof_state *p, tprof_thread *ts, PyObject *task)
{
    PyObject *loop =
        PyObject_CallMethodNoArgs(task, tprof_ld_acquire(&p->get_loop));
    if (loop == NULL) {
        return 0;
    }
    if (loop != ts->loop) {
        Py_XSETREF(ts->loop, loop);
        ts->loop_number = (uint64_t)tprof_add_seqcst(&p->loops, 1);
    }
    else {
        Py_DECREF(loop);
    }
    return ts->loop_number;
}

/* The id of the task whose context this is (set by its first step), or 0;
 * then this task's id set in it. */
static uint64_t
tprof_task_mark(tprof_state *p, uint64_t id)
{
    PyObject *var = tprof_ld_acquire(&p->task_var);
    if (var == NULL &&
        (var = tprof_publish(
             &p->task_var, PyContextVar_New("threadprof.task", NULL))) == NULL)
    {
        return 0;
    }
    PyObject *value = NULL;
    uint64_t creator = 0;
    if (PyContextVar_Get(var, NULL, &value) == 0 && value != NULL) {
        creator = PyLong_AsUnsignedLongLong(value);
        if (creator == (uint64_t)-1 && PyErr_Occurred()) {
            creator = 0;
        }
        Py_DECREF(value);
    }
    PyObject *mine = PyLong_FromUnsignedLongLong(id);
    PyObject *token = mine ? PyContextVar_Set(var, mine) : NULL;
    Py_XDECREF(mine);
    Py_XDECREF(token);
    return creator;
}

tprof_node *
tprof_task_start(tprof_state *p, tprof_thread *ts, tprof_node *n, int64_t now)
{
    tprof_saved_error saved;
    tprof_error_save(&saved);
    tprof_node *out = n;
    PyObject *task = tprof_asyncio_task(p);
    /* a coroutine run by hand inside a task's step is not a task */
    if (task == NULL || (ts->step_task != NULL && ts->step_task->obj == task))
    {
        goto done;
    }
    if (ts->tasks.len >= TPROF_MAX_TASKS) {
        ts->tasks_over++;
        goto done;
    }
    tprof_task *rec = tprof_seg_push(&ts->tasks);
    if (rec == NULL) {
        out = NULL;
        goto done;
    }
    rec->index = ts->tasks.len - 1;
    rec->id = (uint64_t)tprof_add_seqcst(&p->task_ids, 1);
    rec->obj = task;
    rec->loop = tprof_task_loop(p, ts, task);
    rec->creator = tprof_task_mark(p, rec->id);
    rec->first = now;
    /* a node of its own below its caller, keyed by its record (new) */
    out = tprof_tree_add(&ts->tree, n->parent, rec, n->func);
    if (out != NULL) {
        tprof_st_relaxed(&out->flags, n->flags | TPROF_NODE_TASK);
    }
    if (ts->in_step) { /* started inside another task's step (eagerly): it
                          may never have a step of its own to be named at */
        tprof_task_name(p, rec);
        rec->renamable = 1;
    }
    tprof_st_release(&ts->tasks_ready, ts->tasks.len);
done:
    Py_XDECREF(task);
    tprof_error_restore(&saved);
    if (out == NULL) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
    }
    return out;
}

/* Task.get_name() of the task of `rec` (running: rec->obj is alive), as a
 * str, or NULL without an error. */
static PyObject *
tprof_task_get_name(tprof_state *p, tprof_task *rec)
{
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *name =
        PyObject_CallMethodNoArgs(rec->obj, tprof_ld_acquire(&p->get_name));
    if (name != NULL && !PyUnicode_Check(name)) {
        Py_SETREF(name, PyObject_Str(name));
    }
    tprof_error_restore(&saved);
    return name;
}

void
tprof_task_name(tprof_state *p, tprof_task *rec)
{
    if (rec->name == NULL) {
        PyObject *name = tprof_task_get_name(p, rec);
        if (name != NULL) {
            tprof_st_release(&rec->name, name); /* read by snapshots */
        }
        return;
    }
    if (!rec->renamable) {
        return;
    }
    rec->renamable = 0;
    PyObject *name = tprof_task_get_name(p, rec);
    if (name != NULL && PyUnicode_Compare(name, rec->name) != 0) {
        tprof_st_release(&rec->renamed, name);
    }
    else {
        Py_XDECREF(name);
    }
}

void
tprof_tasks_release(tprof_state *p)
{
    Py_CLEAR(p->current_task);
    Py_CLEAR(p->task_var);
    Py_CLEAR(p->get_name);
    Py_CLEAR(p->get_loop);
}
