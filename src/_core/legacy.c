/* SPDX-License-Identifier: MIT */
#include "engine.h"
#include "threads.h"

#include <string.h>

/* The legacy engine's own state. */
typedef struct tprof_legacy {
    PyObject *bootstrap; /* the threading trampoline */
    PyObject *prev_hook; /* threading's profile hook before enable */
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
static int
tprof_audit(const char *event, PyObject *Py_UNUSED(args),
            void *Py_UNUSED(data))
{
    tprof_state *p = tprof_active_get();
    if (p != NULL && tprof_ld_relaxed(&p->enabled) &&
        p->engine == &tprof_legacy_engine && tprof_own_call == 0 &&
        strcmp(event, "sys.setprofile") == 0 &&
        tprof_tls.gen == tprof_gen_of(p) && tprof_tls.ts != NULL)
    {
        tprof_tls.ts->warnings |= TPROF_WARN_HOOK_REPLACED;
    }
    return 0;
}

int
tprof_legacy_audit_install(void)
{
    static int installed;
    if (!installed) {
        if (PySys_AddAuditHook(tprof_audit, NULL) < 0) {
            return -1;
        }
        installed = 1;
    }
    return 0;
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

static PyObject *
tprof_threading_call(const char *method, PyObject *arg)
{
    PyObject *threading = tprof_loaded_module("threading");
    if (threading == NULL) {
        return NULL;
    }
    PyObject *res = arg ? PyObject_CallMethod(threading, method, "O", arg)
                        : PyObject_CallMethod(threading, method, NULL);
    Py_DECREF(threading);
    return res;
}

/* -- the trampoline for threads started by threading ------------------------
 */

static int
tprof_event_code(PyObject *event)
{
    static const char *names[] = {
        [PyTrace_CALL] = "call",
        [PyTrace_RETURN] = "return",
        [PyTrace_C_CALL] = "c_call",
        [PyTrace_C_RETURN] = "c_return",
        [PyTrace_C_EXCEPTION] = "c_exception",
    };
    if (!PyUnicode_Check(event)) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i] != NULL &&
            PyUnicode_CompareWithASCIIString(event, names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Called as a Python profile function by the first event of a thread that
 * threading started: replace it with the recorder and hand the event on. */
static PyObject *
tprof_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    tprof_state *p = (tprof_state *)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "expected (frame, event, arg)");
        return NULL;
    }
    Py_INCREF(p); /* replacing the hook drops the trampoline's reference */
    /* Setting a hook stops the world, and a stop may run meanwhile: count in
     * `busy` so that it waits for us, and look again once the hook is set. */
    tprof_event_may_pause(p);
    if (tprof_ld_seqcst(&p->enabled)) {
        tprof_set_profile(p->callback, self);
    }
    if (!tprof_ld_seqcst(&p->enabled)) {
        tprof_set_profile(NULL, NULL);
        tprof_event_resumed(p);
        tprof_event_end();
        Py_DECREF(p);
        Py_RETURN_NONE;
    }
    tprof_event_resumed(p);
    tprof_event_end(); /* the recorder counts itself from here on */
    int what = tprof_event_code(args[1]);
    if (what >= 0 && PyFrame_Check(args[0])) {
        PyObject *arg = args[2] == Py_None ? NULL : args[2];
        p->callback(self, (PyFrameObject *)args[0], what, arg);
    }
    Py_DECREF(p);
    Py_RETURN_NONE;
}

static PyMethodDef tprof_bootstrap_def = {
    "_threadprof_bootstrap",
    (PyCFunction)(void (*)(void))tprof_bootstrap,
    METH_FASTCALL,
    "Installs threadprof's recorder in a thread started by threading.",
};

/* -- install and remove
 * -------------------------------------------------------- */

