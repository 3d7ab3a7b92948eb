/* SPDX-License-Identifier: MIT */
#include "engine.h"
#include "threads.h"

#include <string.h>

/* The functions through which threading and _thread start threads. While
 * the engine is installed each one that exists is replaced by a wrapper that
 * hands the original a trampoline around the thread's function; in the new
 * thread the trampoline installs the recorder before the first Python call.
 * threading keeps its own references, so both modules are patched. */
static const struct {
    const char *module;
    const char *name;
} tprof_starters[] = {
    {"_thread", "start_new_thread"},
    {"_thread", "start_new"},
    {"_thread", "start_joinable_thread"}, /* 3.13+ */
    {"threading", "_start_new_thread"},
    {"threading", "_start_joinable_thread"}, /* 3.13+ */
};
#define TPROF_NSTARTERS (sizeof(tprof_starters) / sizeof(tprof_starters[0]))

/* The legacy engine's own state: the starters it replaced. */
typedef struct tprof_legacy {
    PyObject *original[TPROF_NSTARTERS]; /* NULL: absent, or not replaced */
    PyObject *wrapper[TPROF_NSTARTERS];
} tprof_legacy;

/* Non-zero while this thread is setting hooks for threadprof itself, so that
 * the audit hook below does not take threadprof's own calls for a rival's. */
static TPROF_TLS int tprof_own_call;

/* PyEval_SetProfile on the calling thread, on threadprof's behalf. */
static void
tprof_set_profile(Py_tracefunc func, PyObject *obj)
{
    tprof_own_call++;
    PyEval_SetProfile(func, obj);
    tprof_own_call--;
}

/* Audit hook: a thread that replaces its profile function (sys.setprofile,
 * PyEval_SetProfile by another profiler) is flagged at once, even if it exits
 * before the next snapshot. Audit hooks stay for the life of the process, so
 * this one is added on the first use of the legacy engine and costs one
 * string compare per audited event. */
static int tprof_is_trampoline(PyObject *obj);

static int
tprof_audit(const char *event, PyObject *args, void *Py_UNUSED(data))
{
    tprof_state *p = tprof_active_get();
    if (p == NULL || !tprof_ld_relaxed(&p->enabled) ||
        p->engine != &tprof_legacy_engine || tprof_own_call != 0)
    {
        return 0;
    }
    if (strcmp(event, "sys.setprofile") == 0 &&
        tprof_tls.gen == tprof_gen_of(p) && tprof_tls.ts != NULL)
    {
        tprof_tls.ts->warnings |= TPROF_WARN_HOOK_REPLACED;
    }
    else if ((strcmp(event, "_thread.start_new_thread") == 0 ||
              strcmp(event, "_thread.start_joinable_thread") == 0) &&
             PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0 &&
             !tprof_is_trampoline(PyTuple_GET_ITEM(args, 0)))
    {
        /* started through a reference taken before the wrappers: missed */
        tprof_add_relaxed(&p->missed_threads, 1);
    }
    return 0;
}

static int tprof_audit_installed;

int
tprof_legacy_audit_install(void)
{
    if (!tprof_audit_installed) {
        if (PySys_AddAuditHook(tprof_audit, NULL) < 0) {
            return -1;
        }
        tprof_audit_installed = 1;
    }
    return 0;
}

void
tprof_legacy_audit_forget(void)
{
    tprof_audit_installed = 0;
}

/* Replaces the recorder on stop; removes itself from its thread the first
 * time it runs. Being a valid function forever is its whole point. */
static int
tprof_tombstone(PyObject *Py_UNUSED(obj), PyFrameObject *Py_UNUSED(frame),
                int Py_UNUSED(what), PyObject *Py_UNUSED(arg))
{
    tprof_set_profile(NULL, NULL);
    return 0;
}

static int
tprof_set_profile_all(Py_tracefunc func, PyObject *obj)
{
#if TPROF_HAVE_SET_PROFILE_ALL
    tprof_own_call++;
    PyEval_SetProfileAllThreads(func, obj);
    tprof_own_call--;
    return 0;
#else
    int rc = 0;
    tprof_own_call++;
    PyThreadState *me = PyThreadState_Get();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(me);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts))
    {
        if (_PyEval_SetProfile(ts, func, obj) < 0) {
            rc = -1;
            break;
        }
    }
    tprof_own_call--;
    return rc;
#endif
}

/* -- the trampoline and the starters' wrappers
 * -------------------------------------------------------- */

/* Called by the original starter in the new thread, with the arguments meant
 * for the thread's function (its `self`): install the recorder of the running
 * legacy profiler, if any, then run the function. */
