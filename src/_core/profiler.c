/* SPDX-License-Identifier: MIT */
#include "profiler.h"

#include "attach.h"
#include "clock.h"
#include "codewatch.h"
#include "engine.h"
#include "lockops.h"
#include "modstate.h"
#include "recorder.h"
#include "snapshot.h"
#include "tasks.h"
#include "threads.h"

#include <math.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

tprof_state *tprof_active;

/* The Python-facing part of a profiler, from its state. */
#define TPROF_PROFILER(p) ((tprof_profiler *)(p))

/* Seconds since the epoch, for the start time of a profile. */
static double
tprof_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* -- construction ----------------------------------------------------------
 */

static int
tprof_parse_mode(const char *clock, int cpu, PyObject *timer, tprof_mode *mode)
{
    if (timer != NULL && timer != Py_None) {
        if (!PyCallable_Check(timer)) {
            PyErr_SetString(PyExc_TypeError, "timer must be callable");
            return -1;
        }
        *mode = TPROF_MODE_USER;
        return 0;
    }
    if (strcmp(clock, "wall") == 0) {
        *mode = cpu ? TPROF_MODE_WALL_CPU : TPROF_MODE_WALL;
        return 0;
    }
    if (strcmp(clock, "cpu") == 0) {
        *mode = TPROF_MODE_CPU;
        return 0;
    }
    PyErr_Format(PyExc_ValueError,
                 "unknown clock '%s': expected 'wall' or 'cpu'", clock);
    return -1;
}

static const tprof_engine_ops *const tprof_engines[] = {
    &tprof_legacy_engine,
    &tprof_monitoring_engine,
};

static const tprof_engine_ops *
tprof_parse_engine(const char *name)
{
    if (strcmp(name, "auto") == 0) {
        /* the newest engine this Python has */
        name = PY_VERSION_HEX >= tprof_monitoring_engine.min_version
                   ? tprof_monitoring_engine.name
                   : tprof_legacy_engine.name;
    }
    for (size_t i = 0; i < sizeof(tprof_engines) / sizeof(tprof_engines[0]);
         i++) {
        const tprof_engine_ops *ops = tprof_engines[i];
        if (strcmp(name, ops->name) != 0) {
            continue;
        }
        if (PY_VERSION_HEX < ops->min_version) {
            PyErr_Format(PyExc_ValueError,
                         "engine '%s' needs Python %d.%d or later", ops->name,
                         (int)(ops->min_version >> 24),
                         (int)((ops->min_version >> 16) & 0xFF));
            return NULL;
        }
        return ops;
    }
    PyErr_Format(PyExc_ValueError,
                 "unknown engine '%s': expected 'auto', 'legacy' or "
                 "'monitoring'",
                 name);
    return NULL;
}

