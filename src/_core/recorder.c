/* SPDX-License-Identifier: MIT */
#include "recorder.h"

#include "attach.h"
#include "frames.h"
#include "moncb.h"
#include "suspend.h"

/* The calling thread's record, attaching it on its first event. */
TPROF_INLINE tprof_thread *
tprof_current(tprof_state *p, PyFrameObject *frame, int what)
{
    if (TPROF_LIKELY(tprof_tls.gen == tprof_gen_of(p))) {
        return tprof_tls.ts;
    }
    return tprof_attach(p, frame, what);
}

/* -- events -- */

/* After a Python timer ran Python code (the GIL may have moved meanwhile,
 * and another thread may have stopped, cleared or detached): the calling
 * thread's record if it is still being recorded, with its times updated,
 * else NULL. */
TPROF_INLINE tprof_thread *
tprof_after_timer(tprof_state *p, int64_t wall)
{
    tprof_thread *ts = tprof_tls.ts;
    if (tprof_tls.gen != tprof_gen_of(p) || !tprof_ld_relaxed(&p->enabled) ||
        ts == NULL)
    {
        return NULL;
    }
    if (ts->first_wall == INT64_MIN) {
        tprof_st_relaxed(&ts->first_wall, wall);
    }
    tprof_st_relaxed(&ts->last_wall, wall);
    return ts;
}

/* The calling thread's record, with the time of its call-like event read
 * into t; NULL when the event is not recorded. */
TPROF_INLINE tprof_thread *
tprof_timed(tprof_state *p, PyFrameObject *frame, int what,
            const tprof_mode mode, tprof_times *t)
{
    tprof_thread *ts = tprof_current(p, frame, what);
    if (TPROF_UNLIKELY(ts == NULL) || tprof_read(p, ts, mode, t) < 0) {
        return NULL;
    }
    return mode == TPROF_MODE_USER ? tprof_after_timer(p, t->wall) : ts;
}

/* Thread ts's record, with the time of an event that ends open frame *to
 * (which carries `match`) read into t; NULL when the event is not recorded.
 * A Python timer may run anything: the frame is then looked for again. */
TPROF_INLINE tprof_thread *
tprof_timed_end(tprof_state *p, tprof_thread *ts, tprof_frame **to,
                const void *match, const tprof_mode mode, tprof_times *t)
{
    if (tprof_read(p, ts, mode, t) < 0) {
        return NULL;
    }
    if (mode == TPROF_MODE_USER) {
        ts = tprof_after_timer(p, t->wall);
        if (ts == NULL || (*to = tprof_find(ts, match)) == NULL) {
            return NULL;
        }
    }
    return ts;
}

TPROF_INLINE void
tprof_on_call(tprof_state *p, PyFrameObject *frame, int what, const void *key,
              const void *match, PyObject *callee, PyObject *self_arg,
              const tprof_mode mode, const int tl)
{
    tprof_times t;
    tprof_thread *ts = tprof_timed(p, frame, what, mode, &t);
    if (ts != NULL) {
        tprof_enter(p, ts, key, match, callee, self_arg, t, 1, tl);
    }
}

/* Close the frames from the top down to `to`, an open frame that carries
 * `match`. */
TPROF_INLINE void
tprof_return_to(tprof_state *p, tprof_thread *ts, tprof_frame *to,
                const void *match, const tprof_mode mode, const int tl)
{
    tprof_times t;
    if ((ts = tprof_timed_end(p, ts, &to, match, mode, &t)) != NULL) {
        tprof_close(p, ts, to, t, mode, tl);
    }
}

/* The return of the frame that carries `match` in thread ts, if open. */
TPROF_INLINE void
tprof_return(tprof_state *p, tprof_thread *ts, const void *match,
             const tprof_mode mode, const int tl)
{
    tprof_frame *to = tprof_find(ts, match);
    if (to != NULL) {
        tprof_return_to(p, ts, to, match, mode, tl);
    }
}

