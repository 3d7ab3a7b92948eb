/* SPDX-License-Identifier: MIT */
/*
 * module.c -- threadprof._core: the Profiler type, ProfilerError, active().
 */
#include "profiler.h"

#include "arena.h"
#include "engine.h"
#include "threads.h"
#include "clock.h"
#include "capi.h"
#include "moncb.h"

#ifndef THREADPROF_VERSION
#define THREADPROF_VERSION "0+unknown"
#endif

static PyObject *
tprof_module_active(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    tprof_profiler *active = tprof_active_get();
    return Py_NewRef(active ? (PyObject *)active : Py_None);
}

#ifdef THREADPROF_TEST_HOOKS
static PyObject *
tprof_module_fail_alloc_after(PyObject *Py_UNUSED(module), PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    tprof_mem_fail_after(n);
    Py_RETURN_NONE;
}

static PyObject *
tprof_module_fail_snapshot_after(PyObject *Py_UNUSED(module), PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    tprof_snapshot_fail_after(n);
    Py_RETURN_NONE;
}
#endif

/* os.register_at_fork(after_in_child=...): reset the running profiler. */
static PyObject *
tprof_module_after_fork_child(PyObject *Py_UNUSED(module),
                              PyObject *Py_UNUSED(ignored))
{
    if (tprof_active_get() != NULL) {
        tprof_profiler_after_fork(tprof_active_get());
    }
    Py_RETURN_NONE;
}

static PyMethodDef tprof_after_fork_def = {
    "_after_fork_child", tprof_module_after_fork_child, METH_NOARGS,
    "Give the running profiler fresh state in a forked child."};

static int
tprof_register_at_fork(PyObject *m)
{
    PyObject *os = PyImport_ImportModule("os");
    if (os == NULL) {
        return -1;
    }
    PyObject *hook = PyCFunction_NewEx(&tprof_after_fork_def, NULL, m);
    PyObject *reg = PyObject_GetAttrString(os, "register_at_fork");
    Py_DECREF(os);
    if (hook == NULL || reg == NULL) {
        Py_XDECREF(hook);
        Py_XDECREF(reg);
        PyErr_Clear(); /* no fork on this platform */
        return 0;
    }
    PyObject *kw = Py_BuildValue("{sO}", "after_in_child", hook);
    PyObject *empty = PyTuple_New(0);
    PyObject *res = kw && empty ? PyObject_Call(reg, empty, kw) : NULL;
    Py_XDECREF(kw);
    Py_XDECREF(empty);
    Py_DECREF(reg);
    Py_DECREF(hook);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

static PyObject *
tprof_module_clock_source(PyObject *Py_UNUSED(module),
                          PyObject *Py_UNUSED(ignored))
{
    tprof_clock_setup();
    return PyUnicode_FromString(tprof_clock_source());
}

static PyMethodDef tprof_module_methods[] = {
    {"active", tprof_module_active, METH_NOARGS,
     "The running threadprof profiler, or None."},
    {"clock_source", tprof_module_clock_source, METH_NOARGS,
     "The wall clock in use: 'tsc' (the scaled time-stamp counter) or "
     "'monotonic' (CLOCK_MONOTONIC)."},
#ifdef THREADPROF_TEST_HOOKS
    {"_fail_alloc_after", tprof_module_fail_alloc_after, METH_O,
     "Test builds: make the allocation after N more fail."},
    {"_fail_snapshot_after", tprof_module_fail_snapshot_after, METH_O,
     "Test builds: make the snapshot after N more fail with MemoryError."},
#endif
    {NULL, NULL, 0, NULL},
};

static int
tprof_module_exec(PyObject *m)
{
    PyObject *bases = PyTuple_Pack(2, PyExc_RuntimeError, PyExc_ValueError);
    if (bases == NULL) {
        return -1;
    }
    tprof_ProfilerError = PyErr_NewExceptionWithDoc(
        "threadprof.ProfilerError",
        "A profiler used the wrong way (started twice, stopped when not "
        "running), or data lost while profiling.",
        bases, NULL);
    Py_DECREF(bases);
    if (tprof_ProfilerError == NULL ||
        PyModule_AddObjectRef(m, "ProfilerError", tprof_ProfilerError) < 0)
    {
        return -1;
    }
    PyObject *type = tprof_profiler_type_create(m);
    if (type == NULL) {
        return -1;
    }
    tprof_ProfilerType = (PyTypeObject *)type;
    if (tprof_moncb_type_init(m) < 0) {
        Py_DECREF(type);
        return -1;
    }
    if (PyModule_AddObject(m, "Profiler", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    if (PyModule_AddStringConstant(m, "__version__", THREADPROF_VERSION) < 0) {
        return -1;
    }
    if (tprof_threads_init() < 0) {
        return -1;
    }
#ifdef Py_GIL_DISABLED
    if (tprof_legacy_audit_install() < 0) {
        return -1;
    }
#endif
    if (tprof_register_at_fork(m) < 0) {
        return -1;
    }
    if (tprof_capi_add(m) < 0) {
        return -1;
    }
#ifdef THREADPROF_TEST_HOOKS
    if (PyModule_AddIntConstant(m, "TEST_HOOKS", 1) < 0) {
        return -1;
    }
#else
    if (PyModule_AddIntConstant(m, "TEST_HOOKS", 0) < 0) {
        return -1;
    }
#endif
    return 0;
}

static struct PyModuleDef tprof_moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "threadprof._core",
    .m_doc = "The C core of threadprof: the recorder of every thread.",
    .m_size = -1,
    .m_methods = tprof_module_methods,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    PyObject *m = PyModule_Create(&tprof_moduledef);
    if (m == NULL) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    /* no state of the core relies on the GIL (sync.h) */
    if (PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    if (tprof_module_exec(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
