/* SPDX-License-Identifier: MIT */
#include "codewatch.h"

#include "names.h"
#include "threads.h"

#if TPROF_WATCH_CODE

static int tprof_watcher_id = -1;

/* The live profilers, in no order (the GIL guards them). */
static tprof_state **tprof_live;
static size_t tprof_nlive, tprof_live_cap;

/* Forget `code` in p: resolve its names, then re-key its nodes. */
static void
tprof_codewatch_forget(tprof_state *p, PyCodeObject *code)
{
    tprof_func *f = tprof_functable_lookup_code(&p->funcs, code);
    if (f == NULL) {
        return;
    }
    if (tprof_names_info(f) == NULL) {
        PyErr_Clear(); /* out of memory: the names will say <unknown> */
    }
    tprof_functable_forget(&p->funcs, f);
    const void *dead = f->key;
    for (tprof_node *n = f->nodes; n != NULL; n = n->same_func) {
        tprof_tree_retire_key(n, dead);
    }
    f->nodes = NULL;
}

static int
tprof_code_watcher(PyCodeEvent event, PyCodeObject *code)
{
    if (event != PY_CODE_EVENT_DESTROY || tprof_nlive == 0) {
        return 0;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    /* Resolving names allocates, and a collection may free a profiler
     * meanwhile: hold each one, and walk down so that the registry's
     * swap-with-last removal never skips one. */
    for (size_t i = tprof_nlive; i-- > 0;) {
        if (i >= tprof_nlive) {
            continue;
        }
        tprof_state *p = tprof_live[i];
        Py_INCREF(p);
        tprof_codewatch_forget(p, code);
        Py_DECREF(p);
    }
    tprof_error_restore(&saved);
    return 0;
}

int
tprof_codewatch_start(void)
{
    if (tprof_watcher_id < 0) {
        tprof_watcher_id = PyCode_AddWatcher(tprof_code_watcher);
        if (tprof_watcher_id < 0) {
            return -1;
        }
    }
    return 0;
}

void
tprof_codewatch_forget_watcher(void)
{
    tprof_watcher_id = -1;
    tprof_nlive = 0; /* the profilers went with the interpreter */
}

int
tprof_codewatch_join(tprof_state *p)
{
    if (tprof_nlive == tprof_live_cap) {
        size_t cap = tprof_live_cap ? 2 * tprof_live_cap : 8;
        tprof_state **live = PyMem_RawRealloc(tprof_live, cap * sizeof(*live));
        if (live == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        tprof_live = live;
        tprof_live_cap = cap;
    }
    tprof_live[tprof_nlive++] = p;
    return 0;
}

void
tprof_codewatch_leave(tprof_state *p)
{
    for (size_t i = 0; i < tprof_nlive; i++) {
        if (tprof_live[i] == p) {
            tprof_live[i] = tprof_live[--tprof_nlive];
            return;
        }
    }
}

void
tprof_codewatch_rechain(tprof_state *p)
{
    uint32_t nfuncs = p->funcs.funcs.len;
    for (uint32_t id = 0; id < nfuncs; id++) {
        tprof_functable_get(&p->funcs, id)->nodes = NULL;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (tprof_thread *t = pass ? p->retired : p->threads; t; t = t->next)
        {
            for (uint32_t id = 1; id < t->tree.nodes.len; id++) {
                tprof_node *n = tprof_tree_node(&t->tree, id);
                tprof_func *f = tprof_functable_get(&p->funcs, n->func);
                if (f->kind == TPROF_FUNC_PY && !tprof_func_forgotten(f)) {
                    n->same_func = f->nodes;
                    f->nodes = n;
                }
            }
        }
    }
}

#else /* !TPROF_WATCH_CODE */

int
tprof_codewatch_start(void)
{
    return 0;
}

void
tprof_codewatch_forget_watcher(void)
{}

int
tprof_codewatch_join(tprof_state *Py_UNUSED(p))
{
    return 0;
}

void
tprof_codewatch_leave(tprof_state *Py_UNUSED(p))
{}

void
tprof_codewatch_rechain(tprof_state *Py_UNUSED(p))
{}

#endif
