/* SPDX-License-Identifier: MIT */
/*
 * cthreads -- a test extension whose pthreads call into Python through
 * PyGILState_Ensure, the way ctypes callbacks, gRPC, GUI toolkits and
 * embedding hosts do. Built by the tests with the compiler at hand.
 *
 *   run(callback, nthreads, calls, attach=None, hold=False) -> [native ids]
 *
 * Each of `nthreads` pthreads calls `callback()` `calls` times. With
 * hold=False every call takes and drops a fresh thread state (Ensure/Release
 * around each call); with hold=True one thread state serves all calls. If
 * `attach` is given, it is called right after each Ensure.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

typedef struct {
    PyObject *callback;
    PyObject *attach;
    int calls;
    int hold;
    unsigned long native_id;
} job;

static void
call(PyObject *f)
{
    if (f == NULL) {
        return;
    }
    PyObject *r = PyObject_CallNoArgs(f);
    if (r == NULL) {
        PyErr_Print();
    }
    Py_XDECREF(r);
}

static void *
worker(void *arg)
{
    job *j = arg;
    PyGILState_STATE g = PyGILState_Ensure();
    j->native_id = PyThread_get_thread_native_id();
    if (j->hold) {
        call(j->attach);
        for (int i = 0; i < j->calls; i++) {
            call(j->callback);
        }
        PyGILState_Release(g);
        return NULL;
    }
    PyGILState_Release(g);
    for (int i = 0; i < j->calls; i++) {
        g = PyGILState_Ensure();
        call(j->attach);
        call(j->callback);
        PyGILState_Release(g);
    }
    return NULL;
}

static PyObject *
run(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"callback", "nthreads", "calls",
                             "attach",   "hold",     NULL};
    PyObject *callback, *attach = Py_None;
    int nthreads, calls, hold = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oii|Op", kwlist, &callback,
                                     &nthreads, &calls, &attach, &hold))
    {
        return NULL;
    }
    if (nthreads < 1 || nthreads > 64) {
        PyErr_SetString(PyExc_ValueError, "nthreads must be 1..64");
        return NULL;
    }
    job jobs[64];
    pthread_t tids[64];
    for (int i = 0; i < nthreads; i++) {
        jobs[i].callback = callback;
        jobs[i].attach = attach == Py_None ? NULL : attach;
        jobs[i].calls = calls;
        jobs[i].hold = hold;
        jobs[i].native_id = 0;
    }
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    for (; started < nthreads; started++) {
        if (pthread_create(&tids[started], NULL, worker, &jobs[started])) {
            break;
        }
    }
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
    }
    Py_END_ALLOW_THREADS
    if (started < nthreads) {
        PyErr_SetString(PyExc_OSError, "pthread_create failed");
        return NULL;
    }
    PyObject *ids = PyList_New(nthreads);
    for (int i = 0; ids && i < nthreads; i++) {
        PyList_SET_ITEM(ids, i, PyLong_FromUnsignedLong(jobs[i].native_id));
    }
    return ids;
}

static PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))run, METH_VARARGS | METH_KEYWORDS,
     "Start pthreads that call a Python callback."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "cthreads", NULL, -1, methods,
};

PyMODINIT_FUNC
PyInit_cthreads(void)
{
    PyObject *m = PyModule_Create(&moduledef);
#ifdef Py_GIL_DISABLED
    /* its threads share nothing but what CPython guards */
    if (m != NULL && PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