TPROF_INLINE void
tprof_on_return(tprof_state *p, PyFrameObject *frame, int what,
                const void *match, const tprof_mode mode, const int tl)
{
    tprof_thread *ts = tprof_current(p, frame, what);
    if (TPROF_UNLIKELY(ts == NULL)) {
        return;
    }
    tprof_return(p, ts, match, mode, tl);
}

/* A legacy call event of generator-like code, counting calls whole: the
 * resume of a call suspended in this thread, or else a new call. A frame
 * object may be reused after its generator is gone, so a suspended call of
 * the same frame resumes only with the same code object and no earlier
 * instruction than where it suspended (a new start is at the first one). */
TPROF_INLINE void
tprof_on_legacy_resume(tprof_state *p, PyFrameObject *frame, int what,
                       PyCodeObject *code, const tprof_mode mode, const int tl)
{
    tprof_times t;
    tprof_thread *ts = tprof_timed(p, frame, what, mode, &t);
    if (ts == NULL) {
        return;
    }
    tprof_susp *e = tprof_susp_find(&ts->susp, frame);
    if (e != NULL) {
        if (e->code == code && PyFrame_GetLasti(frame) >= e->lasti) {
            tprof_resume(p, ts, e, code, frame, (PyObject *)code,
                         code->co_flags & TPROF_CO_AWAITS, t, tl);
            return;
        }
        tprof_susp_del(&ts->susp, e);
    }
    tprof_enter(p, ts, code, frame, (PyObject *)code, NULL, t, 1, tl);
}

/* A legacy return event, counting calls whole: a generator-like frame is
 * suspended (the legacy events do not tell a yield from a return; a call
 * that ended is never resumed, see above), any other frame closed. */
TPROF_INLINE void
tprof_on_legacy_return(tprof_state *p, PyFrameObject *frame, int what,
                       const tprof_mode mode, const int tl)
{
    tprof_thread *ts = tprof_current(p, frame, what);
    if (TPROF_UNLIKELY(ts == NULL)) {
        return;
    }
    tprof_frame *f = tprof_find(ts, frame);
    if (f == NULL) {
        return;
    }
    if (!(f->node->flags & TPROF_NODE_GENLIKE)) { /* no code object read */
        tprof_return_to(p, ts, f, frame, mode, tl);
        return;
    }
    PyCodeObject *code = tprof_frame_code(frame);
    tprof_times t;
    if ((ts = tprof_timed_end(p, ts, &f, frame, mode, &t)) != NULL) {
        tprof_suspend(p, ts, f, frame, code, PyFrame_GetLasti(frame), t, mode,
                      tl);
    }
}

/* Whether the C callee `key` is one that calls the exit hook. */
TPROF_INLINE int
tprof_is_exit(const tprof_state *p, const void *key)
{
    return TPROF_UNLIKELY(key == p->exit_keys[0] || key == p->exit_keys[1] ||
                          key == p->exit_keys[2]);
}

/* One legacy event; 1 when it is the call of os._exit (os.execv, os.execve)
 * with an exit hook set. */
