/* SPDX-License-Identifier: MIT */
#include "snapshot.h"

#include "attach.h"
#include "engine.h"
#include "lockops.h"
#include "modstate.h"
#include "names.h"
#include "tasks.h"

#include <string.h>

static const char *
tprof_clock_name(tprof_mode mode)
{
    switch (mode) {
    case TPROF_MODE_CPU:
        return "cpu";
    case TPROF_MODE_USER:
        return "user";
    default:
        return "wall";
    }
}

static const char *
tprof_cpu_mode_name(tprof_mode mode)
{
    switch (mode) {
    case TPROF_MODE_WALL_CPU:
        return "sampled";
    case TPROF_MODE_CPU:
        return "exact";
    default:
        return "none";
    }
}

/* Append s (a new reference, or NULL on error) to list; steals s. */
static int
tprof_append_new(PyObject *list, PyObject *s)
{
    if (s == NULL || PyList_Append(list, s) < 0) {
        Py_XDECREF(s);
        return -1;
    }
    Py_DECREF(s);
    return 0;
}

static int
tprof_append_text(PyObject *list, const char *text)
{
    PyObject *s = PyUnicode_FromString(text);
    if (s == NULL || PyList_Append(list, s) < 0) {
        Py_XDECREF(s);
        return -1;
    }
    Py_DECREF(s);
    return 0;
}

