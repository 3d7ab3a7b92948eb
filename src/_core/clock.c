/* SPDX-License-Identifier: MIT */
#include "clock.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TPROF_HAVE_TSC
#include <cpuid.h>
#endif

tprof_clock_cal tprof_clock = {.calibrate_at = INT64_MAX};
static int tprof_clock_ready;

#if TPROF_HAVE_TSC
/* An invariant TSC (CPUID 0x80000007, EDX bit 8) ticks at a constant rate
 * in every power state. */
static int
tprof_tsc_invariant(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u) {
        return 0;
    }
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1;
}

/* The kernel keeps time with the TSC only if it found it synchronised
 * across CPUs. */
static int
tprof_kernel_uses_tsc(void)
{
    FILE *f = fopen(
        "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        "r");
    if (f == NULL) {
        return 0;
    }
    char buf[32] = {0};
    int ok = fgets(buf, sizeof(buf), f) != NULL && strcmp(buf, "tsc\n") == 0;
    fclose(f);
    return ok;
}

/* A (TSC, CLOCK_MONOTONIC) pair read as close together as possible; returns
 * the window (in TSC ticks) that the pair's CLOCK_MONOTONIC read fell in. */
static uint64_t
tprof_clock_pair(uint64_t *tsc, int64_t *mono)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = __rdtsc();
        int64_t m = tprof_clock_monotonic();
        uint64_t t1 = __rdtsc();
        if (t1 - t0 < best) {
            best = t1 - t0;
            *tsc = t0 + (t1 - t0) / 2;
            *mono = m;
        }
    }
    return best;
}
#endif

void
tprof_clock_setup(void)
{
    if (tprof_clock_ready) {
        return;
    }
    tprof_clock_ready = 1;
    tprof_clock.use_tsc = 0;
    tprof_clock.calibrate_at = INT64_MAX;
#if TPROF_HAVE_TSC
    const char *force = getenv("THREADPROF_CLOCK");
    if ((force != NULL && strcmp(force, "monotonic") == 0) ||
        !tprof_tsc_invariant() || !tprof_kernel_uses_tsc())
    {
        return;
    }
    tprof_clock_pair(&tprof_clock.tsc0, &tprof_clock.mono0);
    tprof_clock.tsc_chosen = 1;
    __atomic_store_n(&tprof_clock.calibrate_at,
                     tprof_clock.mono0 + TPROF_CLOCK_SPAN, __ATOMIC_RELAXED);
#endif
}

/* The most (in ns) that the switch to the TSC may move the clock forward. */
#define TPROF_CLOCK_MAX_SLACK 1000

void
tprof_clock_calibrate(void)
{
#if TPROF_HAVE_TSC
    static int claimed;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&claimed, &expected, 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    {
        return; /* another thread is switching (or has switched) */
    }
    uint64_t tsc = 0;
    int64_t mono = 0;
    uint64_t window = tprof_clock_pair(&tsc, &mono);
    if (tsc > tprof_clock.tsc0 && mono > tprof_clock.mono0) {
        unsigned __int128 num =
            (unsigned __int128)(uint64_t)(mono - tprof_clock.mono0) << 32;
        uint64_t mult = (uint64_t)(num / (tsc - tprof_clock.tsc0));
        unsigned __int128 slack = (unsigned __int128)window * mult;
        if (mult > 0 && (slack >> 32) > TPROF_CLOCK_MAX_SLACK) {
            /* every try was interrupted: try again a little later */
            __atomic_store_n(&tprof_clock.calibrate_at,
                             mono + TPROF_CLOCK_SPAN / 5, __ATOMIC_RELAXED);
            __atomic_store_n(&claimed, 0, __ATOMIC_RELEASE);
            return;
        }
        if (mult > 0) {
            unsigned __int128 scaled = (unsigned __int128)tsc * mult;
            /* the pair's CLOCK_MONOTONIC read lies within `window` ticks of
             * its TSC value: a whole window later, the TSC clock is never
             * behind what CLOCK_MONOTONIC gave a thread before the switch */
            tprof_clock.mult = mult;
            tprof_clock.offset =
                mono - (int64_t)(scaled >> 32) + (int64_t)(slack >> 32) + 1;
            __atomic_store_n(&tprof_clock.use_tsc, 1, __ATOMIC_RELEASE);
        }
    }
    __atomic_store_n(&tprof_clock.calibrate_at, INT64_MAX, __ATOMIC_RELAXED);
#endif
}

const char *
tprof_clock_source(void)
{
    return tprof_clock.tsc_chosen ? "tsc" : "monotonic";
}

int
tprof_clock_user(PyObject *timer, double timeunit, int64_t *now)
{
    PyObject *o = PyObject_CallNoArgs(timer);
    if (o == NULL) {
        return -1;
    }
    int rc = 0;
    if (timeunit > 0.0) {
        /* integer ticks of `timeunit` seconds */
        long long v = PyLong_Check(o) ? PyLong_AsLongLong(o)
                                      : (long long)PyFloat_AsDouble(o);
        rc = (v == -1 && PyErr_Occurred()) ? -1 : 0;
        *now = (int64_t)v;
    }
    else if (PyLong_Check(o)) {
        /* whole seconds */
        long long v = PyLong_AsLongLong(o);
        rc = (v == -1 && PyErr_Occurred()) ? -1 : 0;
        *now = (int64_t)v * 1000000000;
    }
    else {
        /* float seconds, floored to nanoseconds as cProfile does */
        double d = PyFloat_AsDouble(o);
        rc = (d == -1.0 && PyErr_Occurred()) ? -1 : 0;
        *now = (int64_t)floor(d * 1e9);
    }
    Py_DECREF(o);
    if (rc == 0 && PyErr_Occurred()) {
        rc = -1;
    }
    return rc;
}
