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
} tp_tls_t;

extern TP_TLS tp_tls_t tp_tls;

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