TPROF_INLINE int
tprof_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg,
            const tprof_mode mode, const int tl)
{
    tprof_state *p = (tprof_state *)obj;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = tprof_frame_code(frame);
        if (p->whole && (code->co_flags & TPROF_CO_GENLIKE)) {
            tprof_on_legacy_resume(p, frame, what, code, mode, tl);
        }
        else {
            tprof_on_call(p, frame, what, code, frame, (PyObject *)code, NULL,
                          mode, tl);
        }
        break;
    }
    case PyTrace_RETURN:
        if (p->whole) {
            tprof_on_legacy_return(p, frame, what, mode, tl);
        }
        else {
            tprof_on_return(p, frame, what, frame, mode, tl);
        }
        break;
    case PyTrace_C_CALL:
        if (p->builtins && PyCFunction_Check(arg)) {
            const void *ml = ((PyCFunctionObject *)arg)->m_ml;
            tprof_on_call(p, frame, what, ml, ml, arg, NULL, mode, tl);
            return tprof_is_exit(p, ml);
        }
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (p->builtins && PyCFunction_Check(arg)) {
            tprof_on_return(p, frame, what, ((PyCFunctionObject *)arg)->m_ml,
                            mode, tl);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* -- sys.monitoring callbacks -- */

/* The tree key of the callee of a CALL, C_RETURN or C_RAISE event (code,
 * offset, callable, arg0), or NULL when it is not recorded: only C functions
 * and method descriptors are, as the legacy events do. */
TPROF_INLINE const void *
tprof_c_key(const tprof_state *p, PyObject *const *args, PyObject **self_arg)
{
    PyObject *callable = args[2];
    PyTypeObject *type = Py_TYPE(callable);
    if (type == &PyFunction_Type) {
        return NULL; /* the most frequent callee: its PY_START follows */
    }
    if (type == &PyMethodDescr_Type) {
        if (args[3] == p->mon_missing) {
            return NULL;
        }
        *self_arg = args[3];
        return ((PyMethodDescrObject *)callable)->d_method;
    }
    if (type == &PyCFunction_Type || type == &PyCMethod_Type) {
        return ((PyCFunctionObject *)callable)->m_ml;
    }
    if (type == &PyType_Type || type == &PyMethod_Type) {
        return NULL; /* a class, a bound method: no walk of the type's MRO */
    }
    if (PyCFunction_Check(callable)) {
        return ((PyCFunctionObject *)callable)->m_ml;
    }
    return NULL;
}

/* CALL: enter a C callee. Its frame is matched by the callable object, which
 * C_RETURN and C_RAISE carry again (it stays on the caller's stack). 1 when
 * the callee is os._exit with an exit hook set. */
TPROF_INLINE int
tprof_monitor_c_call(tprof_state *p, PyObject *const *args, Py_ssize_t nargs,
                     const tprof_mode mode, const int tl)
{
    if (TPROF_UNLIKELY(nargs < 4)) {
        return 0;
    }
    PyObject *self_arg = NULL;
    const void *key = tprof_c_key(p, args, &self_arg);
    if (key == NULL) {
        if (TPROF_UNLIKELY(Py_TYPE(args[2]) == &PyType_Type) &&
            p->sees_class_calls && tprof_is_task_class(p, args[2]))
        {
            tprof_thread *ts = tprof_current(p, NULL, PyTrace_C_CALL);
            if (ts != NULL) {
                tprof_task_creating(p, ts);
            }
        }
        return 0;
    }
    tprof_on_call(p, NULL, PyTrace_C_CALL, key, args[2], args[2], self_arg,
                  mode, tl);
    return tprof_is_exit(p, key);
}

/* C_RETURN, C_RAISE: the return of the top frame's callable needs no type
 * test; any other callable is looked for deeper only if CALL records it. */
TPROF_INLINE void
tprof_monitor_c_return(tprof_state *p, PyObject *const *args, Py_ssize_t nargs,
                       const tprof_mode mode, const int tl)
{
    if (TPROF_UNLIKELY(nargs < 4)) {
        return;
    }
    PyObject *callable = args[2];
    tprof_thread *ts = tprof_current(p, NULL, PyTrace_C_RETURN);
    if (TPROF_UNLIKELY(ts == NULL)) {
        return;
    }
    tprof_frame *to = ts->stack.top; /* not the root: its match is NULL */
    if (TPROF_UNLIKELY(to->match != callable)) {
        PyObject *self_arg = NULL;
        if (tprof_c_key(p, args, &self_arg) == NULL ||
            (to = tprof_find(ts, callable)) == NULL)
        {
            return;
        }
    }
    tprof_return_to(p, ts, to, callable, mode, tl);
}

/* PY_RESUME, PY_THROW, counting calls whole: the resume of a call suspended
 * in this thread (found by its interpreter frame), or else a frame entered
 * with no call counted. */
TPROF_INLINE void
tprof_monitor_resume(tprof_state *p, PyObject *const *args, Py_ssize_t nargs,
                     const tprof_mode mode, const int tl)
{
    if (TPROF_UNLIKELY(nargs < 1)) {
        return;
    }
    PyObject *code = args[0];
    tprof_times t;
    tprof_thread *ts = tprof_timed(p, NULL, PyTrace_CALL, mode, &t);
    if (ts == NULL) {
        return;
    }
    tprof_susp *e = tprof_susp_find(&ts->susp, tprof_current_frame_id());
    if (e == NULL) {
        tprof_enter(p, ts, code, code, code, NULL, t, 0, tl);
        return;
    }
    int flags = PyCode_Check(code) ? ((PyCodeObject *)code)->co_flags : 0;
    tprof_resume(p, ts, e, code, code, code, flags & TPROF_CO_AWAITS, t, tl);
}

/* PY_YIELD, counting calls whole: suspend the frame. */
TPROF_INLINE void
tprof_monitor_yield(tprof_state *p, PyObject *const *args, Py_ssize_t nargs,
                    const tprof_mode mode, const int tl)
{
    if (TPROF_UNLIKELY(nargs < 1)) {
        return;
    }
    tprof_thread *ts = tprof_current(p, NULL, PyTrace_RETURN);
    if (TPROF_UNLIKELY(ts == NULL)) {
        return;
    }
    tprof_frame *f = tprof_find(ts, args[0]);
    if (f == NULL) {
        return;
    }
    tprof_times t;
    if ((ts = tprof_timed_end(p, ts, &f, args[0], mode, &t)) != NULL) {
        tprof_suspend(p, ts, f, tprof_current_frame_id(), NULL, 0, t, mode,
                      tl);
    }
}

/* A Python timer can release the GIL in the middle of an event, and another
 * thread can then stop the profiler and drop the last reference to it
 * (gh-148037): in that mode the event holds a reference of its own until it
 * is done. The other modes never release the GIL inside an event, except
 * when a thread attaches, which guards itself (tprof_thread_attach). */
#define TPROF_HOLD(MODE, obj)            \
    do {                                 \
        if ((MODE) == TPROF_MODE_USER) { \
            Py_INCREF(obj);              \
        }                                \
    } while (0)
#define TPROF_RELEASE(MODE, obj)         \
    do {                                 \
        if ((MODE) == TPROF_MODE_USER) { \
            Py_DECREF(obj);              \
        }                                \
    } while (0)

/* After the event that calls os._exit (once per process): the exit hook,
 * outside the event, which may stop the profiler. */
#define TPROF_EXITING(exiting, p)              \
    do {                                       \
        if (TPROF_UNLIKELY(exiting)) {         \
            tprof_exit_hook((tprof_state *)p); \
        }                                      \
    } while (0)

/* A sys.monitoring handler FN of a recorder: BODY runs with `p` (the
 * profiler), `args` and `nargs` in scope, and may set `exiting`. */
#define TPROF_MON_HANDLER(FN, MODE, ...)                                    \
    static PyObject *FN(PyObject *cb, PyObject *const *args, size_t nargsf, \
                        PyObject *kwnames)                                  \
    {                                                                       \
        (void)kwnames;                                                      \
        tprof_state *p = TPROF_MONCB_PROFILER(cb);                          \
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);                      \
        int exiting = 0;                                                    \
        TPROF_HOLD(MODE, p);                                                \
        __VA_ARGS__;                                                        \
        tprof_event_end();                                                  \
        TPROF_EXITING(exiting, p);                                          \
        TPROF_RELEASE(MODE, p);                                             \
        Py_RETURN_NONE;                                                     \
    }

