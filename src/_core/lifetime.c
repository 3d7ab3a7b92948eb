/* SPDX-License-Identifier: MIT */
#include "lifetime.h"

#include "capi.h"
#include "codewatch.h"
#include "engine.h"
#include "modstate.h"
#include "profiler.h"

/* The fork handler is the interpreter's: registered once per interpreter
 * life, whichever module instance does it. */
static int tprof_fork_registered;

/* Py_AtExit functions are called once, then forgotten. */
static int tprof_reset_registered;

/* os.register_at_fork(after_in_child=...): reset the running profiler. */
static PyObject *
tprof_lifetime_after_fork(PyObject *Py_UNUSED(module),
                          PyObject *Py_UNUSED(ignored))
{
    if (tprof_active_get() != NULL) {
        tprof_profiler_after_fork(tprof_active_get());
    }
    Py_RETURN_NONE;
}

static PyMethodDef tprof_after_fork_def = {
    "_after_fork_child", tprof_lifetime_after_fork, METH_NOARGS,
    "Give the running profiler fresh state in a forked child."};

/* atexit: stop the running profiler while Python still runs; the C API's
 * session writes its output then. */
static PyObject *
tprof_lifetime_at_exit(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    tprof_state *p = tprof_active_get();
    if (p == NULL) {
        Py_RETURN_NONE;
    }
    if (!tprof_capi_at_exit(PyModule_GetState(module), p)) {
        PyObject *res = PyObject_CallMethod((PyObject *)p, "disable", NULL);
        if (res == NULL) {
            PyErr_Clear(); /* data lost while profiling: nobody is left */
        }
        Py_XDECREF(res);
    }
    Py_RETURN_NONE;
}

static PyMethodDef tprof_at_exit_def = {
    "_at_exit", tprof_lifetime_at_exit, METH_NOARGS,
    "Stop the running profiler as the interpreter exits."};

/* After Py_FinalizeEx: the objects are gone, so only forget them. */
static void
tprof_lifetime_reset(void)
{
    tprof_profiler_forget_active();
    tprof_legacy_audit_forget();
    tprof_codewatch_forget_watcher();
    tprof_fork_registered = 0;
    tprof_reset_registered = 0;
}

/* module.<name>(*(), **{key: handler}) or module.<name>(handler), where the
 * handler is `def` bound to m. 0 if the module or function does not exist
 * here (no fork on this platform). */
static int
tprof_register_with(PyObject *m, const char *module, const char *name,
                    const char *key, PyMethodDef *def)
{
    PyObject *mod = PyImport_ImportModule(module);
    if (mod == NULL) {
        return -1;
    }
    PyObject *reg = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    if (reg == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *handler = PyCFunction_NewEx(def, m, NULL);
    PyObject *res = NULL;
    if (handler != NULL && key != NULL) {
        PyObject *kw = Py_BuildValue("{sO}", key, handler);
        PyObject *empty = PyTuple_New(0);
        res = kw && empty ? PyObject_Call(reg, empty, kw) : NULL;
        Py_XDECREF(kw);
        Py_XDECREF(empty);
    }
    else if (handler != NULL) {
        res = PyObject_CallOneArg(reg, handler);
    }
    Py_XDECREF(handler);
    Py_DECREF(reg);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

int
tprof_lifetime_register(PyObject *m)
{
    if (!tprof_fork_registered) {
        if (tprof_register_with(m, "os", "register_at_fork", "after_in_child",
                                &tprof_after_fork_def) < 0)
        {
            return -1;
        }
        tprof_fork_registered = 1;
    }
    if (tprof_codewatch_start() < 0) {
        return -1;
    }
    if (tprof_register_with(m, "atexit", "register", NULL,
                            &tprof_at_exit_def) < 0) {
        return -1;
    }
    if (!tprof_reset_registered) {
        if (Py_AtExit(tprof_lifetime_reset) < 0) {
            PyErr_SetString(PyExc_RuntimeError,
                            "threadprof: no room left for a Py_AtExit "
                            "function");
            return -1;
        }
        tprof_reset_registered = 1;
    }
    return 0;
}