static PyObject *
tprof_trampoline(PyObject *func, PyObject *args, PyObject *kwargs)
{
    /* claimed, even if enable() is still installing (not yet published):
     * its walk over the threads may have passed this one already */
    tprof_state *p = tprof_ld_acquire(&tprof_active);
    if (p != NULL && p->engine == &tprof_legacy_engine) {
        Py_INCREF(p);
        /* Setting a hook stops the world (free-threaded), and a stop may run
         * meanwhile: count in `busy` so that it waits for us, and look again
         * once the hook is set. */
        tprof_event_may_pause(p);
        if (tprof_ld_seqcst(&p->enabled)) {
            tprof_set_profile(p->callback, (PyObject *)p);
            if (!tprof_ld_seqcst(&p->enabled)) {
                tprof_set_profile(NULL, NULL);
            }
        }
        tprof_event_resumed(p);
        tprof_event_end();
        Py_DECREF(p);
    }
    return PyObject_Call(func, args, kwargs);
}

static PyMethodDef tprof_trampoline_def = {
    "_threadprof_thread",
    (PyCFunction)(void (*)(void))tprof_trampoline,
    METH_VARARGS | METH_KEYWORDS,
    "Installs threadprof's recorder in a new thread, then runs its function.",
};

static int
tprof_is_trampoline(PyObject *obj)
{
    return PyCFunction_Check(obj) &&
           ((PyCFunctionObject *)obj)->m_ml == &tprof_trampoline_def;
}

/* A replaced starter (its `self` is the original): the thread's function, if
 * callable, goes to the original inside a trampoline; anything else goes as
 * it came, so that the original reports the error. */
static PyObject *
tprof_start_wrapper(PyObject *original, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) < 1 ||
        !PyCallable_Check(PyTuple_GET_ITEM(args, 0))) {
        return PyObject_Call(original, args, kwargs);
    }
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    PyObject *wrapped = PyTuple_New(n);
    if (wrapped == NULL) {
        return NULL;
    }
    PyObject *tramp =
        PyCFunction_New(&tprof_trampoline_def, PyTuple_GET_ITEM(args, 0));
    if (tramp == NULL) {
        Py_DECREF(wrapped);
        return NULL;
    }
    PyTuple_SET_ITEM(wrapped, 0, tramp);
    for (Py_ssize_t i = 1; i < n; i++) {
        PyTuple_SET_ITEM(wrapped, i, Py_NewRef(PyTuple_GET_ITEM(args, i)));
    }
    PyObject *res = PyObject_Call(original, wrapped, kwargs);
    Py_DECREF(wrapped);
    return res;
}

/* The wrappers' definitions: one named as each original, so that a profile
 * shows the call of a starter as it would without the wrapper, and one for
 * starters that are not built-in functions (another tool's replacement). */
#define TPROF_START_WRAPPER(name)                                         \
    {                                                                     \
        name, (PyCFunction)(void (*)(void))tprof_start_wrapper,           \
            METH_VARARGS | METH_KEYWORDS,                                 \
            "Starts a thread as the function it replaces does, profiled " \
            "from its "                                                   \
            "first call by threadprof."                                   \
    }
static PyMethodDef tprof_start_wrapper_defs[] = {
    TPROF_START_WRAPPER("start_new_thread"), TPROF_START_WRAPPER("start_new"),
    TPROF_START_WRAPPER("start_joinable_thread"),
    TPROF_START_WRAPPER("_threadprof_start_thread"), /* the last: any other */
};
#define TPROF_NWRAPPER_DEFS \
    (sizeof(tprof_start_wrapper_defs) / sizeof(tprof_start_wrapper_defs[0]))

static int
tprof_is_wrapper(PyObject *obj)
{
    if (!PyCFunction_Check(obj)) {
        return 0;
    }
    PyMethodDef *ml = ((PyCFunctionObject *)obj)->m_ml;
    return ml >= tprof_start_wrapper_defs &&
           ml < tprof_start_wrapper_defs + TPROF_NWRAPPER_DEFS;
}

/* A wrapper around `orig`, named and placed as it is. */
static PyObject *
tprof_new_wrapper(PyObject *orig)
{
    size_t i = TPROF_NWRAPPER_DEFS - 1;
    PyObject *module = NULL;
    if (PyCFunction_Check(orig)) {
        PyCFunctionObject *fn = (PyCFunctionObject *)orig;
        for (size_t j = 0; j + 1 < TPROF_NWRAPPER_DEFS; j++) {
            if (strcmp(fn->m_ml->ml_name,
                       tprof_start_wrapper_defs[j].ml_name) == 0) {
                i = j;
                module = fn->m_module;
                break;
            }
        }
    }
    return PyCFunction_NewEx(&tprof_start_wrapper_defs[i], orig, module);
}

