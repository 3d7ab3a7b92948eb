/* SPDX-License-Identifier: MIT */
/*
 * store.h -- one thread's aggregate: its call tree and its shadow stack.
 *
 * A node is (parent node, function key). Node 0 is a virtual root, whose key
 * points back to its tree. Nodes are
 * numbered densely in creation order, so a parent always has a smaller id than
 * its children, and they never move (tprof_segarray). A node is found from its
 * (parent, key) pair through an open-addressing hash table owned by the tree.
 *
 * Because a path from the root is unique, a node is never active twice on the
 * stack: its inclusive time simply accumulates, even under recursion (which
 * makes new, deeper nodes). Primitive calls and per-function totals are
 * derived from the tree later.
 *
 * The shadow stack mirrors the frames the thread is running. frames[0] is the
 * root and is never popped. Each frame remembers what must match its return
 * (the frame object for Python calls, the PyMethodDef for C calls) and the
 * time spent in its completed children.
 *
 * Only the owning thread writes its store. Snapshots read it with the GIL
 * held or, on a free-threaded build, while it is written: nodes never move,
 * a node's parent, key, id and function never change once it is published
 * (`ready`), and
 * its counters are aligned 64-bit words, read as a recent value.
 */
#ifndef THREADPROF_STORE_H
#define THREADPROF_STORE_H

#include "sync.h" /* Python.h first: it sets the feature macros */

#include "arena.h"

typedef struct tprof_node {
    struct tprof_node *parent;
    struct tprof_node *last_child; /* the child entered last: checked first */
    struct tprof_node *next;       /* the sibling entered after this one last
                                   time: checked second */
    const void *key;               /* the root's: its tree (tprof_tree_of) */
    struct tprof_node *same_func;  /* watched code: the next node, in any
                                      tree, of the same function */
    uint32_t id;
    uint32_t func;  /* id in the function table */
    uint32_t flags; /* tprof_node_flag bits, set when it is made */
    uint64_t calls;
    int64_t wall; /* inclusive */
    int64_t wall_self;
    int64_t cpu; /* inclusive */
    int64_t cpu_self;
} tprof_node;

/* What a node's function is, when it matters to the recorder (suspend.h). */
typedef enum tprof_node_flag {
    TPROF_NODE_AWAITS = 1 << 0, /* a coroutine (async def, @types.coroutine) */
    TPROF_NODE_AGEN = 1 << 1,   /* an async generator */
    TPROF_NODE_GENLIKE = 1 << 2, /* any generator-like code: it may yield */
    TPROF_NODE_TASK = 1 << 3, /* the coroutine of an asyncio task: its key is
                                 the task's record (tasks.h) */
    TPROF_NODE_LOCK_ACQUIRE = 1 << 4, /* a lock method that acquires */
    TPROF_NODE_LOCK_RELEASE = 1 << 5, /* one that releases (lockops.h) */
    TPROF_NODE_LOCK = TPROF_NODE_LOCK_ACQUIRE | TPROF_NODE_LOCK_RELEASE,
} tprof_node_flag;

typedef struct tprof_tree {
    tprof_node **slots;   /* hash of (parent, key) -> node */
    uint32_t cap;         /* a power of two */
    tprof_segarray nodes; /* tprof_node by id; node 0 is the root */
    uint32_t ready;       /* nodes complete, published for other threads */
} tprof_tree;

typedef struct tprof_frame {
    tprof_node *node;
    const void *match; /* what the matching return carries */
    int64_t wall0;     /* wall clock at entry */
    int64_t wall_sub;  /* wall time of completed children */
    int64_t cpu0;
    int64_t cpu_sub;
    uint32_t kind;    /* tprof_frame_kind bits */
    const void *fkey; /* a resumed call's frame identity (kind has
                         TPROF_FRAME_RESUMED bits), or a lock call's record
                         (TPROF_FRAME_LOCKOP) */
} tprof_frame;

/* What a frame is beyond a call (suspend.h). */
typedef enum tprof_frame_kind {
    TPROF_FRAME_AWAIT = 1 << 0, /* a call resumed after an await */
    TPROF_FRAME_APART = 1 << 1, /* a generator resumed by its consumer */
    TPROF_FRAME_RESUMED = TPROF_FRAME_AWAIT | TPROF_FRAME_APART,
    TPROF_FRAME_STEP = 1 << 2, /* a coroutine run by a caller that is not one:
                                  a step of a task */
    TPROF_FRAME_LOCKOP = 1 << 3, /* a lock call, its record in fkey
                                    (lockops.h) */
} tprof_frame_kind;

