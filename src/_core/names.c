/* SPDX-License-Identifier: MIT */
#include "names.h"

/* Look `name` up along the MRO of `type`, as attribute lookup on an instance
 * would find it (without calling anything); a new reference or NULL. */
static PyObject *
tprof_mro_lookup(PyTypeObject *type, PyObject *name)
{
    PyObject *mro = type->tp_mro;
    if (mro == NULL || !PyTuple_Check(mro)) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *base = PyTuple_GET_ITEM(mro, i);
        if (!PyType_Check(base)) {
            continue;
        }
        PyObject *dict = tprof_type_dict((PyTypeObject *)base);
        if (dict == NULL) {
            continue;
        }
        PyObject *found = PyDict_GetItemWithError(dict, name);
        Py_XINCREF(found);
        Py_DECREF(dict);
        if (found != NULL) {
            return found;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    return NULL;
}

/* The name of a module given as a str or a module object; new ref or NULL. */
static PyObject *
tprof_module_name(PyObject *module)
{
    if (module == NULL) {
        return NULL;
    }
    if (PyUnicode_Check(module)) {
        return Py_NewRef(module);
    }
    if (PyModule_Check(module)) {
        PyObject *name = PyModule_GetNameObject(module);
        if (name == NULL) {
            PyErr_Clear();
        }
        return name;
    }
    return NULL;
}

/* cProfile's label for a C function. */
static PyObject *
tprof_cfunc_label(tprof_func *f)
{
    const char *ml_name = f->ml->ml_name;
    if (f->self_type == NULL) {
        /* a plain built-in function */
        PyObject *mod = tprof_module_name(f->module);
        PyObject *label;
        if (mod != NULL && PyUnicode_CompareWithASCIIString(mod, "builtins")) {
            label = PyUnicode_FromFormat("<%U.%s>", mod, ml_name);
        }
        else {
            label = PyUnicode_FromFormat("<%s>", ml_name);
        }
        Py_XDECREF(mod);
        return label;
    }
    /* a built-in method: repr(the attribute of its type), if it has one */
    PyObject *name = PyUnicode_FromString(ml_name);
    if (name == NULL) {
        return NULL;
    }
    PyObject *attr = tprof_mro_lookup((PyTypeObject *)f->self_type, name);
    Py_DECREF(name);
    if (attr != NULL) {
        PyObject *label = PyObject_Repr(attr);
        Py_DECREF(attr);
        if (label != NULL) {
            return label;
        }
    }
    PyErr_Clear();
    if (f->module != NULL && PyUnicode_Check(f->module)) {
        return PyUnicode_FromFormat("<built-in method %S.%s>", f->module,
                                    ml_name);
    }
    return PyUnicode_FromFormat("<built-in method %s>", ml_name);
}

PyObject *
tprof_names_info(tprof_func *f)
{
    if (f->info != NULL) {
        return f->info;
    }
    if (f->kind == TPROF_FUNC_PY && f->code == NULL) {
        /* forgotten before its names could be resolved (out of memory) */
        f->info = Py_BuildValue("(ssssi)", "python", "<unknown>", "<unknown>",
                                "<unknown>", 0);
    }
    else if (f->kind == TPROF_FUNC_PY) {
        PyCodeObject *co = (PyCodeObject *)f->code;
        f->info =
            Py_BuildValue("(sOOOi)", "python", co->co_name, co->co_qualname,
                          co->co_filename, co->co_firstlineno);
    }
    else {
        PyObject *label = tprof_cfunc_label(f);
        if (label == NULL) {
            return NULL;
        }
        f->info = Py_BuildValue("(sOOsi)", "c", label, label, "~", 0);
        Py_DECREF(label);
    }
    return f->info;
}
