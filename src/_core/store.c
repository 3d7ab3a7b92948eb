/* SPDX-License-Identifier: MIT */
#include "store.h"

int
tprof_tree_init(tprof_tree *t)
{
    tprof_seg_init(&t->nodes, sizeof(tprof_node));
    t->cap = 32;
    t->slots = tprof_mem_alloc(sizeof(tprof_node *) * t->cap);
    if (t->slots == NULL) {
        return -1;
    }
    tprof_node *root = tprof_seg_push(&t->nodes);
    if (root == NULL) {
        tprof_mem_free(t->slots);
        t->slots = NULL;
        return -1;
    }
    root->func = UINT32_MAX;
    root->key = t;
    t->ready = 1;
    return 0;
}

static int
tprof_tree_grow(tprof_tree *t)
{
    uint32_t cap = t->cap * 2;
    tprof_node **slots = tprof_mem_alloc(sizeof(tprof_node *) * cap);
    if (slots == NULL) {
        return -1;
    }
    for (uint32_t id = 1; id < t->nodes.len; id++) {
        tprof_node *n = tprof_tree_node(t, id);
        if ((uintptr_t)n->key & 1) {
            continue; /* a retired key: found by id only */
        }
        uint32_t i = tprof_tree_hash(n->parent, n->key) & (cap - 1);
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = n;
    }
    tprof_mem_free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

tprof_node *
tprof_tree_add(tprof_tree *t, tprof_node *parent, const void *key,
               uint32_t func)
{
    if (tprof_mem_fault())
    { /* a node counts as an allocation in test builds */
        return NULL;
    }
    if ((uint64_t)(t->nodes.len + 1) * 2 > t->cap && tprof_tree_grow(t) < 0) {
        return NULL;
    }
    tprof_node *n = tprof_seg_push(&t->nodes);
    if (n == NULL) {
        return NULL;
    }
    n->parent = parent;
    if (parent->last_child != NULL) {
        parent->last_child->next = n;
    }
    parent->last_child = n;
    n->key = key;
    n->id = t->nodes.len - 1;
    n->func = func;
    uint32_t mask = t->cap - 1;
    uint32_t i = tprof_tree_hash(parent, key) & mask;
    while (t->slots[i]) {
        i = (i + 1) & mask;
    }
    t->slots[i] = n;
    tprof_st_release(&t->ready, t->nodes.len);
    return n;
}

void
tprof_tree_retire_key(tprof_node *n, const void *key)
{
    tprof_node *root = n;
    while (root->parent != NULL) {
        root = root->parent;
    }
    tprof_tree *t = (tprof_tree *)root->key;
    uint32_t mask = t->cap - 1;
    uint32_t i = tprof_tree_hash(n->parent, n->key) & mask;
    while (t->slots[i] != n) {
        if (t->slots[i] == NULL) { /* not in the hash: nothing to move */
            n->key = key;
            return;
        }
        i = (i + 1) & mask;
    }
    /* deletion under linear probing: move back what would not be found */
    for (uint32_t j = (i + 1) & mask; t->slots[j] != NULL; j = (j + 1) & mask)
    {
        tprof_node *m = t->slots[j];
        uint32_t home = tprof_tree_hash(m->parent, m->key) & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            t->slots[i] = m;
            i = j;
        }
    }
    t->slots[i] = NULL;
    n->key = key;
}

void
tprof_tree_free(tprof_tree *t)
{
    tprof_seg_free(&t->nodes);
    tprof_mem_free(t->slots);
    t->slots = NULL;
    t->cap = 0;
    t->ready = 0;
}

int
tprof_stack_init(tprof_stack *s, tprof_node *root)
{
    const uint32_t cap = 16;
    s->frames = tprof_mem_alloc(sizeof(tprof_frame) * cap);
    if (s->frames == NULL) {
        s->top = s->last = NULL;
        return -1;
    }
    s->frames[0].node = root;
    s->top = s->frames;
    s->last = s->frames + cap - 1;
    return 0;
}

int
tprof_stack_grow(tprof_stack *s)
{
    uint32_t depth = tprof_stack_depth(s);
    uint32_t cap = tprof_stack_cap(s) * 2;
    tprof_frame *frames =
        tprof_mem_realloc(s->frames, sizeof(tprof_frame) * cap);
    if (frames == NULL) {
        return -1;
    }
    s->frames = frames;
    s->top = frames + depth - 1;
    s->last = frames + cap - 1;
    return 0;
}

void
tprof_stack_free(tprof_stack *s)
{
    tprof_mem_free(s->frames);
    s->frames = s->top = s->last = NULL;
}
