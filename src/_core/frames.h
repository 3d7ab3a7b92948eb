/* SPDX-License-Identifier: MIT */
/*
 * frames.h -- the fast path of an event: read the clock, then enter a frame
 * on the thread's shadow stack or close frames on it (inline).
 *
 * Each event of an attached thread costs one clock read, a hash probe for
 * the callee node (calls) or a pointer compare with the top of the shadow
 * stack (returns), and a few integer adds. `mode` and `tl` are compile-time
 * constants in every caller, so each recorder (recorder.c) is specialised.
 *
 * In TPROF_MODE_WALL_CPU the thread CPU clock (a system call on many
 * machines) is read only when the wall time since the thread's previous event
 * is at least p->cpu_gap. Shorter gaps are taken as on-CPU; each real read
 * corrects the running estimate so that thread totals stay exact at every
 * read.
 */
#ifndef THREADPROF_FRAMES_H
#define THREADPROF_FRAMES_H

#include "clock.h"
#include "lockops.h"
#include "slowpath.h"
#include "threads.h"

#if defined(__GNUC__) || defined(__clang__)
#define TPROF_INLINE static inline __attribute__((always_inline))
#else
#define TPROF_INLINE static inline
#endif

typedef struct tprof_times {
    int64_t wall;
    int64_t cpu;
} tprof_times;

/* Advance the thread's CPU estimate to wall time `now` (WALL_CPU mode). */
TPROF_INLINE int64_t
tprof_cpu_estimate(tprof_state *p, tprof_thread *ts, int64_t now)
{
    int64_t gap = now - ts->last_wall;
    if (TPROF_LIKELY(gap < p->cpu_gap)) {
        tprof_add_relaxed(&ts->cpu_now, gap);
    }
    else {
        int64_t exact = tprof_clock_thread_cpu() - ts->cpu_base;
        int64_t fix = exact - ts->cpu_now;
        tprof_add_relaxed(&ts->cpu_now, fix < 0 ? 0 : (fix > gap ? gap : fix));
    }
    return ts->cpu_now;
}

/* Read the clock(s) for an event of thread ts. In TPROF_MODE_USER this runs
 * Python code; the caller revalidates its state afterwards. */
TPROF_INLINE int
tprof_read(tprof_state *p, tprof_thread *ts, const tprof_mode mode,
           tprof_times *t)
{
    switch (mode) {
    case TPROF_MODE_WALL:
        t->wall = tprof_clock_wall();
        t->cpu = 0;
        tprof_st_relaxed(&ts->last_wall, t->wall);
        return 0;
    case TPROF_MODE_WALL_CPU:
        t->wall = tprof_clock_wall();
        t->cpu = tprof_cpu_estimate(p, ts, t->wall);
        tprof_st_relaxed(&ts->last_wall, t->wall);
        return 0;
    case TPROF_MODE_CPU:
        t->wall = tprof_clock_wall();
        t->cpu = tprof_clock_thread_cpu() - ts->cpu_base;
        tprof_st_relaxed(&ts->cpu_now, t->cpu);
        tprof_st_relaxed(&ts->last_wall, t->wall);
        return 0;
    case TPROF_MODE_USER:
        t->cpu = 0;
        return tprof_user_time(p, &t->wall);
    }
    return -1;
}

TPROF_INLINE void
tprof_timeline_event(tprof_state *p, tprof_thread *ts, int64_t t, int32_t code)
{
#if TPROF_FREE_THREADED
    const tprof_tlchunk *c = ts->tl.tail;
    if (TPROF_UNLIKELY(c == NULL || c->len == c->cap)) {
        tprof_event_may_pause(p); /* a new chunk locks the shared sink */
    }
#endif
    int rc = tprof_timeline_add(&ts->tl, &p->tl_sink, ts->serial,
                                t - p->origin, code);
    if (TPROF_UNLIKELY(rc != 0)) {
        if (rc > 0) {
            tprof_timeline_spill_and_add(p, ts, t - p->origin, code);
        }
        else {
            tprof_timeline_fail(p);
        }
    }
}

/* Inside the step of a task: frame f of node n closes after `own` wall time
 * of its own at time `now`. The call with the most own time is where the
 * step's time went; the step's frame closing ends it. */
TPROF_INLINE void
tprof_step_close(tprof_state *p, tprof_thread *ts, const tprof_frame *f,
                 const tprof_node *n, int64_t own, int64_t now)
{
    if (own > ts->step_where_own) {
        ts->step_where_own = own;
        ts->step_where = n->id;
    }
    if (f->kind & TPROF_FRAME_STEP) {
        ts->in_step = 0;
        if (p->slow_step > 0 && now - f->wall0 >= p->slow_step) {
            tprof_slow_step(p, ts, n->id, f->wall0, now - f->wall0);
        }
        if (ts->step_task != NULL) {
            tprof_task_step_end(p, ts, f->wall0, now);
        }
        ts->step_task = NULL;
    }
}

/* Close frame f (whose parent is f[-1]) at time t. */

