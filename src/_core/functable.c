/* SPDX-License-Identifier: MIT */
#include "functable.h"

static inline uint32_t
tprof_ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

void
tprof_functable_init(tprof_functable *t)
{
    tprof_seg_init(&t->funcs, sizeof(tprof_func));
    t->slots = NULL;
    t->cap = 0;
    t->ready = 0;
}

static int64_t
tprof_functable_find(tprof_functable *t, const void *key)
{
    if (t->cap == 0) {
        return -1;
    }
    uint32_t mask = t->cap - 1;
    for (uint32_t i = tprof_ptr_hash(key) & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            return -1;
        }
        if (tprof_functable_get(t, s - 1)->key == key) {
            return s - 1;
        }
    }
}

static int
tprof_functable_grow(tprof_functable *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    uint32_t *slots = tprof_mem_alloc(sizeof(uint32_t) * cap);
    if (slots == NULL) {
        return -1;
    }
    for (uint32_t id = 0; id < t->funcs.len; id++) {
        tprof_func *f = tprof_functable_get(t, id);
        if (tprof_func_forgotten(f)) {
            continue; /* found by id only */
        }
        const void *key = f->key;
        uint32_t i = tprof_ptr_hash(key) & (cap - 1);
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = id + 1;
    }
    tprof_mem_free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* Add a zeroed entry for key; returns it with its id in *id, or NULL. */
static tprof_func *
tprof_functable_add(tprof_functable *t, const void *key, int64_t *id)
{
    if ((uint64_t)(t->funcs.len + 1) * 2 > t->cap &&
        tprof_functable_grow(t) < 0) {
        return NULL;
    }
    tprof_func *f = tprof_seg_push(&t->funcs);
    if (f == NULL) {
        return NULL;
    }
    f->key = key;
    *id = t->funcs.len - 1;
    uint32_t mask = t->cap - 1;
    uint32_t i = tprof_ptr_hash(key) & mask;
    while (t->slots[i]) {
        i = (i + 1) & mask;
    }
    t->slots[i] = (uint32_t)*id + 1;
    return f;
}

/* Make entries up to the latest visible to readers without the lock. */
static void
tprof_functable_publish(tprof_functable *t)
{
    tprof_st_release(&t->ready, t->funcs.len);
}

int64_t
tprof_functable_code(tprof_functable *t, PyCodeObject *code)
{
    tprof_mutex_lock(&t->lock);
    int64_t id = tprof_functable_find(t, code);
    if (id < 0) {
        tprof_func *f = tprof_functable_add(t, code, &id);
        if (f == NULL) {
            id = -1;
        }
        else {
            f->kind = TPROF_FUNC_PY;
            f->code = TPROF_WATCH_CODE ? (PyObject *)code
                                       : Py_NewRef((PyObject *)code);
            tprof_functable_publish(t);
        }
    }
    tprof_mutex_unlock(&t->lock);
    return id;
}

int64_t
tprof_functable_cfunc(tprof_functable *t, PyCFunctionObject *fn)
{
    const void *key = fn->m_ml;
    tprof_mutex_lock(&t->lock);
    int64_t id = tprof_functable_find(t, key);
    if (id < 0) {
        tprof_func *f = tprof_functable_add(t, key, &id);
        if (f == NULL) {
            id = -1;
        }
        else {
            f->kind = TPROF_FUNC_C;
            f->ml = fn->m_ml;
            f->module = Py_XNewRef(fn->m_module);
            f->self_type =
                fn->m_self ? Py_NewRef((PyObject *)Py_TYPE(fn->m_self)) : NULL;
            tprof_functable_publish(t);
        }
    }
    tprof_mutex_unlock(&t->lock);
    return id;
}

/* Remove slot i from the open-addressing table, moving back the entries
 * after it that would no longer be found (deletion under linear probing). */
static void
tprof_functable_unslot(tprof_functable *t, uint32_t i)
{
    uint32_t mask = t->cap - 1;
    for (uint32_t j = (i + 1) & mask; t->slots[j] != 0; j = (j + 1) & mask) {
        uint32_t home =
            tprof_ptr_hash(tprof_functable_get(t, t->slots[j] - 1)->key) &
            mask;
        /* the entry at j stays if its home lies cyclically in (i, j] */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i] = 0;
}

tprof_func *
tprof_functable_lookup_code(tprof_functable *t, PyCodeObject *code)
{
    tprof_mutex_lock(&t->lock);
    int64_t id = tprof_functable_find(t, code);
    tprof_mutex_unlock(&t->lock);
    return id < 0 ? NULL : tprof_functable_get(t, (uint32_t)id);
}

void
tprof_functable_forget(tprof_functable *t, tprof_func *f)
{
    tprof_mutex_lock(&t->lock);
    uint32_t mask = t->cap - 1;
    for (uint32_t i = tprof_ptr_hash(f->key) & mask; t->slots[i] != 0;
         i = (i + 1) & mask)
    {
        if (tprof_functable_get(t, t->slots[i] - 1) == f) {
            tprof_functable_unslot(t, i);
            break;
        }
    }
    f->key = (const void *)((uintptr_t)f | 1);
    if (!TPROF_WATCH_CODE) {
        Py_XDECREF(f->code);
    }
    f->code = NULL;
    tprof_mutex_unlock(&t->lock);
}

void
tprof_functable_free(tprof_functable *t)
{
    for (uint32_t id = 0; id < t->funcs.len; id++) {
        tprof_func *f = tprof_functable_get(t, id);
        if (!TPROF_WATCH_CODE) {
            Py_CLEAR(f->code);
        }
        Py_CLEAR(f->module);
        Py_CLEAR(f->self_type);
        Py_CLEAR(f->info);
    }
    tprof_seg_free(&t->funcs);
    tprof_mem_free(t->slots);
    t->slots = NULL;
    t->cap = 0;
    t->ready = 0;
}
