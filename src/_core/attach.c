/* SPDX-License-Identifier: MIT */
#include "attach.h"

#include "frames.h"
#include "tasks.h"

/* Frames of threadprof itself are not seeded. */
static int
tprof_is_own_code(tprof_state *p, PyCodeObject *code)
{
    if (p->own_prefix == NULL || !PyUnicode_Check(code->co_filename)) {
        return 0;
    }
    return PyUnicode_Tailmatch(code->co_filename, p->own_prefix, 0,
                               PY_SSIZE_T_MAX, -1) == 1;
}

/* Enter the frames that were running before the thread's first event, from
 * the outermost to `frame` (or to its caller when the event is a call). */
static void
tprof_seed(tprof_state *p, tprof_thread *ts, PyFrameObject *frame, int what)
{
    PyFrameObject *chain[256];
    int n = 0;
    PyFrameObject *f = what == PyTrace_CALL
                           ? PyFrame_GetBack(frame)
                           : (PyFrameObject *)Py_NewRef(frame);
    /* collect innermost first; beyond the array only the innermost are kept */
    while (f != NULL) {
        if (n == (int)(sizeof(chain) / sizeof(chain[0]))) {
            Py_DECREF(f);
            break;
        }
        chain[n++] = f;
        f = PyFrame_GetBack(f);
    }
    tprof_times t = {ts->last_wall, ts->cpu_now};
    if (p->mode == TPROF_MODE_USER) {
        tprof_user_time(p, &t.wall);
        if (ts->first_wall == INT64_MIN) {
            tprof_st_relaxed(&ts->first_wall, t.wall);
        }
        tprof_st_relaxed(&ts->last_wall, t.wall);
    }
    while (n > 0) {
        PyFrameObject *fr = chain[--n];
        PyCodeObject *code = tprof_frame_code(fr);
        if (!tprof_is_own_code(p, code)) {
            /* legacy returns carry the frame, sys.monitoring ones the code */
            const void *match =
                p->match_code ? (const void *)code : (const void *)fr;
            tprof_enter(p, ts, code, match, (PyObject *)code, NULL, t, 0,
                        p->timeline);
        }
        Py_DECREF(fr);
    }
}

tprof_thread *
tprof_attach(tprof_state *p, PyFrameObject *frame, int what)
{
    tprof_thread *ts = tprof_thread_attach(p, frame);
    if (ts != NULL && p->seed && ts->stack.top == ts->stack.frames) {
        if (frame == NULL) {
            frame = PyEval_GetFrame();
        }
        if (frame != NULL) {
            tprof_saved_error saved;
            tprof_error_save(&saved);
            tprof_seed(p, ts, frame, what);
            tprof_error_restore(&saved);
        }
    }
    return ts;
}

tprof_thread *
tprof_attach_current(tprof_state *p)
{
    if (tprof_tls.gen == tprof_gen_of(p)) {
        return tprof_tls.ts;
    }
    tprof_thread *ts = tprof_attach(p, NULL, PyTrace_C_CALL);
    tprof_event_end();
    return ts;
}

int64_t
tprof_cpu_now(tprof_state *p, tprof_thread *ts)
{
    if (p->mode == TPROF_MODE_WALL_CPU || p->mode == TPROF_MODE_CPU) {
        int64_t exact = tprof_clock_thread_cpu() - ts->cpu_base;
        if (exact > ts->cpu_now) {
            tprof_st_relaxed(&ts->cpu_now, exact);
        }
    }
    return ts->cpu_now;
}

/* End the calls still suspended at wall time `wall`, as open frames end
 * (suspend.h): a wait in an await chain (the chain's outermost call is a
 * coroutine) ends there, its innermost call's own; a generator waiting for
 * its consumer gets nothing. The legacy engine's table also holds calls that
 * ended (its events do not tell a yield from a return, and the frame may be
 * gone), so its waits are left out. The table is emptied: a resume after
 * this is of a call already counted. */
static void
tprof_end_suspended(tprof_thread *ts, int64_t wall)
{
    tprof_susptab *tab = &ts->susp;
    for (uint32_t i = 0; i < tab->cap; i++) {
        const tprof_susp *e = &tab->slots[i];
        if (e->key == NULL || e->code != NULL) { /* free, or legacy */
            continue;
        }
        const tprof_susp *top = e, *caller;
        for (uint32_t hops = 0; top->caller_key != NULL && hops < tab->len;
             hops++) {
            if ((caller = tprof_susp_find(tab, top->caller_key)) == NULL) {
                break;
            }
            top = caller;
        }
        if (!(top->node->flags & TPROF_NODE_AWAITS)) {
            continue;
        }
        int64_t wait = wall - e->wall;
        tprof_add_relaxed(&e->node->wall, wait);
        tprof_add_relaxed(&e->node->wall_self, wait);
        if (e->node->flags & TPROF_NODE_TASK) {
            tprof_add_relaxed(&tprof_task_of(e->node)->awaited, wait);
        }
        if (e->caller_key != NULL &&
            (caller = tprof_susp_find(tab, e->caller_key)) != NULL)
        {
            tprof_add_relaxed(&caller->node->wall_self, -wait);
        }
    }
    tprof_susp_free(tab);
    ts->chain_key = NULL;
}

void
tprof_unwind(tprof_state *p, tprof_thread *ts, int64_t wall, int64_t cpu)
{
    if (ts->stack.top > ts->stack.frames) {
        tprof_times t = {wall, cpu};
        if (p->timeline) {
            tprof_close(p, ts, ts->stack.frames + 1, t, TPROF_MODE_CPU, 1);
        }
        else {
            tprof_close(p, ts, ts->stack.frames + 1, t, TPROF_MODE_CPU, 0);
        }
    }
    if (ts->susp.len > 0) {
        tprof_end_suspended(ts, wall);
    }
}
