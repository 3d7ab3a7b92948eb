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
 * On Linux it also tries the per-thread perf_event task clock (the thread's
 * CPU time, a software event): the cost of reading it with read(2), and
 * whether the kernel lets user space extrapolate it without a system call
 * (cap_user_time in the event's mmap page; a KVM guest whose sched_clock is
 * not the native TSC says no).
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -o clocks clocks.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
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

#ifdef __linux__
static uint64_t
read_fd(int fd)
{
    uint64_t v = 0;
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
        return 0;
    }
    return v;
}

/* The perf_event task clock of the calling thread: prints its JSON fields. */
static void
perf_task_clock(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.exclude_hv = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd < 0) {
        printf(",\n \"perf_task_clock\": \"unavailable\"");
        return;
    }
    int user_time = -1;
    long page = sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
        user_time = ((struct perf_event_mmap_page *)m)->cap_user_time;
        munmap(m, (size_t)page);
    }
    double cost;
    MEASURE(cost, read_fd(fd));
    close(fd);
    printf(",\n \"perf_task_clock_read\": %.2f,\n \"perf_cap_user_time\": %d",
           cost, user_time);
}
#endif

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
#ifdef __linux__
    perf_task_clock();
#endif
    printf("}\n");
    return 0;
}
