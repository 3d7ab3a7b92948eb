/* SPDX-License-Identifier: MIT */
#include "recorder.h"

#include "clock.h"
#include "moncb.h"
#include "threads.h"

#if defined(__GNUC__) || defined(__clang__)
#define TP_INLINE static inline __attribute__((always_inline))
#define TP_NOINLINE static __attribute__((noinline))
#else
#define TP_INLINE static inline
#define TP_NOINLINE static
#endif

typedef struct tp_times {
    int64_t wall;
    int64_t cpu;
} tp_times;

/* -- clocks ------------------------------------------------------------------
 */

/* Advance the thread's CPU estimate to wall time `now` (TP_MODE_WALL_CPU). */
TP_INLINE int64_t
tp_cpu_estimate(tp_profiler *p, tp_thread *ts, int64_t now)
{
    int64_t gap = now - ts->last_wall;
    if (TP_LIKELY(gap < p->cpu_gap)) {
        tp_add_relaxed(&ts->cpu_now, gap);
    }
    else {
        int64_t exact = tp_clock_thread_cpu() - ts->cpu_base;
        int64_t fix = exact - ts->cpu_now;
        tp_add_relaxed(&ts->cpu_now, fix < 0 ? 0 : (fix > gap ? gap : fix));
    }
    return ts->cpu_now;
}

int64_t
tp_recorder_cpu_now(tp_profiler *p, tp_thread *ts)
{
    if (p->mode == TP_MODE_WALL_CPU || p->mode == TP_MODE_CPU) {
        int64_t exact = tp_clock_thread_cpu() - ts->cpu_base;
        if (exact > ts->cpu_now) {
            tp_st_relaxed(&ts->cpu_now, exact);
        }
    }
    return ts->cpu_now;
}

/* Call the Python timer; on failure set the sticky error and return -1. The
 * caller holds a reference to p (see TP_RECORDER): the timer may release the
 * GIL, and another thread may stop and drop the profiler meanwhile. */
TP_NOINLINE int
tp_user_time(tp_profiler *p, int64_t *out)
{
    int64_t now = 0;
    tp_event_may_pause(p);
    int rc = tp_profiler_now(p, &now);
    tp_event_resumed(p);
    if (rc < 0) {
        if (!(p->errors & TP_ERR_TIMER)) {
            PyObject *exc = tp_error_take();
            Py_XSETREF(p->error_text, exc ? PyObject_Repr(exc) : NULL);
            Py_XDECREF(exc);
        }
        PyErr_Clear();
        tp_profiler_fail(p, TP_ERR_TIMER);
    }
    *out = now;
    return rc;
}

/* Read the clock(s) for an event of thread ts. In TP_MODE_USER this runs
 * Python code; the caller revalidates its state afterwards. */
TP_INLINE int
tp_read(tp_profiler *p, tp_thread *ts, const tp_mode mode, tp_times *t)
{
    switch (mode) {
    case TP_MODE_WALL:
        t->wall = tp_clock_wall();
        t->cpu = 0;
        tp_st_relaxed(&ts->last_wall, t->wall);
        return 0;
    case TP_MODE_WALL_CPU:
        t->wall = tp_clock_wall();
        t->cpu = tp_cpu_estimate(p, ts, t->wall);
        tp_st_relaxed(&ts->last_wall, t->wall);
        return 0;
    case TP_MODE_CPU:
        t->wall = tp_clock_wall();
        t->cpu = tp_clock_thread_cpu() - ts->cpu_base;
        tp_st_relaxed(&ts->cpu_now, t->cpu);
        tp_st_relaxed(&ts->last_wall, t->wall);
        return 0;
    case TP_MODE_USER:
        t->cpu = 0;
        return tp_user_time(p, &t->wall);
    }
    return -1;
}

/* -- the shadow stack
 * ---------------------------------------------------------- */

/* Record one timeline event (a call of func, or its return as ~func). */
TP_NOINLINE void
tp_timeline_fail(tp_profiler *p)
{
    tp_profiler_fail(p, TP_ERR_TIMELINE);
}

/* The chunks of all threads reached the memory budget: spill them all (a
 * thread that ended keeps its chunks otherwise), then record the event. */
