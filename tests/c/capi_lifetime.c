/* SPDX-License-Identifier: MIT */
/*
 * Drives threadprof's C API across the interpreter's lifetime: finalising
 * while profiling, a second Py_Initialize, subinterpreters, and calls from a
 * thread without the GIL once a subinterpreter has existed. Prints one line
 * per check ("ok NAME" or "FAIL NAME: ...") and exits 0 only if all pass.
 *   capi_lifetime OUTDIR
 */
#include "capi_test.h"

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    char atexit_out[4096], second[4096], third[4096];
    snprintf(atexit_out, sizeof(atexit_out), "%s/at-finalize.prof", argv[1]);
    snprintf(second, sizeof(second), "%s/second-round.prof", argv[1]);
    snprintf(third, sizeof(third), "%s/third-round.prof", argv[1]);

    /* round 1: finalise while profiling; the output is written then */
    initialize();
    expect("import 1", Threadprof_Import(), THREADPROF_OK);
    Threadprof_Options opt = THREADPROF_OPTIONS_INIT;
    opt.output_path = atexit_out;
    expect("start 1", Threadprof_Start(&opt), THREADPROF_OK);
    PyRun_SimpleString("def round_one():\n    return 1\nround_one()\n");
    if (Py_FinalizeEx() < 0) {
        printf("FAIL finalize 1\n");
        failures++;
    }

    /* round 2: a fresh interpreter, a fresh session */
    initialize();
    expect("import 2", Threadprof_Import(), THREADPROF_OK);
    expect("start 2", Threadprof_Start(NULL), THREADPROF_OK);
    PyRun_SimpleString("def round_two():\n    return 2\nround_two()\n");

    /* a subinterpreter while profiling: the C API refuses to act there, and
     * ending it changes nothing for the main interpreter's profiler */
    PyThreadState *main_ts = PyThreadState_Get();
    PyThreadState *sub = Py_NewInterpreter();
    if (sub == NULL) {
        printf("FAIL Py_NewInterpreter\n");
        failures++;
    }
    else {
        PyRun_SimpleString("x = sum(range(10))\n");
        expect("stop in a subinterpreter", Threadprof_Stop(),
               THREADPROF_ERR_INTERPRETER);
        expect("start in a subinterpreter", Threadprof_Start(NULL),
               THREADPROF_ERR_INTERPRETER);
        Py_EndInterpreter(sub);
        PyThreadState_Swap(main_ts);
    }

    /* without the GIL, once a subinterpreter has existed */
    PyThreadState *saved = PyEval_SaveThread();
    expect("stop without the GIL after a subinterpreter", Threadprof_Stop(),
           THREADPROF_ERR_NO_GIL);
    expect("write without the GIL after a subinterpreter",
           Threadprof_Write(second, NULL, NULL), THREADPROF_ERR_NO_GIL);
    PyEval_RestoreThread(saved);

    expect("stop 2", Threadprof_Stop(), THREADPROF_OK);
    expect("write 2", Threadprof_Write(second, "pstats", NULL), THREADPROF_OK);

    /* finalise while profiling with no output path: stopped, not kept */
    expect("start 2b", Threadprof_Start(NULL), THREADPROF_OK);
    if (Py_FinalizeEx() < 0) {
        printf("FAIL finalize 2\n");
        failures++;
    }

    /* round 3: nothing of round 2 is running or kept */
    initialize();
    expect("import 3", Threadprof_Import(), THREADPROF_OK);
    expect("stop 3 without start", Threadprof_Stop(),
           THREADPROF_ERR_NOT_RUNNING);
    expect("write 3 with nothing profiled",
           Threadprof_Write(third, NULL, NULL), THREADPROF_ERR_NO_DATA);
    expect("start 3", Threadprof_Start(NULL), THREADPROF_OK);
    PyRun_SimpleString("def round_three():\n    return 3\nround_three()\n");
    expect("stop 3", Threadprof_Stop(), THREADPROF_OK);
    expect("write 3", Threadprof_Write(third, "pstats", NULL), THREADPROF_OK);
    if (Py_FinalizeEx() < 0) {
        printf("FAIL finalize 3\n");
        failures++;
    }
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