/* A step of a task that took at least the profiler's slow_step. */
typedef struct tprof_step {
    int64_t start;     /* wall clock at its start */
    int64_t duration;  /* wall time */
    uint32_t node;     /* the coroutine's node */
    uint32_t where;    /* the node of the call with the most own time in it */
    int64_t where_own; /* that call's own wall time in the step */
    uint64_t task;     /* the id of its asyncio task, or 0 */
} tprof_step;

typedef struct tprof_stack {
    tprof_frame *top;    /* the innermost open frame; frames itself (the root)
                         when none is open */
    tprof_frame *last;   /* the last frame allocated: top == last when full */
    tprof_frame *frames; /* frames[0] is the root */
} tprof_stack;

/* Frames on the stack, the root included (>= 1). */
static inline uint32_t
tprof_stack_depth(const tprof_stack *s)
{
    return (uint32_t)(s->top - s->frames) + 1;
}

/* Frames allocated. */
static inline uint32_t
tprof_stack_cap(const tprof_stack *s)
{
    return s->frames == NULL ? 0 : (uint32_t)(s->last - s->frames) + 1;
}

/* Create the root. Returns -1 when out of memory. */
int tprof_tree_init(tprof_tree *t);

static inline uint32_t
tprof_tree_hash(const tprof_node *parent, const void *key)
{
    uint64_t h = ((uint64_t)(uintptr_t)parent * 0x9E3779B97F4A7C15ull) ^
                 ((uint64_t)(uintptr_t)key * 0xC2B2AE3D27D4EB4Full);
    return (uint32_t)(h >> 32);
}

/* The child of `parent` keyed by `key`, or NULL. A parent usually calls the
 * same callee again (recursion, a loop around one call), or the same callees
 * in the same order (a loop around several calls), so the child entered last
 * and the sibling that followed it last time are checked before the hash
 * table. Both come from nodes the caller just touched. */
static inline tprof_node *
tprof_tree_find(const tprof_tree *t, tprof_node *parent, const void *key)
{
    tprof_node *last = parent->last_child;
    if (last != NULL) {
        if (last->key == key) {
            return last;
        }
        tprof_node *next = last->next;
        if (next != NULL && next->key == key) {
            parent->last_child = next;
            return next;
        }
    }
    uint32_t mask = t->cap - 1;
    for (uint32_t i = tprof_tree_hash(parent, key) & mask;; i = (i + 1) & mask)
    {
        tprof_node *n = t->slots[i];
        if (n == NULL) {
            return NULL;
        }
        if (n->key == key && n->parent == parent) {
            if (last != NULL) {
                last->next = n;
            }
            parent->last_child = n;
            return n;
        }
    }
}

/* Add the child (parent, key) for function id `func`; NULL when out of
 * memory. The caller has checked that it does not exist. */
tprof_node *tprof_tree_add(tprof_tree *t, tprof_node *parent, const void *key,
                           uint32_t func);

/* Take n out of the hash (it is found by id only from now on) and give it
 * `key`, which no lookup asks for: its function's code object died, and a
 * new one may take the address (codewatch.h). Requires the GIL. */
void tprof_tree_retire_key(tprof_node *n, const void *key);

/* The number of complete nodes, as another thread sees it. */
static inline uint32_t
tprof_tree_ready(const tprof_tree *t)
{
    return tprof_ld_acquire(&t->ready);
}

/* The node with id i. */
static inline tprof_node *
tprof_tree_node(const tprof_tree *t, uint32_t i)
{
    return (tprof_node *)tprof_seg_at(&t->nodes, i);
}

/* Free all nodes. */
void tprof_tree_free(tprof_tree *t);

/* Create a stack holding the root frame. Returns -1 when out of memory. */
int tprof_stack_init(tprof_stack *s, tprof_node *root);

/* Make room for one more frame; -1 when out of memory. */
int tprof_stack_grow(tprof_stack *s);

/* Free the stack's memory. */
void tprof_stack_free(tprof_stack *s);

#endif /* THREADPROF_STORE_H */