TP_NOINLINE void
tp_timeline_spill_and_add(tp_profiler *p, tp_thread *ts, int64_t t,
                          int32_t code)
{
    for (tp_thread *x = tp_threads_first(p); x; x = tp_threads_next(x)) {
        if (tp_timeline_spill_all(&x->tl, &p->tl_sink, x->serial) < 0) {
            tp_timeline_fail(p);
            break;
        }
    }
    if (tp_timeline_add(&ts->tl, &p->tl_sink, ts->serial, t, code) != 0) {
        tp_timeline_fail(p);
    }
}

TP_INLINE void
tp_timeline_event(tp_profiler *p, tp_thread *ts, int64_t t, int32_t code)
{
#if TP_FREE_THREADED
    const tp_tlchunk *c = ts->tl.tail;
    if (TP_UNLIKELY(c == NULL || c->len == c->cap)) {
        tp_event_may_pause(p); /* a new chunk locks the shared sink */
    }
#endif
    int rc =
        tp_timeline_add(&ts->tl, &p->tl_sink, ts->serial, t - p->origin, code);
    if (TP_UNLIKELY(rc != 0)) {
        if (rc > 0) {
            tp_timeline_spill_and_add(p, ts, t - p->origin, code);
        }
        else {
            tp_timeline_fail(p);
        }
    }
}

/* Close frame f (whose parent is f[-1]) at time t. */
TP_INLINE void
tp_close_frame(tp_profiler *p, tp_thread *ts, tp_frame *f, tp_times t,
               const tp_mode mode, const int tl)
{
    tp_node *n = f->node;
    if (tl) {
        tp_timeline_event(p, ts, t.wall, ~(int32_t)n->func);
    }
    int64_t wall = t.wall - f->wall0;
    tp_add_relaxed(&n->wall, wall);
    tp_add_relaxed(&n->wall_self, wall - f->wall_sub);
    f[-1].wall_sub += wall;
    if (mode != TP_MODE_WALL && mode != TP_MODE_USER) {
        int64_t cpu = t.cpu - f->cpu0;
        tp_add_relaxed(&n->cpu, cpu);
        tp_add_relaxed(&n->cpu_self, cpu - f->cpu_sub);
        f[-1].cpu_sub += cpu;
    }
}

/* Close the frames from the top down to `to` at time t: usually just the
 * top one. */
TP_INLINE void
tp_close(tp_profiler *p, tp_thread *ts, tp_frame *to, tp_times t,
         const tp_mode mode, const int tl)
{
    tp_frame *f = ts->stack.top;
    tp_close_frame(p, ts, f, t, mode, tl);
    while (TP_UNLIKELY(f > to)) {
        tp_close_frame(p, ts, --f, t, mode, tl);
    }
    ts->stack.top = to - 1;
}

void
tp_recorder_unwind(tp_profiler *p, tp_thread *ts, int64_t wall, int64_t cpu)
{
    if (ts->stack.top > ts->stack.frames) {
        tp_times t = {wall, cpu};
        if (p->timeline) {
            tp_close(p, ts, ts->stack.frames + 1, t, TP_MODE_CPU, 1);
        }
        else {
            tp_close(p, ts, ts->stack.frames + 1, t, TP_MODE_CPU, 0);
        }
    }
}

/* The open frame that `match` returns from, or NULL when it is not on the
 * stack (a frame that started before profiling, or an unbalanced event):
 * such a return is ignored. A match below the top means returns were
 * missed, and the frames above it are closed with it. */
TP_INLINE tp_frame *
tp_find(const tp_thread *ts, const void *match)
{
    tp_frame *f = ts->stack.top;
    if (TP_LIKELY(f->match == match)) {
        return f; /* never the root: its match is NULL, an event's never */
    }
    for (; f > ts->stack.frames; f--) {
        if (f->match == match) {
            return f;
        }
    }
    return NULL;
}

/* The function id for a new node (slow path). `callee` is a code object, a
 * PyCFunction, or a method descriptor called on `self_arg`. */
