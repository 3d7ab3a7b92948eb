/* SPDX-License-Identifier: MIT */
#include "susptab.h"

#define TPROF_SUSP_FIRST 16

static tprof_susp *
tprof_susp_slot(tprof_susp *slots, uint32_t cap, const void *key)
{
    uint32_t mask = cap - 1;
    uint32_t i = tprof_susp_hash(key) & mask;
    while (slots[i].key != NULL && slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return &slots[i];
}

static int
tprof_susp_grow(tprof_susptab *t)
{
    uint32_t cap = t->cap == 0 ? TPROF_SUSP_FIRST : t->cap * 2;
    if (cap == 0) {
        return -1;
    }
    tprof_susp *slots = tprof_mem_alloc((size_t)cap * sizeof(tprof_susp));
    if (slots == NULL) {
        return -1;
    }
    for (uint32_t i = 0; i < t->cap; i++) {
        if (t->slots[i].key != NULL) {
            *tprof_susp_slot(slots, cap, t->slots[i].key) = t->slots[i];
        }
    }
    tprof_mem_free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

tprof_susp *
tprof_susp_put(tprof_susptab *t, const void *key)
{
    if ((t->len + 1) * 2 > t->cap && tprof_susp_grow(t) < 0) {
        return NULL;
    }
    tprof_susp *e = tprof_susp_slot(t->slots, t->cap, key);
    if (e->key == NULL) {
        *e = (tprof_susp){.key = key};
        t->len++;
    }
    return e;
}

void
tprof_susp_del(tprof_susptab *t, tprof_susp *e)
{
    uint32_t mask = t->cap - 1;
    uint32_t hole = (uint32_t)(e - t->slots);
    /* backward shift: move later entries of the run into the hole when the
     * hole lies between their home slot and where they are */
    for (uint32_t i = (hole + 1) & mask; t->slots[i].key != NULL;
         i = (i + 1) & mask)
    {
        uint32_t home = tprof_susp_hash(t->slots[i].key) & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            t->slots[hole] = t->slots[i];
            hole = i;
        }
    }
    t->slots[hole].key = NULL;
    t->len--;
}

void
tprof_susp_free(tprof_susptab *t)
{
    tprof_mem_free(t->slots);
    *t = (tprof_susptab){0};
}
