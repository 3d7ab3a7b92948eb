/* SPDX-License-Identifier: MIT */
#include "recorder.h"

#include "clock.h"
#include "moncb.h"
#include "threads.h"

#if defined(__GNUC__) || defined(__clang__)
#define TPROF_INLINE static inline __attribute__((always_inline))
#define TPROF_NOINLINE static __attribute__((noinline))
#else
#define TPROF_INLINE static inline
#define TPROF_NOINLINE static
#endif

typedef struct tprof_times {
    int64_t wall;
    int64_t cpu;
} tprof_times;

/* -- clocks ------------------------------------------------------------------
 */

/* Advance the thread's CPU estimate to wall time `now` (TPROF_MODE_WALL_CPU).
 */
TPROF_INLINE int64_t
tprof_cpu_estimate(tprof_profiler *p, tprof_thread *ts, int64_t now)
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

int64_t
tprof_recorder_cpu_now(tprof_profiler *p, tprof_thread *ts)
{
    if (p->mode == TPROF_MODE_WALL_CPU || p->mode == TPROF_MODE_CPU) {
        int64_t exact = tprof_clock_thread_cpu() - ts->cpu_base;
        if (exact > ts->cpu_now) {
            tprof_st_relaxed(&ts->cpu_now, exact);
        }
    }
    return ts->cpu_now;
}

/* Call the Python timer; on failure set the sticky error and return -1. The
 * caller holds a reference to p (see TPROF_RECORDER): the timer may release
 * the GIL, and another thread may stop and drop the profiler meanwhile. */
TPROF_NOINLINE int
tprof_user_time(tprof_profiler *p, int64_t *out)
{
    int64_t now = 0;
    tprof_event_may_pause(p);
    int rc = tprof_profiler_now(p, &now);
    tprof_event_resumed(p);
    if (rc < 0) {
        if (!(p->errors & TPROF_ERR_TIMER)) {
            PyObject *exc = tprof_error_take();
            Py_XSETREF(p->error_text, exc ? PyObject_Repr(exc) : NULL);
            Py_XDECREF(exc);
        }
        PyErr_Clear();
        tprof_profiler_fail(p, TPROF_ERR_TIMER);
    }
    *out = now;
    return rc;
}

/* Read the clock(s) for an event of thread ts. In TPROF_MODE_USER this runs
 * Python code; the caller revalidates its state afterwards. */
