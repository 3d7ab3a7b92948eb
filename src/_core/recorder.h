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
 * One recorder exists per (tp_mode, timeline on or off), each specialised at
 * compile time, so the clock is chosen once, when profiling starts, and no
 * test or mode branch runs per event.
 *
 * In TP_MODE_WALL_CPU the thread CPU clock (a system call on many machines)
 * is read only when the wall time since the thread's previous event is at
 * least p->cpu_gap. Shorter gaps are taken as on-CPU; each real read corrects
 * the running estimate so that thread totals stay exact at every read.
 */
#ifndef THREADPROF_RECORDER_H
#define THREADPROF_RECORDER_H

#include "profiler.h"

/* The four kinds of sys.monitoring callback the recorder offers. */
typedef enum tp_monitor_handler {
    TP_MON_CALL = 0,     /* PY_START, PY_RESUME, PY_THROW */
    TP_MON_RETURN = 1,   /* PY_RETURN, PY_YIELD, PY_UNWIND */
    TP_MON_C_CALL = 2,   /* CALL */
    TP_MON_C_RETURN = 3, /* C_RETURN, C_RAISE */
} tp_monitor_handler;

/* The sys.monitoring handlers for a mode, indexed by tp_monitor_handler: the
 * vectorcall functions of tp_moncb callbacks (moncb.h). */
const vectorcallfunc *tp_recorder_monitor_funcs(tp_mode mode, int timeline);

/* Attach the calling thread now (seeding its running frames if the profiler
 * seeds). Returns its record, or NULL. */
tp_thread *tp_recorder_attach_current(tp_profiler *p);

/* The recorder function for a mode, with or without a timeline. */
Py_tracefunc tp_recorder_for(tp_mode mode, int timeline);

/* The calling thread's current CPU reading in p's terms (ticks since attach),
 * refreshed from the real clock when the mode tracks CPU. */
int64_t tp_recorder_cpu_now(tp_profiler *p, tp_thread *ts);

/* Close every open frame of a thread at wall time `wall` and CPU reading
 * `cpu`, leaving only the root on its stack. */
void tp_recorder_unwind(tp_profiler *p, tp_thread *ts, int64_t wall,
                        int64_t cpu);

#endif /* THREADPROF_RECORDER_H */
