/* SPDX-License-Identifier: MIT */
/*
 * recorder.h -- the profile functions: the hot path.
 *
 * An event finds the calling thread's record by a thread-local load
 * (threads.h), then reads the clock and enters or closes a frame (frames.h).
 * No Python calls, no strings, no locks, no allocation except when a new call
 * path or a deeper stack first appears (slowpath.h); failures there set a
 * sticky error instead of raising. A thread's first event attaches it
 * (attach.h).
 *
 * One recorder exists per (tprof_mode, timeline on or off), each specialised
 * at compile time, so the clock is chosen once, when profiling starts, and no
 * test or mode branch runs per event. Each recorder is a Py_tracefunc for the
 * legacy engine and six sys.monitoring handlers for the other.
 */
#ifndef THREADPROF_RECORDER_H
#define THREADPROF_RECORDER_H

#include "state.h"

/* The kinds of sys.monitoring callback the recorder offers. */
typedef enum tprof_monitor_handler {
    TPROF_MON_CALL = 0,     /* PY_START; PY_RESUME, PY_THROW unless whole */
    TPROF_MON_RETURN = 1,   /* PY_RETURN, PY_UNWIND; PY_YIELD unless whole */
    TPROF_MON_C_CALL = 2,   /* CALL */
    TPROF_MON_C_RETURN = 3, /* C_RETURN, C_RAISE */
    TPROF_MON_RESUME = 4,   /* PY_RESUME, PY_THROW when calls are whole */
    TPROF_MON_YIELD = 5,    /* PY_YIELD when calls are whole */
    TPROF_MON_NHANDLERS = 6,
} tprof_monitor_handler;

/* The sys.monitoring handlers for a mode, indexed by tprof_monitor_handler:
 * the vectorcall functions of tprof_moncb callbacks (moncb.h). */
const vectorcallfunc *tprof_recorder_monitor_funcs(tprof_mode mode,
                                                   int timeline);

/* The recorder function for a mode, with or without a timeline. */
Py_tracefunc tprof_recorder_for(tprof_mode mode, int timeline);

#endif /* THREADPROF_RECORDER_H */