TP_NOINLINE tp_node *
tp_new_node(tp_profiler *p, tp_thread *ts, tp_node *parent, const void *key,
            PyObject *callee, PyObject *self_arg)
{
#if TP_FREE_THREADED
    tp_event_may_pause(p); /* the function table is locked */
#endif
    int64_t func;
    if (PyCode_Check(callee)) {
        func = tp_functable_code(&p->funcs, (PyCodeObject *)callee);
    }
    else if (PyCFunction_Check(callee)) {
        func = tp_functable_cfunc(&p->funcs, (PyCFunctionObject *)callee);
    }
    else if (self_arg == NULL || Py_TYPE(callee)->tp_descr_get == NULL) {
        /* not an event of CPython's: a callback called by hand */
        return NULL;
    }
    else {
        /* bind the descriptor as CPython's legacy events do, for the name */
        tp_saved_error saved;
        tp_error_save(&saved);
        PyObject *bound = Py_TYPE(callee)->tp_descr_get(
            callee, self_arg, (PyObject *)Py_TYPE(self_arg));
        func = bound && PyCFunction_Check(bound)
                   ? tp_functable_cfunc(&p->funcs, (PyCFunctionObject *)bound)
                   : -1;
        Py_XDECREF(bound);
        tp_error_restore(&saved);
    }
    tp_node *n =
        func < 0 ? NULL : tp_tree_add(&ts->tree, parent, key, (uint32_t)func);
    if (n == NULL) {
        tp_profiler_fail(p, TP_ERR_NOMEMORY);
    }
    return n;
}

TP_NOINLINE int
tp_grow(tp_profiler *p, tp_thread *ts)
{
    if (tp_stack_grow(&ts->stack) < 0) {
        tp_profiler_fail(p, TP_ERR_NOMEMORY);
        return -1;
    }
    return 0;
}

/* Enter a call of `callee` (a code object or a PyCFunction) keyed by `key`,
 * whose return will carry `match`. `calls` is 1 for a real call and 0 for a
 * frame that was already running. */
TP_INLINE void
tp_enter(tp_profiler *p, tp_thread *ts, const void *key, const void *match,
         PyObject *callee, PyObject *self_arg, tp_times t, uint64_t calls,
         const int tl)
{
    tp_node *parent = ts->stack.top->node;
    tp_node *n = tp_tree_find(&ts->tree, parent, key);
    if (TP_UNLIKELY(n == NULL)) {
        n = tp_new_node(p, ts, parent, key, callee, self_arg);
        if (n == NULL) {
            return;
        }
    }
    if (TP_UNLIKELY(ts->stack.top == ts->stack.last) && tp_grow(p, ts) < 0) {
        return;
    }
    tp_frame *f = ++ts->stack.top;
    f->node = n;
    f->match = match;
    f->wall0 = t.wall;
    f->wall_sub = 0;
    f->cpu0 = t.cpu;
    f->cpu_sub = 0;
    tp_add_relaxed(&n->calls, calls);
    if (tl) {
        tp_timeline_event(p, ts, t.wall, (int32_t)n->func);
    }
}

/* -- attaching a thread
 * ---------------------------------------------------------- */

static int
tp_is_own_code(tp_profiler *p, PyCodeObject *code)
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
tp_seed(tp_profiler *p, tp_thread *ts, PyFrameObject *frame, int what)
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
    tp_times t = {ts->last_wall, ts->cpu_now};
    if (p->mode == TP_MODE_USER) {
        tp_user_time(p, &t.wall);
        if (ts->first_wall == INT64_MIN) {
            tp_st_relaxed(&ts->first_wall, t.wall);
        }
        tp_st_relaxed(&ts->last_wall, t.wall);
    }
    while (n > 0) {
        PyFrameObject *fr = chain[--n];
        PyCodeObject *code = tp_frame_code(fr);
        if (!tp_is_own_code(p, code)) {
            /* legacy returns carry the frame, sys.monitoring ones the code */
            const void *match = p->engine == TP_ENGINE_MONITORING
                                    ? (const void *)code
                                    : (const void *)fr;
            tp_enter(p, ts, code, match, (PyObject *)code, NULL, t, 0,
                     p->timeline);
        }
        Py_DECREF(fr);
    }
}

/* Attach the calling thread; seed its stack from `frame` (the current frame
 * when NULL) if the profiler seeds. */
TP_NOINLINE tp_thread *
tp_attach(tp_profiler *p, PyFrameObject *frame, int what)
{
    tp_thread *ts = tp_thread_attach(p, frame);
    if (ts != NULL && p->seed && ts->stack.top == ts->stack.frames) {
        if (frame == NULL) {
            frame = PyEval_GetFrame();
        }
        if (frame != NULL) {
            tp_saved_error saved;
            tp_error_save(&saved);
            tp_seed(p, ts, frame, what);
            tp_error_restore(&saved);
        }
    }
    return ts;
}

