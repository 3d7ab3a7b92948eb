/* SPDX-License-Identifier: MIT */
/*
 * profiler.h -- the Profiler object and the per-thread record it owns.
 *
 * One tp_profiler may be enabled in the process at a time (tp_active). It owns
 * the function table and a list of tp_thread records, one per OS thread that
 * produced an event. A thread reaches its record through a thread-local
 * pointer tagged with the profiler's generation (tp_tls): a record is valid
 * for the thread exactly when the tag equals the profiler's `gen`. clear()
 * gives the profiler a new generation, so threads attach fresh records lazily.
 *
 * Lifetime rule (gh-148037): a callback may still be running in another
 * thread when the hook is removed, if it paused inside (with the GIL: released
 * it, which only a Python timer or the first attach of a thread can; without
 * the GIL: any section that may park the thread, tp_event_may_pause). Such a
 * callback counts itself in `busy` (with the GIL until the section ends,
 * without it until the callback ends) and holds a reference to the profiler;
 * records are freed only when `busy` is zero, otherwise they wait on
 * `retired`. Removing either engine stops the world on a free-threaded build,
 * so when it returns every callback has either ended or counts in `busy`;
 * disable() then waits for `busy` to reach zero there.
 *
 * The thread registry (`threads`) is appended to under `reg_lock` and read
 * without it: records are never unlinked while the profiler can record.
 */
#ifndef THREADPROF_PROFILER_H
#define THREADPROF_PROFILER_H

#include "compat.h"
#include "functable.h"
#include "store.h"
#include "sync.h"
#include "timeline.h"

/* How the recorder reads time; chosen once, at enable. */
typedef enum tp_mode {
    TP_MODE_WALL = 0,     /* wall clock only */
    TP_MODE_WALL_CPU = 1, /* wall clock, thread CPU estimated (default) */
    TP_MODE_CPU = 2,      /* wall clock and exact thread CPU per event */
    TP_MODE_USER = 3,     /* a Python timer callable */
} tp_mode;

/* Sticky errors, reported by disable() and in snapshots. */
typedef enum tp_error {
    TP_ERR_NOMEMORY = 1 << 0,
    TP_ERR_TIMER = 1 << 1,
    TP_ERR_TIMELINE = 1 << 2, /* a timeline chunk could not be kept */
} tp_error;

/* Which engine delivers events (engine.h). */
typedef enum tp_engine {
    TP_ENGINE_LEGACY = 0,
    TP_ENGINE_MONITORING = 1,
} tp_engine;

/* Profile-wide warnings, reported in snapshots. */
typedef enum tp_global_warning {
    TP_GWARN_THREADING_HOOK = 1 << 0,  /* threading.setprofile was replaced */
    TP_GWARN_MONITORING_LOST = 1 << 1, /* our sys.monitoring tool was taken */
    TP_GWARN_FOREIGN_HOOKS = 1 << 2,   /* another tool's hook was replaced */
} tp_global_warning;

/* Per-thread warnings, reported in snapshots. */
typedef enum tp_thread_warning {
    TP_WARN_HOOK_REPLACED = 1 << 0,
} tp_thread_warning;

typedef struct tp_thread {
    /* what every event touches, first: one cache line */
    int64_t last_wall; /* latest timed event */
    int64_t cpu_now;   /* thread CPU since attach, as recorded */
    tp_stack stack;
    tp_tree tree;
    /* the rest */
    struct tp_thread *next; /* registry order: first seen first */
    uint64_t gen;           /* the profiler generation it belongs to */
    uint64_t serial;        /* unique per OS thread in this process */
    unsigned long ident;    /* threading.get_ident() */
    unsigned long native_id;
    PyObject *name;       /* str or NULL */
    PyObject *thread_ref; /* weakref to the threading.Thread, or NULL */
    int64_t first_wall;   /* first event (INT64_MIN: not yet timed) */
    int64_t cpu_base;     /* thread CPU clock at attach */
    unsigned warnings;    /* tp_thread_warning bits */
    int detached;         /* detach_current_thread() was called */
    tp_timeline tl;       /* --timeline: this thread's calls and returns */
} tp_thread;

typedef struct tp_profiler {
    PyObject_HEAD
    /* what the events read, first */
    uint64_t gen;
    int64_t cpu_gap;       /* TP_MODE_WALL_CPU: read the CPU clock across gaps
                              at least this long (ns) */
    PyObject *mon_missing; /* sys.monitoring.MISSING */
    tp_mode mode;
    tp_engine engine;
    int builtins; /* record C calls */
    int seed;     /* enter already-running frames when a thread attaches */
    int enabled;
    unsigned errors;       /* tp_error bits */
    int busy;              /* callbacks paused inside (see above) */
    int timeline;          /* record a timeline too */
    tp_tlsink tl_sink;     /* where full timeline chunks go */
    Py_tracefunc callback; /* the recorder function for `mode` */
    PyObject *timer;       /* TP_MODE_USER */
    double timeunit;
    tp_functable funcs;
    tp_mutex reg_lock;  /* appends to `threads` */
    tp_thread *threads; /* records of the current generation */
    tp_thread **threads_tail;
    tp_thread *retired;  /* records of old generations, freed when safe */
    int started;         /* origin and start_time are set */
    int64_t origin;      /* clock at the first enable (or the last clear) */
    int64_t start_ticks; /* clock at the latest enable */
    int64_t run_ticks;   /* ticks profiled by earlier enable/disable pairs */
    double start_time;   /* time.time() at origin */
    unsigned reported;   /* tp_error bits already raised by disable() */
    PyObject *bootstrap; /* the threading trampoline */
    PyObject *prev_hook; /* threading's profile hook before enable */
    PyObject *threading_active; /* threading._active, or NULL */
    PyObject *own_prefix; /* threadprof's package dir, skipped when seeding */
    PyObject *error_text; /* str describing the first timer error */
    unsigned global_warnings; /* tp_global_warning bits */
    int mon_tool;             /* sys.monitoring tool id in use, or -1 */
    long mon_events;          /* the event set registered */
    PyObject *mon_funcs[4];   /* the callables, by tp_monitor_handler */
    PyObject *weakreflist;
} tp_profiler;

extern PyTypeObject *tp_ProfilerType;
extern PyObject *tp_ProfilerError;

/* The enabled profiler, or NULL. It holds a reference to the profiler. */
extern tp_profiler *tp_active;

/* tp_active, read from any thread (a borrowed reference). */
static inline tp_profiler *
tp_active_get(void)
{
    return tp_ld_acquire(&tp_active);
}

/* Create the Profiler type; returns it (new reference) or NULL. */
PyObject *tp_profiler_type_create(PyObject *module);

/* Set a sticky error; safe on the hot path. */
static inline void
tp_profiler_fail(tp_profiler *p, tp_error err)
{
    tp_or_relaxed(&p->errors, (unsigned)err);
}

/* Reset the enabled profiler in a child process after fork(). */
void tp_profiler_after_fork(tp_profiler *p);

/* Read the profiler's clock outside the hot path (enable, disable, snapshot).
 * In TP_MODE_USER this calls the timer and may fail with an exception set. */
int tp_profiler_now(tp_profiler *p, int64_t *now);

#endif /* THREADPROF_PROFILER_H */