static int
tprof_legacy_install(tprof_state *p, void *es)
{
    tprof_legacy *lg = es;
    if (tprof_legacy_audit_install() < 0) {
        return -1;
    }
    if (lg->bootstrap == NULL) {
        lg->bootstrap = PyCFunction_New(&tprof_bootstrap_def, (PyObject *)p);
        if (lg->bootstrap == NULL) {
            return -1;
        }
    }
    /* Threads started from now on get the trampoline ... */
    PyObject *prev = tprof_threading_call("getprofile", NULL);
    if (prev == NULL) {
        return -1;
    }
    Py_XSETREF(lg->prev_hook, prev);
    PyObject *res = tprof_threading_call("setprofile", lg->bootstrap);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    /* ... and every running thread gets the recorder now. */
    if (tprof_set_profile_all(p->callback, (PyObject *)p) < 0) {
        return -1;
    }
    return 0;
}

static void
tprof_legacy_remove(tprof_state *p, void *es)
{
    tprof_legacy *lg = es;
    tprof_saved_error saved;
    tprof_error_save(&saved);
    /* first the running threads, so that the calls below are not recorded */
    if (tprof_set_profile_all(tprof_tombstone, NULL) < 0) {
        PyErr_WriteUnraisable((PyObject *)p);
    }
    /* the tombstone of this thread can go at once */
    tprof_set_profile(NULL, NULL);
    PyObject *current = tprof_threading_call("getprofile", NULL);
    if (current != NULL && current == lg->bootstrap) {
        PyObject *res = tprof_threading_call(
            "setprofile", lg->prev_hook ? lg->prev_hook : Py_None);
        Py_XDECREF(res);
    }
    else if (current != NULL) {
        p->global_warnings |= TPROF_GWARN_THREADING_HOOK;
    }
    Py_XDECREF(current);
    Py_CLEAR(lg->prev_hook);
    Py_CLEAR(lg->bootstrap);
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
tprof_is_ours(tprof_state *p, tprof_legacy *lg, PyThreadState *ts)
{
    if (ts->c_profilefunc == p->callback && ts->c_profileobj == (PyObject *)p)
    {
        return 1;
    }
    /* a thread that threading started and that has not run yet */
    return lg->bootstrap != NULL && ts->c_profileobj == lg->bootstrap;
}

/* The newest record of the thread with this native id, or NULL. */
static tprof_thread *
tprof_record_of(tprof_state *p, unsigned long native_id)
{
    tprof_thread *found = NULL;
    for (tprof_thread *t = tprof_threads_first(p); t;
         t = tprof_threads_next(t)) {
        if (t->native_id == native_id && !t->detached) {
            found = t;
        }
    }
    return found;
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

static void
tprof_legacy_check(tprof_state *p, void *es)
{
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = tprof_readable_first(me); ts != NULL;
         ts = tprof_readable_next(ts))
    {
        if (tprof_is_ours(p, es, ts)) {
            continue;
        }
        tprof_thread *t = tprof_record_of(p, ts->native_thread_id);
        if (t != NULL) {
            t->warnings |= TPROF_WARN_HOOK_REPLACED;
        }
    }
}

/* The number of threads whose profile hook belongs to another tool. */
static int
tprof_legacy_foreign_hooks(tprof_state *p, tprof_legacy *lg)
{
    int count = 0;
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = tprof_readable_first(me); ts != NULL;
         ts = tprof_readable_next(ts))
    {
        if (ts->c_profilefunc != NULL &&
            ts->c_profilefunc != tprof_tombstone && !tprof_is_ours(p, lg, ts))
        {
            count++;
        }
    }
    return count;
}

/* Warn before enabling when other tools' hooks are about to be replaced. */
static int
tprof_legacy_prepare(tprof_state *p, void *es)
{
    int foreign = tprof_legacy_foreign_hooks(p, es);
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
    Py_VISIT(lg->bootstrap);
    Py_VISIT(lg->prev_hook);
    return 0;
}

static void
tprof_legacy_clear(void *es)
{
    tprof_legacy *lg = es;
    Py_CLEAR(lg->bootstrap);
    Py_CLEAR(lg->prev_hook);
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
