/* SPDX-License-Identifier: MIT */
#include "nsscale.h"

#include <math.h>

int
tprof_nsscale_of(PyObject *obj, tprof_nsscale *scale)
{
    scale->whole = 0;
    scale->frac = 0.0;
    if (PyLong_Check(obj)) {
        scale->whole = PyLong_AsLongLong(obj);
        if (scale->whole == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (scale->whole < 1) {
            PyErr_SetString(PyExc_ValueError, "scale: not positive");
            return -1;
        }
        return 0;
    }
    scale->frac = PyFloat_AsDouble(obj);
    return scale->frac == -1.0 && PyErr_Occurred() ? -1 : 0;
}

int
tprof_nsscale_apply(const tprof_nsscale *scale, int64_t ticks, int64_t *ns)
{
    if (scale->whole) {
        if (!__builtin_mul_overflow(ticks, scale->whole, ns)) {
            return 0;
        }
    }
    else {
        double x = nearbyint((double)ticks * scale->frac);
        if (x >= -9.2e18 && x <= 9.2e18) {
            *ns = (int64_t)x;
            return 0;
        }
    }
    PyErr_SetString(PyExc_OverflowError, "nanoseconds beyond 64 bits");
    return -1;
}
