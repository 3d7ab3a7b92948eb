/* SPDX-License-Identifier: MIT */
/*
 * timeline.h -- one thread's calls and returns in time order (--timeline).
 *
 * Events go into chunks of two parallel arrays, times (int64 ticks since the
 * profile's origin) and function codes (int32: f for a call of function f,
 * ~f for its return): 12 bytes an event. Chunks start small (a thread that
 * runs little code costs little) and double up to TPROF_TL_MAX events. When a
 * full chunk of the largest size needs a successor:
 *
 * - with a limit (keep the last N events), the oldest chunks that the limit
 *   no longer needs are recycled;
 * - otherwise every chunk in memory is written to the profiler's spill file
 *   and the largest one is reused, so memory stays bounded whatever the
 *   number of events. A chunk is written there encoded as a .tprof file's
 *   timeline section holds it (varints.h: 2 to 3 bytes an event), so that
 *   writing the profile copies it. The spill file is append-only: what a
 *   snapshot points to there never changes. If a write fails, the sink falls
 *   back to a limit of TPROF_TL_RING events (tprof_tlsink.broken).
 *
 * Only the owning thread appends. The sink (spill file, memory count) is
 * shared: the GIL guards it, or on a free-threaded build its own lock, taken
 * once per new chunk. There no thread spills the chunks of the others, so the
 * memory budget (TPROF_TL_BUDGET) is not enforced: each thread's chunks are
 * bounded by the limit or spilled when its own largest chunk fills.
 */
#ifndef THREADPROF_TIMELINE_H
#define THREADPROF_TIMELINE_H

#include "sync.h"

#include <stddef.h>
#include <stdint.h>

#define TPROF_TL_FIRST 64u
#define TPROF_TL_MAX 16384u

typedef struct tprof_tlchunk {
    struct tprof_tlchunk *next;
    uint32_t len;
    uint32_t cap;
    int64_t *t; /* cap times, in the same block as the chunk */
    int32_t *f; /* cap function codes */
} tprof_tlchunk;

typedef struct tprof_tlspill {
    int64_t offset; /* of the chunk's payload in the spill file */
    uint32_t count; /* its events */
    uint32_t size;  /* its bytes */
} tprof_tlspill;

typedef struct tprof_timeline {
    tprof_tlchunk *head; /* oldest chunk in memory */
    tprof_tlchunk *tail; /* the chunk being written */
    uint64_t mem_events;
    uint64_t dropped; /* discarded by the limit, in whole chunks */
    tprof_tlspill *spills;
    uint32_t nspills;
    uint32_t spills_cap;
} tprof_timeline;

/* Where full chunks go: the spill file, or nowhere (keep the last `limit`). */
typedef struct tprof_tlsink {
    int fd;    /* spill file, or -1 */
    long pid;  /* the process that opened it (a fork inherits the fd) */
    int *kept; /* a forked child: inherited spill files that snapshots
                  taken before the fork still read */
    int nkept;
    int64_t offset;  /* bytes written to it so far */
    uint64_t limit;  /* keep the last `limit` events (0: keep all) */
    uint64_t held;   /* event capacity of all chunks in memory, all threads */
    int broken;      /* a spill failed: keep a ring (`limit`) from now on */
    int spill_errno; /* why, once broken */
    uint64_t budget; /* spill every thread when `held` reaches it */
    unsigned char *enc; /* a chunk being encoded for the spill file */
    size_t enc_cap;
    tprof_mutex lock; /* free-threaded builds: guards the fields above */
} tprof_tlsink;

/* The default budget: events the chunks of all threads may hold in memory
 * before every thread's chunks are spilled (spill mode); threads that ended
 * would otherwise keep their small, never-full chunks forever. 12 bytes an
 * event: 24 MiB. */
#define TPROF_TL_BUDGET (2u << 20)

/* When the spill file fails (a full $TMPDIR, a fork that could not open its
 * own), each thread keeps its last this many events instead: 3 MiB. Earlier
 * events are counted as dropped, never kept twice or with a gap. */
#define TPROF_TL_RING (1u << 18)

/* Make room for one more event: called when tl->tail is NULL or full.
 * Returns -1 when out of memory or when the spill failed, and 1 (doing
 * nothing) when the chunks of all threads must be spilled first
 * (tprof_timeline_spill_all), after which the call is repeated. */
int tprof_timeline_grow(tprof_timeline *tl, tprof_tlsink *sink,
                        uint64_t serial);

/* Spill every chunk of one thread, in order, and free them all; its next
 * event starts a new, small chunk. Returns -1 if the spill failed. */
int tprof_timeline_spill_all(tprof_timeline *tl, tprof_tlsink *sink,
                             uint64_t serial);

/* Append one event. Returns 0, -1 on failure, or 1 when the caller must
 * spill every thread's chunks (tprof_timeline_spill_all) and call it again. */
static inline int
tprof_timeline_add(tprof_timeline *tl, tprof_tlsink *sink, uint64_t serial,
                   int64_t t, int32_t f)
{
    tprof_tlchunk *c = tl->tail;
    if (__builtin_expect(c == NULL || c->len == c->cap, 0)) {
        int rc = tprof_timeline_grow(tl, sink, serial);
        if (rc != 0) {
            return rc; /* the caller spills every thread, then retries */
        }
        c = tl->tail;
    }
    c->t[c->len] = t;
    c->f[c->len] = f;
    c->len++;
    tl->mem_events++;
    return 0;
}

/* Bytes of memory the timeline holds. */
size_t tprof_timeline_bytes(const tprof_timeline *tl);

/* Free the chunks and the spill index. */
void tprof_timeline_free(tprof_timeline *tl);

/* Give the sink (which has none) an anonymous spill file in $TMPDIR (or
 * /tmp) of this process's own; -1 on failure (errno set). */
int tprof_timeline_open_spill(tprof_tlsink *sink);

/* A forked child whose records were all dropped: a new, empty spill file;
 * the inherited one stays open (for snapshots taken before the fork) until
 * tprof_timeline_close. -1 on failure, and the sink has no spill file. */
int tprof_timeline_fork_spill(tprof_tlsink *sink);

/* Close the spill file and the kept ones; free the encoding buffer. */
void tprof_timeline_close(tprof_tlsink *sink);

/* In a forked child, a sink whose spill file the parent also writes: copy
 * what this process's timelines point to into a new file of its own, put at
 * the same descriptor number (snapshots hold the number), so that neither
 * process appends where the other reads. 0 if nothing was needed or on
 * success, -1 on failure (errno set; the sink keeps the shared file). */
int tprof_timeline_own_spill(tprof_tlsink *sink);

#endif /* THREADPROF_TIMELINE_H */
