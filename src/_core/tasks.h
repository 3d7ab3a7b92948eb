/* SPDX-License-Identifier: MIT */
/*
 * tasks.h -- the asyncio tasks a thread ran: a record per task, and the slow
 * path that makes one at a task's first step.
 *
 * When coroutines count whole and tasks are recorded, the coroutine of a
 * task (started by code that is not a coroutine, while asyncio says a task
 * is current) gets a node of its own below its caller, keyed by the task's
 * record instead of its code object and flagged TPROF_NODE_TASK: each task's
 * calls form a subtree of the thread's tree, which snapshots split off
 * (tasksplit.h). A resume keeps the node (suspend.h), even when another
 * caller resumes it, so that a task has one subtree, below one path.
 *
 * The record (tprof_task, state.h) is the owning thread's; its counters are
 * read by snapshots as recent values. Its id is unique in the profile. The
 * task that created it is told by a context variable: asyncio runs each task
 * in a copy of the context its creator ran in. Where the engine reports
 * calls of classes (sys.monitoring's CALL) and the loop is asyncio's own, a
 * call of asyncio.Task sets the variable to the id of the task whose step
 * makes it (0 outside any step), in the context the new task copies: only
 * tasks that make tasks pay for a context variable set. Otherwise the first
 * step of every task sets it in its own context.
 */
#ifndef THREADPROF_TASKS_H
#define THREADPROF_TASKS_H

#include "threads.h"

/* The most tasks recorded per thread; later tasks are in the thread's tree
 * only (counted in tasks_over). */
#define TPROF_MAX_TASKS 100000u

/* The record of a node flagged TPROF_NODE_TASK. */
static inline tprof_task *
tprof_task_of(const tprof_node *n)
{
    return (tprof_task *)n->key;
}

/* Coroutine node n starts a step at wall time `now`, pushed by code that is
 * not a coroutine, without a suspended call to resume: the node of the task
 * it starts (made now, below n's parent), or n itself when asyncio has no
 * current task or the thread has its fill of tasks. NULL when out of memory
 * (sticky error set). Calls asyncio (the GIL is held). */
tprof_node *tprof_task_start(tprof_state *p, tprof_thread *ts, tprof_node *n,
                             int64_t now);

/* Class `cls` (a type whose type is `type`) is asyncio.Task or a subclass
 * of it, once asyncio.Task is known. Most classes called are far smaller
 * than a Task: their size rules them out before their MRO is walked. */
static inline int
tprof_is_task_class(tprof_state *p, PyObject *cls)
{
    PyTypeObject *task_type = (PyTypeObject *)tprof_ld_acquire(&p->task_type);
    return task_type != NULL &&
           ((PyTypeObject *)cls == task_type ||
            (((PyTypeObject *)cls)->tp_basicsize >= task_type->tp_basicsize &&
             PyType_IsSubtype((PyTypeObject *)cls, task_type)));
}

/* asyncio.Task (or a subclass) is called in thread `ts`, where such calls
 * are seen (p->sees_class_calls): mark the current context, which the new
 * task copies, with the task whose step runs (0 if none), unless it is
 * marked so already. Calls asyncio (the GIL is held); any error is
 * swallowed. */
void tprof_task_creating(tprof_state *p, tprof_thread *ts);

/* Keep the name of task `rec`, whose step ends (its Task object runs): at
 * the end of its first step of its own, when its coroutine may have named
 * it; and, for a task started eagerly (inside another task's step, where it
 * was named at once), once more, as asyncio names such a task only after
 * its first step. */
void tprof_task_name(tprof_state *p, tprof_task *rec);

/* Drop the profiler's references to asyncio. */
void tprof_tasks_release(tprof_state *p);

#endif /* THREADPROF_TASKS_H */
