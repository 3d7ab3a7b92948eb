/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#ifdef THREADPROF_TEST_HOOKS
static long tp_fail_countdown = -1;
static long tp_snapshot_countdown = -1;

static int
tp_countdown(long *countdown)
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
tp_should_fail(void)
{
    return tp_countdown(&tp_fail_countdown);
}
#else
#define tp_should_fail() 0
#endif

int
tp_snapshot_fault(void)
{
#ifdef THREADPROF_TEST_HOOKS
    return tp_countdown(&tp_snapshot_countdown);
#else
    return 0;
#endif
}

void
tp_snapshot_fail_after(long countdown)
{
#ifdef THREADPROF_TEST_HOOKS
    tp_snapshot_countdown = countdown;
#else
    (void)countdown;
#endif
}

int
tp_mem_fault(void)
{
    return tp_should_fail();
}

void
tp_mem_fail_after(long countdown)
{
#ifdef THREADPROF_TEST_HOOKS
    tp_fail_countdown = countdown;
#else
    (void)countdown;
#endif
}

void *
tp_mem_alloc(size_t n)
{
    if (tp_should_fail()) {
        return NULL;
    }
    return calloc(1, n ? n : 1);
}

void *
tp_mem_realloc(void *p, size_t n)
{
    if (tp_should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

void
tp_mem_free(void *p)
{
    free(p);
}

void
tp_seg_init(tp_segarray *a, uint32_t item)
{
    memset(a, 0, sizeof(*a));
    a->item = item;
}

void *
tp_seg_push(tp_segarray *a)
{
    if (a->len == UINT32_MAX) {
        return NULL;
    }
    uint32_t offset;
    uint32_t k = tp_seg_locate(a->len, &offset);
    if (k >= a->nsegs) {
        if (k >= TP_SEG_MAX) {
            return NULL;
        }
        a->segs[k] = tp_mem_alloc((size_t)a->item * (TP_SEG_FIRST << k));
        if (a->segs[k] == NULL) {
            return NULL;
        }
        a->nsegs = k + 1;
    }
    a->len++;
    return a->segs[k] + (size_t)offset * a->item;
}

void
tp_seg_free(tp_segarray *a)
{
    for (uint32_t i = 0; i < a->nsegs; i++) {
        tp_mem_free(a->segs[i]);
        a->segs[i] = NULL;
    }
    a->nsegs = 0;
    a->len = 0;
}
