/* SPDX-License-Identifier: MIT */
#include "columns.h"

Py_ssize_t
tprof_column_index(PyObject *names, const char *name)
{
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
        PyObject *item = PyTuple_GET_ITEM(names, j);
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "names must be strings");
            return -2;
        }
        if (PyUnicode_CompareWithASCIIString(item, name) == 0) {
            return j;
        }
    }
    return -1;
}

int
tprof_check_parents(const int64_t *parents, Py_ssize_t n)
{
    for (Py_ssize_t v = 1; v < n; v++) {
        if (parents[v] < 0 || parents[v] >= v) {
            PyErr_Format(PyExc_ValueError,
                         "node %zd: its parent must come before it", v);
            return -1;
        }
    }
    return 0;
}
