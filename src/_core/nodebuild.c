/* SPDX-License-Identifier: MIT */
#include "nodebuild.h"

#include "columns.h"
#include "outermost.h"

#include <stdint.h>
#include <string.h>

#define MAX_FIELDS 16

/* Where a field goes: a slot's offset in the object, or -1 to set it as an
 * attribute named `name`. */
typedef struct {
    PyObject *name;
    Py_ssize_t offset;
} field;

static int
find_field(PyTypeObject *type, const char *text, PyObject *name, field *out)
{
    out->offset = -1;
    if (name == NULL) {
        name = PyUnicode_InternFromString(text);
        if (name == NULL) {
            return -1;
        }
    }
    else {
        Py_INCREF(name);
    }
    out->name = name;
    PyObject *descr = PyObject_GetAttr((PyObject *)type, name);
    if (descr == NULL) {
        /* not a class attribute: an instance attribute, set as such */
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDescrObject *m = (PyMemberDescrObject *)descr;
        if (m->d_member->type == Py_T_OBJECT_EX &&
            !(m->d_member->flags & Py_READONLY) &&
            PyType_IsSubtype(type, m->d_common.d_type))
        {
            out->offset = m->d_member->offset;
        }
    }
    Py_DECREF(descr);
    return 0;
}

/* Store `value` (a new reference, stolen) as field `f` of `obj`. */
static int
store(PyObject *obj, const field *f, PyObject *value)
{
    if (value == NULL) {
        return -1;
    }
    if (f->offset >= 0) {
        PyObject **slot = (PyObject **)((char *)obj + f->offset);
        Py_XSETREF(*slot, value);
        return 0;
    }
    int rc = PyObject_SetAttr(obj, f->name, value);
    Py_DECREF(value);
    return rc;
}

/* Children in index order as lists; `kids` receives n new lists. */
static int
children_lists(const int64_t *parents, Py_ssize_t n, PyObject **kids)
{
    Py_ssize_t *count = PyMem_Calloc((size_t)n, sizeof *count);
    if (count == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t v = 1; v < n; v++) {
        count[parents[v]]++;
    }
    for (Py_ssize_t v = 0; v < n; v++) {
        kids[v] = PyList_New(count[v]);
        if (kids[v] == NULL) {
            PyMem_Free(count);
            return -1;
        }
        count[v] = 0;
    }
    for (Py_ssize_t v = 1; v < n; v++) {
        PyObject *id = PyLong_FromSsize_t(v);
        if (id == NULL) {
            PyMem_Free(count);
            return -1;
        }
        PyList_SET_ITEM(kids[parents[v]], count[parents[v]]++, id);
    }
    PyMem_Free(count);
    return 0;
}

static PyObject *
build(PyTypeObject *type, const int64_t *cols, PyObject *names, Py_ssize_t n,
      const field *fields, const field extra[3], const char *prim)
{
    Py_ssize_t k = PyTuple_GET_SIZE(names);
    Py_ssize_t calls_at = tprof_column_index(names, "calls");
    const int64_t *parents = cols + n * tprof_column_index(names, "parent");
    PyObject **kids = PyMem_Calloc((size_t)n + 1, sizeof *kids);
    PyObject *list = PyList_New(n);
    if (kids == NULL || list == NULL) {
        PyMem_Free(kids);
        Py_XDECREF(list);
        return kids == NULL ? PyErr_NoMemory() : NULL;
    }
    if (children_lists(parents, n, kids) < 0) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *obj = type->tp_alloc(type, 0);
        if (obj == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(list, i, obj);
        for (Py_ssize_t j = 0; j < k; j++) {
            if (store(obj, &fields[j], PyLong_FromLongLong(cols[j * n + i])) <
                0) {
                goto fail;
            }
        }
        if (store(obj, &extra[0], PyLong_FromSsize_t(i)) < 0) {
            goto fail;
        }
        PyObject *mine = kids[i];
        kids[i] = NULL;
        if (store(obj, &extra[1], mine) < 0) {
            goto fail;
        }
        if (prim != NULL) {
            long long calls = i > 0 && prim[i] ? cols[calls_at * n + i] : 0;
            if (store(obj, &extra[2], PyLong_FromLongLong(calls)) < 0) {
                goto fail;
            }
        }
    }
    PyMem_Free(kids);
    return list;
fail:
    for (Py_ssize_t v = 0; v < n; v++) {
        Py_XDECREF(kids[v]);
    }
    PyMem_Free(kids);
    Py_DECREF(list);
    return NULL;
}

PyObject *
tprof_build_nodes(PyObject *Py_UNUSED(module), PyObject *const *args,
                  Py_ssize_t nargs)
{
    if (nargs != 3 || !PyType_Check(args[0]) || !PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "_build_nodes(node_type, columns, names) takes a "
                        "type, a buffer and a tuple of names");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)args[0];
    PyObject *names = args[2];
    Py_ssize_t k = PyTuple_GET_SIZE(names);
    if (k > MAX_FIELDS || tprof_column_index(names, "parent") < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "names: at most 16, and 'parent' among them");
        return NULL;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(names, j))) {
            PyErr_SetString(PyExc_TypeError, "names must be strings");
            return NULL;
        }
    }
    int with_prim = tprof_column_index(names, "prim_calls") < 0;
    if (with_prim && (tprof_column_index(names, "func") < 0 ||
                      tprof_column_index(names, "calls") < 0))
    {
        PyErr_SetString(PyExc_ValueError,
                        "names: 'func' and 'calls' are needed to compute "
                        "'prim_calls'");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    char *prim = NULL;
    field fields[MAX_FIELDS] = {{0}}, extra[3] = {{0}};
    if (k == 0 || view.len % (8 * k) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "columns: not one 8-byte integer per node and name");
        goto done;
    }
    Py_ssize_t n = view.len / (8 * k);
    const int64_t *cols = (const int64_t *)view.buf;
    const int64_t *parents = cols + n * tprof_column_index(names, "parent");
    if (tprof_check_parents(parents, n) < 0) {
        goto done;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        if (find_field(type, NULL, PyTuple_GET_ITEM(names, j), &fields[j]) < 0)
        {
            goto done;
        }
    }
    if (find_field(type, "id", NULL, &extra[0]) < 0 ||
        find_field(type, "children", NULL, &extra[1]) < 0 ||
        (with_prim && find_field(type, "prim_calls", NULL, &extra[2]) < 0))
    {
        goto done;
    }
    if (with_prim) {
        prim = PyMem_Malloc(n > 0 ? (size_t)n : 1);
        if (prim == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        const int64_t *funcs = cols + n * tprof_column_index(names, "func");
        if (tprof_outermost_flags(parents, funcs, n, prim) < 0) {
            goto done;
        }
    }
    result = build(type, cols, names, n, fields, extra, prim);
done:
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_XDECREF(fields[j].name);
    }
    for (int j = 0; j < 3; j++) {
        Py_XDECREF(extra[j].name);
    }
    PyMem_Free(prim);
    PyBuffer_Release(&view);
    return result;
}
