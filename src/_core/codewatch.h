/* SPDX-License-Identifier: MIT */
/*
 * codewatch.h -- letting code objects die while they are profiled.
 *
 * Where TPROF_WATCH_CODE holds (3.12+ with the GIL), the function tables only
 * borrow the code objects they key by, and a code watcher (PyCode_AddWatcher)
 * tells when one is destroyed. Then, in every live profiler that knows it,
 * its names are resolved and kept, its function-table entry is forgotten and
 * every tree node keyed by it gets a key no lookup asks for: a new code
 * object at the same address is a new function, and a program that compiles
 * a function per request does not keep them all alive. Each function's nodes
 * are chained (tprof_node.same_func, by the slow path that adds a node) so
 * that they are found at once.
 *
 * Owns the watcher's id and the registry of live profilers. Elsewhere every
 * function here does nothing, and the tables keep code objects alive.
 */
#ifndef THREADPROF_CODEWATCH_H
#define THREADPROF_CODEWATCH_H

#include "state.h"

/* Add the watcher (once per interpreter). -1 with an exception set. */
int tprof_codewatch_start(void);

/* After Py_FinalizeEx: the watcher went with the interpreter. */
void tprof_codewatch_forget_watcher(void);

/* A profiler is made, or freed: it joins or leaves the registry. Joining
 * returns -1 (with MemoryError set) when out of memory. */
int tprof_codewatch_join(tprof_state *p);
void tprof_codewatch_leave(tprof_state *p);

/* Records were freed: chain again the nodes of those that remain. */
void tprof_codewatch_rechain(tprof_state *p);

#endif /* THREADPROF_CODEWATCH_H */
