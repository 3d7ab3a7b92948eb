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

/* asyncio's task type and `name`, a method of it, kept in `*slot`: the
 * descriptor, called directly on a task of exactly that type. */
static PyObject *
tprof_task_method(PyObject **slot, PyObject *task_type, const char *name)
{
    return tprof_publish(slot, PyObject_GetAttrString(task_type, name));
}

/* asyncio.current_task, asyncio.Task and its methods, and the method names,
 * once asyncio is imported; -1 (no error) until then. */
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
    PyObject *task_type =
        tprof_publish(&p->task_type, PyObject_GetAttrString(mod, "Task"));
    int ok =
        task_type != NULL && PyType_Check(task_type) &&
        tprof_task_method(&p->task_get_name, task_type, "get_name") != NULL &&
        tprof_task_method(&p->task_get_loop, task_type, "get_loop") != NULL &&
        tprof_publish(&p->base_loop,
                      PyObject_GetAttrString(mod, "BaseEventLoop")) != NULL &&
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

/* task.<method>() (method `descr` of asyncio.Task, named `name`): the
 * descriptor called directly when the task is of exactly that type, which
 * cannot override it. A new reference, or NULL with an exception set. */
static PyObject *
tprof_task_call(tprof_state *p, PyObject *task, PyObject *descr,
                PyObject *name)
{
    if (Py_TYPE(task) == (PyTypeObject *)tprof_ld_acquire(&p->task_type)) {
        PyObject *args[1] = {task};
        return PyObject_Vectorcall(descr, args, 1, NULL);
    }
    return PyObject_CallMethodNoArgs(task, name);
}

/* The number of the loop that runs `task`: a new number whenever the thread
 * runs another loop than its last (held, so that its address is not
 * reused). 0 when the loop cannot be had. */
static uint64_t
tprof_task_loop(tprof_state *p, tprof_thread *ts, PyObject *task)
{
    PyObject *loop =
        tprof_task_call(p, task, tprof_ld_acquire(&p->task_get_loop),
                        tprof_ld_acquire(&p->get_loop));
    if (loop == NULL) {
        return 0;
    }
    if (loop != ts->loop) {
        Py_XSETREF(ts->loop, loop);
        ts->loop_number = (uint64_t)tprof_add_seqcst(&p->loops, 1);
        int is = PyObject_IsInstance(loop, tprof_ld_acquire(&p->base_loop));
        if (is < 0) {
            PyErr_Clear();
        }
        ts->loop_is_asyncios = is > 0;
    }
    else {
        Py_DECREF(loop);
    }
    return ts->loop_number;
}

/* The context variable of a task's id, made at its first use; NULL (no
 * error) if it cannot be. */
static PyObject *
tprof_task_var(tprof_state *p)
{
    PyObject *var = tprof_ld_acquire(&p->task_var);
    if (var == NULL) {
        var = tprof_publish(&p->task_var,
                            PyContextVar_New("threadprof.task", NULL));
    }
    return var;
}

/* The task id in the current context (0 if none). */
static uint64_t
tprof_task_var_get(PyObject *var)
{
    uint64_t id = 0;
    PyObject *value = NULL;
    if (PyContextVar_Get(var, NULL, &value) == 0 && value != NULL) {
        id = PyLong_AsUnsignedLongLong(value);
        if (id == (uint64_t)-1 && PyErr_Occurred()) {
            id = 0;
        }
    }
    Py_XDECREF(value);
    return id;
}

/* Set the task id in the current context. */
static void
tprof_task_var_set(PyObject *var, uint64_t id)
{
    PyObject *mine = PyLong_FromUnsignedLongLong(id);
    PyObject *token = mine ? PyContextVar_Set(var, mine) : NULL;
    Py_XDECREF(mine);
    Py_XDECREF(token);
}

/* The id of the task whose context this is, or 0; then, if `mark`, this
 * task's id set in it. */
static uint64_t
tprof_task_mark(tprof_state *p, uint64_t id, int mark)
{
    PyObject *var = tprof_task_var(p);
    if (var == NULL) {
        return 0;
    }
    uint64_t creator = tprof_task_var_get(var);
    if (mark) {
        tprof_task_var_set(var, id);
    }
    return creator;
}

void
tprof_task_creating(tprof_state *p, tprof_thread *ts)
{
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *var = tprof_task_var(p);
    if (var != NULL) {
        uint64_t id = ts->step_task != NULL ? ts->step_task->id : 0;
        if (tprof_task_var_get(var) != id) {
            tprof_task_var_set(var, id);
        }
    }
    tprof_error_restore(&saved);
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
    /* where Task() calls are seen, a task marks its context when it makes a
     * task (tprof_task_creating), not here */
    rec->creator = tprof_task_mark(
        p, rec->id,
        !(p->sees_class_calls && ts->loop_is_asyncios &&
          PyObject_TypeCheck(
              task, (PyTypeObject *)tprof_ld_acquire(&p->task_type))));
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
        tprof_task_call(p, rec->obj, tprof_ld_acquire(&p->task_get_name),
                        tprof_ld_acquire(&p->get_name));
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
    Py_CLEAR(p->task_type);
    Py_CLEAR(p->task_get_name);
    Py_CLEAR(p->task_get_loop);
    Py_CLEAR(p->base_loop);
}
