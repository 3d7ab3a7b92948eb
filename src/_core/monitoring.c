/* SPDX-License-Identifier: MIT */
#include "engine.h"
#include "moncb.h"
#include "recorder.h"

/* The tool ids threadprof may take, in order of preference: 3 and 4 have no
 * conventional owner; 2 (PROFILER_ID) is cProfile's, so it comes last. */
static const int tprof_tool_ids[] = {3, 4, 2};
static const char tprof_tool_name[] = "threadprof";

#if PY_VERSION_HEX >= 0x030C0000

/* sys.monitoring, or NULL with an exception set. */
static PyObject *
tprof_monitoring_module(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (sys == NULL) {
        return NULL;
    }
    PyObject *mon = PyObject_GetAttrString(sys, "monitoring");
    Py_DECREF(sys);
    return mon;
}

/* The bit of a named event in sys.monitoring.events, or -1. */
static long
tprof_event_bit(PyObject *mon, const char *name)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (events == NULL) {
        return -1;
    }
    PyObject *bit = PyObject_GetAttrString(events, name);
    Py_DECREF(events);
    if (bit == NULL) {
        return -1;
    }
    long v = PyLong_AsLong(bit);
    Py_DECREF(bit);
    return v;
}

/* Which recorder handler each event goes to. */
static const struct {
    const char *event;
    tprof_monitor_handler handler;
    int c_event; /* needs builtins=True */
} tprof_routes[] = {
    {"PY_START", TPROF_MON_CALL, 0},    {"PY_RESUME", TPROF_MON_CALL, 0},
    {"PY_THROW", TPROF_MON_CALL, 0},    {"PY_RETURN", TPROF_MON_RETURN, 0},
    {"PY_YIELD", TPROF_MON_RETURN, 0},  {"PY_UNWIND", TPROF_MON_RETURN, 0},
    {"CALL", TPROF_MON_C_CALL, 1},      {"C_RETURN", TPROF_MON_C_RETURN, 1},
    {"C_RAISE", TPROF_MON_C_RETURN, 1},
};

#define TPROF_NROUTES (sizeof(tprof_routes) / sizeof(tprof_routes[0]))

