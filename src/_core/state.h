/* SPDX-License-Identifier: MIT */
/*
 * state.h -- what a profiler records into: the state the hot path reads and
 * writes, and the per-thread record.
 *
 * One profiler may be enabled in the process at a time (tprof_active). Its
 * state holds the function table and a list of tprof_thread records, one per
 * OS thread that produced an event. A thread reaches its record through a
 * thread-local pointer tagged with the profiler's generation (threads.h): a
 * record is valid for the thread exactly when the tag equals `gen`. clear()
 * gives the profiler a new generation, so threads attach fresh records lazily.
 *
 * tprof_state is the head of the Profiler object (profiler.h), so the
 * engines hand it to the recorder as the hook's object.
 *
 * Lifetime rule (gh-148037): a callback may still be running in another
 * thread when the hook is removed, if it paused inside (with the GIL: released
 * it, which only a Python timer or the first attach of a thread can; without
 * the GIL: any section that may park the thread, tprof_event_may_pause). Such
 * a callback counts itself in `busy` (with the GIL until the section ends,
 * without it until the callback ends) and holds a reference to the profiler;
 * records are freed only when `busy` is zero, otherwise they wait on
 * `retired`. Removing either engine stops the world on a free-threaded build,
 * so when it returns every callback has either ended or counts in `busy`;
 * disable() then waits for `busy` to reach zero there.
 *
 * The thread registry (`threads`) is appended to under `reg_lock` and read
 * without it: records are never unlinked while the profiler can record.
 */
#ifndef THREADPROF_STATE_H
#define THREADPROF_STATE_H

#include "compat.h"
#include "clock.h"
#include "functable.h"
#include "store.h"
#include "susptab.h"
#include "sync.h"
#include "timeline.h"

struct tprof_engine_ops;
struct tprof_module_state;

/* How the recorder reads time; chosen once, at enable. */
typedef enum tprof_mode {
    TPROF_MODE_WALL = 0,     /* wall clock only */
    TPROF_MODE_WALL_CPU = 1, /* wall clock, thread CPU estimated (default) */
    TPROF_MODE_CPU = 2,      /* wall clock and exact thread CPU per event */
    TPROF_MODE_USER = 3,     /* a Python timer callable */
} tprof_mode;

/* Sticky errors, reported by disable() and in snapshots. */
typedef enum tprof_error {
    TPROF_ERR_NOMEMORY = 1 << 0,
    TPROF_ERR_TIMER = 1 << 1,
    TPROF_ERR_TIMELINE = 1 << 2, /* a timeline chunk could not be kept */
} tprof_error;

/* Profile-wide warnings, reported in snapshots. */
typedef enum tprof_global_warning {
    TPROF_GWARN_THREADING_HOOK = 1 << 0, /* a thread starter was replaced */
    TPROF_GWARN_MONITORING_LOST = 1
                                  << 1, /* our sys.monitoring tool was taken */
    TPROF_GWARN_FOREIGN_HOOKS = 1 << 2, /* another tool's hook was replaced */
} tprof_global_warning;

/* Per-thread warnings, reported in snapshots. */
typedef enum tprof_thread_warning {
    TPROF_WARN_HOOK_REPLACED = 1 << 0,
} tprof_thread_warning;

/* A step of a task, with a timeline (tasks.h). */
typedef struct tprof_span {
    int64_t start; /* wall clock */
    int64_t end;
    uint32_t task; /* its index in the thread's tasks */
} tprof_span;

/* A lock call (lockops.h). */
typedef struct tprof_lockop {
    int64_t start;  /* wall clock at the call */
    int64_t end;    /* wall clock at its return, or TPROF_LOCKOP_OPEN */
    uintptr_t obj;  /* the lock's address */
    uint32_t node;  /* the node of the call */
    uint32_t flags; /* TPROF_NODE_LOCK_ACQUIRE or TPROF_NODE_LOCK_RELEASE */
} tprof_lockop;

/* A lock call's end while it is open. */
#define TPROF_LOCKOP_OPEN INT64_MIN

