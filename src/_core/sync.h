/* SPDX-License-Identifier: MIT */
/*
 * sync.h -- what the free-threaded build (Py_GIL_DISABLED) needs to share
 * state between threads, and nothing in a build with the GIL.
 *
 * With the GIL every helper here is a plain load, store or no-op: the GIL
 * already orders everything. Without it:
 *
 * - tp_mutex is CPython's PyMutex, for state touched rarely (the function
 *   table, the thread registry, the timeline's spill file). Locking it may
 *   park the thread, so only code that may pause takes it (see
 *   tp_event_may_pause in recorder.h).
 * - tp_ld_relaxed and friends are relaxed (plain moves on x86-64 and arm64) or
 *   acquire/release atomics, for fields one thread writes and others read:
 *   the profiler's generation and switches, counts that publish items, and a
 *   thread's own counters, which a snapshot reads while the thread runs.
 * - tp_busy_* count the callbacks that are inside a section that may pause;
 *   stopping waits for the count to fall to zero (tp_profiler_quiesce).
 */
#ifndef THREADPROF_SYNC_H
#define THREADPROF_SYNC_H

#include "compat.h"

#include <stdint.h>

#ifdef Py_GIL_DISABLED
#define TP_FREE_THREADED 1

typedef struct tp_mutex {
    PyMutex m;
} tp_mutex;

static inline void
tp_mutex_lock(tp_mutex *m)
{
    PyMutex_Lock(&m->m);
}

static inline void
tp_mutex_unlock(tp_mutex *m)
{
    PyMutex_Unlock(&m->m);
}

#define tp_ld_relaxed(ptr) __atomic_load_n((ptr), __ATOMIC_RELAXED)
#define tp_st_relaxed(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_RELAXED)
#define tp_ld_acquire(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define tp_st_release(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_RELEASE)
#define tp_or_relaxed(ptr, v) __atomic_fetch_or((ptr), (v), __ATOMIC_RELAXED)
/* Add to a counter only the calling thread writes (others may read it): a
 * plain load, add and store, with no locked instruction. */
#define tp_add_relaxed(ptr, v) tp_st_relaxed((ptr), tp_ld_relaxed(ptr) + (v))
#define tp_add_seqcst(ptr, v) __atomic_add_fetch((ptr), (v), __ATOMIC_SEQ_CST)
#define tp_ld_seqcst(ptr) __atomic_load_n((ptr), __ATOMIC_SEQ_CST)
#define tp_st_seqcst(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_SEQ_CST)
/* Set *ptr to v if it holds `expected`; true when it did. */
#define tp_cas(ptr, expected, v)                                         \
    __extension__({                                                      \
        __typeof__(*(ptr)) tp_cas_old_ = (expected);                     \
        __atomic_compare_exchange_n((ptr), &tp_cas_old_, (v), 0,         \
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    })

#else
#define TP_FREE_THREADED 0

typedef struct tp_mutex {
    char unused;
} tp_mutex;

static inline void
tp_mutex_lock(tp_mutex *m)
{
    (void)m;
}

static inline void
tp_mutex_unlock(tp_mutex *m)
{
    (void)m;
}

#define tp_ld_relaxed(ptr) (*(ptr))
#define tp_st_relaxed(ptr, v) ((void)(*(ptr) = (v)))
#define tp_ld_acquire(ptr) (*(ptr))
#define tp_st_release(ptr, v) ((void)(*(ptr) = (v)))
#define tp_or_relaxed(ptr, v) ((void)(*(ptr) |= (v)))
#define tp_add_relaxed(ptr, v) ((void)(*(ptr) += (v)))
#define tp_add_seqcst(ptr, v) (*(ptr) += (v))
#define tp_ld_seqcst(ptr) (*(ptr))
#define tp_st_seqcst(ptr, v) ((void)(*(ptr) = (v)))
#define tp_cas(ptr, expected, v) (*(ptr) == (expected) ? (*(ptr) = (v), 1) : 0)
#endif

#endif /* THREADPROF_SYNC_H */