TPROF_INLINE int
tprof_read(tprof_profiler *p, tprof_thread *ts, const tprof_mode mode,
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

/* -- the shadow stack
 * ---------------------------------------------------------- */

/* Record one timeline event (a call of func, or its return as ~func). */
TPROF_NOINLINE void
tprof_timeline_fail(tprof_profiler *p)
{
    tprof_profiler_fail(p, TPROF_ERR_TIMELINE);
}

/* The chunks of all threads reached the memory budget: spill them all (a
 * thread that ended keeps its chunks otherwise), then record the event. */
TPROF_NOINLINE void
tprof_timeline_spill_and_add(tprof_profiler *p, tprof_thread *ts, int64_t t,
                             int32_t code)
{
    for (tprof_thread *x = tprof_threads_first(p); x;
         x = tprof_threads_next(x)) {
        if (tprof_timeline_spill_all(&x->tl, &p->tl_sink, x->serial) < 0) {
            tprof_timeline_fail(p);
            break;
        }
    }
    if (tprof_timeline_add(&ts->tl, &p->tl_sink, ts->serial, t, code) != 0) {
        tprof_timeline_fail(p);
    }
}

TPROF_INLINE void
tprof_timeline_event(tprof_profiler *p, tprof_thread *ts, int64_t t,
                     int32_t code)
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

/* Close frame f (whose parent is f[-1]) at time t. */
TPROF_INLINE void
tprof_close_frame(tprof_profiler *p, tprof_thread *ts, tprof_frame *f,
                  tprof_times t, const tprof_mode mode, const int tl)
{
    tprof_node *n = f->node;
    if (tl) {
        tprof_timeline_event(p, ts, t.wall, ~(int32_t)n->func);
    }
    int64_t wall = t.wall - f->wall0;
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
tprof_close(tprof_profiler *p, tprof_thread *ts, tprof_frame *to,
            tprof_times t, const tprof_mode mode, const int tl)
{
    tprof_frame *f = ts->stack.top;
    tprof_close_frame(p, ts, f, t, mode, tl);
    while (TPROF_UNLIKELY(f > to)) {
        tprof_close_frame(p, ts, --f, t, mode, tl);
    }
    ts->stack.top = to - 1;
}

void
tprof_recorder_unwind(tprof_profiler *p, tprof_thread *ts, int64_t wall,
                      int64_t cpu)
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

/* The function id for a new node (slow path). `callee` is a code object, a
 * PyCFunction, or a method descriptor called on `self_arg`. */
TPROF_NOINLINE tprof_node *
tprof_new_node(tprof_profiler *p, tprof_thread *ts, tprof_node *parent,
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
        tprof_profiler_fail(p, TPROF_ERR_NOMEMORY);
    }
    return n;
}

TPROF_NOINLINE int
tprof_grow(tprof_profiler *p, tprof_thread *ts)
{
    if (tprof_stack_grow(&ts->stack) < 0) {
        tprof_profiler_fail(p, TPROF_ERR_NOMEMORY);
        return -1;
    }
    return 0;
}

/* Enter a call of `callee` (a code object or a PyCFunction) keyed by `key`,
 * whose return will carry `match`. `calls` is 1 for a real call and 0 for a
 * frame that was already running. */
TPROF_INLINE void
tprof_enter(tprof_profiler *p, tprof_thread *ts, const void *key,
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
    if (TPROF_UNLIKELY(ts->stack.top == ts->stack.last) &&
        tprof_grow(p, ts) < 0) {
        return;
    }
    tprof_frame *f = ++ts->stack.top;
    f->node = n;
    f->match = match;
    f->wall0 = t.wall;
    f->wall_sub = 0;
    f->cpu0 = t.cpu;
    f->cpu_sub = 0;
    tprof_add_relaxed(&n->calls, calls);
    if (tl) {
        tprof_timeline_event(p, ts, t.wall, (int32_t)n->func);
    }
}

/* -- attaching a thread
 * ---------------------------------------------------------- */

static int
tprof_is_own_code(tprof_profiler *p, PyCodeObject *code)
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
tprof_seed(tprof_profiler *p, tprof_thread *ts, PyFrameObject *frame, int what)
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
            const void *match = p->engine == TPROF_ENGINE_MONITORING
                                    ? (const void *)code
                                    : (const void *)fr;
            tprof_enter(p, ts, code, match, (PyObject *)code, NULL, t, 0,
                        p->timeline);
        }
        Py_DECREF(fr);
    }
}

/* Attach the calling thread; seed its stack from `frame` (the current frame
 * when NULL) if the profiler seeds. */
TPROF_NOINLINE tprof_thread *
tprof_attach(tprof_profiler *p, PyFrameObject *frame, int what)
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
tprof_recorder_attach_current(tprof_profiler *p)
{
    if (tprof_tls.gen == tprof_gen_of(p)) {
        return tprof_tls.ts;
    }
    tprof_thread *ts = tprof_attach(p, NULL, PyTrace_C_CALL);
    tprof_event_end();
    return ts;
}

/* The calling thread's record, attaching it on its first event. */
TPROF_INLINE tprof_thread *
tprof_current(tprof_profiler *p, PyFrameObject *frame, int what)
{
    if (TPROF_LIKELY(tprof_tls.gen == tprof_gen_of(p))) {
        return tprof_tls.ts;
    }
    return tprof_attach(p, frame, what);
}

/* -- events
 * ------------------------------------------------------------------------ */

/* After a Python timer ran Python code (the GIL may have moved meanwhile,
 * and another thread may have stopped, cleared or detached): the calling
 * thread's record if it is still being recorded, with its times updated,
 * else NULL. */
TPROF_INLINE tprof_thread *
tprof_after_timer(tprof_profiler *p, int64_t wall)
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