/* An asyncio task a thread ran (tasks.h). */
typedef struct tprof_task {
    uint64_t id;       /* unique in the profile, from 1 */
    uint64_t creator;  /* the id of the task that made it, or 0 */
    uint64_t loop;     /* its event loop's number in the profile, from 1 */
    PyObject *name;    /* Task.get_name() when its first step of its own
                          ended (a reference, set once; NULL until then) */
    PyObject *renamed; /* an eager task's name after that, if another: set
                          once */
    PyObject *obj;     /* the Task object, not held: valid while it runs */
    int renamable;     /* an eager task, not named again yet */
    uint32_t index;    /* in the thread's tasks */
    int64_t first;     /* wall clock at its first step */
    uint64_t steps;    /* steps run so far */
    int64_t awaited;   /* wall time suspended in awaits */
} tprof_task;

typedef struct tprof_thread {
    /* what every event touches, first: one cache line */
    int64_t last_wall;     /* latest timed event */
    int64_t cpu_now;       /* thread CPU since attach, as recorded */
    const void *chain_key; /* whole calls: the call that suspended last, while
                              no event of its caller has come since */
    tprof_stack stack;
    tprof_tree tree;
    /* the rest */
    struct tprof_thread *next; /* registry order: first seen first */
    uint64_t gen;              /* the profiler generation it belongs to */
    uint64_t serial;           /* unique per OS thread in this process */
    unsigned long ident;       /* threading.get_ident() */
    unsigned long native_id;
    PyObject *name;       /* str or NULL */
    PyObject *thread_ref; /* weakref to the threading.Thread, or NULL */
    int64_t first_wall;   /* first event (INT64_MIN: not yet timed) */
    int64_t cpu_base;     /* thread CPU clock at attach */
    unsigned warnings;    /* tprof_thread_warning bits */
    int detached;         /* detach_current_thread() was called */
    tprof_timeline tl;    /* --timeline: this thread's calls and returns */
    tprof_susptab susp;   /* whole calls: the suspended ones (susptab.h) */
    uint32_t chain_depth; /* the stack depth of chain_key's caller */
    /* the step of a task running, if any, and the slow steps so far */
    uint32_t in_step;       /* a frame of kind TPROF_FRAME_STEP is open */
    uint32_t step_where;    /* node of its call with the most own time yet */
    int64_t step_where_own; /* that call's own time */
    tprof_segarray steps;   /* tprof_step, appended by the owning thread */
    uint32_t steps_ready;   /* steps complete, published for snapshots */
    tprof_task *step_task;  /* the task of the step running, or NULL */
    /* the asyncio tasks it ran (tasks.h) */
    tprof_segarray tasks; /* tprof_task, appended by the owning thread */
    uint32_t tasks_ready; /* tasks complete, published for snapshots */
    uint64_t tasks_over;  /* tasks past TPROF_MAX_TASKS, not recorded */
    tprof_segarray spans; /* with a timeline: tprof_span of every step */
    uint32_t spans_ready; /* spans complete, published for snapshots */
    PyObject *loop;       /* the event loop of its latest task, or NULL */
    uint64_t loop_number; /* that loop's number */
    int loop_is_asyncios; /* that loop is an asyncio.BaseEventLoop */
    /* its lock calls (lockops.h) */
    tprof_segarray lockops;   /* tprof_lockop, appended by the owning thread */
    uint32_t lockops_ready;   /* records made, published for snapshots */
    int lockops_full;         /* the budget was spent: no more records */
    uint64_t lockops_dropped; /* calls not recorded since */
} tprof_thread;

#define TPROF_EXIT_KEYS 3
#define TPROF_LOCK_KEYS 17

