/* SPDX-License-Identifier: MIT */
#include "moncb.h"

#include <stddef.h>

/* No tp_clear slot: the handlers read the profiler unchecked, so a callback
 * keeps it until dealloc; the profiler's own clear breaks the cycle (it drops
 * its callbacks). */
static int
tprof_moncb_traverse(tprof_moncb *cb, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(cb));
    Py_VISIT((PyObject *)cb->profiler);
    return 0;
}

static void
tprof_moncb_dealloc(tprof_moncb *cb)
{
    PyObject_GC_UnTrack(cb);
    Py_CLEAR(cb->profiler);
    PyTypeObject *type = Py_TYPE(cb);
    type->tp_free((PyObject *)cb);
    Py_DECREF(type);
}

static PyObject *
tprof_moncb_repr(tprof_moncb *cb)
{
    return PyUnicode_FromFormat("<threadprof sys.monitoring callback at %p>",
                                (void *)cb);
}

static PyMemberDef tprof_moncb_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(tprof_moncb, vectorcall),
     Py_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot tprof_moncb_slots[] = {
    {Py_tp_dealloc, tprof_moncb_dealloc},
    {Py_tp_traverse, tprof_moncb_traverse},
    {Py_tp_repr, tprof_moncb_repr},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, tprof_moncb_members},
    {Py_tp_doc, "A threadprof recorder callback for sys.monitoring."},
    {0, NULL},
};

static PyType_Spec tprof_moncb_spec = {
    .name = "threadprof._core.MonitoringCallback",
    .basicsize = sizeof(tprof_moncb),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = tprof_moncb_slots,
};

PyObject *
tprof_moncb_type_create(PyObject *module)
{
    return PyType_FromModuleAndSpec(module, &tprof_moncb_spec, NULL);
}

PyObject *
tprof_moncb_new(PyTypeObject *type, vectorcallfunc fn, tprof_state *p)
{
    tprof_moncb *cb = PyObject_GC_New(tprof_moncb, type);
    if (cb == NULL) {
        return NULL;
    }
    cb->vectorcall = fn;
    cb->profiler = (tprof_state *)Py_NewRef((PyObject *)p);
    PyObject_GC_Track(cb);
    return (PyObject *)cb;
}