static int
tprof_register(PyObject *mon, int tool, long bit, PyObject *func)
{
    PyObject *res = PyObject_CallMethod(mon, "register_callback", "ilO", tool,
                                        bit, func ? func : Py_None);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

int
tprof_monitoring_install(tprof_profiler *p)
{
    PyObject *mon = tprof_monitoring_module();
    if (mon == NULL) {
        return -1;
    }
    int tool = -1;
    for (size_t i = 0; i < sizeof(tprof_tool_ids) / sizeof(tprof_tool_ids[0]);
         i++) {
        PyObject *owner =
            PyObject_CallMethod(mon, "get_tool", "i", tprof_tool_ids[i]);
        if (owner == NULL) {
            Py_DECREF(mon);
            return -1;
        }
        int free_id = owner == Py_None;
        Py_DECREF(owner);
        if (free_id) {
            tool = tprof_tool_ids[i];
            break;
        }
    }
    if (tool < 0) {
        Py_DECREF(mon);
        PyErr_SetString(tprof_ProfilerError,
                        "sys.monitoring has no free tool id for threadprof "
                        "(ids 2, 3 and 4 are taken); use engine='legacy'");
        return -1;
    }
    PyObject *res =
        PyObject_CallMethod(mon, "use_tool_id", "is", tool, tprof_tool_name);
    if (res == NULL) {
        Py_DECREF(mon);
        return -1;
    }
    Py_DECREF(res);
    p->mon_tool = tool;

    if (p->mon_missing == NULL) {
        p->mon_missing = PyObject_GetAttrString(mon, "MISSING");
        if (p->mon_missing == NULL) {
            goto error;
        }
    }
    const vectorcallfunc *funcs =
        tprof_recorder_monitor_funcs(p->mode, p->timeline);
    long mask = 0;
    for (size_t i = 0; i < TPROF_NROUTES; i++) {
        if (tprof_routes[i].c_event && !p->builtins) {
            continue;
        }
        long bit = tprof_event_bit(mon, tprof_routes[i].event);
        if (bit < 0) {
            goto error;
        }
        tprof_monitor_handler h = tprof_routes[i].handler;
        if (p->mon_funcs[h] == NULL) {
            p->mon_funcs[h] = tprof_moncb_new(funcs[h], p);
            if (p->mon_funcs[h] == NULL) {
                goto error;
            }
        }
        if (tprof_register(mon, tool, bit, p->mon_funcs[h]) < 0) {
            goto error;
        }
        mask |= bit;
    }
    res = PyObject_CallMethod(mon, "set_events", "il", tool, mask);
    if (res == NULL) {
        goto error;
    }
    Py_DECREF(res);
    /* what get_events reports back (C_RETURN and C_RAISE ride on CALL) */
    res = PyObject_CallMethod(mon, "get_events", "i", tool);
    if (res == NULL) {
        goto error;
    }
    p->mon_events = PyLong_AsLong(res);
    Py_DECREF(res);
    Py_DECREF(mon);
    return 0;

error:
    Py_DECREF(mon);
    tprof_monitoring_remove(p);
    return -1;
}

void
tprof_monitoring_remove(tprof_profiler *p)
{
    if (p->mon_tool < 0) {
        return;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *mon = tprof_monitoring_module();
    if (mon != NULL) {
        /* only undo what is still ours */
        PyObject *owner =
            PyObject_CallMethod(mon, "get_tool", "i", p->mon_tool);
        int ours =
            owner != NULL && PyUnicode_Check(owner) &&
            PyUnicode_CompareWithASCIIString(owner, tprof_tool_name) == 0;
        Py_XDECREF(owner);
        if (ours) {
            PyObject *res =
                PyObject_CallMethod(mon, "set_events", "ii", p->mon_tool, 0);
            Py_XDECREF(res);
            for (size_t i = 0; i < TPROF_NROUTES; i++) {
                long bit = tprof_event_bit(mon, tprof_routes[i].event);
                if (bit > 0) {
                    tprof_register(mon, p->mon_tool, bit, NULL);
                }
            }
            res = PyObject_CallMethod(mon, "free_tool_id", "i", p->mon_tool);
            Py_XDECREF(res);
        }
        Py_DECREF(mon);
    }
    p->mon_tool = -1;
    tprof_error_restore(&saved);
}

int
tprof_monitoring_intact(tprof_profiler *p)
{
    if (p->mon_tool < 0) {
        return 1;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    int intact = 0;
    PyObject *mon = tprof_monitoring_module();
    if (mon != NULL) {
        PyObject *owner =
            PyObject_CallMethod(mon, "get_tool", "i", p->mon_tool);
        PyObject *events =
            PyObject_CallMethod(mon, "get_events", "i", p->mon_tool);
        intact =
            owner != NULL && PyUnicode_Check(owner) &&
            PyUnicode_CompareWithASCIIString(owner, tprof_tool_name) == 0 &&
            events != NULL && PyLong_Check(events) &&
            PyLong_AsLong(events) == p->mon_events;
        Py_XDECREF(owner);
        Py_XDECREF(events);
        Py_DECREF(mon);
    }
    tprof_error_restore(&saved);
    return intact;
}

#else /* 3.11: no sys.monitoring */

int
tprof_monitoring_install(tprof_profiler *Py_UNUSED(p))
{
    (void)tprof_tool_ids;
    (void)tprof_tool_name;
    PyErr_SetString(tprof_ProfilerError,
                    "the monitoring engine needs Python 3.12 or later; use "
                    "engine='legacy'");
    return -1;
}

void
tprof_monitoring_remove(tprof_profiler *Py_UNUSED(p))
{}

int
tprof_monitoring_intact(tprof_profiler *Py_UNUSED(p))
{
    return 1;
}

#endif