static PyObject *
tprof_profiler_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {
        "timer",      "timeunit",    "subcalls", "builtins", "clock",
        "cpu",        "seed_stacks", "engine",   "timeline", "timeline_limit",
        "coroutines", "slow_step",   "tasks",    "locks",    NULL};
    PyObject *timer = NULL;
    double timeunit = 0.0;
    int subcalls = 1, builtins = 1, cpu = 1, seed = 0;
    const char *clock = "wall";
    const char *engine_name = "auto";
    int timeline = 0;
    long long timeline_limit = 0;
    const char *coroutines = "resume";
    double slow_step = 0.1;
    int tasks = 1, locks = 1;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "|Odpp$sppspLsdpp", kwlist, &timer, &timeunit,
            &subcalls, &builtins, &clock, &cpu, &seed, &engine_name, &timeline,
            &timeline_limit, &coroutines, &slow_step, &tasks, &locks))
    {
        return NULL;
    }
    if (!(slow_step >= 0.0 && slow_step < 1e9)) {
        PyErr_SetString(PyExc_ValueError,
                        "slow_step must be >= 0 seconds (0: none listed)");
        return NULL;
    }
    int whole = strcmp(coroutines, "whole") == 0;
    if (!whole && strcmp(coroutines, "resume") != 0) {
        PyErr_Format(PyExc_ValueError,
                     "unknown coroutines '%s': expected 'resume' or 'whole'",
                     coroutines);
        return NULL;
    }
    if (timeline_limit < 0) {
        PyErr_SetString(PyExc_ValueError, "timeline_limit must be >= 0");
        return NULL;
    }
    const tprof_engine_ops *engine = tprof_parse_engine(engine_name);
    if (engine == NULL) {
        return NULL;
    }
    tprof_module_state *mod = tprof_module_state_of(type);
    if (mod == NULL) {
        return NULL;
    }
    tprof_mode mode;
    if (tprof_parse_mode(clock, cpu, timer, &mode) < 0) {
        return NULL;
    }
    tprof_clock_setup(); /* once per process: the wall clock is chosen here */
    tprof_state *p = (tprof_state *)type->tp_alloc(type, 0);
    if (p == NULL) {
        return NULL;
    }
    p->mod = mod;
    p->mode = mode;
    p->engine = engine;
    p->match_code = engine->match_code;
    p->timeline = timeline;
    p->whole = whole;
    /* in the snapshot's unit: a Python timer's ticks, or nanoseconds */
    double unit =
        (mode == TPROF_MODE_USER && timeunit > 0.0) ? timeunit : 1e-9;
    p->slow_step = (int64_t)(slow_step / unit + 0.5);
    if (slow_step > 0.0 && p->slow_step == 0) {
        p->slow_step = 1;
    }
    p->tasks = whole && tasks;
    p->steps = p->tasks || p->slow_step > 0;
    p->tl_sink.fd = -1;
    p->tl_sink.limit = (uint64_t)timeline_limit;
    p->tl_sink.budget = TPROF_TL_BUDGET;
    p->callback = tprof_recorder_for(mode, timeline);
    p->builtins = builtins;
    p->locks = builtins && locks;
    p->lockop_budget = TPROF_LOCKOP_BUDGET;
    p->seed = seed;
    p->cpu_gap = 20000;
    p->timer = mode == TPROF_MODE_USER ? Py_NewRef(timer) : NULL;
    p->timeunit = timeunit;
    tprof_st_relaxed(&p->gen, tprof_threads_new_gen());
    tprof_threads_init(p);
    tprof_functable_init(&p->funcs);
    p->engine_state = PyMem_Calloc(1, engine->state_size);
    if (p->engine_state == NULL) {
        Py_DECREF(p);
        return PyErr_NoMemory();
    }
    if (tprof_codewatch_join(p) < 0 ||
        (p->locks && tprof_lock_keys_load(p) < 0)) {
        Py_DECREF(p);
        return NULL;
    }
    return (PyObject *)p;
}

static int
tprof_profiler_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    /* everything happened in __new__; subclasses may define __init__ */
    (void)self;
    (void)args;
    (void)kwds;
    return 0;
}

static int
tprof_profiler_traverse(tprof_state *p, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(p));
    Py_VISIT(p->timer);
    Py_VISIT(p->exit_hook);
    if (p->engine_state != NULL) {
        return p->engine->traverse(p->engine_state, visit, arg);
    }
    return 0;
}

static int
tprof_profiler_clear_refs(tprof_state *p)
{
    Py_CLEAR(p->timer);
    Py_CLEAR(p->exit_hook);
    memset(p->exit_keys, 0, sizeof(p->exit_keys));
    if (p->engine_state != NULL) {
        p->engine->clear(p->engine_state);
    }
    return 0;
}

static void
tprof_profiler_dealloc(tprof_state *p)
{
    /* an enabled profiler is referenced by tprof_active, so never freed */
    PyObject_GC_UnTrack(p);
    if (TPROF_PROFILER(p)->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)p);
    }
    tprof_codewatch_leave(p);
    tprof_threads_drop_all(p);
    tprof_functable_free(&p->funcs);
    tprof_profiler_clear_refs(p);
    PyMem_Free(p->engine_state);
    Py_CLEAR(p->threading_active);
    Py_CLEAR(p->own_prefix);
    Py_CLEAR(p->error_text);
    Py_CLEAR(p->mon_missing);
    tprof_tasks_release(p);
    tprof_timeline_close(&p->tl_sink);
    PyTypeObject *type = Py_TYPE(p);
    type->tp_free((PyObject *)p);
    Py_DECREF(type);
}

