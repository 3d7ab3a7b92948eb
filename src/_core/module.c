/* SPDX-License-Identifier: MIT */
/*
 * module.c -- threadprof._core: the module, its state and its functions.
 *
 * Multi-phase initialisation; everything the module makes lives in its state
 * (modstate.h). It loads in the main interpreter only: the engines' hooks,
 * the thread-local tags and the enabled profiler (tprof_active) are the
 * process's, so a subinterpreter gets an ImportError that says so instead of
 * a profiler that would fight the main one. Interpreters that check
 * (own-GIL subinterpreters, 3.12+) refuse it from the slot below; others
 * from the exec function.
 */
#include "compat.h" /* Python.h before any system header */

#include "arena.h"
#include "capi.h"
#include "clock.h"
#include "engine.h"
#include "gather.h"
#include "eventcodec.h"
#include "eventrender.h"
#include "lifetime.h"
#include "modstate.h"
#include "gcgate.h"
#include "sigwatch.h"
#include "moncb.h"
#include "nodebuild.h"
#include "merge.h"
#include "callgrindtext.h"
#include "marshalstats.h"
#include "pageview.h"
#include "pprofsamples.h"
#include "regroup.h"
#include "subtree.h"
#include "tasksplit.h"
#include "outermost.h"
#include "profiler.h"

#ifndef THREADPROF_VERSION
#define THREADPROF_VERSION "0+unknown"
#endif

static PyObject *
tprof_module_active(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    tprof_state *active = tprof_active_get();
    return Py_NewRef(active ? (PyObject *)active : Py_None);
}