PyObject *
tprof_snapshot_errors(tprof_state *p)
{
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    if ((p->errors & TPROF_ERR_NOMEMORY) &&
        tprof_append_text(out,
                          "out of memory while profiling: some calls were "
                          "not recorded") < 0)
    {
        goto error;
    }
    if ((p->errors & TPROF_ERR_TIMELINE) &&
        tprof_append_text(out, "out of memory while recording the timeline: "
                               "it has gaps") < 0)
    {
        goto error;
    }
    if ((p->errors & TPROF_ERR_TIMER) &&
        tprof_append_new(
            out, PyUnicode_FromFormat(
                     "the timer failed (%S): some events were not recorded",
                     p->error_text ? p->error_text : Py_None)) < 0)
    {
        goto error;
    }
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

/* The sticky errors and the profile-wide warnings. */
/* True when p has a record of a thread other than the caller. */
static int
tprof_snapshot_others(tprof_state *p)
{
    for (tprof_thread *ts = tprof_threads_first(p); ts;
         ts = tprof_threads_next(ts))
    {
        if (!(tprof_tls.gen == tprof_gen_of(p) && tprof_tls.ts == ts)) {
            return 1;
        }
    }
    return 0;
}

static PyObject *
tprof_snapshot_warnings(tprof_state *p, int running)
{
    PyObject *out = tprof_snapshot_errors(p);
    if (out == NULL) {
        return NULL;
    }
    if (TPROF_FREE_THREADED && running && p->timeline &&
        tprof_snapshot_others(p) &&
        tprof_append_text(out,
                          "free-threaded build: a snapshot taken while "
                          "profiling runs leaves out the timelines of the "
                          "other threads until profiling stops") < 0)
    {
        Py_DECREF(out);
        return NULL;
    }
    int missed = tprof_ld_relaxed(&p->missed_threads);
    if ((missed > 0 &&
         tprof_append_new(
             out, PyUnicode_FromFormat(
                      "%d thread(s) were started through a reference to "
                      "_thread.start_new_thread (or start_joinable_thread) "
                      "taken before profiling began: the legacy engine does "
                      "not see their calls (use the monitoring engine on "
                      "3.12+, or call threadprof.attach_current_thread() in "
                      "them)",
                      missed)) < 0) ||
        (tprof_ld_relaxed(&p->unseen_threads) > 0 &&
         tprof_append_new(
             out, PyUnicode_FromFormat(
                      "%d running thread(s) had no threadprof hook and were "
                      "never seen by the legacy engine (threads created in "
                      "C need threadprof.attach_current_thread(); on 3.11 "
                      "also threads started through a reference to "
                      "_thread.start_new_thread taken before profiling "
                      "began)",
                      tprof_ld_relaxed(&p->unseen_threads))) < 0) ||
        (tprof_ld_relaxed(&p->tl_sink.broken) &&
         tprof_append_new(
             out, PyUnicode_FromFormat(
                      "the timeline spill file could not be written (%s): "
                      "from then on each thread's timeline keeps only its "
                      "last %u events",
                      strerror(p->tl_sink.spill_errno),
                      (unsigned)TPROF_TL_RING)) < 0))
    {
        Py_DECREF(out);
        return NULL;
    }
    unsigned w = p->global_warnings;
    if (((w & TPROF_GWARN_THREADING_HOOK) &&
         tprof_append_text(out, "threading's or _thread's thread-start "
                                "function was replaced while profiling: "
                                "threads started after that may be "
                                "missing") < 0) ||
        ((w & TPROF_GWARN_MONITORING_LOST) &&
         tprof_append_text(out, "threadprof's sys.monitoring tool was changed "
                                "by other code while profiling: events after "
                                "that may be missing") < 0) ||
        ((w & TPROF_GWARN_FOREIGN_HOOKS) &&
         tprof_append_text(out, "another tool's profile function was replaced "
                                "when profiling started") < 0))
    {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* The columns of the raw snapshot's "nodes" (api.py names them). */
enum {
    COL_PARENT,
    COL_FUNC,
    COL_CALLS,
    COL_WALL,
    COL_WALL_SELF,
    COL_CPU,
    COL_CPU_SELF,
    NCOLS
};

/* The nodes of one thread as NCOLS native int64 columns, one after the
 * other; open frames are closed virtually at `wall`/`cpu` when `running`. */
static PyObject *
tprof_thread_nodes(tprof_thread *ts, int running, int64_t wall, int64_t cpu)
{
    Py_ssize_t n = tprof_tree_ready(&ts->tree);
    PyObject *out = PyBytes_FromStringAndSize(NULL, 8 * NCOLS * n);
    if (out == NULL) {
        return NULL;
    }
    int64_t *cols = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        const tprof_node *node = tprof_tree_node(&ts->tree, (uint32_t)i);
        cols[COL_PARENT * n + i] =
            node->parent ? (int64_t)node->parent->id : -1;
        cols[COL_FUNC * n + i] =
            node->func == UINT32_MAX ? -1 : (int64_t)node->func;
        cols[COL_CALLS * n + i] = (int64_t)tprof_ld_relaxed(&node->calls);
        cols[COL_WALL * n + i] = tprof_ld_relaxed(&node->wall);
        cols[COL_WALL_SELF * n + i] = tprof_ld_relaxed(&node->wall_self);
        cols[COL_CPU * n + i] = tprof_ld_relaxed(&node->cpu);
        cols[COL_CPU_SELF * n + i] = tprof_ld_relaxed(&node->cpu_self);
    }
    if (!running) {
        return out;
    }
    int64_t child_wall = 0, child_cpu = 0;
    for (const tprof_frame *f = ts->stack.top; f > ts->stack.frames; f--) {
        int64_t w = wall - f->wall0, c = cpu - f->cpu0;
        Py_ssize_t i = f->node->id;
        int64_t inner_wall = child_wall, inner_cpu = child_cpu;
        child_wall = w;
        child_cpu = c;
        if (i >= n) {
            continue; /* not published yet (cannot happen with the GIL) */
        }
        cols[COL_WALL * n + i] += w;
        cols[COL_WALL_SELF * n + i] += w - f->wall_sub - inner_wall;
        cols[COL_CPU * n + i] += c;
        cols[COL_CPU_SELF * n + i] += c - f->cpu_sub - inner_cpu;
    }
    return out;
}

/* The thread's timeline: spilled chunks as (offset, count) into the spill
 * file, chunks in memory copied as (times bytes, codes bytes), and how many
 * of the first events in memory the limit drops. None without a timeline. */
static PyObject *
tprof_thread_timeline(tprof_state *p, tprof_thread *ts, int live)
{
    if (!p->timeline || p->lean_snapshots) {
        Py_RETURN_NONE;
    }
    if (live) {
        /* another thread appends to it, and may free chunks, right now */
        return Py_BuildValue("{s[]s[]sKsK}", "spills", "chunks", "skip",
                             (unsigned long long)0, "dropped",
                             (unsigned long long)0);
    }
    const tprof_timeline *tl = &ts->tl;
    PyObject *spills = PyList_New(tl->nspills);
    PyObject *chunks = PyList_New(0);
    if (spills == NULL || chunks == NULL) {
        goto error;
    }
    for (uint32_t i = 0; i < tl->nspills; i++) {
        PyObject *t = Py_BuildValue("(LII)", (long long)tl->spills[i].offset,
                                    (unsigned int)tl->spills[i].count,
                                    (unsigned int)tl->spills[i].size);
        if (t == NULL) {
            goto error;
        }
        PyList_SET_ITEM(spills, i, t);
    }
    for (const tprof_tlchunk *c = tl->head; c != NULL; c = c->next) {
        PyObject *t =
            Py_BuildValue("(y#y#)", (const char *)c->t, (Py_ssize_t)c->len * 8,
                          (const char *)c->f, (Py_ssize_t)c->len * 4);
        if (t == NULL || PyList_Append(chunks, t) < 0) {
            Py_XDECREF(t);
            goto error;
        }
        Py_DECREF(t);
    }
    uint64_t limit = tprof_ld_relaxed(&p->tl_sink.limit);
    uint64_t skip =
        limit > 0 && tl->mem_events > limit ? tl->mem_events - limit : 0;
    uint64_t dropped = tl->dropped + skip;
    if (skip > 0 && tl->nspills > 0) {
        /* a ring after a failed spill: what was spilled is not followed by
         * what is kept, so it is dropped too (timeline.h) */
        for (uint32_t i = 0; i < tl->nspills; i++) {
            dropped += tl->spills[i].count;
        }
        Py_SETREF(spills, PyList_New(0));
        if (spills == NULL) {
            goto error;
        }
    }
    return Py_BuildValue("{sNsNsKsK}", "spills", spills, "chunks", chunks,
                         "skip", (unsigned long long)skip, "dropped",
                         (unsigned long long)dropped);
error:
    Py_XDECREF(spills);
    Py_XDECREF(chunks);
    return NULL;
}

/* The thread's asyncio tasks, as (id, name, creator, loop, first step,
 * steps, awaited) tuples, and the nodes of their coroutines as int64 pairs
 * (node, index of its task) in "task_nodes". */
static int
tprof_thread_tasks(const tprof_thread *ts, int64_t origin, uint32_t nodes,
                   PyObject **tasks, PyObject **roots)
{
    uint32_t n = tprof_ld_acquire(&ts->tasks_ready);
    *tasks = PyList_New(n);
    *roots = NULL;
    if (*tasks == NULL) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const tprof_task *t = tprof_seg_at(&ts->tasks, i);
        PyObject *renamed = tprof_ld_acquire(&t->renamed);
        PyObject *name = tprof_ld_acquire(&t->name);
        PyObject *row = Py_BuildValue(
            "(KOKKLKL)", (unsigned long long)t->id,
            renamed != NULL ? renamed : (name != NULL ? name : Py_None),
            (unsigned long long)t->creator, (unsigned long long)t->loop,
            (long long)(t->first - origin),
            (unsigned long long)tprof_ld_relaxed(&t->steps),
            (long long)tprof_ld_relaxed(&t->awaited));
        if (row == NULL) {
            Py_CLEAR(*tasks);
            return -1;
        }
        PyList_SET_ITEM(*tasks, i, row);
    }
    Py_ssize_t count = 0;
    for (uint32_t i = 0; i < nodes; i++) {
        count += (tprof_ld_relaxed(&tprof_tree_node(&ts->tree, i)->flags) &
                  TPROF_NODE_TASK) != 0;
    }
    *roots = PyBytes_FromStringAndSize(NULL, 16 * count);
    if (*roots == NULL) {
        Py_CLEAR(*tasks);
        return -1;
    }
    int64_t *pairs = (int64_t *)PyBytes_AS_STRING(*roots);
    for (uint32_t i = 0, k = 0; i < nodes; i++) {
        const tprof_node *node = tprof_tree_node(&ts->tree, i);
        if (k < 2 * count &&
            (tprof_ld_relaxed(&node->flags) & TPROF_NODE_TASK)) {
            uint32_t index = tprof_task_of(node)->index;
            pairs[k++] = i;
            pairs[k++] = index < n ? (int64_t)index : -1;
        }
    }
    return 0;
}

/* The spans of the thread's steps of tasks (with a timeline), as int64
 * triples (start, end, task index). */
static PyObject *
tprof_thread_spans(const tprof_thread *ts, int64_t origin)
{
    uint32_t n = tprof_ld_acquire(&ts->spans_ready);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n * 24);
    if (out == NULL) {
        return NULL;
    }
    int64_t *row = (int64_t *)PyBytes_AS_STRING(out);
    for (uint32_t i = 0; i < n; i++, row += 3) {
        const tprof_span *s = tprof_seg_at(&ts->spans, i);
        row[0] = s->start - origin;
        row[1] = s->end - origin;
        row[2] = s->task;
    }
    return out;
}