/* threading._active, to learn thread names without running Python code. */
static PyObject *
tprof_threading_active(void)
{
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *active = NULL;
    if (threading != NULL) {
        active = PyObject_GetAttrString(threading, "_active");
        Py_DECREF(threading);
    }
    if (active != NULL && !PyDict_Check(active)) {
        Py_CLEAR(active);
    }
    PyErr_Clear();
    return active;
}

/* -- enable / disable -------------------------------------------------------
 */

static int tprof_profiler_stop(tprof_state *p);

/* threadprof's package directory with a trailing separator, so that frames
 * of threadprof itself are not entered when seeding stacks. */
static PyObject *
tprof_own_prefix(void)
{
    PyObject *mod = PyImport_ImportModule("threadprof");
    if (mod == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *file = PyObject_GetAttrString(mod, "__file__");
    Py_DECREF(mod);
    if (file == NULL || !PyUnicode_Check(file)) {
        PyErr_Clear();
        Py_XDECREF(file);
        return NULL;
    }
    Py_ssize_t sep =
        PyUnicode_FindChar(file, '/', 0, PyUnicode_GetLength(file), -1);
    PyObject *prefix = sep < 0 ? NULL : PyUnicode_Substring(file, 0, sep + 1);
    Py_DECREF(file);
    return prefix;
}

/* Make p the enabled profiler (taking a reference) unless another one is. */
static int
tprof_profiler_claim(tprof_state *p)
{
    Py_INCREF(p);
    if (!tprof_cas(&tprof_active, NULL, p)) {
        Py_DECREF(p);
        return 0;
    }
    return 1;
}

static PyObject *
tprof_profiler_enable_impl(tprof_state *p)
{
    if (p->enabled) {
        Py_RETURN_NONE; /* as cProfile: enabling twice is harmless */
    }
    if (tprof_active_get() != NULL) {
        PyErr_SetString(p->mod->error,
                        "another threadprof profiler is already running in "
                        "this process: stop it first");
        return NULL;
    }
    int64_t now;
    if (tprof_state_now(p, &now) < 0) {
        return NULL;
    }
    if (!p->started) {
        p->origin = now;
        p->start_time = tprof_realtime();
        p->started = 1;
    }
    if (p->own_prefix == NULL) {
        p->own_prefix = tprof_own_prefix();
    }
    if (p->engine->prepare(p, p->engine_state) < 0) {
        return NULL;
    }
    if (p->threading_active == NULL) {
        p->threading_active = tprof_threading_active();
    }
    if (p->timeline && p->tl_sink.limit == 0 &&
        (p->tl_sink.fd < 0 ? tprof_timeline_open_spill(&p->tl_sink)
                           : tprof_timeline_own_spill(&p->tl_sink)) < 0)
    {
        PyErr_SetFromErrno(PyExc_OSError);
        return NULL;
    }
    /* Claimed but not published (tprof_active_get) until the hooks are in:
     * installing may run Python code and let another thread in, and a stop
     * that ran then would leave hooks installed after it. */
    p->installer = PyThread_get_thread_ident();
    tprof_st_release(&p->installing, 1);
    if (!tprof_profiler_claim(p)) {
        tprof_st_release(&p->installing, 0);
        PyErr_SetString(p->mod->error,
                        "another threadprof profiler is already running in "
                        "this process: stop it first");
        return NULL;
    }
    p->start_ticks = now;
    tprof_st_seqcst(&p->enabled, 1);
    int rc = p->engine->install(p, p->engine_state);
    tprof_st_release(&p->installing, 0);
    if (rc < 0) {
        tprof_saved_error saved;
        tprof_error_save(&saved);
        tprof_profiler_stop(p);
        tprof_error_restore(&saved);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* disable() while another thread is in enable(): wait until it is done. From
 * the installing thread itself (Python code run by an install step), refuse.
 */
static int
tprof_profiler_wait_installed(tprof_state *p)
{
    if (!tprof_ld_acquire(&p->installing)) {
        return 0;
    }
    if (p->installer == PyThread_get_thread_ident()) {
        PyErr_SetString(p->mod->error,
                        "this profiler is being enabled by this thread: "
                        "disable it once enable() has returned");
        return -1;
    }
    while (tprof_ld_acquire(&p->installing)) {
        Py_BEGIN_ALLOW_THREADS
        sched_yield();
        Py_END_ALLOW_THREADS
    }
    return 0;
}

/* Free-threaded builds: wait until no callback of another thread is paused
 * inside p (state.h). Removing the engine stopped the world, so no other
 * callback can still be running. */
static void
tprof_profiler_quiesce(tprof_state *p)
{
#if TPROF_FREE_THREADED
    int own = tprof_tls.paused == p; /* disable() called from a Python timer */
    while (tprof_ld_seqcst(&p->busy) > own) {
        Py_BEGIN_ALLOW_THREADS
        sched_yield();
        Py_END_ALLOW_THREADS
    }
#else
    (void)p;
#endif
}

static int
tprof_profiler_stop(tprof_state *p)
{
    p->engine->check(p, p->engine_state);
    tprof_st_seqcst(&p->enabled, 0);
    p->engine->remove(p, p->engine_state);
    tprof_profiler_quiesce(p);

    int64_t now = 0;
    int rc = tprof_state_now(p, &now);
    if (rc < 0) {
        /* the timer failed: close at each thread's last time */
        PyErr_Clear();
        tprof_fail(p, TPROF_ERR_TIMER);
    }
    for (tprof_thread *ts = tprof_threads_first(p); ts;
         ts = tprof_threads_next(ts))
    {
        int64_t cpu = ts->cpu_now;
        if (tprof_tls.gen == tprof_gen_of(p) && tprof_tls.ts == ts) {
            cpu = tprof_cpu_now(p, ts);
        }
        int64_t at = rc < 0 ? ts->last_wall : now;
        if (ts->stack.top > ts->stack.frames) {
            ts->last_wall = at;
        }
        tprof_unwind(p, ts, at, cpu);
        tprof_thread_refresh_name(p, ts);
    }
    if (rc == 0) {
        p->run_ticks += now - p->start_ticks;
    }
    if (tprof_threads_reap(p)) {
        tprof_codewatch_rechain(p);
    }
    if (tprof_ld_acquire(&tprof_active) == p) {
        tprof_st_release(&tprof_active, NULL);
        Py_DECREF(p);
    }
    return 0;
}

static PyObject *
tprof_profiler_disable_impl(tprof_state *p)
{
    if (tprof_profiler_wait_installed(p) < 0) {
        return NULL;
    }
    if (!p->enabled) {
        Py_RETURN_NONE; /* as cProfile: disabling twice is harmless */
    }
    Py_INCREF(p);
    tprof_profiler_stop(p);
    unsigned fresh = p->errors & ~TPROF_PROFILER(p)->reported;
    PyObject *res = Py_None;
    if (fresh) {
        TPROF_PROFILER(p)->reported |= fresh;
        PyObject *errors = tprof_snapshot_errors(p);
        if (errors != NULL) {
            PyObject *sep = PyUnicode_FromString("; ");
            PyObject *text = sep ? PyUnicode_Join(sep, errors) : NULL;
            if (text != NULL) {
                PyErr_SetObject(p->mod->error, text);
            }
            Py_XDECREF(text);
            Py_XDECREF(sep);
            Py_DECREF(errors);
        }
        res = NULL;
    }
    Py_DECREF(p);
    return Py_XNewRef(res);
}

static PyObject *
tprof_profiler_clear_impl(tprof_state *p)
{
    tprof_threads_retire_all(p);
    p->errors = TPROF_PROFILER(p)->reported = 0;
    Py_CLEAR(p->error_text);
    p->run_ticks = 0;
    p->started = 0;
    p->tl_sink.held = 0; /* the retired records append no more */
    tprof_st_seqcst(&p->lockop_bytes, 0);
    if (p->enabled) {
        int64_t now;
        if (tprof_state_now(p, &now) < 0) {
            return NULL;
        }
        p->origin = p->start_ticks = now;
        p->started = 1;
    }
    if (tprof_threads_reap(p)) {
        tprof_codewatch_rechain(p);
    }
    Py_RETURN_NONE;
}

static PyObject *
tprof_profiler_raw_snapshot_impl(tprof_state *p)
{
    if (p->enabled) {
        p->engine->check(p, p->engine_state);
    }
    return tprof_snapshot_build(p);
}

static PyObject *
tprof_profiler_attach_current_impl(tprof_state *p)
{
    if (!p->enabled) {
        PyErr_SetString(p->mod->error, "this profiler is not running");
        return NULL;
    }
    p->engine->attach_current(p, p->engine_state);
    if (tprof_tls.gen == tprof_gen_of(p) && tprof_tls.ts == NULL) {
        tprof_tls.gen = 0; /* detached before: attach again */
    }
    if (tprof_attach_current(p) == NULL) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

static PyObject *
tprof_profiler_detach_current_impl(tprof_state *p)
{
    if (!p->enabled) {
        PyErr_SetString(p->mod->error, "this profiler is not running");
        return NULL;
    }
    p->engine->detach_current(p, p->engine_state);
    tprof_thread *ts = tprof_tls.gen == tprof_gen_of(p) ? tprof_tls.ts : NULL;
    if (ts != NULL) {
        int64_t now;
        if (tprof_state_now(p, &now) < 0) {
            return NULL;
        }
        int64_t cpu = tprof_cpu_now(p, ts);
        tprof_unwind(p, ts, now, cpu);
        ts->last_wall = now;
        ts->detached = 1;
    }
    /* events of this thread are ignored until it attaches again */
    tprof_tls.gen = tprof_gen_of(p);
    tprof_tls.ts = NULL;
    Py_RETURN_NONE;
}

/* Bytes of core memory held by the records and the function table. */
static PyObject *
tprof_profiler_memory_impl(tprof_state *p)
{
    size_t total = tprof_seg_bytes(&p->funcs.funcs) +
                   (size_t)p->funcs.cap * sizeof(uint32_t) +
                   tprof_threads_bytes(p);
    return PyLong_FromSize_t(total);
}

/* Whether anything has been recorded (a snapshot would have data). */
static PyObject *
tprof_profiler_recorded_impl(tprof_state *p)
{
    return PyBool_FromLong(tprof_snapshot_recorded(p));
}

static PyObject *
tprof_profiler_get_enabled(tprof_state *p, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(p->enabled);
}

static PyObject *
tprof_profiler_get_timeline(tprof_state *p, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(p->timeline);
}

static PyObject *
tprof_profiler_get_clock(tprof_state *p, void *Py_UNUSED(closure))
{
    static const char *names[] = {"wall", "wall", "cpu", "user"};
    return PyUnicode_FromString(names[p->mode]);
}

static PyObject *
tprof_profiler_get_timeline_budget(tprof_state *p, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLongLong(p->tl_sink.budget);
}

static int
tprof_profiler_set_timeline_budget(tprof_state *p, PyObject *value,
                                   void *Py_UNUSED(closure))
{
    unsigned long long v = value ? PyLong_AsUnsignedLongLong(value) : 0;
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    p->tl_sink.budget = v;
    return 0;
}

static PyObject *
tprof_profiler_get_timeline_fd(tprof_state *p, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(p->tl_sink.fd);
}

static PyObject *
tprof_profiler_get_engine(tprof_state *p, void *Py_UNUSED(closure))
{
    return PyUnicode_FromString(p->engine->name);
}

static PyObject *
tprof_profiler_get_cpu_gap(tprof_state *p, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(p->cpu_gap);
}

static int
tprof_profiler_set_cpu_gap(tprof_state *p, PyObject *value,
                           void *Py_UNUSED(closure))
{
    long long v = value ? PyLong_AsLongLong(value) : -1;
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "cpu_gap must be >= 0 ns");
        return -1;
    }
    p->cpu_gap = v;
    return 0;
}

/* The methods, each under the profiler's critical section: on a
 * free-threaded build two threads may call them at once. */
#define TPROF_LOCKED_METHOD(NAME)                                        \
    static PyObject *tprof_profiler_##NAME(tprof_state *p,               \
                                           PyObject *Py_UNUSED(ignored)) \
    {                                                                    \
        PyObject *res;                                                   \
        TPROF_BEGIN_CRITICAL(p);                                         \
        res = tprof_profiler_##NAME##_impl(p);                           \
        TPROF_END_CRITICAL();                                            \
        return res;                                                      \
    }
TPROF_LOCKED_METHOD(enable)
TPROF_LOCKED_METHOD(disable)
TPROF_LOCKED_METHOD(clear)
TPROF_LOCKED_METHOD(raw_snapshot)
TPROF_LOCKED_METHOD(memory)
TPROF_LOCKED_METHOD(recorded)
TPROF_LOCKED_METHOD(attach_current)
TPROF_LOCKED_METHOD(detach_current)

/* The method def of os.NAME in keys[i], if it is a built-in (absent: NULL);
 * -1 with an exception set only if `os` cannot be imported. */
static int
tprof_os_method(const char *const *names, const void **keys, int n)
{
    PyObject *os = PyImport_ImportModule("os");
    if (os == NULL) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject *f = PyObject_GetAttrString(os, names[i]);
        if (f == NULL) {
            PyErr_Clear();
            continue;
        }
        keys[i] = PyCFunction_Check(f) ? ((PyCFunctionObject *)f)->m_ml : NULL;
        Py_DECREF(f);
    }
    Py_DECREF(os);
    return 0;
}

