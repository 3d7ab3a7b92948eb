/* SPDX-License-Identifier: MIT */
/*
 * threadprof.h -- threadprof's C API, for programs that embed Python.
 *
 * Nothing to link: the functions live in the installed threadprof package
 * and are reached through a table in a capsule, as CPython's datetime.h and
 * NumPy's C API do. Compile with the flags of `threadprof --cflags` (or add
 * `threadprof.get_include()` to the include path) and the interpreter's own
 * flags (`python3-config --cflags --embed`).
 *
 * Quick start, in a program that has initialised Python:
 *
 *     if (Threadprof_Import() < 0) { ... Threadprof_LastError() ... }
 *     Threadprof_Options opt = THREADPROF_OPTIONS_INIT;
 *     opt.output_path = "app.tprof";
 *     Threadprof_Start(&opt);
 *     ... run Python code in any number of threads ...
 *     Threadprof_Stop();                   // writes app.tprof
 *     Threadprof_Write("app.prof", NULL, NULL);  // and pstats too
 *
 * Threading rules
 * - Every function requires the calling thread to hold the GIL (an attached
 *   thread state) of the main interpreter, except Threadprof_LastError,
 *   Threadprof_Version and the checks made before import. Without one the
 *   call returns THREADPROF_ERR_NO_GIL instead of touching Python; from a
 *   subinterpreter, THREADPROF_ERR_INTERPRETER.
 *
 * Interpreter lifetime
 * - Py_FinalizeEx while profiling stops the profiler (at Python's atexit
 *   stage, after the program's own atexit functions registered after the
 *   import), and if Threadprof_Start was given an output path, writes it
 *   there as Threadprof_Stop would. After a new Py_Initialize, call
 *   Threadprof_Import again; nothing of the old session remains.
 * - Threads the host creates that enter Python with PyGILState_Ensure are
 *   covered automatically by the default engine on Python 3.12+; on 3.11 (or
 *   with engine "legacy") call Threadprof_AttachCurrentThread after each
 *   PyGILState_Ensure that created the thread state, and
 *   Threadprof_DetachCurrentThread before the matching release.
 *
 * Errors: every function returns THREADPROF_OK (0) or a negative
 * Threadprof_Status, and sets a message that Threadprof_LastError returns
 * (per thread). Misuse (a call before import, a second start, a stop without
 * a start, a NULL or unwritable path, an unknown format, a call without the
 * GIL) is an error code, never a crash.
 *
 * Compatibility promise: the function table is versioned and append-only.
 * THREADPROF_CAPI_VERSION grows by one whenever functions are appended;
 * existing entries never change meaning or signature. A program compiled
 * against version N works with any threadprof whose table is version N or
 * later; Threadprof_Import refuses an older library with
 * THREADPROF_ERR_VERSION. Threadprof_Options only grows at its end, and its
 * `size` field tells the library which fields the caller knows.
 */
#ifndef THREADPROF_THREADPROF_H
#define THREADPROF_THREADPROF_H

#include <Python.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the function table this header describes. */
#define THREADPROF_CAPI_VERSION 1

/* The capsule holding the table: an attribute of threadprof._core. */
#define THREADPROF_CAPSULE_NAME "threadprof._core._C_API"

typedef enum Threadprof_Status {
    THREADPROF_OK = 0,
    THREADPROF_ERR_NOT_IMPORTED = -1, /* Threadprof_Import not called/failed */
    THREADPROF_ERR_VERSION = -2,      /* the library's table is too old */
    THREADPROF_ERR_RUNNING = -3,      /* a profiler is already running */
    THREADPROF_ERR_NOT_RUNNING = -4,  /* no profiler is running */
    THREADPROF_ERR_ARGUMENT = -5,     /* a NULL or invalid argument */
    THREADPROF_ERR_FORMAT = -6,       /* an unknown output format */
    THREADPROF_ERR_IO = -7,           /* the output could not be written */
    THREADPROF_ERR_NO_GIL = -8,       /* the calling thread lacks the GIL */
    THREADPROF_ERR_NO_DATA = -9,      /* nothing has been profiled yet */
    THREADPROF_ERR_PYTHON = -10,      /* any other failure */
    THREADPROF_ERR_INTERPRETER = -11, /* called from a subinterpreter */
} Threadprof_Status;

/* Options for Threadprof_Start. Initialise with THREADPROF_OPTIONS_INIT and
 * set what you need; NULL strings mean the default. */
typedef struct Threadprof_Options {
    unsigned int size;         /* sizeof(Threadprof_Options) of the caller */
    const char *clock;         /* "wall" (default) or "cpu" */
    const char *engine;        /* "auto" (default), "legacy", "monitoring" */
    int timeline;              /* non-zero: record every call and return */
    long long timeline_limit;  /* keep the last N timeline events (0: all) */
    const char *output_path;   /* written by Threadprof_Stop if not NULL */
    const char *output_format; /* NULL: chosen from the path's extension */
} Threadprof_Options;

#define THREADPROF_OPTIONS_INIT                                  \
    {                                                            \
        sizeof(Threadprof_Options), NULL, NULL, 0, 0, NULL, NULL \
    }