TPROF_INLINE void
tprof_on_call(tprof_profiler *p, PyFrameObject *frame, int what,
              const void *key, const void *match, PyObject *callee,
              PyObject *self_arg, const tprof_mode mode, const int tl)
{
    tprof_thread *ts = tprof_current(p, frame, what);
    if (TPROF_UNLIKELY(ts == NULL)) {
        return;
    }
    tprof_times t;
    if (tprof_read(p, ts, mode, &t) < 0) {
        return;
    }
    if (mode == TPROF_MODE_USER && (ts = tprof_after_timer(p, t.wall)) == NULL)
    {
        return;
    }
    tprof_enter(p, ts, key, match, callee, self_arg, t, 1, tl);
}

/* Close the frames from the top down to `to`, an open frame that carries
 * `match`. */
TPROF_INLINE void
tprof_return_to(tprof_profiler *p, tprof_thread *ts, tprof_frame *to,
                const void *match, const tprof_mode mode, const int tl)
{
    tprof_times t;
    if (tprof_read(p, ts, mode, &t) < 0) {
        return;
    }
    if (mode == TPROF_MODE_USER) {
        ts = tprof_after_timer(p, t.wall);
        if (ts == NULL || (to = tprof_find(ts, match)) == NULL) {
            return;
        }
    }
    tprof_close(p, ts, to, t, mode, tl);
}

/* The return of the frame that carries `match` in thread ts, if open. */
TPROF_INLINE void
tprof_return(tprof_profiler *p, tprof_thread *ts, const void *match,
             const tprof_mode mode, const int tl)
{
    tprof_frame *to = tprof_find(ts, match);
    if (to != NULL) {
        tprof_return_to(p, ts, to, match, mode, tl);
    }
}

TPROF_INLINE void
tprof_on_return(tprof_profiler *p, PyFrameObject *frame, int what,
                const void *match, const tprof_mode mode, const int tl)
{
    tprof_thread *ts = tprof_current(p, frame, what);
    if (TPROF_UNLIKELY(ts == NULL)) {
        return;
    }
    tprof_return(p, ts, match, mode, tl);
}

