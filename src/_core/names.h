/* SPDX-License-Identifier: MIT */
/*
 * names.h -- turning function-table entries into names, after the fact.
 *
 * The recorder stores only pointers. Names are built here, outside the hot
 * path, when a snapshot is taken, and cached in the entry: Python functions
 * by their code object, C functions with cProfile's labels
 * ("<built-in method builtins.len>", "<method 'append' of 'list' objects>").
 */
#ifndef THREADPROF_NAMES_H
#define THREADPROF_NAMES_H

#include "functable.h"

/* The tuple (kind, name, qualname, filename, lineno) describing f, cached in
 * f->info. Returns a borrowed reference, or NULL with an exception set. */
PyObject *tprof_names_info(tprof_func *f);

#endif /* THREADPROF_NAMES_H */
