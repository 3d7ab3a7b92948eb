/* SPDX-License-Identifier: MIT */
/*
 * clock.h -- the clocks the recorder reads, as inline functions.
 *
 * Every time the recorder stores is an int64 count of ticks. The built-in
 * clocks tick in nanoseconds.
 *
 * The wall clock is the CPU's time-stamp counter scaled to nanoseconds when
 * the TSC is invariant and the kernel itself keeps time with it (so it is
 * synchronised across cores): one RDTSC and a 128-bit multiply, about a third
 * of a vDSO clock_gettime(CLOCK_MONOTONIC) here. Otherwise it is
 * CLOCK_MONOTONIC. tprof_clock_setup() chooses, once per process, before the
 * first read; the values of both are nanoseconds on CLOCK_MONOTONIC's scale.
 *
 * The TSC's rate is measured against CLOCK_MONOTONIC without waiting: setup
 * takes one (TSC, CLOCK_MONOTONIC) pair, the wall clock reads CLOCK_MONOTONIC
 * until TPROF_CLOCK_SPAN has passed, and the first read after that takes the
 * second pair and switches to the TSC for good (tprof_clock_calibrate). The
 * switch keeps the values on CLOCK_MONOTONIC's scale and never makes a
 * thread's clock go back. A run shorter than the span never pays for it.
 *
 * The CPU clock is the calling thread's CLOCK_THREAD_CPUTIME_ID (a real
 * system call on many VMs, so the default mode reads it only across long
 * gaps; see recorder.h).
 *
 * A Python timer (cProfile's `timer` argument) is the fourth clock: a call of
 * Python code, so never read on the hot path of the other modes.
 */
#ifndef THREADPROF_CLOCK_H
#define THREADPROF_CLOCK_H

#include "compat.h"

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define TPROF_HAVE_TSC 1
#else
#define TPROF_HAVE_TSC 0
#endif

/* The span between the two pairs that measure the TSC's rate: their jitter
 * (tens of ns) becomes a 1e-5 error in the rate. */
#define TPROF_CLOCK_SPAN 5000000

/* The wall clock's calibration, written by tprof_clock_setup() and once by
 * tprof_clock_calibrate(), which publishes mult and offset by setting
 * use_tsc (release; the wall clock reads it with acquire, a plain load on
 * x86-64). */
typedef struct tprof_clock_cal {
    int use_tsc;    /* 1: the TSC, scaled; 0: CLOCK_MONOTONIC */
    uint64_t mult;  /* nanoseconds per tick, as a 32.32 fixed-point number */
    int64_t offset; /* added to the scaled TSC to land on CLOCK_MONOTONIC */
    /* CLOCK_MONOTONIC's value from which a read calibrates the TSC (relaxed
     * atomic); INT64_MAX when the TSC is not used or is calibrated */
    int64_t calibrate_at;
    int tsc_chosen; /* the TSC is (or will be, after the span) the clock */
    uint64_t tsc0;  /* the first pair */
    int64_t mono0;
} tprof_clock_cal;

extern tprof_clock_cal tprof_clock;

/* Choose the wall clock and take the TSC's first pair (once per process;
 * later calls return at once). THREADPROF_CLOCK=monotonic forces
 * CLOCK_MONOTONIC. */
void tprof_clock_setup(void);

/* Take the second pair and switch the wall clock to the TSC; the first
 * caller does it, the others return at once. */
void tprof_clock_calibrate(void);

/* The name of the wall clock: "tsc" (also while its rate is being measured)
 * or "monotonic". */
const char *tprof_clock_source(void);

static inline int64_t
tprof_clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Nanoseconds of wall time. */
static inline int64_t
tprof_clock_wall(void)
{
#if TPROF_HAVE_TSC
    if (__builtin_expect(
            __atomic_load_n(&tprof_clock.use_tsc, __ATOMIC_ACQUIRE), 1))
    {
        unsigned __int128 t = (unsigned __int128)__rdtsc() * tprof_clock.mult;
        return (int64_t)(t >> 32) + tprof_clock.offset;
    }
    int64_t now = tprof_clock_monotonic();
    if (__builtin_expect(now >= __atomic_load_n(&tprof_clock.calibrate_at,
                                                __ATOMIC_RELAXED),
                         0))
    {
        tprof_clock_calibrate();
    }
    return now;
#else
    return tprof_clock_monotonic();
#endif
}

/* Nanoseconds of CPU time consumed by the calling thread. */
static inline int64_t
tprof_clock_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Call a Python timer and convert its value to ticks: an int is whole seconds
 * (or ticks of `timeunit` seconds when timeunit > 0), a float is seconds,
 * floored to nanoseconds as cProfile does. Returns -1 with an exception set
 * when the timer fails or returns something else. */
int tprof_clock_user(PyObject *timer, double timeunit, int64_t *now);

#endif /* THREADPROF_CLOCK_H */
