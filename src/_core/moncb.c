/* SPDX-License-Identifier: MIT */
#include "moncb.h"

#include <stddef.h>

static PyTypeObject *tp_MonCallbackType;

/* No tp_clear: the handlers read the profiler unchecked, so a callback keeps
 * it until dealloc; the profiler's own clear breaks the cycle (it drops its
 * callbacks). */
static int
tp_moncb_traverse(tp_moncb *cb, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(cb));
    Py_VISIT((PyObject *)cb->profiler);
    return 0;
}

static void
tp_moncb_dealloc(tp_moncb *cb)
{
    PyObject_GC_UnTrack(cb);
    Py_CLEAR(cb->profiler);
    PyTypeObject *type = Py_TYPE(cb);
    type->tp_free((PyObject *)cb);
    Py_DECREF(type);
}

static PyObject *
tp_moncb_repr(tp_moncb *cb)
{
    return PyUnicode_FromFormat("<threadprof sys.monitoring callback at %p>",
                                (void *)cb);
}

static PyMemberDef tp_moncb_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(tp_moncb, vectorcall),
     Py_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot tp_moncb_slots[] = {
    {Py_tp_dealloc, tp_moncb_dealloc},
    {Py_tp_traverse, tp_moncb_traverse},
    {Py_tp_repr, tp_moncb_repr},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, tp_moncb_members},
    {Py_tp_doc, "A threadprof recorder callback for sys.monitoring."},
    {0, NULL},
};

static PyType_Spec tp_moncb_spec = {
    .name = "threadprof._core.MonitoringCallback",
    .basicsize = sizeof(tp_moncb),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = tp_moncb_slots,
};

int
tp_moncb_type_init(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &tp_moncb_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    tp_MonCallbackType = (PyTypeObject *)type;
    return 0;
}

PyObject *
tp_moncb_new(vectorcallfunc fn, tp_profiler *p)
{
    tp_moncb *cb = PyObject_GC_New(tp_moncb, tp_MonCallbackType);
    if (cb == NULL) {
        return NULL;
    }
    cb->vectorcall = fn;
    cb->profiler = (tp_profiler *)Py_NewRef((PyObject *)p);
    PyObject_GC_Track(cb);
    return (PyObject *)cb;
}