static PyObject *
tprof_module_claimed(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(tprof_ld_acquire(&tprof_active) != NULL);
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

static PyObject *
tprof_module_clock_source(PyObject *Py_UNUSED(module),
                          PyObject *Py_UNUSED(ignored))
{
    tprof_clock_setup();
    return PyUnicode_FromString(tprof_clock_source());
}

static PyObject *
tprof_module_clock_calibrated(PyObject *Py_UNUSED(module),
                              PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(
        __atomic_load_n(&tprof_clock.use_tsc, __ATOMIC_ACQUIRE));
}

static PyMethodDef tprof_module_methods[] = {
    {"active", tprof_module_active, METH_NOARGS,
     "The running threadprof profiler, or None."},
    {"_claimed", tprof_module_claimed, METH_NOARGS,
     "True if a profiler runs or is being enabled (active() says None "
     "until its hooks are installed)."},
    {"clock_source", tprof_module_clock_source, METH_NOARGS,
     "The wall clock in use: 'tsc' (the scaled time-stamp counter) or "
     "'monotonic' (CLOCK_MONOTONIC). The TSC is read only once its rate is "
     "measured, 5 ms after the first profiler starts; CLOCK_MONOTONIC until "
     "then."},
    {"_encode_events", (PyCFunction)(void (*)(void))tprof_encode_events,
     METH_FASTCALL,
     "A .tprof timeline section's payload from a chunk's function codes "
     "(int32) and times (int64), as varints (format 2.0) or, with `shuffled`, "
     "shuffled (1.x); ValueError if one names no function."},
    {"_decode_events", (PyCFunction)(void (*)(void))tprof_decode_events,
     METH_FASTCALL,
     "A .tprof timeline section's payload of `count` events as (function "
     "codes, times): native int32 and int64 bytes; ValueError('encoding', "
     "'size', 'times' or 'functions') if corrupt."},
    {"_gather", (PyCFunction)(void (*)(void))tprof_gather, METH_FASTCALL,
     "The integer attributes `names` of a list of objects as native int64 "
     "columns, one name after the other."},
    {"_build_nodes", (PyCFunction)(void (*)(void))tprof_build_nodes,
     METH_FASTCALL,
     "A call tree's node objects of `node_type` from int64 columns named by "
     "`names` (nodebuild.h)."},
    {"_merge", (PyCFunction)(void (*)(void))tprof_merge, METH_FASTCALL,
     "Call trees (int64 columns) united by path from the root (merge.h)."},
    {"_page_view", (PyCFunction)(void (*)(void))tprof_page_view, METH_FASTCALL,
     "_page_view(flat, keep, fmap, next)\n--\n\nA call tree's rows for "
     "the HTML report, folded to `keep` nodes: (nodes, folded, added) "
     "(pageview.h)."},
    {"_page_table", (PyCFunction)(void (*)(void))tprof_page_table,
     METH_FASTCALL,
     "_page_table(rows, edges, fmap, next)\n--\n\nThe HTML report's rows of "
     "a function or caller/callee table from _regroup's: (flat, added) "
     "(pageview.h)."},
    {"_json_ints", tprof_json_ints, METH_O,
     "_json_ints(buffer)\n--\n\nNative int64 values as a JSON array "
     "(bytes)."},
    {"_pstats_marshal", (PyCFunction)(void (*)(void))tprof_pstats_marshal,
     METH_FASTCALL,
     "_pstats_marshal(rows, pairs, keys, unit, self_at, cum_at)\n--\n\n"
     "A pstats file (marshal's bytes of cProfile's stats dictionary) from "
     "_regroup's rows (marshalstats.h)."},
    {"_callgrind_part", (PyCFunction)(void (*)(void))tprof_callgrind_part,
     METH_FASTCALL,
     "_callgrind_part(rows, pairs, funcs, files, names, scale, own, incl)"
     "\n--\n\nThe body of a callgrind part and its totals from _regroup's "
     "rows (callgrindtext.h)."},
    {"_pprof_samples", (PyCFunction)(void (*)(void))tprof_pprof_samples,
     METH_FASTCALL,
     "_pprof_samples(flat, locs, prefix, tail, types, scale)\n--\n\n"
     "A pprof profile's Sample messages for the nodes of a call tree "
     "(pprofsamples.h)."},
    {"_regroup", (PyCFunction)(void (*)(void))tprof_regroup, METH_FASTCALL,
     "Rows of _totals of several trees summed by groups of functions, "
     "sorted by group (regroup.h)."},
    {"_gc_gate", (PyCFunction)(void (*)(void))tprof_gc_gate, METH_FASTCALL,
     "_gc_gate(func, first, most)\n--\n\nA gc.callbacks entry that calls "
     "func() when due: first after `first` seconds, then at intervals "
     "doubled up to `most` (gcgate.h)."},
    {"_sigwatch_start", (PyCFunction)(void (*)(void))tprof_sigwatch_start,
     METH_FASTCALL,
     "_sigwatch_start(signums): send a fatal signal again to the main "
     "thread until its Python handler runs (sigwatch.h)."},
    {"_sigwatch_handled", tprof_sigwatch_handled, METH_NOARGS,
     "The Python handler of a watched signal runs."},
    {"_sigwatch_stop", tprof_sigwatch_stop, METH_NOARGS,
     "End the signal watcher."},
    {"_split_tasks", (PyCFunction)(void (*)(void))tprof_split_tasks,
     METH_FASTCALL,
     "_split_tasks(tree, task_nodes, ntasks)\n--\n\nA thread's tree and "
     "the trees of its asyncio tasks (tasksplit.h)."},
    {"_subtree", (PyCFunction)(void (*)(void))tprof_subtree, METH_FASTCALL,
     "The columns of the subtree of the shallowest node of one of `funcs`, "
     "under a new root; None if no node has one (subtree.h)."},
    {"_outermost", (PyCFunction)(void (*)(void))tprof_outermost, METH_FASTCALL,
     "One flag per call-tree node (int64 parents and keys): 1 if no "
     "ancestor below the root has its key."},
    {"_totals", (PyCFunction)(void (*)(void))tprof_totals, METH_FASTCALL,
     "cProfile's totals of a call tree (int64 columns) per function or per "
     "caller and callee: rows of eight int64 (outermost.h)."},
    {"_clock_calibrated", tprof_module_clock_calibrated, METH_NOARGS,
     "True once the wall clock reads the TSC (its rate measured)."},
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
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_ImportError,
                        "threadprof._core can be imported in the main "
                        "interpreter only: profile hooks are per process");
        return -1;
    }
    tprof_module_state *st = PyModule_GetState(m);
    PyObject *bases = PyTuple_Pack(2, PyExc_RuntimeError, PyExc_ValueError);
    if (bases == NULL) {
        return -1;
    }
    st->error = PyErr_NewExceptionWithDoc(
        "threadprof.ProfilerError",
        "A profiler used the wrong way (started twice, stopped when not "
        "running), or data lost while profiling.",
        bases, NULL);
    Py_DECREF(bases);
    if (st->error == NULL ||
        PyModule_AddObjectRef(m, "ProfilerError", st->error) < 0)
    {
        return -1;
    }
    st->profiler_type = (PyTypeObject *)tprof_profiler_type_create(m);
    st->moncb_type = (PyTypeObject *)tprof_moncb_type_create(m);
    st->str_threading_py = PyUnicode_InternFromString("threading.py");
    st->str_name = PyUnicode_InternFromString("_name");
    if (st->profiler_type == NULL || st->moncb_type == NULL ||
        st->str_threading_py == NULL || st->str_name == NULL)
    {
        return -1;
    }
    if (PyModule_AddObjectRef(m, "Profiler", (PyObject *)st->profiler_type) <
        0) {
        return -1;
    }
    PyObject *renderer = tprof_eventrender_type_create(m);
    if (renderer == NULL) {
        return -1;
    }
    int added = PyModule_AddObjectRef(m, "_EventRenderer", renderer);
    Py_DECREF(renderer);
    if (added < 0) {
        return -1;
    }
    if (PyModule_AddStringConstant(m, "__version__", THREADPROF_VERSION) < 0) {
        return -1;
    }
