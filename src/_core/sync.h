/* SPDX-License-Identifier: MIT */
/*
 * sync.h -- what the free-threaded build (Py_GIL_DISABLED) needs to share
 * state between threads, and nothing in a build with the GIL.
 *
 * With the GIL every helper here is a plain load, store or no-op: the GIL
 * already orders everything. Without it:
 *
 * - tprof_mutex is CPython's PyMutex, for state touched rarely (the function
 *   table, the thread registry, the timeline's spill file). Locking it may
 *   park the thread, so only code that may pause takes it (see
 *   tprof_event_may_pause in recorder.h).
 * - tprof_ld_relaxed and friends are relaxed (plain moves on x86-64 and arm64)
 * or acquire/release atomics, for fields one thread writes and others read:
 *   the profiler's generation and switches, counts that publish items, and a
 *   thread's own counters, which a snapshot reads while the thread runs.
 * - tprof_busy_* count the callbacks that are inside a section that may pause;
 *   stopping waits for the count to fall to zero (tprof_profiler_quiesce).
 */
#ifndef THREADPROF_SYNC_H
#define THREADPROF_SYNC_H

#include "compat.h"

#include <stdint.h>

#ifdef Py_GIL_DISABLED
#define TPROF_FREE_THREADED 1

typedef struct tprof_mutex {
    PyMutex m;
} tprof_mutex;

static inline void
tprof_mutex_lock(tprof_mutex *m)
{
    PyMutex_Lock(&m->m);
}

static inline void
tprof_mutex_unlock(tprof_mutex *m)
{
    PyMutex_Unlock(&m->m);
}

#define tprof_ld_relaxed(ptr) __atomic_load_n((ptr), __ATOMIC_RELAXED)
#define tprof_st_relaxed(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_RELAXED)
#define tprof_ld_acquire(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define tprof_st_release(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_RELEASE)
#define tprof_or_relaxed(ptr, v) \
    __atomic_fetch_or((ptr), (v), __ATOMIC_RELAXED)
/* Add to a counter only the calling thread writes (others may read it): a
 * plain load, add and store, with no locked instruction. */
#define tprof_add_relaxed(ptr, v) \
    tprof_st_relaxed((ptr), tprof_ld_relaxed(ptr) + (v))
#define tprof_add_seqcst(ptr, v) \
    __atomic_add_fetch((ptr), (v), __ATOMIC_SEQ_CST)
#define tprof_ld_seqcst(ptr) __atomic_load_n((ptr), __ATOMIC_SEQ_CST)
#define tprof_st_seqcst(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_SEQ_CST)
/* Set *ptr to v if it holds `expected`; true when it did. */
#define tprof_cas(ptr, expected, v)                                      \
    __extension__({                                                      \
        __typeof__(*(ptr)) tprof_cas_old_ = (expected);                  \
        __atomic_compare_exchange_n((ptr), &tprof_cas_old_, (v), 0,      \
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    })

#else
#define TPROF_FREE_THREADED 0

typedef struct tprof_mutex {
    char unused;
} tprof_mutex;

static inline void
tprof_mutex_lock(tprof_mutex *m)
{
    (void)m;
}

static inline void
tprof_mutex_unlock(tprof_mutex *m)
{
    (void)m;
}

#define tprof_ld_relaxed(ptr) (*(ptr))
#define tprof_st_relaxed(ptr, v) ((void)(*(ptr) = (v)))
#define tprof_ld_acquire(ptr) (*(ptr))
#define tprof_st_release(ptr, v) ((void)(*(ptr) = (v)))
#define tprof_or_relaxed(ptr, v) ((void)(*(ptr) |= (v)))
#define tprof_add_relaxed(ptr, v) ((void)(*(ptr) += (v)))
#define tprof_add_seqcst(ptr, v) (*(ptr) += (v))
#define tprof_ld_seqcst(ptr) (*(ptr))
#define tprof_st_seqcst(ptr, v) ((void)(*(ptr) = (v)))
#define tprof_cas(ptr, expected, v) \
    (*(ptr) == (expected) ? (*(ptr) = (v), 1) : 0)
#endif

#endif /* THREADPROF_SYNC_H */
