/* SPDX-License-Identifier: MIT */
/*
 * suspend.h -- whole calls of generators, coroutines and async generators:
 * the yield that suspends a call and the resume that continues it (inline).
 *
 * With `whole` set, a generator-like call is one call from its first start
 * to its return or exception, however often it suspends. A yield closes the
 * frame's running segment as a return would (its node gets the segment's
 * wall and CPU time, its caller the same as time of a child) and keeps the
 * call in the thread's table of suspended calls (susptab.h). The resume
 * pushes a frame for the same node again (or, when another caller resumes
 * it, for its node under that caller), without counting a call.
 *
 * So the call tree keeps its rule, a node's wall time is its own plus its
 * children's, but for the coroutine of a task (resumed by the event loop,
 * not by its caller): its waits, which its caller did not share, are in its
 * wall time and not in its caller's; and when its task was started by
 * another caller than the loop (an eager task, started by create_task), its
 * later steps are too, in its node under that caller (tasks.h).
 *
 * What the suspension is, is decided at the resume, outermost frame first:
 *  - an await: the call waited for something, and the wait is part of it.
 *    Its node's wall time, inclusive and own, gets the suspended time; its
 *    CPU time does not, so the wait shows as off-CPU time. A call whose
 *    caller suspended with it (an await chain: `await` of a coroutine,
 *    `yield from`, an async generator awaiting for its consumer) inherits its
 *    caller's kind, and the wait is then its own, not the caller's: the
 *    caller's frame counts it as time of a child. A chain's outermost call is
 *    an await when it is a coroutine (the task or driver resumes it);
 *  - apart: a generator (or an async generator) yielded a value to its
 *    consumer. The time until the next resume is the consumer's, not the
 *    generator's, and is not counted in its wall time.
 *
 * A call is known to be chained when its caller's yield is the thread's next
 * event after its own (`chain_key`, cleared by every call entered). A chain
 * resumes outermost first, except for a throw (an asyncio cancellation),
 * which reaches the innermost call first: its wait is then taken at once
 * from its suspended caller's own time. A resume
 * that finds no suspended call (the generator started before profiling, or
 * in another thread) enters a frame with no call counted, as seeding does.
 */
#ifndef THREADPROF_SUSPEND_H
#define THREADPROF_SUSPEND_H

#include "frames.h"
#include "tasks.h"

/* Code flags of generator-like code, and of the code whose outermost
 * suspension is an await. */
#define TPROF_CO_GENLIKE \
    (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE)
#define TPROF_CO_AWAITS (CO_COROUTINE | CO_ITERABLE_COROUTINE)

/* Suspend open frame f, of identity `fkey`, at time t: close its running
 * segment (and any frame above it) and keep its call. `code` and `lasti`
 * tell a resume from a new start for the legacy engine. */
TPROF_INLINE void
tprof_suspend(tprof_state *p, tprof_thread *ts, tprof_frame *f,
              const void *fkey, const void *code, int lasti, tprof_times t,
              const tprof_mode mode, const int tl)
{
    uint32_t depth = (uint32_t)(f - ts->stack.frames);
    if (ts->chain_key != NULL && ts->chain_depth == depth) {
        tprof_susp *callee = tprof_susp_find(&ts->susp, ts->chain_key);
        if (callee != NULL) {
            callee->caller_key = fkey;
        }
    }
    tprof_node *n = f->node;
    tprof_close(p, ts, f, t, mode, tl);
    ts->chain_key = NULL;
    tprof_susp *e = tprof_susp_put(&ts->susp, fkey);
    if (TPROF_UNLIKELY(e == NULL)) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
        return;
    }
    e->node = n;
    e->wall = t.wall;
    e->code = code;
    e->lasti = lasti;
    e->caller_key = NULL;
    ts->chain_key = fkey;
    ts->chain_depth = depth - 1;
}

/* Resume the suspended call e at time t: a frame keyed by `key` (the code
 * object `callee`), with `match` for its return; `awaits` when its code is
 * a coroutine's. */
TPROF_INLINE void
tprof_resume(tprof_state *p, tprof_thread *ts, tprof_susp *e, const void *key,
             const void *match, PyObject *callee, int awaits, tprof_times t,
             const int tl)
{
    tprof_frame *caller = ts->stack.top;
    const void *fkey = e->key;
    const void *caller_key = e->caller_key;
    int chained = caller_key != NULL &&
                  (caller->kind & TPROF_FRAME_RESUMED) != 0 &&
                  caller->fkey == caller_key;
    uint32_t kind = chained  ? caller->kind & TPROF_FRAME_RESUMED
                    : awaits ? (uint32_t)TPROF_FRAME_AWAIT
                             : (uint32_t)TPROF_FRAME_APART;
    /* the node where it resumes: usually where it started; a generator
     * resumed by another caller (a context manager's __exit__) runs in that
     * caller's tree, with no call counted there; a call thrown into before
     * its chained caller resumes stays under that caller; a task's coroutine
     * stays where its task first ran (tasks.h) */
    tprof_node *n = e->node;
    if (TPROF_UNLIKELY(n->parent != caller->node) &&
        (chained || caller_key == NULL) && !(n->flags & TPROF_NODE_TASK))
    {
        n = tprof_tree_find(&ts->tree, caller->node, key);
        if (n == NULL) {
            n = tprof_new_node(p, ts, caller->node, key, callee, NULL);
            if (n == NULL) {
                tprof_susp_del(&ts->susp, e);
                return;
            }
        }
    }
    if (kind == TPROF_FRAME_AWAIT) {
        int64_t wait = t.wall - e->wall;
        tprof_add_relaxed(&n->wall, wait);
        tprof_add_relaxed(&n->wall_self, wait);
        if (n->flags & TPROF_NODE_TASK) {
            tprof_add_relaxed(&tprof_task_of(n)->awaited, wait);
        }
        if (chained) {
            caller->wall_sub += wait;
        }
        else if (caller_key != NULL) {
            tprof_susp *ce = tprof_susp_find(&ts->susp, caller_key);
            if (ce != NULL) {
                tprof_add_relaxed(&ce->node->wall_self, -wait);
            }
        }
    }
    tprof_susp_del(&ts->susp, e);
    if (tprof_push(p, ts, n, match, t, kind, tl) == 0) {
        ts->stack.top->fkey = fkey;
    }
}

#endif /* THREADPROF_SUSPEND_H */
