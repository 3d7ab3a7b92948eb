/* SPDX-License-Identifier: MIT */
#include "engine.h"
#include "recorder.h"
#include "threads.h"

#include <string.h>

/* Non-zero while this thread is setting hooks for threadprof itself, so that
 * the audit hook below does not take threadprof's own calls for a rival's. */
static TP_TLS int tp_own_call;

/* PyEval_SetProfile on the calling thread, on threadprof's behalf. */
static void
tp_set_profile(Py_tracefunc func, PyObject *obj)
{
    tp_own_call++;
    PyEval_SetProfile(func, obj);
    tp_own_call--;
}

/* Audit hook: a thread that replaces its profile function (sys.setprofile,
 * PyEval_SetProfile by another profiler) is flagged at once, even if it exits
 * before the next snapshot. Audit hooks stay for the life of the process, so
 * this one is added on the first use of the legacy engine and costs one
 * string compare per audited event. */
static int
tp_audit(const char *event, PyObject *Py_UNUSED(args), void *Py_UNUSED(data))
{
    tp_profiler *p = tp_active_get();
    if (p != NULL && tp_ld_relaxed(&p->enabled) &&
        p->engine == TP_ENGINE_LEGACY && tp_own_call == 0 &&
        strcmp(event, "sys.setprofile") == 0 && tp_tls.gen == tp_gen_of(p) &&
        tp_tls.ts != NULL)
    {
        tp_tls.ts->warnings |= TP_WARN_HOOK_REPLACED;
    }
    return 0;
}

int
tp_legacy_audit_install(void)
{
    static int installed;
    if (!installed) {
        if (PySys_AddAuditHook(tp_audit, NULL) < 0) {
            return -1;
        }
        installed = 1;
    }
    return 0;
}

/* Replaces the recorder on stop; removes itself from its thread the first
 * time it runs. Being a valid function forever is its whole point. */
static int
tp_tombstone(PyObject *Py_UNUSED(obj), PyFrameObject *Py_UNUSED(frame),
             int Py_UNUSED(what), PyObject *Py_UNUSED(arg))
{
    tp_set_profile(NULL, NULL);
    return 0;
}

static int
tp_set_profile_all(Py_tracefunc func, PyObject *obj)
{
#if TP_HAVE_SET_PROFILE_ALL
    tp_own_call++;
    PyEval_SetProfileAllThreads(func, obj);
    tp_own_call--;
    return 0;
#else
    int rc = 0;
    tp_own_call++;
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
    tp_own_call--;
    return rc;
#endif
}

static PyObject *
tp_threading_call(const char *method, PyObject *arg)
{
    PyObject *threading = PyImport_ImportModule("threading");
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
tp_event_code(PyObject *event)
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
tp_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    tp_profiler *p = (tp_profiler *)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "expected (frame, event, arg)");
        return NULL;
    }
    Py_INCREF(p); /* replacing the hook drops the trampoline's reference */
    /* Setting a hook stops the world, and a stop may run meanwhile: count in
     * `busy` so that it waits for us, and look again once the hook is set. */
    tp_event_may_pause(p);
    if (tp_ld_seqcst(&p->enabled)) {
        tp_set_profile(p->callback, self);
    }
    if (!tp_ld_seqcst(&p->enabled)) {
        tp_set_profile(NULL, NULL);
        tp_event_resumed(p);
        tp_event_end();
        Py_DECREF(p);
        Py_RETURN_NONE;
    }
    tp_event_resumed(p);
    tp_event_end(); /* the recorder counts itself from here on */
    int what = tp_event_code(args[1]);
    if (what >= 0 && PyFrame_Check(args[0])) {
        PyObject *arg = args[2] == Py_None ? NULL : args[2];
        p->callback(self, (PyFrameObject *)args[0], what, arg);
    }
    Py_DECREF(p);
    Py_RETURN_NONE;
}

static PyMethodDef tp_bootstrap_def = {
    "_threadprof_bootstrap",
    (PyCFunction)(void (*)(void))tp_bootstrap,
    METH_FASTCALL,
    "Installs threadprof's recorder in a thread started by threading.",
};

/* -- install and remove
 * -------------------------------------------------------- */