/* _set_exit_hook(hook): call hook() when the program calls os._exit, or
 * os.execv or os.execve (every os.exec* function ends in one of them), at
 * the event of that call (C calls must be recorded: builtins=True), before
 * it runs; None removes it. The hook may stop this profiler. */
static PyObject *
tprof_profiler_set_exit_hook(tprof_state *p, PyObject *hook)
{
    static const char *const names[TPROF_EXIT_KEYS] = {"_exit", "execv",
                                                       "execve"};
    const void *keys[TPROF_EXIT_KEYS] = {NULL};
    if (hook == Py_None) {
        hook = NULL;
    }
    else if (!PyCallable_Check(hook)) {
        PyErr_SetString(PyExc_TypeError, "the exit hook must be callable");
        return NULL;
    }
    else {
        if (tprof_os_method(names, keys, TPROF_EXIT_KEYS) < 0) {
            return NULL;
        }
        if (keys[0] == NULL) {
            PyErr_SetString(PyExc_TypeError, "os._exit is not a built-in");
            return NULL;
        }
    }
    TPROF_BEGIN_CRITICAL(p);
    Py_XSETREF(p->exit_hook, Py_XNewRef(hook));
    memcpy(p->exit_keys, keys, sizeof(keys));
    TPROF_END_CRITICAL();
    Py_RETURN_NONE;
}

