/* SPDX-License-Identifier: MIT */
/*
 * A program that embeds Python and profiles all of its threads with
 * threadprof's C API: the four threading threads a Python script starts, two
 * pthreads of its own that call into Python through PyGILState_Ensure, and
 * the main thread.
 *
 *   ./embed SCRIPT OUTDIR     writes OUTDIR/embed.tprof and OUTDIR/embed.prof
 *
 * If THREADPROF_EMBED_PYTHON names a Python executable, the embedded
 * interpreter uses that executable's environment (a virtualenv, say), which
 * is where it finds threadprof.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "threadprof.h"

#define HOST_THREADS 2
#define HOST_CALLS 50

static int
check(int status, const char *what)
{
    if (status != THREADPROF_OK) {
        fprintf(stderr, "embed: %s failed (%d): %s\n", what, status,
                Threadprof_LastError());
    }
    return status;
}

/* A thread of the host: it enters Python through PyGILState_Ensure. */
static void *
host_thread(void *arg)
{
    PyObject *callback = arg;
    PyGILState_STATE gil = PyGILState_Ensure();
    /* needed on 3.11 (legacy engine); harmless with sys.monitoring */
    check(Threadprof_AttachCurrentThread(), "Threadprof_AttachCurrentThread");
    for (int i = 0; i < HOST_CALLS; i++) {
        PyObject *res = PyObject_CallNoArgs(callback);
        if (res == NULL) {
            PyErr_Print();
        }
        Py_XDECREF(res);
    }
    check(Threadprof_DetachCurrentThread(), "Threadprof_DetachCurrentThread");
    PyGILState_Release(gil);
    return NULL;
}

static int
init_python(void)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    const char *exe = getenv("THREADPROF_EMBED_PYTHON");
    PyStatus status =
        exe ? PyConfig_SetBytesString(&config, &config.executable, exe)
            : PyStatus_Ok();
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        fprintf(stderr, "embed: cannot initialise Python: %s\n",
                status.err_msg ? status.err_msg : "?");
        return -1;
    }
    return 0;
}

/* Run the script in a fresh __main__ namespace; returns its globals. */
static PyObject *
run_script(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        perror(path);
        return NULL;
    }
    PyObject *globals = PyDict_New();
    PyObject *res = NULL;
    if (globals != NULL &&
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) ==
            0 &&
        PyDict_SetItemString(globals, "__name__",
                             PyUnicode_FromString("embedded")) == 0)
    {
        res = PyRun_FileEx(fp, path, Py_file_input, globals, globals, 1);
        fp = NULL;
    }
    if (fp != NULL) {
        fclose(fp);
    }
    if (res == NULL) {
        PyErr_Print();
        Py_XDECREF(globals);
        return NULL;
    }
    Py_DECREF(res);
    return globals;
}

static int
call(PyObject *globals, const char *name)
{
    PyObject *func = PyDict_GetItemString(globals, name);
    PyObject *res = func ? PyObject_CallNoArgs(func) : NULL;
    if (res == NULL) {
        PyErr_Print();
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SCRIPT OUTDIR\n", argv[0]);
        return 2;
    }
    char tprof[4096], pstats[4096];
    snprintf(tprof, sizeof(tprof), "%s/embed.tprof", argv[2]);
    snprintf(pstats, sizeof(pstats), "%s/embed.prof", argv[2]);

    if (init_python() < 0) {
        return 1;
    }
    int rc = 1;
    if (check(Threadprof_Import(), "Threadprof_Import") != THREADPROF_OK) {
        goto done;
    }
    printf("threadprof %s\n", Threadprof_Version());

    Threadprof_Options options = THREADPROF_OPTIONS_INIT;
    options.output_path = tprof; /* written by Threadprof_Stop */
    if (check(Threadprof_Start(&options), "Threadprof_Start") != 0) {
        goto done;
    }
    PyObject *globals = run_script(argv[1]);
    if (globals == NULL || call(globals, "start_threads") < 0) {
        Py_XDECREF(globals);
        goto done;
    }
    PyObject *callback = PyDict_GetItemString(globals, "callback");
    pthread_t threads[HOST_THREADS];
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    for (; started < HOST_THREADS; started++) {
        if (pthread_create(&threads[started], NULL, host_thread, callback)) {
            break;
        }
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    Py_END_ALLOW_THREADS
    if (call(globals, "join_threads") == 0 && started == HOST_THREADS &&
        check(Threadprof_Stop(), "Threadprof_Stop") == THREADPROF_OK &&
        check(Threadprof_Write(pstats, "pstats", NULL), "Threadprof_Write") ==
            THREADPROF_OK)
    {
        printf("wrote %s and %s\n", tprof, pstats);
        rc = 0;
    }
    Py_DECREF(globals);

done:
    if (Py_FinalizeEx() < 0) {
        rc = 1;
    }
    return rc;
}
