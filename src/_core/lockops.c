/* SPDX-License-Identifier: MIT */
#include "lockops.h"

#include "slowpath.h"

/* The methods that acquire and release, by module and type. A
 * SimpleQueue is a semaphore of its items: a get takes one (it waits like an
 * acquire, with no hold), a put gives one. */
static const struct {
    const char *module;
    const char *type; /* an attribute of the module */
    const char *name;
    uint32_t flags;
} tprof_lock_methods[TPROF_LOCK_KEYS] = {
    {"_thread", "LockType", "acquire", TPROF_NODE_LOCK_ACQUIRE},
    {"_thread", "LockType", "acquire_lock", TPROF_NODE_LOCK_ACQUIRE},
    {"_thread", "LockType", "__enter__", TPROF_NODE_LOCK_ACQUIRE},
    {"_thread", "LockType", "release", TPROF_NODE_LOCK_RELEASE},
    {"_thread", "LockType", "release_lock", TPROF_NODE_LOCK_RELEASE},
    {"_thread", "LockType", "__exit__", TPROF_NODE_LOCK_RELEASE},
    {"_thread", "RLock", "acquire", TPROF_NODE_LOCK_ACQUIRE},
    {"_thread", "RLock", "__enter__", TPROF_NODE_LOCK_ACQUIRE},
    {"_thread", "RLock", "_acquire_restore", TPROF_NODE_LOCK_ACQUIRE},
    {"_thread", "RLock", "release", TPROF_NODE_LOCK_RELEASE},
    {"_thread", "RLock", "__exit__", TPROF_NODE_LOCK_RELEASE},
    {"_thread", "RLock", "_release_save", TPROF_NODE_LOCK_RELEASE},
    /* 3.13+: Thread.join waits in its handle, not in a lock */
    {"_thread", "_ThreadHandle", "join", TPROF_NODE_LOCK_ACQUIRE},
    {"_queue", "SimpleQueue", "get", TPROF_NODE_LOCK_ACQUIRE},
    {"_queue", "SimpleQueue", "get_nowait", TPROF_NODE_LOCK_ACQUIRE},
    {"_queue", "SimpleQueue", "put", TPROF_NODE_LOCK_RELEASE},
    {"_queue", "SimpleQueue", "put_nowait", TPROF_NODE_LOCK_RELEASE},
};

int
tprof_lock_keys_load(tprof_state *p)
{
    PyObject *mod = NULL;
    const char *loaded = NULL;
    for (int i = 0; i < TPROF_LOCK_KEYS; i++) {
        p->lock_keys[i] = NULL;
        p->lock_key_flags[i] = tprof_lock_methods[i].flags;
        if (loaded == NULL || strcmp(loaded, tprof_lock_methods[i].module)) {
            Py_XDECREF(mod);
            loaded = tprof_lock_methods[i].module;
            mod = PyImport_ImportModule(loaded);
            if (mod == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_ImportError)) {
                    return -1;
                }
                PyErr_Clear(); /* a build without it: nothing to watch */
            }
        }
        if (mod == NULL) {
            continue;
        }
        PyObject *type =
            PyObject_GetAttrString(mod, tprof_lock_methods[i].type);
        if (type == NULL) {
            PyErr_Clear(); /* a build without it: nothing to watch */
            continue;
        }
        PyObject *meth =
            PyObject_GetAttrString(type, tprof_lock_methods[i].name);
        Py_DECREF(type);
        if (meth == NULL) {
            PyErr_Clear();
            continue;
        }
        if (Py_TYPE(meth) == &PyMethodDescr_Type) {
            p->lock_keys[i] = ((PyMethodDescrObject *)meth)->d_method;
        }
        Py_DECREF(meth); /* the definition is static: it outlives the type */
    }
    Py_XDECREF(mod);
    return 0;
}

uint32_t
tprof_lock_flags(const tprof_state *p, const void *key)
{
    for (int i = 0; i < TPROF_LOCK_KEYS; i++) {
        if (key == p->lock_keys[i]) {
            return p->lock_key_flags[i];
        }
    }
    return 0;
}

tprof_lockop *
tprof_lockop_begin(tprof_state *p, tprof_thread *ts, const tprof_node *node,
                   PyObject *obj, int64_t start)
{
    size_t grow = tprof_seg_next_bytes(&ts->lockops);
    if (TPROF_UNLIKELY(grow > 0) &&
        (ts->lockops_full ||
         tprof_add_seqcst(&p->lockop_bytes, (int64_t)grow) > p->lockop_budget))
    {
        ts->lockops_full = 1;
        tprof_add_relaxed(&ts->lockops_dropped, 1);
        return NULL;
    }
    tprof_lockop *op = tprof_seg_push(&ts->lockops);
    if (op == NULL) {
        tprof_fail(p, TPROF_ERR_NOMEMORY);
        return NULL;
    }
    op->start = start;
    op->end = TPROF_LOCKOP_OPEN;
    op->obj = (uintptr_t)obj;
    op->node = node->id;
    op->flags = node->flags & TPROF_NODE_LOCK;
    tprof_st_release(&ts->lockops_ready, ts->lockops.len);
    return op;
}
