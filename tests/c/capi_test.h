/* SPDX-License-Identifier: MIT */
/*
 * capi_test.h -- what the C API test programs share: one line per check
 * ("ok NAME: CODE MESSAGE" or "FAIL NAME: ..."), a failure count, and
 * Python initialised the way the tests need (the venv's interpreter).
 */
#ifndef THREADPROF_CAPI_TEST_H
#define THREADPROF_CAPI_TEST_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>

#include "threadprof.h"

static int failures;

/* An error must come with a message. */
static void
expect(const char *name, int got, int want)
{
    const char *msg = Threadprof_LastError();
    if (got != want) {
        printf("FAIL %s: got %d, want %d (%s)\n", name, got, want, msg);
        failures++;
    }
    else if (want != THREADPROF_OK && (msg == NULL || msg[0] == '\0')) {
        printf("FAIL %s: no error message\n", name);
        failures++;
    }
    else {
        printf("ok %s: %d %s\n", name, got, want ? msg : "");
    }
}

/* Py_InitializeFromConfig with THREADPROF_EMBED_PYTHON as the executable,
 * so that the test venv's threadprof is found. */
static void
initialize(void)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    const char *exe = getenv("THREADPROF_EMBED_PYTHON");
    if (exe) {
        PyConfig_SetBytesString(&config, &config.executable, exe);
    }
    Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
}

#endif /* THREADPROF_CAPI_TEST_H */
