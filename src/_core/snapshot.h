/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h -- a consistent copy of a profiler's data as plain Python
 * objects (cold path, GIL held).
 *
 * While profiling runs, frames still open are counted as if they returned at
 * the moment of the snapshot, without changing the live data, so that in every
 * thread each node's self time plus its children's time equals its own time.
 * The dict layout is what threadprof.rawmodel.snapshot_from_raw reads.
 */
#ifndef THREADPROF_SNAPSHOT_H
#define THREADPROF_SNAPSHOT_H

#include "state.h"

/* Build the raw snapshot dict. Raises ProfilerError when nothing has been
 * recorded. Returns a new reference or NULL with an exception set. */
PyObject *tprof_snapshot_build(tprof_state *p);

/* Whether any thread has recorded a call: a snapshot would not fail for
 * want of data. */
int tprof_snapshot_recorded(tprof_state *p);

/* The text of p's sticky errors, one string per error (new list). */
PyObject *tprof_snapshot_errors(tprof_state *p);

#endif /* THREADPROF_SNAPSHOT_H */
