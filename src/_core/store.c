/* SPDX-License-Identifier: MIT */
#include "store.h"

int
tp_tree_init(tp_tree *t)
{
    tp_seg_init(&t->nodes, sizeof(tp_node));
    t->cap = 32;
    t->slots = tp_mem_alloc(sizeof(tp_node *) * t->cap);
    if (t->slots == NULL) {
        return -1;
    }
    tp_node *root = tp_seg_push(&t->nodes);
    if (root == NULL) {
        tp_mem_free(t->slots);
        t->slots = NULL;
        return -1;
    }
    root->func = UINT32_MAX;
    t->ready = 1;
    return 0;
}

static int
tp_tree_grow(tp_tree *t)
{
    uint32_t cap = t->cap * 2;
    tp_node **slots = tp_mem_alloc(sizeof(tp_node *) * cap);
    if (slots == NULL) {
        return -1;
    }
    for (uint32_t id = 1; id < t->nodes.len; id++) {
        tp_node *n = tp_tree_node(t, id);
        uint32_t i = tp_tree_hash(n->parent, n->key) & (cap - 1);
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = n;
    }
    tp_mem_free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

tp_node *
tp_tree_add(tp_tree *t, tp_node *parent, const void *key, uint32_t func)
{
    if (tp_mem_fault()) { /* a node counts as an allocation in test builds */
        return NULL;
    }
    if ((uint64_t)(t->nodes.len + 1) * 2 > t->cap && tp_tree_grow(t) < 0) {
        return NULL;
    }
    tp_node *n = tp_seg_push(&t->nodes);
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
    uint32_t i = tp_tree_hash(parent, key) & mask;
    while (t->slots[i]) {
        i = (i + 1) & mask;
    }
    t->slots[i] = n;
    tp_st_release(&t->ready, t->nodes.len);
    return n;
}

void
tp_tree_free(tp_tree *t)
{
    tp_seg_free(&t->nodes);
    tp_mem_free(t->slots);
    t->slots = NULL;
    t->cap = 0;
    t->ready = 0;
}

int
tp_stack_init(tp_stack *s, tp_node *root)
{
    const uint32_t cap = 16;
    s->frames = tp_mem_alloc(sizeof(tp_frame) * cap);
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
tp_stack_grow(tp_stack *s)
{
    uint32_t depth = tp_stack_depth(s);
    uint32_t cap = tp_stack_cap(s) * 2;
    tp_frame *frames = tp_mem_realloc(s->frames, sizeof(tp_frame) * cap);
    if (frames == NULL) {
        return -1;
    }
    s->frames = frames;
    s->top = frames + depth - 1;
    s->last = frames + cap - 1;
    return 0;
}

void
tp_stack_free(tp_stack *s)
{
    tp_mem_free(s->frames);
    s->frames = s->top = s->last = NULL;
}