/* One recorder per (clock mode, timeline): a profile function for the legacy
 * engine and six sys.monitoring handlers (vectorcall functions of a
 * tprof_moncb). */
#define TPROF_RECORDER(MODE, TL, NAME)                                        \
    static int tprof_record_##NAME(PyObject *obj, PyFrameObject *frame,       \
                                   int what, PyObject *arg)                   \
    {                                                                         \
        TPROF_HOLD(MODE, obj);                                                \
        int exiting = tprof_event(obj, frame, what, arg, MODE, TL);           \
        tprof_event_end();                                                    \
        TPROF_EXITING(exiting, obj);                                          \
        TPROF_RELEASE(MODE, obj);                                             \
        return 0;                                                             \
    }                                                                         \
    TPROF_MON_HANDLER(                                                        \
        tprof_mon_call_##NAME, MODE, if (TPROF_LIKELY(nargs >= 1)) {          \
            tprof_on_call(p, NULL, PyTrace_CALL, args[0], args[0], args[0],   \
                          NULL, MODE, TL);                                    \
        })                                                                    \
    TPROF_MON_HANDLER(                                                        \
        tprof_mon_return_##NAME, MODE, if (TPROF_LIKELY(nargs >= 1)) {        \
            tprof_on_return(p, NULL, PyTrace_RETURN, args[0], MODE, TL);      \
        })                                                                    \
    TPROF_MON_HANDLER(tprof_mon_c_call_##NAME, MODE,                          \
                      exiting =                                               \
                          tprof_monitor_c_call(p, args, nargs, MODE, TL))     \
    TPROF_MON_HANDLER(tprof_mon_c_return_##NAME, MODE,                        \
                      tprof_monitor_c_return(p, args, nargs, MODE, TL))       \
    TPROF_MON_HANDLER(tprof_mon_resume_##NAME, MODE,                          \
                      tprof_monitor_resume(p, args, nargs, MODE, TL))         \
    TPROF_MON_HANDLER(tprof_mon_yield_##NAME, MODE,                           \
                      tprof_monitor_yield(p, args, nargs, MODE, TL))          \
    static const vectorcallfunc tprof_mon_funcs_##NAME[TPROF_MON_NHANDLERS] = \
        {                                                                     \
            tprof_mon_call_##NAME,   tprof_mon_return_##NAME,                 \
            tprof_mon_c_call_##NAME, tprof_mon_c_return_##NAME,               \
            tprof_mon_resume_##NAME, tprof_mon_yield_##NAME,                  \
    };

