/* SPDX-License-Identifier: MIT */
#include "engine.h"
#include "modstate.h"
#include "moncb.h"
#include "recorder.h"

/* The monitoring engine's own state. */
typedef struct tprof_monitoring {
    int tool;    /* the tool id in use; 0 (the debugger's,
                    never taken) when none */
    long events; /* the event set registered */
    PyObject *funcs[TPROF_MON_NHANDLERS]; /* the callables, by handler */
} tprof_monitoring;

/* The tool ids threadprof may take, in order of preference: 3 and 4 have no
 * conventional owner; 2 (PROFILER_ID) is cProfile's, so it comes last. */
static const int tprof_tool_ids[] = {3, 4, 2};
static const char tprof_tool_name[] = "threadprof";

#if PY_VERSION_HEX >= 0x030C0000

/* sys.monitoring, or NULL with an exception set. */
static PyObject *
tprof_monitoring_module(void)
{
    PyObject *sys = tprof_loaded_module("sys");
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

/* Which recorder handler each event goes to, with calls counted per resume
 * and whole. */
static const struct {
    const char *event;
    tprof_monitor_handler handler;
    tprof_monitor_handler whole;
    int c_event; /* needs builtins=True */
} tprof_routes[] = {
    {"PY_START", TPROF_MON_CALL, TPROF_MON_CALL, 0},
    {"PY_RESUME", TPROF_MON_CALL, TPROF_MON_RESUME, 0},
    {"PY_THROW", TPROF_MON_CALL, TPROF_MON_RESUME, 0},
    {"PY_RETURN", TPROF_MON_RETURN, TPROF_MON_RETURN, 0},
    {"PY_YIELD", TPROF_MON_RETURN, TPROF_MON_YIELD, 0},
    {"PY_UNWIND", TPROF_MON_RETURN, TPROF_MON_RETURN, 0},
    {"CALL", TPROF_MON_C_CALL, TPROF_MON_C_CALL, 1},
    {"C_RETURN", TPROF_MON_C_RETURN, TPROF_MON_C_RETURN, 1},
    {"C_RAISE", TPROF_MON_C_RETURN, TPROF_MON_C_RETURN, 1},
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

static void tprof_monitoring_remove(tprof_state *p, void *es);

static int
tprof_monitoring_install(tprof_state *p, void *es)
{
    tprof_monitoring *m = es;
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
        PyErr_SetString(p->mod->error,
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
    m->tool = tool;

    if (p->mon_missing == NULL) {
        p->mon_missing = PyObject_GetAttrString(mon, "MISSING");
        if (p->mon_missing == NULL) {
            goto error;
        }
    }
    /* CALL events come with builtins; Task() calls matter to tasks only.
     * Set before any event can come. */
    p->sees_class_calls = p->builtins && p->whole && p->tasks;
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
        tprof_monitor_handler h =
            p->whole ? tprof_routes[i].whole : tprof_routes[i].handler;
        if (m->funcs[h] == NULL) {
            m->funcs[h] = tprof_moncb_new(p->mod->moncb_type, funcs[h], p);
            if (m->funcs[h] == NULL) {
                goto error;
            }
        }
        if (tprof_register(mon, tool, bit, m->funcs[h]) < 0) {
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
    m->events = PyLong_AsLong(res);
    Py_DECREF(res);
    Py_DECREF(mon);
    return 0;

error:
    Py_DECREF(mon);
    tprof_monitoring_remove(p, m);
    return -1;
}

/* Unregister what is still ours: 3.14's clear_tool_id does it in one call
 * (local events included); before it, the events and callbacks one by one. */
static void
tprof_unregister(PyObject *mon, int tool)
{
    PyObject *res = NULL;
    if (PyObject_HasAttrString(mon, "clear_tool_id")) {
        res = PyObject_CallMethod(mon, "clear_tool_id", "i", tool);
    }
    else {
        res = PyObject_CallMethod(mon, "set_events", "ii", tool, 0);
        for (size_t i = 0; i < TPROF_NROUTES; i++) {
            long bit = tprof_event_bit(mon, tprof_routes[i].event);
            if (bit > 0) {
                tprof_register(mon, tool, bit, NULL);
            }
        }
    }
    Py_XDECREF(res);
    res = PyObject_CallMethod(mon, "free_tool_id", "i", tool);
    Py_XDECREF(res);
}

static void
tprof_monitoring_remove(tprof_state *Py_UNUSED(p), void *es)
{
    tprof_monitoring *m = es;
    if (m->tool == 0) {
        return;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    PyObject *mon = tprof_monitoring_module();
    if (mon != NULL) {
        PyObject *owner = PyObject_CallMethod(mon, "get_tool", "i", m->tool);
        int ours =
            owner != NULL && PyUnicode_Check(owner) &&
            PyUnicode_CompareWithASCIIString(owner, tprof_tool_name) == 0;
        Py_XDECREF(owner);
        if (ours) {
            tprof_unregister(mon, m->tool);
        }
        Py_DECREF(mon);
    }
    m->tool = 0;
    tprof_error_restore(&saved);
}

/* True when the tool id is still threadprof's with its events set; false
 * when another tool took them away. */
static int
tprof_monitoring_intact(tprof_monitoring *m)
{
    if (m->tool == 0) {
        return 1;
    }
    tprof_saved_error saved;
    tprof_error_save(&saved);
    int intact = 0;
    PyObject *mon = tprof_monitoring_module();
    if (mon != NULL) {
        PyObject *owner = PyObject_CallMethod(mon, "get_tool", "i", m->tool);
        PyObject *events =
            PyObject_CallMethod(mon, "get_events", "i", m->tool);
        intact =
            owner != NULL && PyUnicode_Check(owner) &&
            PyUnicode_CompareWithASCIIString(owner, tprof_tool_name) == 0 &&
            events != NULL && PyLong_Check(events) &&
            PyLong_AsLong(events) == m->events;
        Py_XDECREF(owner);
        Py_XDECREF(events);
        Py_DECREF(mon);
    }
    tprof_error_restore(&saved);
    return intact;
}

static void
tprof_monitoring_check(tprof_state *p, void *es)
{
    if (!tprof_monitoring_intact(es)) {
        p->global_warnings |= TPROF_GWARN_MONITORING_LOST;
    }
}

#else /* 3.11: no sys.monitoring (the profiler refuses the engine there) */

static int
tprof_monitoring_install(tprof_state *p, void *Py_UNUSED(es))
{
    (void)tprof_tool_ids;
    (void)tprof_tool_name;
    PyErr_SetString(p->mod->error,
                    "the monitoring engine needs Python 3.12 or later; use "
                    "engine='legacy'");
    return -1;
}

static void
tprof_monitoring_remove(tprof_state *Py_UNUSED(p), void *Py_UNUSED(es))
{}

static void
tprof_monitoring_check(tprof_state *Py_UNUSED(p), void *Py_UNUSED(es))
{}

#endif

/* Events are the interpreter's: every thread is covered already. */
static void
tprof_monitoring_each_thread(tprof_state *Py_UNUSED(p), void *Py_UNUSED(es))
{}

static int
tprof_monitoring_prepare(tprof_state *Py_UNUSED(p), void *Py_UNUSED(es))
{
    return 0;
}

static int
tprof_monitoring_traverse(void *es, visitproc visit, void *arg)
{
    tprof_monitoring *m = es;
    for (int i = 0; i < TPROF_MON_NHANDLERS; i++) {
        Py_VISIT(m->funcs[i]);
    }
    return 0;
}

static void
tprof_monitoring_clear(void *es)
{
    tprof_monitoring *m = es;
    for (int i = 0; i < TPROF_MON_NHANDLERS; i++) {
        Py_CLEAR(m->funcs[i]);
    }
}

const tprof_engine_ops tprof_monitoring_engine = {
    .name = "monitoring",
    .min_version = 0x030C0000,
    .state_size = sizeof(tprof_monitoring),
    .match_code = 1, /* PY_RETURN and friends carry the code object */
    .prepare = tprof_monitoring_prepare,
    .install = tprof_monitoring_install,
    .remove = tprof_monitoring_remove,
    .check = tprof_monitoring_check,
    .attach_current = tprof_monitoring_each_thread,
    .detach_current = tprof_monitoring_each_thread,
    .traverse = tprof_monitoring_traverse,
    .clear = tprof_monitoring_clear,
};
