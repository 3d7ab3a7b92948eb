/* SPDX-License-Identifier: MIT */
/*
 * threads.h -- which threads run the recorder, and how a thread finds its
 * record.
 *
 * Owns the thread-local tag (tprof_tls) and the life of tprof_thread records.
 * How events reach the recorder is the engines' business (engine.h).
 */
#ifndef THREADPROF_THREADS_H
#define THREADPROF_THREADS_H

#include "state.h"

typedef struct tprof_tls_t {
    uint64_t gen;     /* generation of the profiler `ts` belongs to */
    tprof_thread *ts; /* valid only while gen matches */
    uint64_t serial;
#if TPROF_FREE_THREADED
    tprof_state *paused; /* the event in progress counts in its `busy` */
#endif
} tprof_tls_t;

extern TPROF_TLS tprof_tls_t tprof_tls;

/* The profiler's current generation, as the hot path reads it. */
static inline uint64_t
tprof_gen_of(tprof_state *p)
{
    return tprof_ld_relaxed(&p->gen);
}

/* A section of the event in progress that may pause (release the GIL, park
 * on a lock, run Python code) begins: p->busy counts the event. With the GIL
 * it counts until the section ends (tprof_event_resumed), since the event
 * holds the GIL again from there on. Without it, until the callback ends
 * (tprof_event_end), since every later step of the event may touch p. */
static inline void
tprof_event_may_pause(tprof_state *p)
{
#if TPROF_FREE_THREADED
    if (tprof_tls.paused == NULL) {
        tprof_tls.paused = p;
        tprof_add_seqcst(&p->busy, 1);
    }
#else
    p->busy++;
#endif
}

/* The section that tprof_event_may_pause began ends. */
static inline void
tprof_event_resumed(tprof_state *p)
{
#if TPROF_FREE_THREADED
    (void)p;
#else
    p->busy--;
#endif
}

/* The callback ends: it touches its profiler no more. Nothing to do with the
 * GIL, so the hot path of a build with the GIL pays nothing for it. */
static inline void
tprof_event_end(void)
{
#if TPROF_FREE_THREADED
    tprof_state *p = tprof_tls.paused;
    if (p != NULL) {
        tprof_tls.paused = NULL;
        tprof_add_seqcst(&p->busy, -1);
    }
#endif
}

/* The first record of p's current generation, and the one after ts: a walk
 * that needs no lock (records are appended, never unlinked while p can
 * record). */
static inline tprof_thread *
tprof_threads_first(tprof_state *p)
{
    return tprof_ld_acquire(&p->threads);
}

static inline tprof_thread *
tprof_threads_next(tprof_thread *ts)
{
    return tprof_ld_acquire(&ts->next);
}

/* A new, never used profiler generation. */
uint64_t tprof_threads_new_gen(void);

/* The calling thread's serial, assigned on first use. */
uint64_t tprof_threads_serial(void);

/* Find the calling thread's record in p (made by an earlier enable of p), or
 * create and register one. Sets tprof_tls. Touches Python objects to learn the
 * thread's name, from threading or from `frame` (the current frame if NULL)
 * and its callers; callers must tolerate a GIL release (see state.h).
 * Returns NULL when out of memory (sticky error set). */
tprof_thread *tprof_thread_attach(tprof_state *p, PyFrameObject *frame);

/* An empty registry for a new profiler. */
void tprof_threads_init(tprof_state *p);

/* clear(): move every record to `retired` (a callback that paused inside
 * may still hold one) and start a new generation; threads attach new records
 * lazily. */
void tprof_threads_retire_all(tprof_state *p);

/* Free the retired records if no callback can be inside them: 1 when some
 * were freed (the code watcher's chains of nodes must then be made again). */
int tprof_threads_reap(tprof_state *p);

/* Free every record, current and retired, at once: the profiler is being
 * freed, or it is a forked child whose other threads are gone. */
void tprof_threads_drop_all(tprof_state *p);

/* Bytes of memory the records hold. */
size_t tprof_threads_bytes(tprof_state *p);

/* Update a record's name from its threading.Thread if that still exists. */
void tprof_thread_refresh_name(tprof_state *p, tprof_thread *ts);

#endif /* THREADPROF_THREADS_H */
