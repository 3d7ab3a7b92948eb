/* SPDX-License-Identifier: MIT */
/*
 * nsscale.h -- ticks to integer nanoseconds, as the exporters' ns_converter
 * (exporters/_common.py) does: an exact product when a tick is a whole
 * number of nanoseconds, else the product rounded half to even. No state.
 */
#ifndef THREADPROF_NSSCALE_H
#define THREADPROF_NSSCALE_H

#include "compat.h"

#include <stdint.h>

typedef struct {
    int64_t whole; /* ns a tick, when whole; else 0 and `frac` */
    double frac;
} tprof_nsscale;

/* The scale from a Python int (positive) or float: 0, or -1 with an
 * exception set. */
int tprof_nsscale_of(PyObject *obj, tprof_nsscale *scale);

/* `ticks` in nanoseconds into *ns: 0, or -1 with OverflowError set. */
int tprof_nsscale_apply(const tprof_nsscale *scale, int64_t ticks,
                        int64_t *ns);

#endif /* THREADPROF_NSSCALE_H */
