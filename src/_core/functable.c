/* SPDX-License-Identifier: MIT */
#include "functable.h"

static inline uint32_t
tp_ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

void
tp_functable_init(tp_functable *t)
{
    tp_seg_init(&t->funcs, sizeof(tp_func));
    t->slots = NULL;
    t->cap = 0;
    t->ready = 0;
}

static int64_t
tp_functable_find(tp_functable *t, const void *key)
{
    if (t->cap == 0) {
        return -1;
    }
    uint32_t mask = t->cap - 1;
    for (uint32_t i = tp_ptr_hash(key) & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            return -1;
        }
        if (tp_functable_get(t, s - 1)->key == key) {
            return s - 1;
        }
    }
}

static int
tp_functable_grow(tp_functable *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    uint32_t *slots = tp_mem_alloc(sizeof(uint32_t) * cap);
    if (slots == NULL) {
        return -1;
    }
    for (uint32_t id = 0; id < t->funcs.len; id++) {
        const void *key = tp_functable_get(t, id)->key;
        uint32_t i = tp_ptr_hash(key) & (cap - 1);
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = id + 1;
    }
    tp_mem_free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* Add a zeroed entry for key; returns it with its id in *id, or NULL. */
static tp_func *
tp_functable_add(tp_functable *t, const void *key, int64_t *id)
{
    if ((uint64_t)(t->funcs.len + 1) * 2 > t->cap && tp_functable_grow(t) < 0)
    {
        return NULL;
    }
    tp_func *f = tp_seg_push(&t->funcs);
    if (f == NULL) {
        return NULL;
    }
    f->key = key;
    *id = t->funcs.len - 1;
    uint32_t mask = t->cap - 1;
    uint32_t i = tp_ptr_hash(key) & mask;
    while (t->slots[i]) {
        i = (i + 1) & mask;
    }
    t->slots[i] = (uint32_t)*id + 1;
    return f;
}

/* Make entries up to the latest visible to readers without the lock. */
static void
tp_functable_publish(tp_functable *t)
{
    tp_st_release(&t->ready, t->funcs.len);
}

int64_t
tp_functable_code(tp_functable *t, PyCodeObject *code)
{
    tp_mutex_lock(&t->lock);
    int64_t id = tp_functable_find(t, code);
    if (id < 0) {
        tp_func *f = tp_functable_add(t, code, &id);
        if (f == NULL) {
            id = -1;
        }
        else {
            f->kind = TP_FUNC_PY;
            f->code = Py_NewRef((PyObject *)code);
            tp_functable_publish(t);
        }
    }
    tp_mutex_unlock(&t->lock);
    return id;
}

int64_t
tp_functable_cfunc(tp_functable *t, PyCFunctionObject *fn)
{
    const void *key = fn->m_ml;
    tp_mutex_lock(&t->lock);
    int64_t id = tp_functable_find(t, key);
    if (id < 0) {
        tp_func *f = tp_functable_add(t, key, &id);
        if (f == NULL) {
            id = -1;
        }
        else {
            f->kind = TP_FUNC_C;
            f->ml = fn->m_ml;
            f->module = Py_XNewRef(fn->m_module);
            f->self_type =
                fn->m_self ? Py_NewRef((PyObject *)Py_TYPE(fn->m_self)) : NULL;
            tp_functable_publish(t);
        }
    }
    tp_mutex_unlock(&t->lock);
    return id;
}

void
tp_functable_free(tp_functable *t)
{
    for (uint32_t id = 0; id < t->funcs.len; id++) {
        tp_func *f = tp_functable_get(t, id);
        Py_CLEAR(f->code);
        Py_CLEAR(f->module);
        Py_CLEAR(f->self_type);
        Py_CLEAR(f->info);
    }
    tp_seg_free(&t->funcs);
    tp_mem_free(t->slots);
    t->slots = NULL;
    t->cap = 0;
    t->ready = 0;
}