static PyMethodDef tprof_profiler_methods[] = {
    {"_set_exit_hook", (PyCFunction)tprof_profiler_set_exit_hook, METH_O,
     "Call hook() when the program calls os._exit, os.execv or os.execve, "
     "before it runs."},
    {"enable", (PyCFunction)tprof_profiler_enable, METH_NOARGS,
     "Start profiling every thread of the process."},
    {"disable", (PyCFunction)tprof_profiler_disable, METH_NOARGS,
     "Stop profiling; frames still open are closed now. Raises "
     "ProfilerError if data was lost while profiling."},
    {"clear", (PyCFunction)tprof_profiler_clear, METH_NOARGS,
     "Forget everything recorded so far (safe while running)."},
    {"_raw_snapshot", (PyCFunction)tprof_profiler_raw_snapshot, METH_NOARGS,
     "The recorded data as plain Python objects (see threadprof.api)."},
    {"_memory", (PyCFunction)tprof_profiler_memory, METH_NOARGS,
     "Bytes of memory the core holds for this profiler's data."},
    {"_recorded", (PyCFunction)tprof_profiler_recorded, METH_NOARGS,
     "Whether any call has been recorded: a snapshot would have data."},
    {"attach_current_thread", (PyCFunction)tprof_profiler_attach_current,
     METH_NOARGS,
     "Profile the calling thread from now on (for threads created in C)."},
    {"detach_current_thread", (PyCFunction)tprof_profiler_detach_current,
     METH_NOARGS,
     "Stop profiling the calling thread; its open frames are closed now."},
    {NULL, NULL, 0, NULL},
};