/* Replace each starter that exists with a wrapper. */
static int
tprof_wrap_starters(tprof_legacy *lg)
{
    for (size_t i = 0; i < TPROF_NSTARTERS; i++) {
        PyObject *mod = tprof_loaded_module(tprof_starters[i].module);
        if (mod == NULL) {
            continue;
        }
        PyObject *orig = PyObject_GetAttrString(mod, tprof_starters[i].name);
        if (orig == NULL) {
            PyErr_Clear();
            Py_DECREF(mod);
            continue;
        }
        if (tprof_is_wrapper(orig)) { /* left by a profiler that lost it */
            Py_SETREF(orig, Py_NewRef(PyCFunction_GET_SELF(orig)));
        }
        PyObject *wrapper = tprof_new_wrapper(orig);
        int rc =
            wrapper == NULL
                ? -1
                : PyObject_SetAttrString(mod, tprof_starters[i].name, wrapper);
        Py_DECREF(mod);
        if (rc < 0) {
            Py_DECREF(orig);
            Py_XDECREF(wrapper);
            return -1;
        }
        lg->original[i] = orig;
        lg->wrapper[i] = wrapper;
    }
    return 0;
}

/* Put the originals back where the wrappers still are; say so where another
 * tool replaced a wrapper meanwhile (threads it starts may be missed). */
static void
tprof_unwrap_starters(tprof_state *p, tprof_legacy *lg)
{
    for (size_t i = 0; i < TPROF_NSTARTERS; i++) {
        if (lg->wrapper[i] == NULL) {
            continue;
        }
        PyObject *mod = tprof_loaded_module(tprof_starters[i].module);
        PyObject *now =
            mod ? PyObject_GetAttrString(mod, tprof_starters[i].name) : NULL;
        if (now == lg->wrapper[i]) {
            if (PyObject_SetAttrString(mod, tprof_starters[i].name,
                                       lg->original[i]) < 0) {
                PyErr_WriteUnraisable((PyObject *)p);
            }
        }
        else {
            p->global_warnings |= TPROF_GWARN_THREADING_HOOK;
        }
        PyErr_Clear();
        Py_XDECREF(now);
        Py_XDECREF(mod);
        Py_CLEAR(lg->original[i]);
        Py_CLEAR(lg->wrapper[i]);
    }
}

/* -- install and remove
 * -------------------------------------------------------- */

static int
tprof_legacy_install(tprof_state *p, void *es)
{
    if (tprof_legacy_audit_install() < 0) {
        return -1;
    }
    /* Threads started from now on get the trampoline ... */
    if (tprof_wrap_starters(es) < 0) {
        return -1;
    }
    /* ... and every running thread gets the recorder now. */
    if (tprof_set_profile_all(p->callback, (PyObject *)p) < 0) {
        return -1;
    }
    return 0;
}

static void
tprof_legacy_remove(tprof_state *p, void *es)
{
    tprof_saved_error saved;
    tprof_error_save(&saved);
    /* first the running threads, so that the calls below are not recorded */
    if (tprof_set_profile_all(tprof_tombstone, NULL) < 0) {
        PyErr_WriteUnraisable((PyObject *)p);
    }
    /* the tombstone of this thread can go at once */
    tprof_set_profile(NULL, NULL);
    tprof_unwrap_starters(p, es);
    tprof_error_restore(&saved);
}

static void
tprof_legacy_attach_current(tprof_state *p, void *Py_UNUSED(es))
{
    tprof_set_profile(p->callback, (PyObject *)p);
}

static void
tprof_legacy_detach_current(tprof_state *Py_UNUSED(p), void *Py_UNUSED(es))
{
    tprof_set_profile(NULL, NULL);
}

/* -- checks
 * ----------------------------------------------------------------------- */

static int
tprof_is_ours(tprof_state *p, PyThreadState *ts)
{
    return ts->c_profilefunc == p->callback &&
           ts->c_profileobj == (PyObject *)p;
}

/* The newest record of the thread with this native id, attached or (if
 * `detached`) not, or NULL. */