/* The table in the capsule. Use the Threadprof_* macros below. */
typedef struct Threadprof_CAPI {
    /* THREADPROF_CAPI_VERSION of the library that made the table. */
    unsigned int version;
    /* The library version, e.g. "0.1.0". Never fails. */
    const char *(*Version)(void);
    /* The message of the calling thread's last error ("" if none). */
    const char *(*LastError)(void);
    /* Start profiling every thread. Requires the GIL.
     * THREADPROF_ERR_RUNNING if a threadprof profiler runs already,
     * THREADPROF_ERR_ARGUMENT for a bad clock/engine/limit. */
    int (*Start)(const Threadprof_Options *options);
    /* Stop profiling; writes options->output_path if one was given.
     * Requires the GIL. THREADPROF_ERR_NOT_RUNNING without a start; on a
     * write failure the profiler is stopped all the same and the data stays
     * available to Threadprof_Write. */
    int (*Stop)(void);
    /* Profile the calling thread from now on (threads created in C).
     * Requires the GIL. THREADPROF_ERR_NOT_RUNNING without a start. */
    int (*AttachCurrentThread)(void);
    /* Stop profiling the calling thread. Requires the GIL. */
    int (*DetachCurrentThread)(void);
    /* Write the profile (of the running profiler, or of the last one
     * stopped) to `path` in `format` ("tprof", "pstats", "callgrind", ...;
     * NULL: from the extension), restricted to the threads matching
     * `thread` (an ident, a name or a glob; NULL: all). Atomic: a failed
     * write leaves no partial file. Requires the GIL.
     * THREADPROF_ERR_ARGUMENT for a NULL path, THREADPROF_ERR_FORMAT for an
     * unknown format, THREADPROF_ERR_IO if it cannot be written,
     * THREADPROF_ERR_NO_DATA if nothing was profiled. */
    int (*Write)(const char *path, const char *format, const char *thread);
} Threadprof_CAPI;

/* The table, once imported; one copy per translation unit, as datetime.h's
 * PyDateTimeAPI. Define THREADPROF_CAPI_EXTERN in all translation units but
 * one (which defines THREADPROF_CAPI_DEFINE) to share one pointer. */
#if defined(__GNUC__) || defined(__clang__)
#define THREADPROF_UNUSED_ __attribute__((unused))
#else
#define THREADPROF_UNUSED_
#endif
#if defined(THREADPROF_CAPI_EXTERN)
extern const Threadprof_CAPI *Threadprof_API;
#elif defined(THREADPROF_CAPI_DEFINE)
const Threadprof_CAPI *Threadprof_API = NULL;
#else
static const Threadprof_CAPI *Threadprof_API THREADPROF_UNUSED_ = NULL;
#endif

#define THREADPROF_NOT_IMPORTED_MESSAGE \
    "threadprof is not imported: call Threadprof_Import() first"

/* Import the table. Requires an initialised interpreter and the GIL.
 * Returns THREADPROF_OK, THREADPROF_ERR_NOT_IMPORTED (threadprof cannot be
 * imported: the Python exception is printed) or THREADPROF_ERR_VERSION. */
static inline int
Threadprof_Import(void)
{
    /* an attached thread state: PyGILState_Check answers 1 without looking
     * once a subinterpreter has existed */
#if PY_VERSION_HEX >= 0x030D0000
    if (!Py_IsInitialized() || PyThreadState_GetUnchecked() == NULL) {
#else
    if (!Py_IsInitialized() || _PyThreadState_UncheckedGet() == NULL) {
#endif
        return THREADPROF_ERR_NO_GIL;
    }
    const Threadprof_CAPI *api =
        (const Threadprof_CAPI *)PyCapsule_Import(THREADPROF_CAPSULE_NAME, 0);
    if (api == NULL) {
        PyErr_Print();
        return THREADPROF_ERR_NOT_IMPORTED;
    }
    if (api->version < THREADPROF_CAPI_VERSION) {
        return THREADPROF_ERR_VERSION;
    }
    Threadprof_API = api;
    return THREADPROF_OK;
}

#define Threadprof_IMPORTED_(call, fail) \
    (Threadprof_API != NULL ? Threadprof_API->call : (fail))

/* Each macro returns THREADPROF_ERR_NOT_IMPORTED before Threadprof_Import. */
#define Threadprof_Version() \
    Threadprof_IMPORTED_(Version(), "unknown (not imported)")
#define Threadprof_LastError() \
    Threadprof_IMPORTED_(LastError(), THREADPROF_NOT_IMPORTED_MESSAGE)
#define Threadprof_Start(options) \
    Threadprof_IMPORTED_(Start(options), THREADPROF_ERR_NOT_IMPORTED)
#define Threadprof_Stop() \
    Threadprof_IMPORTED_(Stop(), THREADPROF_ERR_NOT_IMPORTED)
#define Threadprof_AttachCurrentThread() \
    Threadprof_IMPORTED_(AttachCurrentThread(), THREADPROF_ERR_NOT_IMPORTED)
#define Threadprof_DetachCurrentThread() \
    Threadprof_IMPORTED_(DetachCurrentThread(), THREADPROF_ERR_NOT_IMPORTED)
#define Threadprof_Write(path, format, thread)        \
    Threadprof_IMPORTED_(Write(path, format, thread), \
                         THREADPROF_ERR_NOT_IMPORTED)

#ifdef __cplusplus
}
#endif

#endif /* THREADPROF_THREADPROF_H */
