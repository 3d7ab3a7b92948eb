/* SPDX-License-Identifier: MIT */
/*
 * susptab.h -- one thread's suspended calls of generators, coroutines and
 * async generators: a table from a frame's identity to the call's node and
 * the time it suspended.
 *
 * When calls are counted whole (a generator-like call is one call from its
 * first start to its return, however often it suspends), a yield takes the
 * frame off the shadow stack and leaves its call here; the resume puts it
 * back on the stack from here, so that it keeps its node and its count. The
 * key is the frame's identity: the frame object (legacy engine) or the
 * interpreter frame, which lives inside the generator (monitoring engine).
 * Both are stable while the generator lives.
 *
 * Open addressing with linear probing, deletion by backward shift, at most
 * half full. Only the owning thread reads or writes it.
 */
#ifndef THREADPROF_SUSPTAB_H
#define THREADPROF_SUSPTAB_H

#include "store.h"

typedef struct tprof_susp {
    const void *key;        /* the frame's identity; NULL in a free slot */
    tprof_node *node;       /* the call's node */
    int64_t wall;           /* the wall clock when it suspended */
    const void *code;       /* legacy engine: the frame's code object (NULL
                               for the monitoring engine), and */
    int32_t lasti;          /* its last instruction at the suspension */
    const void *caller_key; /* the caller that suspended with it (an await
                               chain), or NULL */
} tprof_susp;

typedef struct tprof_susptab {
    tprof_susp *slots;
    uint32_t cap; /* 0, or a power of two */
    uint32_t len;
} tprof_susptab;

/* A hash that keeps nearby frames in nearby slots: generators made one
 * after another are resumed one after another (an event loop's ready queue),
 * so a table larger than the cache is walked mostly in order, not at random.
 * The higher bits folded in spread keys that share an alignment. */
static inline uint32_t
tprof_susp_hash(const void *key)
{
    uintptr_t k = (uintptr_t)key;
    return (uint32_t)((k >> 4) ^ (k >> 20));
}

/* The entry of `key`, or NULL. */
static inline tprof_susp *
tprof_susp_find(const tprof_susptab *t, const void *key)
{
    if (t->len == 0) {
        return NULL;
    }
    uint32_t mask = t->cap - 1;
    for (uint32_t i = tprof_susp_hash(key) & mask;; i = (i + 1) & mask) {
        tprof_susp *e = &t->slots[i];
        if (e->key == key) {
            return e;
        }
        if (e->key == NULL) {
            return NULL;
        }
    }
}

/* The entry of `key`, added (zeroed but for the key) if it is new; NULL when
 * out of memory. Entries move when the table grows: a pointer to one is
 * valid until the next put or delete. */
tprof_susp *tprof_susp_put(tprof_susptab *t, const void *key);

/* Remove entry e. */
void tprof_susp_del(tprof_susptab *t, tprof_susp *e);

/* Free the table's memory. */
void tprof_susp_free(tprof_susptab *t);

#endif /* THREADPROF_SUSPTAB_H */
