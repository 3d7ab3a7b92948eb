/* SPDX-License-Identifier: MIT */
#include "gcgate.h"

#include "clock.h"

#define TPROF_GCGATE_NAME "threadprof._core.gc_gate"

typedef struct tprof_gcgate {
    PyObject *func;   /* called when due (strong) */
    int64_t due;      /* CLOCK_MONOTONIC ns from which the next call is due */
    int64_t interval; /* ns until the next call after one */
    int64_t most;     /* the longest interval, ns */
    int busy;         /* func runs: a collection inside it does not call it */
} tprof_gcgate;

static void
tprof_gcgate_free(PyObject *capsule)
{
    tprof_gcgate *gate = PyCapsule_GetPointer(capsule, TPROF_GCGATE_NAME);
    if (gate != NULL) {
        Py_XDECREF(gate->func);
        PyMem_Free(gate);
    }
}

/* gc.callbacks calls it with (phase, info). */
static PyObject *
tprof_gcgate_call(PyObject *capsule, PyObject *const *args, Py_ssize_t nargs)
{
    tprof_gcgate *gate = PyCapsule_GetPointer(capsule, TPROF_GCGATE_NAME);
    if (gate == NULL) {
        return NULL;
    }
    if (nargs < 1 || !PyUnicode_Check(args[0]) ||
        PyUnicode_CompareWithASCIIString(args[0], "stop") != 0 || gate->busy ||
        tprof_clock_monotonic() < gate->due)
    {
        Py_RETURN_NONE;
    }
    gate->busy = 1;
    PyObject *result = PyObject_CallNoArgs(gate->func);
    gate->busy = 0;
    gate->interval =
        gate->interval > gate->most / 2 ? gate->most : gate->interval * 2;
    gate->due = tprof_clock_monotonic() + gate->interval;
    if (result == NULL) {
        return NULL; /* the collector reports it as unraisable */
    }
    Py_DECREF(result);
    Py_RETURN_NONE;
}

static PyMethodDef tprof_gcgate_def = {
    "gc_gate", (PyCFunction)(void (*)(void))tprof_gcgate_call, METH_FASTCALL,
    "A gc.callbacks entry: calls its function when due (gcgate.h)."};

static int
tprof_seconds_ns(PyObject *value, int64_t *ns)
{
    double seconds = PyFloat_AsDouble(value);
    if (seconds == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (!(seconds >= 0.0 && seconds <= 1e9)) {
        PyErr_SetString(PyExc_ValueError,
                        "the gate's intervals are 0 to 1e9 seconds");
        return -1;
    }
    *ns = (int64_t)(seconds * 1e9);
    return 0;
}

PyObject *
tprof_gc_gate(PyObject *Py_UNUSED(module), PyObject *const *args,
              Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "_gc_gate(func, first, most) takes 3 arguments");
        return NULL;
    }
    if (!PyCallable_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "the gate's function must be callable");
        return NULL;
    }
    int64_t first, most;
    if (tprof_seconds_ns(args[1], &first) < 0 ||
        tprof_seconds_ns(args[2], &most) < 0)
    {
        return NULL;
    }
    tprof_gcgate *gate = PyMem_Calloc(1, sizeof(*gate));
    if (gate == NULL) {
        return PyErr_NoMemory();
    }
    gate->func = Py_NewRef(args[0]);
    gate->interval = first < most ? first : most;
    gate->most = most;
    gate->due = tprof_clock_monotonic() + gate->interval;
    PyObject *capsule =
        PyCapsule_New(gate, TPROF_GCGATE_NAME, tprof_gcgate_free);
    if (capsule == NULL) {
        Py_DECREF(gate->func);
        PyMem_Free(gate);
        return NULL;
    }
    PyObject *call = PyCFunction_New(&tprof_gcgate_def, capsule);
    Py_DECREF(capsule);
    return call;
}
