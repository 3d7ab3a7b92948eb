/* SPDX-License-Identifier: MIT */
#include "gather.h"

#include <stdint.h>

PyObject *
tprof_gather(PyObject *Py_UNUSED(module), PyObject *const *args,
             Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "_gather(objects, names) takes a list and a tuple");
        return NULL;
    }
    PyObject *objects = args[0], *names = args[1];
    Py_ssize_t n = PyList_GET_SIZE(objects), k = PyTuple_GET_SIZE(names);
    for (Py_ssize_t j = 0; j < k; j++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(names, j))) {
            PyErr_SetString(PyExc_TypeError, "names must be strings");
            return NULL;
        }
    }
    if (n > 0 && k > PY_SSIZE_T_MAX / 8 / n) {
        return PyErr_NoMemory();
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, 8 * n * k);
    if (out == NULL) {
        return NULL;
    }
    int64_t *cols = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *name = PyTuple_GET_ITEM(names, j);
        for (Py_ssize_t i = 0; i < n; i++) {
            /* the list may change under a callback: read it each time */
            if (i >= PyList_GET_SIZE(objects)) {
                PyErr_SetString(PyExc_RuntimeError,
                                "the list changed while it was read");
                goto fail;
            }
            PyObject *item = PyList_GET_ITEM(objects, i);
            Py_INCREF(item);
            PyObject *v = PyObject_GetAttr(item, name);
            Py_DECREF(item);
            if (v == NULL) {
                goto fail;
            }
            if (!PyLong_Check(v)) {
                PyErr_Format(PyExc_TypeError, "%R of item %zd is not an int",
                             name, i);
                Py_DECREF(v);
                goto fail;
            }
            long long x = PyLong_AsLongLong(v);
            Py_DECREF(v);
            if (x == -1 && PyErr_Occurred()) {
                goto fail;
            }
            cols[j * n + i] = (int64_t)x;
        }
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}
