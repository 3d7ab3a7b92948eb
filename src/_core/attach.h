/* SPDX-License-Identifier: MIT */
/*
 * attach.h -- a thread meets the recorder, and the recorder meets the
 * profiler's cold paths: attaching the calling thread (its record, and the
 * frames it was already running when `seed` is on), and reading or closing a
 * thread's open frames at disable, detach and snapshot time.
 */
#ifndef THREADPROF_ATTACH_H
#define THREADPROF_ATTACH_H

#include "threads.h"

/* Attach the calling thread on its first event (`what`, in `frame`, or the
 * current frame when NULL): its record, seeded with its running frames if p
 * seeds. Returns the record, or NULL. The caller ends the event
 * (tprof_event_end). */
tprof_thread *tprof_attach(tprof_state *p, PyFrameObject *frame, int what);

/* Attach the calling thread now, outside any event. Returns its record, or
 * NULL. */
tprof_thread *tprof_attach_current(tprof_state *p);

/* The calling thread's current CPU reading in p's terms (ticks since attach),
 * refreshed from the real clock when the mode tracks CPU. */
int64_t tprof_cpu_now(tprof_state *p, tprof_thread *ts);

/* Close every open frame of a thread at wall time `wall` and CPU reading
 * `cpu`, leaving only the root on its stack, and end its suspended calls
 * there (their waits, as open frames end). */
void tprof_unwind(tprof_state *p, tprof_thread *ts, int64_t wall, int64_t cpu);

#endif /* THREADPROF_ATTACH_H */
