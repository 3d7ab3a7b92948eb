/* SPDX-License-Identifier: MIT */
/*
 * engine.h -- how events reach the recorder: one table of operations per
 * engine, each engine the only owner of its own state.
 *
 * Two engines deliver the same events to the same recorder:
 *
 * - legacy (legacy.c): a Py_tracefunc installed in every thread with
 *   PyEval_SetProfileAllThreads (3.12+) or a walk over the thread states
 *   (3.11), plus wrappers around _thread's and threading's thread starters
 *   whose trampoline installs it in each thread started later.
 *   Threads whose thread state is created in C need attach_current. On stop
 *   the hook is replaced by a tombstone that removes itself, never by NULL:
 *   CPython 3.12 and early 3.13 may call a thread's hook after another thread
 *   cleared it (gh-137400).
 * - monitoring (monitoring.c, 3.12+): C callables registered with
 *   sys.monitoring under a tool id of threadprof's own. Events are global to
 *   the interpreter, so every thread is covered, whatever created it.
 *
 * The profiler allocates `state_size` zeroed bytes for the engine when it is
 * made and hands them to every operation; it never looks inside.
 */
#ifndef THREADPROF_ENGINE_H
#define THREADPROF_ENGINE_H

#include "state.h"

typedef struct tprof_engine_ops {
    const char *name;
    long min_version;  /* PY_VERSION_HEX it needs */
    size_t state_size; /* bytes of the engine's own state */
    int match_code;    /* its returns carry the code object, not the frame */
    /* Before install: warn about what enabling will displace. -1 with an
     * exception set if a warning was turned into an error. */
    int (*prepare)(tprof_state *p, void *es);
    /* Deliver events from now on. -1 with an exception set on failure (the
     * profiler then calls remove). */
    int (*install)(tprof_state *p, void *es);
    /* Deliver no more events. On a free-threaded build this stops the world,
     * so no callback runs on afterwards unless it counts in p->busy. */
    void (*remove)(tprof_state *p, void *es);
    /* Flag hooks that other code took away (warnings in the snapshot). */
    void (*check)(tprof_state *p, void *es);
    /* Deliver the calling thread's events from now on, or no more. */
    void (*attach_current)(tprof_state *p, void *es);
    void (*detach_current)(tprof_state *p, void *es);
    /* The Python objects the engine state holds, for the GC. */
    int (*traverse)(void *es, visitproc visit, void *arg);
    void (*clear)(void *es);
} tprof_engine_ops;

extern const tprof_engine_ops tprof_legacy_engine;
extern const tprof_engine_ops tprof_monitoring_engine;

/* Add the audit hook that flags replaced profile hooks, once per process
 * (audit hooks are the process's and cannot be removed). Called at the
 * legacy engine's first install; on a free-threaded build at import instead,
 * since CPython 3.13t adds audit hooks without a lock while other threads
 * may be running them. Returns -1 with an exception set. */
int tprof_legacy_audit_install(void);

/* After Py_FinalizeEx, which removes every audit hook: add it again at the
 * next install. */
void tprof_legacy_audit_forget(void);

#endif /* THREADPROF_ENGINE_H */