TPROF_INLINE int
tprof_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg,
            const tprof_mode mode, const int tl)
{
    tprof_profiler *p = (tprof_profiler *)obj;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = tprof_frame_code(frame);
        tprof_on_call(p, frame, what, code, frame, (PyObject *)code, NULL,
                      mode, tl);
        break;
    }
    case PyTrace_RETURN:
        tprof_on_return(p, frame, what, frame, mode, tl);
        break;
    case PyTrace_C_CALL:
        if (p->builtins && PyCFunction_Check(arg)) {
            const void *ml = ((PyCFunctionObject *)arg)->m_ml;
            tprof_on_call(p, frame, what, ml, ml, arg, NULL, mode, tl);
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

/* -- sys.monitoring callbacks ------------------------------------------- */

/* The tree key of the callee of a CALL, C_RETURN or C_RAISE event (code,
 * offset, callable, arg0), or NULL when it is not recorded: only C functions
 * and method descriptors are, as the legacy events do. */
TPROF_INLINE const void *
tprof_c_key(const tprof_profiler *p, PyObject *const *args,
            PyObject **self_arg)
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
TPROF_INLINE void
tprof_monitor_c_call(tprof_profiler *p, PyObject *const *args,
                     Py_ssize_t nargs, const tprof_mode mode, const int tl)
{
    if (TPROF_UNLIKELY(nargs < 4)) {
        return;
    }
    PyObject *self_arg = NULL;
    const void *key = tprof_c_key(p, args, &self_arg);
    if (key != NULL) {
        tprof_on_call(p, NULL, PyTrace_C_CALL, key, args[2], args[2], self_arg,
                      mode, tl);
    }
}

/* C_RETURN, C_RAISE: the return of the top frame's callable needs no type
 * test; any other callable is looked for deeper only if CALL records it. */
TPROF_INLINE void
tprof_monitor_c_return(tprof_profiler *p, PyObject *const *args,
                       Py_ssize_t nargs, const tprof_mode mode, const int tl)
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

/* One recorder per (clock mode, timeline): a profile function for the legacy
 * engine and four sys.monitoring handlers (vectorcall functions of a
 * tprof_moncb). */
#define TPROF_RECORDER(MODE, TL, NAME)                                       \
    static int tprof_record_##NAME(PyObject *obj, PyFrameObject *frame,      \
                                   int what, PyObject *arg)                  \
    {                                                                        \
        TPROF_HOLD(MODE, obj);                                               \
        tprof_event(obj, frame, what, arg, MODE, TL);                        \
        tprof_event_end();                                                   \
        TPROF_RELEASE(MODE, obj);                                            \
        return 0;                                                            \
    }                                                                        \
    static PyObject *tprof_mon_call_##NAME(PyObject *cb,                     \
                                           PyObject *const *args,            \
                                           size_t nargsf, PyObject *kwnames) \
    {                                                                        \
        (void)kwnames;                                                       \
        tprof_profiler *p = TPROF_MONCB_PROFILER(cb);                        \
        TPROF_HOLD(MODE, p);                                                 \
        if (TPROF_LIKELY(PyVectorcall_NARGS(nargsf) >= 1)) {                 \
            tprof_on_call(p, NULL, PyTrace_CALL, args[0], args[0], args[0],  \
                          NULL, MODE, TL);                                   \
        }                                                                    \
        tprof_event_end();                                                   \
        TPROF_RELEASE(MODE, p);                                              \
        Py_RETURN_NONE;                                                      \
    }                                                                        \
    static PyObject *tprof_mon_return_##NAME(                                \
        PyObject *cb, PyObject *const *args, size_t nargsf,                  \
        PyObject *kwnames)                                                   \
    {                                                                        \
        (void)kwnames;                                                       \
        tprof_profiler *p = TPROF_MONCB_PROFILER(cb);                        \
        TPROF_HOLD(MODE, p);                                                 \
        if (TPROF_LIKELY(PyVectorcall_NARGS(nargsf) >= 1)) {                 \
            tprof_on_return(p, NULL, PyTrace_RETURN, args[0], MODE, TL);     \
        }                                                                    \
        tprof_event_end();                                                   \
        TPROF_RELEASE(MODE, p);                                              \
        Py_RETURN_NONE;                                                      \
    }                                                                        \
    static PyObject *tprof_mon_c_call_##NAME(                                \
        PyObject *cb, PyObject *const *args, size_t nargsf,                  \
        PyObject *kwnames)                                                   \
    {                                                                        \
        (void)kwnames;                                                       \
        tprof_profiler *p = TPROF_MONCB_PROFILER(cb);                        \
        TPROF_HOLD(MODE, p);                                                 \
        tprof_monitor_c_call(p, args, PyVectorcall_NARGS(nargsf), MODE, TL); \
        tprof_event_end();                                                   \
        TPROF_RELEASE(MODE, p);                                              \
        Py_RETURN_NONE;                                                      \
    }                                                                        \
    static PyObject *tprof_mon_c_return_##NAME(                              \
        PyObject *cb, PyObject *const *args, size_t nargsf,                  \
        PyObject *kwnames)                                                   \
    {                                                                        \
        (void)kwnames;                                                       \
        tprof_profiler *p = TPROF_MONCB_PROFILER(cb);                        \
        TPROF_HOLD(MODE, p);                                                 \
        tprof_monitor_c_return(p, args, PyVectorcall_NARGS(nargsf), MODE,    \
                               TL);                                          \
        tprof_event_end();                                                   \
        TPROF_RELEASE(MODE, p);                                              \
        Py_RETURN_NONE;                                                      \
    }                                                                        \
    static const vectorcallfunc tprof_mon_funcs_##NAME[] = {                 \
        tprof_mon_call_##NAME,                                               \
        tprof_mon_return_##NAME,                                             \
        tprof_mon_c_call_##NAME,                                             \
        tprof_mon_c_return_##NAME,                                           \
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
