/* SPDX-License-Identifier: MIT */
/*
 * functable.h -- the profiler-wide table of profiled functions.
 *
 * A function is keyed by a pointer: the code object for Python functions, the
 * PyMethodDef for C functions (as cProfile does, so the bound-method objects
 * that CPython makes per call of a method descriptor all map to one entry).
 * An address must never stand for two functions. Where code objects are
 * watched (TPROF_WATCH_CODE) the table only borrows them: when one dies its
 * entry is forgotten (tprof_functable_forget, called by codewatch.c once the
 * names are resolved), so a new code object at the same address is a new
 * function. Elsewhere the table holds a strong reference to every code object
 * it keys by, so the address cannot be reused while the key is in use.
 * Ids are dense, stable, and shared by all threads. Lookups happen only when a
 * thread meets a new (caller, callee) pair, never on the plain hot path.
 * Lookups and additions hold the GIL, or on a free-threaded build the table's
 * own lock. Entries never change once added, so readers (snapshots) take no
 * lock: they read the first tprof_functable_ready() entries.
 */
#ifndef THREADPROF_FUNCTABLE_H
#define THREADPROF_FUNCTABLE_H

#include "compat.h" /* Python.h first: it sets the feature macros */
#include "sync.h"

#include "arena.h"

typedef enum tprof_func_kind {
    TPROF_FUNC_PY = 0,
    TPROF_FUNC_C = 1
} tprof_func_kind;

struct tprof_node;

typedef struct tprof_func {
    const void *key; /* the pointer, or an odd value once forgotten */
    tprof_func_kind kind;
    PyObject *code; /* Python: the code object (borrowed when watched, else
                       strong; NULL once forgotten) */
    struct tprof_node *nodes; /* watched: the nodes keyed by it (store.h) */
    const PyMethodDef *ml;    /* C: the method definition */
    PyObject *module;         /* C: m_module, a str or a module (strong) */
    PyObject *self_type;      /* C: type of m_self, NULL if unbound (strong) */
    PyObject *info; /* cached name tuple, built by tprof_names_info */
} tprof_func;

typedef struct tprof_functable {
    tprof_segarray funcs; /* tprof_func, indexed by id */
    uint32_t *slots;      /* open addressing: id + 1, 0 = empty */
    uint32_t cap;         /* slots, a power of two */
    uint32_t ready;       /* entries complete, published for readers */
    tprof_mutex lock;     /* free-threaded builds: lookups and additions */
} tprof_functable;

/* Prepare an empty table. */
void tprof_functable_init(tprof_functable *t);

/* The id of the Python function running `code`, adding it if new.
 * Returns -1 when out of memory. Requires the GIL. */
int64_t tprof_functable_code(tprof_functable *t, PyCodeObject *code);

/* The id of the C function `fn`, adding it if new.
 * Returns -1 when out of memory. Requires the GIL. */
int64_t tprof_functable_cfunc(tprof_functable *t, PyCFunctionObject *fn);

/* The number of complete entries, as a reader without the lock sees it. */
static inline uint32_t
tprof_functable_ready(tprof_functable *t)
{
    return tprof_ld_acquire(&t->ready);
}

/* The entry with this id (id < t->funcs.len). */
static inline tprof_func *
tprof_functable_get(tprof_functable *t, uint32_t id)
{
    return (tprof_func *)tprof_seg_at(&t->funcs, id);
}

/* A forgotten entry's key: odd, so no object's address; unique. */
static inline int
tprof_func_forgotten(const tprof_func *f)
{
    return ((uintptr_t)f->key & 1) != 0;
}

/* The entry of the Python function running `code`, or NULL. */
tprof_func *tprof_functable_lookup_code(tprof_functable *t,
                                        PyCodeObject *code);

/* Forget f, whose code object is being destroyed: the entry stays (with the
 * names the caller resolved) but no longer answers to the address, and gets
 * a key of its own that no object has. Requires the GIL. */
void tprof_functable_forget(tprof_functable *t, tprof_func *f);

/* Drop every entry and its references. Requires the GIL. */
void tprof_functable_free(tprof_functable *t);

#endif /* THREADPROF_FUNCTABLE_H */
