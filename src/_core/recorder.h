/* SPDX-License-Identifier: MIT */
/*
 * recorder.h -- the profile function: the hot path.
 *
 * Each event of an attached thread costs a thread-local load, one clock read,
 * a hash probe for the callee node (calls) or a pointer compare with the top
 * of the shadow stack (returns), and a few integer adds. No Python calls, no
 * strings, no allocation except when a new call path or a deeper stack first
 * appears; failures there set a sticky error instead of raising.
 *
 * One recorder exists per (tprof_mode, timeline on or off), each specialised
 * at compile time, so the clock is chosen once, when profiling starts, and no
 * test or mode branch runs per event.
 *
 * In TPROF_MODE_WALL_CPU the thread CPU clock (a system call on many machines)
 * is read only when the wall time since the thread's previous event is at
 * least p->cpu_gap. Shorter gaps are taken as on-CPU; each real read corrects
 * the running estimate so that thread totals stay exact at every read.
 */
#ifndef THREADPROF_RECORDER_H
#define THREADPROF_RECORDER_H

#include "profiler.h"

/* The four kinds of sys.monitoring callback the recorder offers. */
typedef enum tprof_monitor_handler {
    TPROF_MON_CALL = 0,     /* PY_START, PY_RESUME, PY_THROW */
    TPROF_MON_RETURN = 1,   /* PY_RETURN, PY_YIELD, PY_UNWIND */
    TPROF_MON_C_CALL = 2,   /* CALL */
    TPROF_MON_C_RETURN = 3, /* C_RETURN, C_RAISE */
} tprof_monitor_handler;

/* The sys.monitoring handlers for a mode, indexed by tprof_monitor_handler:
 * the vectorcall functions of tprof_moncb callbacks (moncb.h). */
const vectorcallfunc *tprof_recorder_monitor_funcs(tprof_mode mode,
                                                   int timeline);

/* Attach the calling thread now (seeding its running frames if the profiler
 * seeds). Returns its record, or NULL. */
tprof_thread *tprof_recorder_attach_current(tprof_profiler *p);

/* The recorder function for a mode, with or without a timeline. */
Py_tracefunc tprof_recorder_for(tprof_mode mode, int timeline);

/* The calling thread's current CPU reading in p's terms (ticks since attach),
 * refreshed from the real clock when the mode tracks CPU. */
int64_t tprof_recorder_cpu_now(tprof_profiler *p, tprof_thread *ts);

/* Close every open frame of a thread at wall time `wall` and CPU reading
 * `cpu`, leaving only the root on its stack. */
void tprof_recorder_unwind(tprof_profiler *p, tprof_thread *ts, int64_t wall,
                           int64_t cpu);

#endif /* THREADPROF_RECORDER_H */
