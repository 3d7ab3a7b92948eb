/* SPDX-License-Identifier: MIT */
/*
 * lockops.h -- the lock operations a thread ran: each call of a method of
 * _thread's lock or RLock that acquires or releases (and of a thread
 * handle's join, which waits like an acquire, and of a _queue.SimpleQueue's
 * get and put, which take and give an item), kept as (start, end, object,
 * node, kind) for the model to pair and attribute (threadprof.contention).
 *
 * The methods are known by their method definitions, looked up once when
 * the profiler is made (tprof_lock_keys_load); a node whose key is one of
 * them gets a TPROF_NODE_LOCK_* flag when it is made (slow path), so the
 * fast path tests one bit of a node it already reads. A lock call appends a
 * record to the thread's own segmented array at its call (a pool that never
 * moves) and sets its end when it returns; nothing else is written, nothing
 * is shared, no Python object is held: the object is kept as its address.
 */
#ifndef THREADPROF_LOCKOPS_H
#define THREADPROF_LOCKOPS_H

#include "state.h"

/* Look up the acquiring and releasing methods of _thread.LockType,
 * _thread.RLock, _thread._ThreadHandle and _queue.SimpleQueue into
 * p->lock_keys (importing _queue). -1 with an exception set on failure. */
int tprof_lock_keys_load(tprof_state *p);

/* The TPROF_NODE_LOCK_* flag of a C callee keyed by `key`, or 0. */
uint32_t tprof_lock_flags(const tprof_state *p, const void *key);

/* The memory all threads' records may hold by default: 512 Ki lock calls.
 * Past it, calls are counted, not recorded (a warning in the snapshot). */
#define TPROF_LOCKOP_BUDGET ((int64_t)16 << 20)

/* Append the record of a lock call of node `node` on `obj` at wall time
 * `start`, open; NULL when out of memory (sticky error set) or past the
 * budget (counted in the thread's lockops_dropped). */
tprof_lockop *tprof_lockop_begin(tprof_state *p, tprof_thread *ts,
                                 const tprof_node *node, PyObject *obj,
                                 int64_t start);

/* The lock's object of a lock call: the method descriptor's `self_arg`, or
 * the bound built-in method's own. */
static inline PyObject *
tprof_lockop_object(PyObject *callee, PyObject *self_arg)
{
    if (self_arg != NULL) {
        return self_arg;
    }
    return PyCFunction_Check(callee) ? PyCFunction_GET_SELF(callee) : NULL;
}

#endif /* THREADPROF_LOCKOPS_H */
