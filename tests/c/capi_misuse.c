/* SPDX-License-Identifier: MIT */
/*
 * Drives every misuse of threadprof's C API and checks that each one returns
 * its error code and sets a message, without crashing. Prints one line per
 * check ("ok NAME" or "FAIL NAME: ...") and exits 0 only if all pass.
 *   capi_misuse OUTDIR
 */
#include "capi_test.h"

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    char good[4096], nodir[4096], unknown[4096];
    snprintf(good, sizeof(good), "%s/good.prof", argv[1]);
    snprintf(nodir, sizeof(nodir), "%s/no/such/dir/x.prof", argv[1]);
    snprintf(unknown, sizeof(unknown), "%s/x.unknown-extension", argv[1]);

    /* before Python, and before import */
    expect("start before import", Threadprof_Start(NULL),
           THREADPROF_ERR_NOT_IMPORTED);
    expect("stop before import", Threadprof_Stop(),
           THREADPROF_ERR_NOT_IMPORTED);
    expect("write before import", Threadprof_Write(good, NULL, NULL),
           THREADPROF_ERR_NOT_IMPORTED);
    expect("import before Py_Initialize", Threadprof_Import(),
           THREADPROF_ERR_NO_GIL);

    initialize();

    expect("import", Threadprof_Import(), THREADPROF_OK);
    expect("stop without start", Threadprof_Stop(),
           THREADPROF_ERR_NOT_RUNNING);
    expect("attach without start", Threadprof_AttachCurrentThread(),
           THREADPROF_ERR_NOT_RUNNING);
    expect("write with nothing profiled", Threadprof_Write(good, NULL, NULL),
           THREADPROF_ERR_NO_DATA);

    Threadprof_Options bad = THREADPROF_OPTIONS_INIT;
    bad.clock = "sundial";
    expect("unknown clock", Threadprof_Start(&bad), THREADPROF_ERR_ARGUMENT);
    Threadprof_Options small = THREADPROF_OPTIONS_INIT;
    small.size = 4;
    expect("options too small", Threadprof_Start(&small),
           THREADPROF_ERR_ARGUMENT);
    Threadprof_Options negative = THREADPROF_OPTIONS_INIT;
    negative.timeline_limit = -5;
    expect("negative timeline limit", Threadprof_Start(&negative),
           THREADPROF_ERR_ARGUMENT);

    expect("start", Threadprof_Start(NULL), THREADPROF_OK);
    expect("double start", Threadprof_Start(NULL), THREADPROF_ERR_RUNNING);
    PyRun_SimpleString("sum(range(10))");
    expect("attach", Threadprof_AttachCurrentThread(), THREADPROF_OK);

    PyThreadState *saved = PyEval_SaveThread();
    expect("stop without the GIL", Threadprof_Stop(), THREADPROF_ERR_NO_GIL);
    expect("write without the GIL", Threadprof_Write(good, NULL, NULL),
           THREADPROF_ERR_NO_GIL);
    PyEval_RestoreThread(saved);

    expect("NULL path", Threadprof_Write(NULL, NULL, NULL),
           THREADPROF_ERR_ARGUMENT);
    expect("unknown format", Threadprof_Write(good, "no-such-format", NULL),
           THREADPROF_ERR_FORMAT);
    expect("unknown extension", Threadprof_Write(unknown, NULL, NULL),
           THREADPROF_ERR_FORMAT);
    expect("unwritable path", Threadprof_Write(nodir, NULL, NULL),
           THREADPROF_ERR_IO);
    expect("no such thread", Threadprof_Write(good, NULL, "no-such-thread"),
           THREADPROF_ERR_ARGUMENT);
    expect("write while running", Threadprof_Write(good, NULL, NULL),
           THREADPROF_OK);

    expect("stop", Threadprof_Stop(), THREADPROF_OK);
    expect("stop twice", Threadprof_Stop(), THREADPROF_ERR_NOT_RUNNING);
    expect("write after stop", Threadprof_Write(good, "pstats", NULL),
           THREADPROF_OK);
    printf("version %s\n", Threadprof_Version());

    if (Py_FinalizeEx() < 0) {
        failures++;
    }
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
