/* SPDX-License-Identifier: MIT */
/*
 * arena.h -- the core's memory: one allocation entry point and a segmented
 * array.
 *
 * All heap memory of the core comes from tprof_mem_alloc/tprof_mem_realloc, so
 * a test build (THREADPROF_TEST_HOOKS) can make the N-th allocation fail. A
 * tprof_segarray stores fixed-size items in segments that never move once
 * allocated: a pointer to an item stays valid until the array is freed, and
 * items are numbered densely from 0 in the order they were added. Segment k
 * holds TPROF_SEG_FIRST << k items, so a small array (a thread that ran little
 * code) costs little and a large one needs few segments.
 */
#ifndef THREADPROF_ARENA_H
#define THREADPROF_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define TPROF_SEG_FIRST_SHIFT 4
#define TPROF_SEG_FIRST (1u << TPROF_SEG_FIRST_SHIFT)
#define TPROF_SEG_MAX 28 /* segments: enough for 2^32 items */

/* Allocate n bytes of zeroed memory; NULL when out of memory. */
void *tprof_mem_alloc(size_t n);

/* Resize a block from tprof_mem_alloc; NULL (and the old block kept) on
 * failure.
 */
void *tprof_mem_realloc(void *p, size_t n);

/* Free a block from tprof_mem_alloc/tprof_mem_realloc; NULL is accepted. */
void tprof_mem_free(void *p);

/* Test builds only: make the allocation after `countdown` more succeed fail
 * (countdown < 0 disables the hook). A no-op in release builds. */
void tprof_mem_fail_after(long countdown);

/* Test builds only: a fault-injection point for an allocation the core makes
 * outside tprof_mem_alloc, counted by the same countdown. True when the hook
 * says this allocation fails; always false in release builds. */
int tprof_mem_fault(void);

/* Test builds only: make the snapshot after `countdown` more fail with
 * MemoryError (countdown < 0 disables it). A no-op in release builds. */
void tprof_snapshot_fail_after(long countdown);

/* Test builds only: true when this snapshot must fail (see above). */
int tprof_snapshot_fault(void);

typedef struct tprof_segarray {
    char *segs[TPROF_SEG_MAX]; /* segment k holds TPROF_SEG_FIRST << k items */
    uint32_t nsegs;            /* segments allocated */
    uint32_t len;              /* items in use */
    uint32_t item;             /* size of one item in bytes */
} tprof_segarray;

/* The segment of item i, and i's index inside it. */
static inline uint32_t
tprof_seg_locate(uint32_t i, uint32_t *offset)
{
    uint64_t q = ((uint64_t)i >> TPROF_SEG_FIRST_SHIFT) + 1;
    uint32_t k = 63u - (uint32_t)__builtin_clzll(q);
    *offset = i - ((TPROF_SEG_FIRST << k) - TPROF_SEG_FIRST);
    return k;
}

/* Bytes the next tprof_seg_push allocates: 0 while its segments have room
 * (segments 0..nsegs-1 hold TPROF_SEG_FIRST * (2^nsegs - 1) items). */
static inline size_t
tprof_seg_next_bytes(const tprof_segarray *a)
{
    uint64_t room = (uint64_t)TPROF_SEG_FIRST * ((1ull << a->nsegs) - 1);
    return a->len < room
               ? 0
               : (size_t)a->item * ((size_t)TPROF_SEG_FIRST << a->nsegs);
}

/* Bytes held by the array's segments. */
static inline size_t
tprof_seg_bytes(const tprof_segarray *a)
{
    return (size_t)a->item * TPROF_SEG_FIRST * (((size_t)1 << a->nsegs) - 1);
}

/* Prepare an empty array of items of `item` bytes. */
void tprof_seg_init(tprof_segarray *a, uint32_t item);

/* Append a zeroed item; returns it, or NULL when out of memory. */
void *tprof_seg_push(tprof_segarray *a);

/* The item at index i (i < len). */
static inline void *
tprof_seg_at(const tprof_segarray *a, uint32_t i)
{
    uint32_t offset;
    uint32_t k = tprof_seg_locate(i, &offset);
    return a->segs[k] + (size_t)offset * a->item;
}

/* Free every segment; the array is empty afterwards. */
void tprof_seg_free(tprof_segarray *a);

#endif /* THREADPROF_ARENA_H */