tp_thread *
tp_recorder_attach_current(tp_profiler *p)
{
    if (tp_tls.gen == tp_gen_of(p)) {
        return tp_tls.ts;
    }
    tp_thread *ts = tp_attach(p, NULL, PyTrace_C_CALL);
    tp_event_end();
    return ts;
}

/* The calling thread's record, attaching it on its first event. */
TP_INLINE tp_thread *
tp_current(tp_profiler *p, PyFrameObject *frame, int what)
{
    if (TP_LIKELY(tp_tls.gen == tp_gen_of(p))) {
        return tp_tls.ts;
    }
    return tp_attach(p, frame, what);
}

/* -- events
 * ------------------------------------------------------------------------ */

/* After a Python timer ran Python code (the GIL may have moved meanwhile,
 * and another thread may have stopped, cleared or detached): the calling
 * thread's record if it is still being recorded, with its times updated,
 * else NULL. */
TP_INLINE tp_thread *
tp_after_timer(tp_profiler *p, int64_t wall)
{
    tp_thread *ts = tp_tls.ts;
    if (tp_tls.gen != tp_gen_of(p) || !tp_ld_relaxed(&p->enabled) ||
        ts == NULL) {
        return NULL;
    }
    if (ts->first_wall == INT64_MIN) {
        tp_st_relaxed(&ts->first_wall, wall);
    }
    tp_st_relaxed(&ts->last_wall, wall);
    return ts;
}

TP_INLINE void
tp_on_call(tp_profiler *p, PyFrameObject *frame, int what, const void *key,
           const void *match, PyObject *callee, PyObject *self_arg,
           const tp_mode mode, const int tl)
{
    tp_thread *ts = tp_current(p, frame, what);
    if (TP_UNLIKELY(ts == NULL)) {
        return;
    }
    tp_times t;
    if (tp_read(p, ts, mode, &t) < 0) {
        return;
    }
    if (mode == TP_MODE_USER && (ts = tp_after_timer(p, t.wall)) == NULL) {
        return;
    }
    tp_enter(p, ts, key, match, callee, self_arg, t, 1, tl);
}

/* Close the frames from the top down to `to`, an open frame that carries
 * `match`. */
TP_INLINE void
tp_return_to(tp_profiler *p, tp_thread *ts, tp_frame *to, const void *match,
             const tp_mode mode, const int tl)
{
    tp_times t;
    if (tp_read(p, ts, mode, &t) < 0) {
        return;
    }
    if (mode == TP_MODE_USER) {
        ts = tp_after_timer(p, t.wall);
        if (ts == NULL || (to = tp_find(ts, match)) == NULL) {
            return;
        }
    }
    tp_close(p, ts, to, t, mode, tl);
}

/* The return of the frame that carries `match` in thread ts, if open. */
TP_INLINE void
tp_return(tp_profiler *p, tp_thread *ts, const void *match, const tp_mode mode,
          const int tl)
{
    tp_frame *to = tp_find(ts, match);
    if (to != NULL) {
        tp_return_to(p, ts, to, match, mode, tl);
    }
}

TP_INLINE void
tp_on_return(tp_profiler *p, PyFrameObject *frame, int what, const void *match,
             const tp_mode mode, const int tl)
{
    tp_thread *ts = tp_current(p, frame, what);
    if (TP_UNLIKELY(ts == NULL)) {
        return;
    }
    tp_return(p, ts, match, mode, tl);
}

