/* SPDX-License-Identifier: MIT */
/*
 * engine.h -- how events reach the recorder.
 *
 * Two engines deliver the same events to the same recorder:
 *
 * - legacy (legacy.c): a Py_tracefunc installed in every thread with
 *   PyEval_SetProfileAllThreads (3.12+) or a walk over the thread states
 *   (3.11), plus a threading.setprofile trampoline for threads started later.
 *   Threads whose thread state is created in C need
 * tprof_legacy_attach_current. On stop the hook is replaced by a tombstone
 * that removes itself, never by NULL: CPython 3.12 and early 3.13 may call a
 * thread's hook after another thread cleared it (gh-137400).
 * - monitoring (monitoring.c, 3.12+): C callables registered with
 *   sys.monitoring under a tool id of threadprof's own. Events are global to
 *   the interpreter, so every thread is covered, whatever created it.
 */
#ifndef THREADPROF_ENGINE_H
#define THREADPROF_ENGINE_H

#include "profiler.h"

/* Add the audit hook that flags replaced profile hooks, once per process.
 * Called at the legacy engine's first install; on a free-threaded build at
 * import instead, since CPython 3.13t adds audit hooks without a lock while
 * other threads may be running them. Returns -1 with an exception set. */
int tprof_legacy_audit_install(void);

/* Install the legacy engine. Returns -1 with an exception set on failure. */
int tprof_legacy_install(tprof_profiler *p);

/* Remove the legacy engine from every thread and from threading. */
void tprof_legacy_remove(tprof_profiler *p);

/* Install the legacy hook in the calling thread only. */
void tprof_legacy_attach_current(tprof_profiler *p);

/* Remove the legacy hook from the calling thread only. */
void tprof_legacy_detach_current(tprof_profiler *p);

/* Flag the records of threads whose hook is no longer the recorder
 * (TPROF_WARN_HOOK_REPLACED). GIL held; calls nothing while walking. */
void tprof_legacy_check_hooks(tprof_profiler *p);

/* The number of threads whose profile hook belongs to another tool. */
int tprof_legacy_foreign_hooks(tprof_profiler *p);

/* Install the sys.monitoring engine (3.12+). Returns -1 with an exception
 * set on failure, or when this Python has no sys.monitoring. */
int tprof_monitoring_install(tprof_profiler *p);

/* Remove the sys.monitoring engine and free its tool id. */
void tprof_monitoring_remove(tprof_profiler *p);

/* True when the sys.monitoring tool id is still threadprof's with its
 * events set; false when another tool took them away. */
int tprof_monitoring_intact(tprof_profiler *p);

#endif /* THREADPROF_ENGINE_H */