/* The thread's lock calls (lockops.h), as five int64 columns one after
 * the other: start and end (from the origin; a call still open ends at
 * `now`), the object's address, the node, and 1 for a call that acquires or
 * 2 for one that releases (threadprof.model.LockOps). Columns, so that the
 * model takes each with one copy. */
static PyObject *
tprof_thread_lockops(const tprof_thread *ts, int64_t origin, int64_t now)
{
    uint32_t n = tprof_ld_acquire(&ts->lockops_ready);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n * 40);
    if (out == NULL) {
        return NULL;
    }
    int64_t *col = (int64_t *)PyBytes_AS_STRING(out);
    for (uint32_t i = 0; i < n; i++) {
        const tprof_lockop *op = tprof_seg_at(&ts->lockops, i);
        int64_t end = tprof_ld_relaxed(&op->end);
        col[i] = op->start - origin;
        col[n + i] = (end == TPROF_LOCKOP_OPEN ? now : end) - origin;
        col[2 * (size_t)n + i] = (int64_t)op->obj;
        col[3 * (size_t)n + i] = op->node;
        col[4 * (size_t)n + i] = (op->flags & TPROF_NODE_LOCK_ACQUIRE) ? 1 : 2;
    }
    return out;
}

/* The thread's slow steps of tasks, as (start, duration, node, where,
 * where_own, task id) tuples, start from the origin. */