TP_INLINE int
tp_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg,
         const tp_mode mode, const int tl)
{
    tp_profiler *p = (tp_profiler *)obj;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = tp_frame_code(frame);
        tp_on_call(p, frame, what, code, frame, (PyObject *)code, NULL, mode,
                   tl);
        break;
    }
    case PyTrace_RETURN:
        tp_on_return(p, frame, what, frame, mode, tl);
        break;
    case PyTrace_C_CALL:
        if (p->builtins && PyCFunction_Check(arg)) {
            const void *ml = ((PyCFunctionObject *)arg)->m_ml;
            tp_on_call(p, frame, what, ml, ml, arg, NULL, mode, tl);
        }
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (p->builtins && PyCFunction_Check(arg)) {
            tp_on_return(p, frame, what, ((PyCFunctionObject *)arg)->m_ml,
                         mode, tl);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* -- sys.monitoring callbacks ------------------------------------------- */

/* The tree key of the callee of a CALL, C_RETURN or C_RAISE event (code,
 * offset, callable, arg0), or NULL when it is not recorded: only C functions
 * and method descriptors are, as the legacy events do. */
TP_INLINE const void *
tp_c_key(const tp_profiler *p, PyObject *const *args, PyObject **self_arg)
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
 * C_RETURN and C_RAISE carry again (it stays on the caller's stack). */
TP_INLINE void
tp_monitor_c_call(tp_profiler *p, PyObject *const *args, Py_ssize_t nargs,
                  const tp_mode mode, const int tl)
{
    if (TP_UNLIKELY(nargs < 4)) {
        return;
    }
    PyObject *self_arg = NULL;
    const void *key = tp_c_key(p, args, &self_arg);
    if (key != NULL) {
        tp_on_call(p, NULL, PyTrace_C_CALL, key, args[2], args[2], self_arg,
                   mode, tl);
    }
}

/* C_RETURN, C_RAISE: the return of the top frame's callable needs no type
 * test; any other callable is looked for deeper only if CALL records it. */
TP_INLINE void
tp_monitor_c_return(tp_profiler *p, PyObject *const *args, Py_ssize_t nargs,
                    const tp_mode mode, const int tl)
{
    if (TP_UNLIKELY(nargs < 4)) {
        return;
    }
    PyObject *callable = args[2];
    tp_thread *ts = tp_current(p, NULL, PyTrace_C_RETURN);
    if (TP_UNLIKELY(ts == NULL)) {
        return;
    }
    tp_frame *to = ts->stack.top; /* not the root: its match is NULL */
    if (TP_UNLIKELY(to->match != callable)) {
        PyObject *self_arg = NULL;
        if (tp_c_key(p, args, &self_arg) == NULL ||
            (to = tp_find(ts, callable)) == NULL)
        {
            return;
        }
    }
    tp_return_to(p, ts, to, callable, mode, tl);
}

/* A Python timer can release the GIL in the middle of an event, and another
 * thread can then stop the profiler and drop the last reference to it
 * (gh-148037): in that mode the event holds a reference of its own until it
 * is done. The other modes never release the GIL inside an event, except
 * when a thread attaches, which guards itself (tp_thread_attach). */
#define TP_HOLD(MODE, obj)            \
    do {                              \
        if ((MODE) == TP_MODE_USER) { \
            Py_INCREF(obj);           \
        }                             \
    } while (0)
#define TP_RELEASE(MODE, obj)         \
    do {                              \
        if ((MODE) == TP_MODE_USER) { \
            Py_DECREF(obj);           \
        }                             \
    } while (0)

/* One recorder per (clock mode, timeline): a profile function for the legacy
 * engine and four sys.monitoring handlers (vectorcall functions of a
 * tp_moncb). */
#define TP_RECORDER(MODE, TL, NAME)                                           \
    static int tp_record_##NAME(PyObject *obj, PyFrameObject *frame,          \
                                int what, PyObject *arg)                      \
    {                                                                         \
        TP_HOLD(MODE, obj);                                                   \
        tp_event(obj, frame, what, arg, MODE, TL);                            \
        tp_event_end();                                                       \
        TP_RELEASE(MODE, obj);                                                \
        return 0;                                                             \
    }                                                                         \
    static PyObject *tp_mon_call_##NAME(PyObject *cb, PyObject *const *args,  \
                                        size_t nargsf, PyObject *kwnames)     \
    {                                                                         \
        (void)kwnames;                                                        \
        tp_profiler *p = TP_MONCB_PROFILER(cb);                               \
        TP_HOLD(MODE, p);                                                     \
        if (TP_LIKELY(PyVectorcall_NARGS(nargsf) >= 1)) {                     \
            tp_on_call(p, NULL, PyTrace_CALL, args[0], args[0], args[0],      \
                       NULL, MODE, TL);                                       \
        }                                                                     \
        tp_event_end();                                                       \
        TP_RELEASE(MODE, p);                                                  \
        Py_RETURN_NONE;                                                       \
    }                                                                         \
    static PyObject *tp_mon_return_##NAME(PyObject *cb,                       \
                                          PyObject *const *args,              \
                                          size_t nargsf, PyObject *kwnames)   \
    {                                                                         \
        (void)kwnames;                                                        \
        tp_profiler *p = TP_MONCB_PROFILER(cb);                               \
        TP_HOLD(MODE, p);                                                     \
        if (TP_LIKELY(PyVectorcall_NARGS(nargsf) >= 1)) {                     \
            tp_on_return(p, NULL, PyTrace_RETURN, args[0], MODE, TL);         \
        }                                                                     \
        tp_event_end();                                                       \
        TP_RELEASE(MODE, p);                                                  \
        Py_RETURN_NONE;                                                       \
    }                                                                         \
    static PyObject *tp_mon_c_call_##NAME(PyObject *cb,                       \
                                          PyObject *const *args,              \
                                          size_t nargsf, PyObject *kwnames)   \
    {                                                                         \
        (void)kwnames;                                                        \
        tp_profiler *p = TP_MONCB_PROFILER(cb);                               \
        TP_HOLD(MODE, p);                                                     \
        tp_monitor_c_call(p, args, PyVectorcall_NARGS(nargsf), MODE, TL);     \
        tp_event_end();                                                       \
        TP_RELEASE(MODE, p);                                                  \
        Py_RETURN_NONE;                                                       \
    }                                                                         \
    static PyObject *tp_mon_c_return_##NAME(PyObject *cb,                     \
                                            PyObject *const *args,            \
                                            size_t nargsf, PyObject *kwnames) \
    {                                                                         \
        (void)kwnames;                                                        \
        tp_profiler *p = TP_MONCB_PROFILER(cb);                               \
        TP_HOLD(MODE, p);                                                     \
        tp_monitor_c_return(p, args, PyVectorcall_NARGS(nargsf), MODE, TL);   \
        tp_event_end();                                                       \
        TP_RELEASE(MODE, p);                                                  \
        Py_RETURN_NONE;                                                       \
    }                                                                         \
    static const vectorcallfunc tp_mon_funcs_##NAME[] = {                     \
        tp_mon_call_##NAME,                                                   \
        tp_mon_return_##NAME,                                                 \
        tp_mon_c_call_##NAME,                                                 \
        tp_mon_c_return_##NAME,                                               \
    };

