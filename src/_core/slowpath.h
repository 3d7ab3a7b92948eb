/* SPDX-License-Identifier: MIT */
/*
 * slowpath.h -- what an event does when its fast path misses: a callee seen
 * for the first time on this path, a stack deeper than ever, a full timeline
 * chunk, a Python timer. Out of line, so that the fast path (frames.h) stays
 * small; every failure sets a sticky error instead of raising.
 */
#ifndef THREADPROF_SLOWPATH_H
#define THREADPROF_SLOWPATH_H

#include "threads.h"

/* Call the Python timer; on failure set the sticky error and return -1. The
 * caller holds a reference to p (recorder.c): the timer may release the GIL,
 * and another thread may stop and drop the profiler meanwhile. */
int tprof_user_time(tprof_state *p, int64_t *out);

/* A timeline chunk could not be kept. */
void tprof_timeline_fail(tprof_state *p);

/* The chunks of all threads reached the memory budget: spill them all (a
 * thread that ended keeps its chunks otherwise), then record the event. */
void tprof_timeline_spill_and_add(tprof_state *p, tprof_thread *ts, int64_t t,
                                  int32_t code);

/* A new node below `parent` keyed by `key`, its function found or added in
 * the function table. `callee` is a code object, a PyCFunction, or a method
 * descriptor called on `self_arg`. NULL when it is none of those, or out of
 * memory (sticky error set). */
tprof_node *tprof_new_node(tprof_state *p, tprof_thread *ts,
                           tprof_node *parent, const void *key,
                           PyObject *callee, PyObject *self_arg);

/* The program calls os._exit (the event of that call is over): call the exit
 * hook. It may stop and drop the profiler, so p is held across the call; an
 * exception it raises is reported as unraisable, never propagated. */
void tprof_exit_hook(tprof_state *p);

/* Grow the thread's shadow stack; -1 when out of memory (sticky error). */
int tprof_grow(tprof_state *p, tprof_thread *ts);

/* Keep a slow step of a task (frames.h): the coroutine's node, the wall
 * clock at its start and its duration; where its time went is the thread's
 * step_where. Out of memory sets the sticky error. */
void tprof_slow_step(tprof_state *p, tprof_thread *ts, uint32_t node,
                     int64_t start, int64_t duration);

/* The step of ts->step_task ran from wall time `start` to `end`: name the
 * task if it is time to (tasks.h), and keep the step's span with a
 * timeline. */
void tprof_task_step_end(tprof_state *p, tprof_thread *ts, int64_t start,
                         int64_t end);

/* Coroutine node n is pushed by a caller that is not a coroutine, with frame
 * kind *kind, at wall time `now`: a step of a task begins (frames.h). A call
 * started anew (not resumed) while asyncio has a current task gets the node
 * of that task (tasks.h). The step is marked in *kind unless one is open
 * already. Returns the node to push, NULL when out of memory (sticky error
 * set). */
tprof_node *tprof_step_begin(tprof_state *p, tprof_thread *ts, tprof_node *n,
                             uint32_t *kind, int64_t now);

#endif /* THREADPROF_SLOWPATH_H */
