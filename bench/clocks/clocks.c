/* SPDX-License-Identifier: MIT */
/*
 * clocks: the cost of one clock read on this machine.
 *
 * For each clock, BATCHES batches of READS back-to-back reads are timed with
 * CLOCK_MONOTONIC; the per-read cost of a batch is its duration divided by
 * READS, and the median over the batches is printed (nanoseconds), together
 * with the cost of the empty loop so that it can be subtracted by eye. The
 * results go to stdout as one JSON object.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -o clocks clocks.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define BATCHES 201
#define READS 20000

/* keeps the compiler from dropping reads whose result is unused */
static volatile uint64_t sink;

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* One measurement loop per clock, written out by a macro so that every read
 * is inlined into the loop exactly as a profiler's hot path would inline it.
 */
#define MEASURE(result, READ_EXPR)                     \
    do {                                               \
        double per_[BATCHES];                          \
        for (int b_ = 0; b_ < BATCHES; b_++) {         \
            uint64_t acc_ = 0;                         \
            uint64_t t0_ = mono_ns();                  \
            for (int i_ = 0; i_ < READS; i_++) {       \
                acc_ += (uint64_t)(READ_EXPR);         \
                __asm__ __volatile__("" ::: "memory"); \
            }                                          \
            uint64_t t1_ = mono_ns();                  \
            sink += acc_;                              \
            per_[b_] = (double)(t1_ - t0_) / READS;    \
        }                                              \
        (result) = median(per_, BATCHES);              \
    } while (0)

static uint64_t
read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_nsec;
}

int
main(void)
{
    double empty, mono, mono_raw, mono_coarse, realtime, thread_cpu,
        process_cpu;
    MEASURE(empty, 0);
    MEASURE(mono, read_clock(CLOCK_MONOTONIC));
    MEASURE(mono_raw, read_clock(CLOCK_MONOTONIC_RAW));
    MEASURE(mono_coarse, read_clock(CLOCK_MONOTONIC_COARSE));
    MEASURE(realtime, read_clock(CLOCK_REALTIME));
    MEASURE(thread_cpu, read_clock(CLOCK_THREAD_CPUTIME_ID));
    MEASURE(process_cpu, read_clock(CLOCK_PROCESS_CPUTIME_ID));
    printf("{\"unit\": \"ns\", \"reads_per_batch\": %d, \"batches\": %d,\n",
           READS, BATCHES);
    printf(" \"empty_loop\": %.2f,\n", empty);
    printf(" \"CLOCK_MONOTONIC\": %.2f,\n", mono);
    printf(" \"CLOCK_MONOTONIC_RAW\": %.2f,\n", mono_raw);
    printf(" \"CLOCK_MONOTONIC_COARSE\": %.2f,\n", mono_coarse);
    printf(" \"CLOCK_REALTIME\": %.2f,\n", realtime);
    printf(" \"CLOCK_THREAD_CPUTIME_ID\": %.2f,\n", thread_cpu);
    printf(" \"CLOCK_PROCESS_CPUTIME_ID\": %.2f", process_cpu);
#if HAVE_TSC
    double tsc, tscp;
    unsigned aux = 0;
    MEASURE(tsc, __rdtsc());
    MEASURE(tscp, __rdtscp(&aux));
    /* TSC ticks per nanosecond, over about 50 ms */
    uint64_t c0 = __rdtsc(), n0 = mono_ns();
    while (mono_ns() - n0 < 50000000u) {
    }
    uint64_t c1 = __rdtsc(), n1 = mono_ns();
    printf(",\n \"rdtsc\": %.2f,\n \"rdtscp\": %.2f,\n \"tsc_ghz\": %.4f", tsc,
           tscp, (double)(c1 - c0) / (double)(n1 - n0));
#endif
    printf("}\n");
    return 0;
}
