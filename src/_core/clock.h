/* SPDX-License-Identifier: MIT */
/*
 * clock.h -- the clocks the recorder reads, as inline functions.
 *
 * Every time the recorder stores is an int64 count of ticks. The built-in
 * clocks tick in nanoseconds: the wall clock is CLOCK_MONOTONIC (a vDSO read,
 * no system call) and the CPU clock is the calling thread's
 * CLOCK_THREAD_CPUTIME_ID (a real system call on many VMs, so the default
 * mode reads it only across long gaps; see recorder.h).
 */
#ifndef THREADPROF_CLOCK_H
#define THREADPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds of CLOCK_MONOTONIC. */
static inline int64_t
tp_clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Nanoseconds of CPU time consumed by the calling thread. */
static inline int64_t
tp_clock_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif /* THREADPROF_CLOCK_H */