static tprof_thread *
tprof_find_record(tprof_state *p, unsigned long native_id, int detached)
{
    tprof_thread *found = NULL;
    for (tprof_thread *t = tprof_threads_first(p); t;
         t = tprof_threads_next(t)) {
        if (t->native_id == native_id && (detached || !t->detached)) {
            found = t;
        }
    }
    return found;
}

static tprof_thread *
tprof_record_of(tprof_state *p, unsigned long native_id)
{
    return tprof_find_record(p, native_id, 0);
}

static tprof_thread *
tprof_any_record_of(tprof_state *p, unsigned long native_id)
{
    return tprof_find_record(p, native_id, 1);
}

/* The thread states whose hooks the checks read: every thread's with the
 * GIL; without it only the calling thread's, since another thread's state
 * may be freed while we read it (its replaced hooks are still flagged by the
 * audit hook, tprof_audit). */
static PyThreadState *
tprof_readable_first(PyThreadState *me)
{
#if TPROF_FREE_THREADED
    return me;
#else
    return PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(me));
#endif
}

static PyThreadState *
tprof_readable_next(PyThreadState *ts)
{
#if TPROF_FREE_THREADED
    (void)ts;
    return NULL;
#else
    return PyThreadState_Next(ts);
#endif
}

/* Flag the threads whose hook was replaced, and count those that run
 * without the hook and were never seen (created in C and not attached, or
 * started out of the starters' reach): the snapshot warns about them. */
static void
tprof_legacy_check(tprof_state *p, void *Py_UNUSED(es))
{
    PyThreadState *me = PyThreadState_Get();
    int unseen = 0;
    for (PyThreadState *ts = tprof_readable_first(me); ts != NULL;
         ts = tprof_readable_next(ts))
    {
        if (tprof_is_ours(p, ts)) {
            continue;
        }
        tprof_thread *t = tprof_record_of(p, ts->native_thread_id);
        if (t != NULL) {
            t->warnings |= TPROF_WARN_HOOK_REPLACED;
        }
        else if (tprof_any_record_of(p, ts->native_thread_id) == NULL) {
            /* only a thread inside Python code misses something now: not
             * one that is starting, or a C thread between calls */
            PyFrameObject *frame = PyThreadState_GetFrame(ts);
            unseen += frame != NULL;
            Py_XDECREF(frame);
        }
    }
    tprof_st_relaxed(&p->unseen_threads, unseen);
}

/* The number of threads whose profile hook belongs to another tool. */
static int
tprof_legacy_foreign_hooks(tprof_state *p)
{
    int count = 0;
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = tprof_readable_first(me); ts != NULL;
         ts = tprof_readable_next(ts))
    {
        if (ts->c_profilefunc != NULL &&
            ts->c_profilefunc != tprof_tombstone && !tprof_is_ours(p, ts))
        {
            count++;
        }
    }
    return count;
}

/* Warn before enabling when other tools' hooks are about to be replaced. */
static int
tprof_legacy_prepare(tprof_state *p, void *Py_UNUSED(es))
{
    int foreign = tprof_legacy_foreign_hooks(p);
    if (foreign > 0) {
        p->global_warnings |= TPROF_GWARN_FOREIGN_HOOKS;
        return PyErr_WarnFormat(
            PyExc_RuntimeWarning, 1,
            "threadprof replaces the profile function that another tool "
            "installed in %d thread(s) (sys.setprofile or another "
            "profiler); that tool stops receiving events",
            foreign);
    }
    return 0;
}

static int
tprof_legacy_traverse(void *es, visitproc visit, void *arg)
{
    tprof_legacy *lg = es;
    for (size_t i = 0; i < TPROF_NSTARTERS; i++) {
        Py_VISIT(lg->original[i]);
        Py_VISIT(lg->wrapper[i]);
    }
    return 0;
}

static void
tprof_legacy_clear(void *es)
{
    tprof_legacy *lg = es;
    for (size_t i = 0; i < TPROF_NSTARTERS; i++) {
        Py_CLEAR(lg->original[i]);
        Py_CLEAR(lg->wrapper[i]);
    }
}

const tprof_engine_ops tprof_legacy_engine = {
    .name = "legacy",
    .min_version = 0x030B0000,
    .state_size = sizeof(tprof_legacy),
    .match_code = 0, /* PyTrace_RETURN carries the frame */
    .prepare = tprof_legacy_prepare,
    .install = tprof_legacy_install,
    .remove = tprof_legacy_remove,
    .check = tprof_legacy_check,
    .attach_current = tprof_legacy_attach_current,
    .detach_current = tprof_legacy_detach_current,
    .traverse = tprof_legacy_traverse,
    .clear = tprof_legacy_clear,
};