static PyObject *
tprof_thread_steps(const tprof_thread *ts, int64_t origin)
{
    uint32_t n = tprof_ld_acquire(&ts->steps_ready);
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        const tprof_step *s = tprof_seg_at(&ts->steps, i);
        PyObject *t = Py_BuildValue(
            "(LLIILK)", (long long)(s->start - origin), (long long)s->duration,
            (unsigned int)s->node, (unsigned int)s->where,
            (long long)s->where_own, (unsigned long long)s->task);
        if (t == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, t);
    }
    return out;
}

static PyObject *
tprof_thread_dict(tprof_state *p, tprof_thread *ts, int running, int64_t now,
                  int64_t origin)
{
    int64_t cpu = tprof_ld_relaxed(&ts->cpu_now);
    int64_t last = tprof_ld_relaxed(&ts->last_wall);
    int64_t first_wall = tprof_ld_relaxed(&ts->first_wall);
    int own = tprof_tls.gen == tprof_gen_of(p) && tprof_tls.ts == ts;
    /* Without the GIL another thread's stack and timeline change (and move)
     * while we read: they are left out until profiling stops. */
    int live = TPROF_FREE_THREADED && running && !own;
    int open = running && !live && ts->stack.top > ts->stack.frames;
    if (running && own) {
        cpu = tprof_cpu_now(p, ts);
    }
    if (open) {
        last = now;
    }
    int64_t first = first_wall == INT64_MIN ? origin : first_wall;
    if (first_wall == INT64_MIN) {
        last = origin;
    }
    PyObject *nodes = tprof_thread_nodes(ts, open, now, cpu);
    if (nodes == NULL) {
        return NULL;
    }
    PyObject *warnings = PyList_New(0);
    if (warnings == NULL) {
        Py_DECREF(nodes);
        return NULL;
    }
    if (ts->warnings & TPROF_WARN_HOOK_REPLACED) {
        PyObject *w = PyUnicode_FromString(
            "its profile hook was replaced (sys.setprofile or another "
            "profiler): data after that point is missing");
        if (w == NULL || PyList_Append(warnings, w) < 0) {
            Py_XDECREF(w);
            Py_DECREF(nodes);
            Py_DECREF(warnings);
            return NULL;
        }
        Py_DECREF(w);
    }
    tprof_thread_refresh_name(p, ts);
    PyObject *timeline = tprof_thread_timeline(p, ts, live);
    PyObject *steps = timeline ? tprof_thread_steps(ts, origin) : NULL;
    PyObject *tasks = NULL, *task_nodes = NULL;
    PyObject *spans = steps ? tprof_thread_spans(ts, origin) : NULL;
    PyObject *lockops = spans ? tprof_thread_lockops(ts, origin, last) : NULL;
    if (lockops == NULL ||
        tprof_thread_tasks(ts, origin,
                           (uint32_t)(PyBytes_GET_SIZE(nodes) / (8 * NCOLS)),
                           &tasks, &task_nodes) < 0)
    {
        Py_DECREF(nodes);
        Py_DECREF(warnings);
        Py_XDECREF(timeline);
        Py_XDECREF(steps);
        Py_XDECREF(spans);
        Py_XDECREF(lockops);
        return NULL;
    }
    return Py_BuildValue(
        "{sKsksksOsLsLsLsNsNsNsNsNsNsKsNsNsK}", "serial",
        (unsigned long long)ts->serial, "ident", ts->ident, "native_id",
        ts->native_id, "name", ts->name ? ts->name : Py_None, "first_seen",
        (long long)(first - origin), "last_seen", (long long)(last - origin),
        "cpu_time", (long long)cpu, "nodes", nodes, "warnings", warnings,
        "timeline", timeline, "slow_steps", steps, "tasks", tasks,
        "task_nodes", task_nodes, "tasks_over",
        (unsigned long long)ts->tasks_over, "task_spans", spans, "lock_ops",
        lockops, "lock_ops_dropped",
        (unsigned long long)tprof_ld_relaxed(&ts->lockops_dropped));
}