typedef struct tprof_state {
    PyObject_HEAD
    /* what the events read, first */
    uint64_t gen;
    int64_t cpu_gap; /* TPROF_MODE_WALL_CPU: read the CPU clock across gaps
                        at least this long (ns) */
    PyObject *mon_missing; /* sys.monitoring.MISSING (set by that engine) */
    tprof_mode mode;
    int builtins; /* record C calls */
    /* the method defs of os._exit, os.execv and os.execve, when an exit hook
     * is set: a call of one of them calls the hook (the process ends, or
     * becomes another program) */
    const void *exit_keys[TPROF_EXIT_KEYS];
    /* the method definitions of the lock methods (lockops.h) and their
     * TPROF_NODE_LOCK_* flags */
    const void *lock_keys[TPROF_LOCK_KEYS];
    uint32_t lock_key_flags[TPROF_LOCK_KEYS];
    int locks;             /* record lock calls (with builtins) */
    int64_t lockop_bytes;  /* held by all threads' records (shared: added to
                              only when a thread takes a new segment) */
    int64_t lockop_budget; /* the most they may hold */
    int seed;       /* enter already-running frames when a thread attaches */
    int match_code; /* returns carry the code object, not the frame */
    int whole;      /* a generator-like call is one call, however often it
                       suspends (suspend.h) */
    int64_t slow_step; /* list the steps of tasks at least this long (clock
                          ticks); 0: none */
    int tasks;         /* record asyncio tasks (with `whole`; tasks.h) */
    int steps;         /* tell the steps of tasks: slow_step or tasks */
    int enabled;
    unsigned errors;       /* tprof_error bits */
    int busy;              /* callbacks paused inside (see above) */
    int timeline;          /* record a timeline too */
    int lean_snapshots;    /* snapshots leave the timelines out */
    tprof_tlsink tl_sink;  /* where full timeline chunks go */
    Py_tracefunc callback; /* the recorder function for `mode` */
    PyObject *timer;       /* TPROF_MODE_USER */
    double timeunit;
    tprof_functable funcs;
    /* the thread registry (threads.h) */
    tprof_mutex reg_lock;  /* appends to `threads` */
    tprof_thread *threads; /* records of the current generation */
    tprof_thread **threads_tail;
    tprof_thread *retired; /* records of old generations, freed when safe */
    PyObject *threading_active; /* threading._active, or NULL */
    PyObject *own_prefix; /* threadprof's package dir, skipped when seeding */
    /* the session */
    int installing; /* enable() is installing the engine's hooks (atomic) */
    unsigned long installer; /* the thread that is, while `installing` */
    int started;             /* origin and start_time are set */
    int64_t origin;       /* clock at the first enable (or the last clear) */
    int64_t start_ticks;  /* clock at the latest enable */
    int64_t run_ticks;    /* ticks profiled by earlier enable/disable pairs */
    double start_time;    /* time.time() at origin */
    PyObject *error_text; /* str describing the first timer error */
    unsigned global_warnings; /* tprof_global_warning bits */
    int missed_threads; /* legacy: threads started out of the engine's reach */
    int unseen_threads; /* legacy: threads running unhooked at the last check
                         */
    PyObject *exit_hook; /* called when the program calls os._exit, or NULL */
    /* asyncio tasks (tasks.h) */
    uint64_t task_ids;      /* the last task id given */
    uint64_t loops;         /* the last event loop number given */
    PyObject *current_task; /* asyncio.current_task, once looked up */
    PyObject *task_var;     /* the context variable of a task's id */
    PyObject *get_name;     /* interned method names */
    PyObject *get_loop;
    PyObject *task_type;     /* asyncio.Task, once looked up */
    PyObject *task_get_name; /* its get_name and get_loop (descriptors) */
    PyObject *task_get_loop;
    PyObject *base_loop;  /* asyncio.BaseEventLoop */
    int sees_class_calls; /* the engine reports calls of classes (CALL
                             events): a task marks its context when it calls
                             asyncio.Task, not at its first step (tasks.h) */
    /* the engine that delivers events: its operations and its own state */
    const struct tprof_engine_ops *engine;
    void *engine_state;
    struct tprof_module_state *mod; /* the module of the profiler's type */
} tprof_state;

/* The enabled profiler's state, or NULL. It holds a reference to the
 * profiler. Process-wide on purpose: the hooks it guards and the thread-local
 * tags are the process's (the module loads in the main interpreter only). */
extern tprof_state *tprof_active;

/* tprof_active, read from any thread (a borrowed reference). A profiler is
 * claimed before its hooks are installed and published once they are: until
 * then this says NULL, so that nobody stops what is not yet started. */
static inline tprof_state *
tprof_active_get(void)
{
    tprof_state *p = tprof_ld_acquire(&tprof_active);
    if (p != NULL && tprof_ld_acquire(&p->installing)) {
        return NULL;
    }
    return p;
}

/* Set a sticky error; safe on the hot path. */
static inline void
tprof_fail(tprof_state *p, tprof_error err)
{
    tprof_or_relaxed(&p->errors, (unsigned)err);
}

/* Read p's clock outside the hot path and in TPROF_MODE_USER. There this
 * calls the timer and may fail with an exception set. */
static inline int
tprof_state_now(tprof_state *p, int64_t *now)
{
    if (p->mode != TPROF_MODE_USER) {
        *now = tprof_clock_wall();
        return 0;
    }
    return tprof_clock_user(p->timer, p->timeunit, now);
}

#endif /* THREADPROF_STATE_H */