#ifdef Py_GIL_DISABLED
    if (tprof_legacy_audit_install() < 0) {
        return -1;
    }
#endif
    if (tprof_lifetime_register(m) < 0) {
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

static int
tprof_module_traverse(PyObject *m, visitproc visit, void *arg)
{
    tprof_module_state *st = PyModule_GetState(m);
    Py_VISIT(st->profiler_type);
    Py_VISIT(st->moncb_type);
    Py_VISIT(st->error);
    Py_VISIT(st->capi_last);
    return 0;
}

static int
tprof_module_clear(PyObject *m)
{
    tprof_module_state *st = PyModule_GetState(m);
    Py_CLEAR(st->profiler_type);
    Py_CLEAR(st->moncb_type);
    Py_CLEAR(st->error);
    Py_CLEAR(st->str_threading_py);
    Py_CLEAR(st->str_name);
    Py_CLEAR(st->capi_last);
    return 0;
}

static void
tprof_module_free(void *m)
{
    tprof_module_state *st = PyModule_GetState((PyObject *)m);
    tprof_module_clear((PyObject *)m);
    PyMem_RawFree(st->capi_out_path);
    PyMem_RawFree(st->capi_out_format);
    st->capi_out_path = st->capi_out_format = NULL;
}

static PyModuleDef_Slot tprof_module_slots[] = {
    {Py_mod_exec, tprof_module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    /* no state of the core relies on the GIL (sync.h) */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

PyModuleDef tprof_moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "threadprof._core",
    .m_doc = "The C core of threadprof: the recorder of every thread.",
    .m_size = sizeof(tprof_module_state),
    .m_methods = tprof_module_methods,
    .m_slots = tprof_module_slots,
    .m_traverse = tprof_module_traverse,
    .m_clear = tprof_module_clear,
    .m_free = tprof_module_free,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&tprof_moduledef);
}