TP_RECORDER(TP_MODE_WALL, 0, wall)
TP_RECORDER(TP_MODE_WALL_CPU, 0, wall_cpu)
TP_RECORDER(TP_MODE_CPU, 0, cpu)
TP_RECORDER(TP_MODE_USER, 0, user)
TP_RECORDER(TP_MODE_WALL, 1, wall_tl)
TP_RECORDER(TP_MODE_WALL_CPU, 1, wall_cpu_tl)
TP_RECORDER(TP_MODE_CPU, 1, cpu_tl)
TP_RECORDER(TP_MODE_USER, 1, user_tl)

static const struct {
    Py_tracefunc func;
    const vectorcallfunc *mon;
} tp_recorders[2][4] = {
    {
        [TP_MODE_WALL] = {tp_record_wall, tp_mon_funcs_wall},
        [TP_MODE_WALL_CPU] = {tp_record_wall_cpu, tp_mon_funcs_wall_cpu},
        [TP_MODE_CPU] = {tp_record_cpu, tp_mon_funcs_cpu},
        [TP_MODE_USER] = {tp_record_user, tp_mon_funcs_user},
    },
    {
        [TP_MODE_WALL] = {tp_record_wall_tl, tp_mon_funcs_wall_tl},
        [TP_MODE_WALL_CPU] = {tp_record_wall_cpu_tl, tp_mon_funcs_wall_cpu_tl},
        [TP_MODE_CPU] = {tp_record_cpu_tl, tp_mon_funcs_cpu_tl},
        [TP_MODE_USER] = {tp_record_user_tl, tp_mon_funcs_user_tl},
    },
};

Py_tracefunc
tp_recorder_for(tp_mode mode, int timeline)
{
    return tp_recorders[timeline != 0][mode].func;
}

const vectorcallfunc *
tp_recorder_monitor_funcs(tp_mode mode, int timeline)
{
    return tp_recorders[timeline != 0][mode].mon;
}