TPROF_INLINE void
tprof_close_frame(tprof_state *p, tprof_thread *ts, tprof_frame *f,
                  tprof_times t, const tprof_mode mode, const int tl)
{
    tprof_node *n = f->node;
    if (tl) {
        tprof_timeline_event(p, ts, t.wall, ~(int32_t)n->func);
    }
    if (TPROF_UNLIKELY(f->kind & TPROF_FRAME_LOCKOP)) {
        tprof_st_relaxed(&((tprof_lockop *)f->fkey)->end, t.wall);
    }
    int64_t wall = t.wall - f->wall0;
    if (TPROF_UNLIKELY(ts->in_step)) {
        tprof_step_close(p, ts, f, n, wall - f->wall_sub, t.wall);
    }
    tprof_add_relaxed(&n->wall, wall);
    tprof_add_relaxed(&n->wall_self, wall - f->wall_sub);
    f[-1].wall_sub += wall;
    if (mode != TPROF_MODE_WALL && mode != TPROF_MODE_USER) {
        int64_t cpu = t.cpu - f->cpu0;
        tprof_add_relaxed(&n->cpu, cpu);
        tprof_add_relaxed(&n->cpu_self, cpu - f->cpu_sub);
        f[-1].cpu_sub += cpu;
    }
}

/* Close the frames from the top down to `to` at time t: usually just the
 * top one. */
TPROF_INLINE void
tprof_close(tprof_state *p, tprof_thread *ts, tprof_frame *to, tprof_times t,
            const tprof_mode mode, const int tl)
{
    tprof_frame *f = ts->stack.top;
    tprof_close_frame(p, ts, f, t, mode, tl);
    while (TPROF_UNLIKELY(f > to)) {
        tprof_close_frame(p, ts, --f, t, mode, tl);
    }
    ts->stack.top = to - 1;
}

/* The open frame that `match` returns from, or NULL when it is not on the
 * stack (a frame that started before profiling, or an unbalanced event):
 * such a return is ignored. A match below the top means returns were
 * missed, and the frames above it are closed with it. */
TPROF_INLINE tprof_frame *
tprof_find(const tprof_thread *ts, const void *match)
{
    tprof_frame *f = ts->stack.top;
    if (TPROF_LIKELY(f->match == match)) {
        return f; /* never the root: its match is NULL, an event's never */
    }
    for (; f > ts->stack.frames; f--) {
        if (f->match == match) {
            return f;
        }
    }
    return NULL;
}

/* Push a frame for node n at time t, whose return will carry `match`;
 * `kind` is 0 but for a resumed call (suspend.h). A coroutine pushed by a
 * caller that is not one (the event loop) starts a step of a task, when
 * steps are told (tprof_step_begin), and may then be pushed as the node of
 * its task. -1 when the stack cannot grow. */
TPROF_INLINE int
tprof_push(tprof_state *p, tprof_thread *ts, tprof_node *n, const void *match,
           tprof_times t, uint32_t kind, const int tl)
{
    if (TPROF_UNLIKELY(ts->stack.top == ts->stack.last) &&
        tprof_grow(p, ts) < 0) {
        return -1;
    }
    ts->chain_key = NULL; /* its caller did not suspend with it */
    if (TPROF_UNLIKELY(n->flags & TPROF_NODE_AWAITS) && p->steps &&
        !(ts->stack.top->node->flags & (TPROF_NODE_AWAITS | TPROF_NODE_AGEN)))
    {
        n = tprof_step_begin(p, ts, n, &kind, t.wall);
        if (n == NULL) {
            return -1;
        }
    }
    tprof_frame *f = ++ts->stack.top;
    f->kind = kind;
    f->node = n;
    f->match = match;
    f->wall0 = t.wall;
    f->wall_sub = 0;
    f->cpu0 = t.cpu;
    f->cpu_sub = 0;
    if (tl) {
        tprof_timeline_event(p, ts, t.wall, (int32_t)n->func);
    }
    return 0;
}

/* Enter a call of `callee` (a code object or a PyCFunction) keyed by `key`,
 * whose return will carry `match`. `calls` is 1 for a real call and 0 for a
 * frame that was already running. */
TPROF_INLINE void
tprof_enter(tprof_state *p, tprof_thread *ts, const void *key,
            const void *match, PyObject *callee, PyObject *self_arg,
            tprof_times t, uint64_t calls, const int tl)
{
    tprof_node *parent = ts->stack.top->node;
    tprof_node *n = tprof_tree_find(&ts->tree, parent, key);
    if (TPROF_UNLIKELY(n == NULL)) {
        n = tprof_new_node(p, ts, parent, key, callee, self_arg);
        if (n == NULL) {
            return;
        }
    }
    if (tprof_push(p, ts, n, match, t, 0, tl) < 0) {
        return;
    }
    tprof_add_relaxed(&ts->stack.top->node->calls, calls);
    if (TPROF_UNLIKELY(n->flags & TPROF_NODE_LOCK)) {
        tprof_lockop *op = tprof_lockop_begin(
            p, ts, n, tprof_lockop_object(callee, self_arg), t.wall);
        if (op != NULL) {
            ts->stack.top->kind |= TPROF_FRAME_LOCKOP;
            ts->stack.top->fkey = op;
        }
    }
}

#endif /* THREADPROF_FRAMES_H */
