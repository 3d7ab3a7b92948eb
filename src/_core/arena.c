/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#ifdef THREADPROF_TEST_HOOKS
static long tprof_fail_countdown = -1;
static long tprof_snapshot_countdown = -1;

static int
tprof_countdown(long *countdown)
{
    if (*countdown < 0) {
        return 0;
    }
    if (*countdown == 0) {
        *countdown = -1;
        return 1;
    }
    (*countdown)--;
    return 0;
}

static int
tprof_should_fail(void)
{
    return tprof_countdown(&tprof_fail_countdown);
}
#else
#define tprof_should_fail() 0
#endif

int
tprof_snapshot_fault(void)
{
#ifdef THREADPROF_TEST_HOOKS
    return tprof_countdown(&tprof_snapshot_countdown);
#else
    return 0;
#endif
}

void
tprof_snapshot_fail_after(long countdown)
{
#ifdef THREADPROF_TEST_HOOKS
    tprof_snapshot_countdown = countdown;
#else
    (void)countdown;
#endif
}

int
tprof_mem_fault(void)
{
    return tprof_should_fail();
}

void
tprof_mem_fail_after(long countdown)
{
#ifdef THREADPROF_TEST_HOOKS
    tprof_fail_countdown = countdown;
#else
    (void)countdown;
#endif
}

void *
tprof_mem_alloc(size_t n)
{
    if (tprof_should_fail()) {
        return NULL;
    }
    return calloc(1, n ? n : 1);
}

void *
tprof_mem_realloc(void *p, size_t n)
{
    if (tprof_should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

void
tprof_mem_free(void *p)
{
    free(p);
}

void
tprof_seg_init(tprof_segarray *a, uint32_t item)
{
    memset(a, 0, sizeof(*a));
    a->item = item;
}

void *
tprof_seg_push(tprof_segarray *a)
{
    if (a->len == UINT32_MAX) {
        return NULL;
    }
    uint32_t offset;
    uint32_t k = tprof_seg_locate(a->len, &offset);
    if (k >= a->nsegs) {
        if (k >= TPROF_SEG_MAX) {
            return NULL;
        }
        a->segs[k] = tprof_mem_alloc((size_t)a->item * (TPROF_SEG_FIRST << k));
        if (a->segs[k] == NULL) {
            return NULL;
        }
        a->nsegs = k + 1;
    }
    a->len++;
    return a->segs[k] + (size_t)offset * a->item;
}

void
tprof_seg_free(tprof_segarray *a)
{
    for (uint32_t i = 0; i < a->nsegs; i++) {
        tprof_mem_free(a->segs[i]);
        a->segs[i] = NULL;
    }
    a->nsegs = 0;
    a->len = 0;
}