int
tp_legacy_install(tp_profiler *p)
{
    if (tp_legacy_audit_install() < 0) {
        return -1;
    }
    if (p->bootstrap == NULL) {
        p->bootstrap = PyCFunction_New(&tp_bootstrap_def, (PyObject *)p);
        if (p->bootstrap == NULL) {
            return -1;
        }
    }
    /* Threads started from now on get the trampoline ... */
    PyObject *prev = tp_threading_call("getprofile", NULL);
    if (prev == NULL) {
        return -1;
    }
    Py_XSETREF(p->prev_hook, prev);
    PyObject *res = tp_threading_call("setprofile", p->bootstrap);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    /* ... and every running thread gets the recorder now. */
    if (tp_set_profile_all(p->callback, (PyObject *)p) < 0) {
        return -1;
    }
    return 0;
}

void
tp_legacy_remove(tp_profiler *p)
{
    tp_saved_error saved;
    tp_error_save(&saved);
    /* first the running threads, so that the calls below are not recorded */
    if (tp_set_profile_all(tp_tombstone, NULL) < 0) {
        PyErr_WriteUnraisable((PyObject *)p);
    }
    /* the tombstone of this thread can go at once */
    tp_set_profile(NULL, NULL);
    PyObject *current = tp_threading_call("getprofile", NULL);
    if (current != NULL && current == p->bootstrap) {
        PyObject *res = tp_threading_call(
            "setprofile", p->prev_hook ? p->prev_hook : Py_None);
        Py_XDECREF(res);
    }
    else if (current != NULL) {
        p->global_warnings |= TP_GWARN_THREADING_HOOK;
    }
    Py_XDECREF(current);
    Py_CLEAR(p->prev_hook);
    Py_CLEAR(p->bootstrap);
    tp_error_restore(&saved);
}

void
tp_legacy_attach_current(tp_profiler *p)
{
    tp_set_profile(p->callback, (PyObject *)p);
}

void
tp_legacy_detach_current(tp_profiler *Py_UNUSED(p))
{
    tp_set_profile(NULL, NULL);
}

/* -- checks
 * ----------------------------------------------------------------------- */

static int
tp_is_ours(tp_profiler *p, PyThreadState *ts)
{
    if (ts->c_profilefunc == p->callback && ts->c_profileobj == (PyObject *)p)
    {
        return 1;
    }
    /* a thread that threading started and that has not run yet */
    return p->bootstrap != NULL && ts->c_profileobj == p->bootstrap;
}

/* The newest record of the thread with this native id, or NULL. */
static tp_thread *
tp_record_of(tp_profiler *p, unsigned long native_id)
{
    tp_thread *found = NULL;
    for (tp_thread *t = tp_threads_first(p); t; t = tp_threads_next(t)) {
        if (t->native_id == native_id && !t->detached) {
            found = t;
        }
    }
    return found;
}

/* The thread states whose hooks the checks read: every thread's with the
 * GIL; without it only the calling thread's, since another thread's state
 * may be freed while we read it (its replaced hooks are still flagged by the
 * audit hook, tp_audit). */
static PyThreadState *
tp_readable_first(PyThreadState *me)
{
#if TP_FREE_THREADED
    return me;
#else
    return PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(me));
#endif
}

static PyThreadState *
tp_readable_next(PyThreadState *ts)
{
#if TP_FREE_THREADED
    (void)ts;
    return NULL;
#else
    return PyThreadState_Next(ts);
#endif
}

void
tp_legacy_check_hooks(tp_profiler *p)
{
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = tp_readable_first(me); ts != NULL;
         ts = tp_readable_next(ts))
    {
        if (tp_is_ours(p, ts)) {
            continue;
        }
        tp_thread *t = tp_record_of(p, ts->native_thread_id);
        if (t != NULL) {
            t->warnings |= TP_WARN_HOOK_REPLACED;
        }
    }
}

int
tp_legacy_foreign_hooks(tp_profiler *p)
{
    int count = 0;
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = tp_readable_first(me); ts != NULL;
         ts = tp_readable_next(ts))
    {
        if (ts->c_profilefunc != NULL && ts->c_profilefunc != tp_tombstone &&
            !tp_is_ours(p, ts))
        {
            count++;
        }
    }
    return count;
}
