/* SPDX-License-Identifier: MIT */
/*
 * arena.h -- the core's memory: one allocation entry point and a segmented
 * array.
 *
 * All heap memory of the core comes from tp_mem_alloc/tp_mem_realloc, so a
 * test build (THREADPROF_TEST_HOOKS) can make the N-th allocation fail.
 * A tp_segarray stores fixed-size items in segments that never move once
 * allocated: a pointer to an item stays valid until the array is freed, and
 * items are numbered densely from 0 in the order they were added. Segment k
 * holds TP_SEG_FIRST << k items, so a small array (a thread that ran little
 * code) costs little and a large one needs few segments.
 */
#ifndef THREADPROF_ARENA_H
#define THREADPROF_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define TP_SEG_FIRST_SHIFT 4
#define TP_SEG_FIRST (1u << TP_SEG_FIRST_SHIFT)
#define TP_SEG_MAX 28 /* segments: enough for 2^32 items */

/* Allocate n bytes of zeroed memory; NULL when out of memory. */
void *tp_mem_alloc(size_t n);

/* Resize a block from tp_mem_alloc; NULL (and the old block kept) on failure.
 */
void *tp_mem_realloc(void *p, size_t n);

/* Free a block from tp_mem_alloc/tp_mem_realloc; NULL is accepted. */
void tp_mem_free(void *p);

/* Test builds only: make the allocation after `countdown` more succeed fail
 * (countdown < 0 disables the hook). A no-op in release builds. */
void tp_mem_fail_after(long countdown);

/* Test builds only: a fault-injection point for an allocation the core makes
 * outside tp_mem_alloc, counted by the same countdown. True when the hook
 * says this allocation fails; always false in release builds. */
int tp_mem_fault(void);

/* Test builds only: make the snapshot after `countdown` more fail with
 * MemoryError (countdown < 0 disables it). A no-op in release builds. */
void tp_snapshot_fail_after(long countdown);

/* Test builds only: true when this snapshot must fail (see above). */
int tp_snapshot_fault(void);

typedef struct tp_segarray {
    char *segs[TP_SEG_MAX]; /* segment k holds TP_SEG_FIRST << k items */
    uint32_t nsegs;         /* segments allocated */
    uint32_t len;           /* items in use */
    uint32_t item;          /* size of one item in bytes */
} tp_segarray;

/* The segment of item i, and i's index inside it. */
static inline uint32_t
tp_seg_locate(uint32_t i, uint32_t *offset)
{
    uint64_t q = ((uint64_t)i >> TP_SEG_FIRST_SHIFT) + 1;
    uint32_t k = 63u - (uint32_t)__builtin_clzll(q);
    *offset = i - ((TP_SEG_FIRST << k) - TP_SEG_FIRST);
    return k;
}

/* Bytes held by the array's segments. */
static inline size_t
tp_seg_bytes(const tp_segarray *a)
{
    return (size_t)a->item * TP_SEG_FIRST * (((size_t)1 << a->nsegs) - 1);
}

/* Prepare an empty array of items of `item` bytes. */
void tp_seg_init(tp_segarray *a, uint32_t item);

/* Append a zeroed item; returns it, or NULL when out of memory. */
void *tp_seg_push(tp_segarray *a);

/* The item at index i (i < len). */
static inline void *
tp_seg_at(const tp_segarray *a, uint32_t i)
{
    uint32_t offset;
    uint32_t k = tp_seg_locate(i, &offset);
    return a->segs[k] + (size_t)offset * a->item;
}

/* Free every segment; the array is empty afterwards. */
void tp_seg_free(tp_segarray *a);

#endif /* THREADPROF_ARENA_H */
