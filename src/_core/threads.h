/* SPDX-License-Identifier: MIT */
/*
 * threads.h -- which threads run the recorder, and how a thread finds its
 * record.
 *
 * Owns the thread-local tag (tp_tls) and the life of tp_thread records. How
 * events reach the recorder is the engines' business (engine.h).
 */
#ifndef THREADPROF_THREADS_H
#define THREADPROF_THREADS_H

#include "profiler.h"

#if defined(__GNUC__) || defined(__clang__)
#define TP_LIKELY(x) __builtin_expect(!!(x), 1)
#define TP_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* initial-exec: the tag is read on every event, and this model makes the read
 * a single %fs-relative load instead of a call to __tls_get_addr. It costs a
 * few bytes of the static TLS surplus that glibc reserves for dlopen()ed
 * libraries. */
#define TP_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define TP_LIKELY(x) (x)
#define TP_UNLIKELY(x) (x)
#define TP_TLS _Thread_local
#endif

typedef struct tp_tls_t {
    uint64_t gen;  /* generation of the profiler `ts` belongs to */
    tp_thread *ts; /* valid only while gen matches */
    uint64_t serial;
#if TP_FREE_THREADED
    tp_profiler *paused; /* the event in progress counts in its `busy` */
#endif
} tp_tls_t;

extern TP_TLS tp_tls_t tp_tls;

/* The profiler's current generation, as the hot path reads it. */
static inline uint64_t
tp_gen_of(tp_profiler *p)
{
    return tp_ld_relaxed(&p->gen);
}

/* A section of the event in progress that may pause (release the GIL, park
 * on a lock, run Python code) begins: p->busy counts the event. With the GIL
 * it counts until the section ends (tp_event_resumed), since the event holds
 * the GIL again from there on. Without it, until the callback ends
 * (tp_event_end), since every later step of the event may touch p. */
static inline void
tp_event_may_pause(tp_profiler *p)
{
#if TP_FREE_THREADED
    if (tp_tls.paused == NULL) {
        tp_tls.paused = p;
        tp_add_seqcst(&p->busy, 1);
    }
#else
    p->busy++;
#endif
}

/* The section that tp_event_may_pause began ends. */
static inline void
tp_event_resumed(tp_profiler *p)
{
#if TP_FREE_THREADED
    (void)p;
#else
    p->busy--;
#endif
}

/* The callback ends: it touches its profiler no more. Nothing to do with the
 * GIL, so the hot path of a build with the GIL pays nothing for it. */
static inline void
tp_event_end(void)
{
#if TP_FREE_THREADED
    tp_profiler *p = tp_tls.paused;
    if (p != NULL) {
        tp_tls.paused = NULL;
        tp_add_seqcst(&p->busy, -1);
    }
#endif
}

/* The first record of p's current generation, and the one after ts: a walk
 * that needs no lock (records are appended, never unlinked while p can
 * record). */
static inline tp_thread *
tp_threads_first(tp_profiler *p)
{
    return tp_ld_acquire(&p->threads);
}

static inline tp_thread *
tp_threads_next(tp_thread *ts)
{
    return tp_ld_acquire(&ts->next);
}

/* Make the strings the lookups use; once per process, at import. */
int tp_threads_init(void);

/* A new, never used profiler generation. */
uint64_t tp_threads_new_gen(void);

/* The calling thread's serial, assigned on first use. */
uint64_t tp_threads_serial(void);

/* Find the calling thread's record in p (made by an earlier enable of p), or
 * create and register one. Sets tp_tls. Touches Python objects to learn the
 * thread's name, from threading or from `frame` (the current frame if NULL)
 * and its callers; callers must tolerate a GIL release (see profiler.h).
 * Returns NULL when out of memory (sticky error set). */
tp_thread *tp_thread_attach(tp_profiler *p, PyFrameObject *frame);

/* Free a list of records linked through `next`. Requires the GIL. */
void tp_threads_free(tp_thread *list);

/* Update a record's name from its threading.Thread if that still exists. */
void tp_thread_refresh_name(tp_thread *ts);

#endif /* THREADPROF_THREADS_H */