static PyObject *
tprof_profiler_get_coroutines(tprof_state *p, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(p->whole ? "whole" : "resume");
}

static PyGetSetDef tprof_profiler_getset[] = {
    {"enabled", (getter)tprof_profiler_get_enabled, NULL,
     "True while this profiler is recording.", NULL},
    {"clock", (getter)tprof_profiler_get_clock, NULL,
     "'wall', 'cpu' or 'user' (a timer callable).", NULL},
    {"timeline", (getter)tprof_profiler_get_timeline, NULL,
     "True if this profiler records a timeline of every call and return.",
     NULL},
    {"_timeline_budget", (getter)tprof_profiler_get_timeline_budget,
     (setter)tprof_profiler_set_timeline_budget,
     "Timeline events all threads may hold in memory before they spill.",
     NULL},
    {"_timeline_fd", (getter)tprof_profiler_get_timeline_fd, NULL,
     "The timeline spill file (a descriptor; -1 if none).", NULL},
    {"engine", (getter)tprof_profiler_get_engine, NULL,
     "'legacy' (a profile function per thread) or 'monitoring' "
     "(sys.monitoring).",
     NULL},
    {"coroutines", (getter)tprof_profiler_get_coroutines, NULL,
     "'whole' (a generator-like call counts once, its awaits in its wall "
     "time) or 'resume' (each resume is a call, as in cProfile).",
     NULL},
    {"cpu_gap", (getter)tprof_profiler_get_cpu_gap,
     (setter)tprof_profiler_set_cpu_gap,
     "Wall gap (ns) from which the thread CPU clock is read "
     "(clock='wall' with cpu=True).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef tprof_profiler_members[] = {
    {"__weaklistoffset__", Py_T_PYSSIZET,
     offsetof(tprof_profiler, weakreflist), Py_READONLY, NULL},
    {"_lean_snapshots", Py_T_INT, offsetof(tprof_state, lean_snapshots), 0,
     "Non-zero: snapshots leave the timelines out (after a MemoryError)."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot tprof_profiler_slots[] = {
    {Py_tp_new, tprof_profiler_new},
    {Py_tp_init, tprof_profiler_init},
    {Py_tp_dealloc, tprof_profiler_dealloc},
    {Py_tp_traverse, tprof_profiler_traverse},
    {Py_tp_clear, tprof_profiler_clear_refs},
    {Py_tp_methods, tprof_profiler_methods},
    {Py_tp_getset, tprof_profiler_getset},
    {Py_tp_members, tprof_profiler_members},
    /* the signature (threadprof/options.py is the list of the options) */
    {Py_tp_doc, "Profiler(timer=None, timeunit=0.0, subcalls=True, "
                "builtins=True, *, clock='wall', cpu=True, "
                "seed_stacks=False, engine='auto', timeline=False, "
                "timeline_limit=0, coroutines='resume', "
                "slow_step=0.1, tasks=True, locks=True)\n--\n\nThe C recorder "
                "of every thread."},
    {0, NULL},
};

static PyType_Spec tprof_profiler_spec = {
    .name = "threadprof._core.Profiler",
    .basicsize = sizeof(tprof_profiler),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = tprof_profiler_slots,
};

void
tprof_profiler_after_fork(tprof_state *p)
{
    /* Only the forking thread lives on: no other thread can touch a record,
     * so they can all go. The survivor attaches afresh on its next event. */
    tprof_threads_drop_all(p);
    tprof_codewatch_rechain(p);
    p->tl_sink.held = 0;
    p->busy = 0;
    tprof_st_relaxed(&p->gen, tprof_threads_new_gen());
    p->errors = TPROF_PROFILER(p)->reported = 0;
    p->global_warnings = 0;
    p->missed_threads = 0;
    p->unseen_threads = 0;
    Py_CLEAR(p->error_text);
    p->run_ticks = 0;
    p->started = 0;
    if (p->tl_sink.fd >= 0) {
        /* the parent keeps writing the inherited spill file: a new one for
         * this process (the records that pointed there were dropped above) */
        (void)tprof_timeline_fork_spill(&p->tl_sink); /* or a ring */
    }
    int64_t now;
    if (p->enabled && tprof_state_now(p, &now) == 0) {
        p->origin = p->start_ticks = now;
        p->start_time = tprof_realtime();
        p->started = 1;
    }
    PyErr_Clear();
}

void
tprof_profiler_forget_active(void)
{
    tprof_st_release(&tprof_active, NULL);
}

PyObject *
tprof_profiler_type_create(PyObject *module)
{
    return PyType_FromModuleAndSpec(module, &tprof_profiler_spec, NULL);
}