int
tprof_snapshot_recorded(tprof_state *p)
{
    for (tprof_thread *ts = tprof_threads_first(p); ts;
         ts = tprof_threads_next(ts))
    {
        if (tprof_tree_ready(&ts->tree) > 1) {
            return 1;
        }
    }
    return 0;
}

PyObject *
tprof_snapshot_build(tprof_state *p)
{
    int running = p->enabled;
    int64_t now = 0;
    if (running && tprof_state_now(p, &now) < 0) {
        return NULL;
    }
    int64_t origin = p->origin;
    int64_t duration = p->run_ticks + (running ? now - p->start_ticks : 0);

    if (!tprof_snapshot_recorded(p)) {
        PyErr_SetString(p->mod->error,
                        "no profile data: nothing has been recorded");
        return NULL;
    }

    PyObject *threads = PyList_New(0);
    PyObject *funcs = NULL;
    PyObject *errors = tprof_snapshot_warnings(p, running);
    if (threads == NULL || errors == NULL) {
        goto error;
    }
    for (tprof_thread *ts = tprof_threads_first(p); ts;
         ts = tprof_threads_next(ts))
    {
        if (tprof_snapshot_fault()) {
            PyErr_NoMemory();
            goto error;
        }
        PyObject *d = tprof_thread_dict(p, ts, running, now, origin);
        if (d == NULL || PyList_Append(threads, d) < 0) {
            Py_XDECREF(d);
            goto error;
        }
        Py_DECREF(d);
    }
    /* after the nodes: every function they name is in the table */
    uint32_t nfuncs = tprof_functable_ready(&p->funcs);
    funcs = PyList_New(nfuncs);
    if (funcs == NULL) {
        goto error;
    }
    for (uint32_t i = 0; i < nfuncs; i++) {
        PyObject *info = tprof_names_info(tprof_functable_get(&p->funcs, i));
        if (info == NULL) {
            goto error;
        }
        PyList_SET_ITEM(funcs, i, Py_NewRef(info));
    }
    double unit =
        (p->mode == TPROF_MODE_USER && p->timeunit > 0.0) ? p->timeunit : 1e-9;
    return Py_BuildValue(
        "{sssssssdsdsLsNsNsNsssL}", "engine", p->engine->name, "clock",
        tprof_clock_name(p->mode), "cpu_mode", tprof_cpu_mode_name(p->mode),
        "unit", unit, "start_time", p->start_time, "duration",
        (long long)duration, "functions", funcs, "threads", threads,
        "warnings", errors, "coroutines", p->whole ? "whole" : "resume",
        "slow_step", (long long)p->slow_step);

error:
    Py_XDECREF(threads);
    Py_XDECREF(funcs);
    Py_XDECREF(errors);
    return NULL;
}