TPROF_RECORDER(TPROF_MODE_WALL, 0, wall)
TPROF_RECORDER(TPROF_MODE_WALL_CPU, 0, wall_cpu)
TPROF_RECORDER(TPROF_MODE_CPU, 0, cpu)
TPROF_RECORDER(TPROF_MODE_USER, 0, user)
TPROF_RECORDER(TPROF_MODE_WALL, 1, wall_tl)
TPROF_RECORDER(TPROF_MODE_WALL_CPU, 1, wall_cpu_tl)
TPROF_RECORDER(TPROF_MODE_CPU, 1, cpu_tl)
TPROF_RECORDER(TPROF_MODE_USER, 1, user_tl)

static const struct {
    Py_tracefunc func;
    const vectorcallfunc *mon;
} tprof_recorders[2][4] = {
    {
        [TPROF_MODE_WALL] = {tprof_record_wall, tprof_mon_funcs_wall},
        [TPROF_MODE_WALL_CPU] = {tprof_record_wall_cpu,
                                 tprof_mon_funcs_wall_cpu},
        [TPROF_MODE_CPU] = {tprof_record_cpu, tprof_mon_funcs_cpu},
        [TPROF_MODE_USER] = {tprof_record_user, tprof_mon_funcs_user},
    },
    {
        [TPROF_MODE_WALL] = {tprof_record_wall_tl, tprof_mon_funcs_wall_tl},
        [TPROF_MODE_WALL_CPU] = {tprof_record_wall_cpu_tl,
                                 tprof_mon_funcs_wall_cpu_tl},
        [TPROF_MODE_CPU] = {tprof_record_cpu_tl, tprof_mon_funcs_cpu_tl},
        [TPROF_MODE_USER] = {tprof_record_user_tl, tprof_mon_funcs_user_tl},
    },
};

Py_tracefunc
tprof_recorder_for(tprof_mode mode, int timeline)
{
    return tprof_recorders[timeline != 0][mode].func;
}

const vectorcallfunc *
tprof_recorder_monitor_funcs(tprof_mode mode, int timeline)
{
    return tprof_recorders[timeline != 0][mode].mon;
}
