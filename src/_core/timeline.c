/* SPDX-License-Identifier: MIT */
#include "timeline.h"

#include "arena.h"
#include "varints.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tprof_tlchunk *
tprof_chunk_new(uint32_t cap)
{
    size_t head = (sizeof(tprof_tlchunk) + 7) & ~(size_t)7;
    tprof_tlchunk *c = tprof_mem_alloc(head + (size_t)cap * 12);
    if (c == NULL) {
        return NULL;
    }
    c->cap = cap;
    c->t = (int64_t *)((char *)c + head);
    c->f = (int32_t *)(c->t + cap);
    return c;
}

static int
tprof_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write one chunk: a 16-byte header (serial, count), then its payload
 * (varints.h). */
static int
tprof_spill_chunk(tprof_timeline *tl, tprof_tlsink *sink, uint64_t serial,
                  const tprof_tlchunk *c)
{
    if (tl->nspills == tl->spills_cap) {
        uint32_t cap = tl->spills_cap ? tl->spills_cap * 2 : 8;
        tprof_tlspill *s = tprof_mem_realloc(tl->spills, sizeof(*s) * cap);
        if (s == NULL) {
            return -1;
        }
        tl->spills = s;
        tl->spills_cap = cap;
    }
    size_t bound = TPROF_EVENTS_BOUND(c->len);
    if (sink->enc_cap < bound) {
        unsigned char *enc = tprof_mem_realloc(sink->enc, bound);
        if (enc == NULL) {
            return -1;
        }
        sink->enc = enc;
        sink->enc_cap = bound;
    }
    size_t size =
        (size_t)(tprof_varints_encode(sink->enc, c->f, c->t, c->len) -
                 sink->enc);
    uint64_t header[2] = {serial, c->len};
    if (tprof_write_all(sink->fd, header, sizeof(header)) < 0 ||
        tprof_write_all(sink->fd, sink->enc, size) < 0)
    {
        return -1;
    }
    tl->spills[tl->nspills].offset = sink->offset + (int64_t)sizeof(header);
    tl->spills[tl->nspills].count = c->len;
    tl->spills[tl->nspills].size = (uint32_t)size;
    tl->nspills++;
    sink->offset += (int64_t)sizeof(header) + (int64_t)size;
    return 0;
}

static void
tprof_chunk_free(tprof_tlsink *sink, tprof_tlchunk *c)
{
    sink->held -= c->cap;
    tprof_mem_free(c);
}

/* The spill file failed (errno says why): from now on every thread keeps
 * only its last TPROF_TL_RING events in memory, as under a limit. */
static void
tprof_sink_break(tprof_tlsink *sink)
{
    if (!sink->broken) {
        sink->spill_errno = errno ? errno : EIO;
        tprof_st_relaxed(&sink->broken, 1);
    }
    if (sink->limit == 0) {
        tprof_st_relaxed(&sink->limit, (uint64_t)TPROF_TL_RING);
    }
}

/* Spill the chunks in memory, in order. On failure the chunks written by
 * this call are unindexed again (they stay in memory: read once, never
 * twice) and the sink is broken. */
static int
tprof_spill_chunks(tprof_timeline *tl, tprof_tlsink *sink, uint64_t serial)
{
    uint32_t indexed = tl->nspills;
    int64_t offset = sink->offset;
    for (tprof_tlchunk *x = tl->head; x != NULL; x = x->next) {
        if (x->len > 0 && tprof_spill_chunk(tl, sink, serial, x) < 0) {
            tl->nspills = indexed;
            sink->offset = offset;
            if (ftruncate(sink->fd, offset) == 0) {
                lseek(sink->fd, offset, SEEK_SET);
            }
            tprof_sink_break(sink);
            return -1;
        }
    }
    return 0;
}

/* Before a ring drops a thread's oldest chunk: its spilled events would be
 * followed by a gap, so they count as dropped too. */
static void
tprof_forget_spills(tprof_timeline *tl)
{
    for (uint32_t i = 0; i < tl->nspills; i++) {
        tl->dropped += tl->spills[i].count;
    }
    tl->nspills = 0;
}

static int
tprof_timeline_spill_all_locked(tprof_timeline *tl, tprof_tlsink *sink,
                                uint64_t serial)
{
    if (sink->fd < 0 || sink->broken) {
        return -1;
    }
    if (tprof_spill_chunks(tl, sink, serial) < 0) {
        return -1;
    }
    while (tl->head != NULL) {
        tprof_tlchunk *next = tl->head->next;
        tprof_chunk_free(sink, tl->head);
        tl->head = next;
    }
    tl->tail = NULL;
    tl->mem_events = 0;
    return 0;
}

int
tprof_timeline_spill_all(tprof_timeline *tl, tprof_tlsink *sink,
                         uint64_t serial)
{
    tprof_mutex_lock(&sink->lock);
    int rc = tprof_timeline_spill_all_locked(tl, sink, serial);
    tprof_mutex_unlock(&sink->lock);
    return rc;
}

static int
tprof_timeline_grow_locked(tprof_timeline *tl, tprof_tlsink *sink,
                           uint64_t serial)
{
    if (sink->limit == 0 && sink->fd < 0) {
        errno = EBADF; /* spilling without a spill file: keep a ring */
        tprof_sink_break(sink);
    }
    /* Without the GIL one thread cannot spill the chunks of the others while
     * they append: there the budget is not enforced (timeline.h). */
    if (!TPROF_FREE_THREADED && sink->limit == 0 && sink->held >= sink->budget)
    {
        return 1;
    }
    tprof_tlchunk *c = tl->tail;
    if (c != NULL && c->cap == TPROF_TL_MAX) {
        if (sink->limit == 0 && tprof_spill_chunks(tl, sink, serial) == 0) {
            /* everything in memory is in the file now: reuse the tail */
            while (tl->head != tl->tail) {
                tprof_tlchunk *old = tl->head;
                tl->head = old->next;
                tprof_chunk_free(sink, old);
            }
            tl->tail->len = 0;
            tl->mem_events = 0;
            return 0;
        }
        /* keep the last `limit` events (a spill that just failed set one):
         * drop the oldest chunks the limit no longer needs; reuse one */
        tprof_tlchunk *reuse = NULL;
        while (tl->head != tl->tail &&
               tl->mem_events - tl->head->len >= sink->limit) {
            tprof_tlchunk *old = tl->head;
            tprof_forget_spills(tl);
            tl->head = old->next;
            tl->mem_events -= old->len;
            tl->dropped += old->len;
            if (reuse == NULL && old->cap == TPROF_TL_MAX) {
                reuse = old;
            }
            else {
                tprof_chunk_free(sink, old);
            }
        }
        if (reuse != NULL) {
            reuse->len = 0;
            reuse->next = NULL;
            tl->tail->next = reuse;
            tl->tail = reuse;
            return 0;
        }
    }
    uint32_t cap =
        c == NULL ? TPROF_TL_FIRST
                  : (c->cap * 2 > TPROF_TL_MAX ? TPROF_TL_MAX : c->cap * 2);
    tprof_tlchunk *n = tprof_chunk_new(cap);
    if (n == NULL) {
        return -1;
    }
    sink->held += cap;
    if (c == NULL) {
        tl->head = n;
    }
    else {
        c->next = n;
    }
    tl->tail = n;
    return 0;
}

int
tprof_timeline_grow(tprof_timeline *tl, tprof_tlsink *sink, uint64_t serial)
{
    tprof_mutex_lock(&sink->lock);
    int rc = tprof_timeline_grow_locked(tl, sink, serial);
    tprof_mutex_unlock(&sink->lock);
    return rc;
}

size_t
tprof_timeline_bytes(const tprof_timeline *tl)
{
    size_t total = (size_t)tl->spills_cap * sizeof(tprof_tlspill);
    for (const tprof_tlchunk *c = tl->head; c != NULL; c = c->next) {
        total += sizeof(*c) + (size_t)c->cap * 12;
    }
    return total;
}

void
tprof_timeline_free(tprof_timeline *tl)
{
    while (tl->head != NULL) {
        tprof_tlchunk *next = tl->head->next;
        tprof_mem_free(tl->head);
        tl->head = next;
    }
    tl->tail = NULL;
    tprof_mem_free(tl->spills);
    tl->spills = NULL;
    tl->nspills = tl->spills_cap = 0;
    tl->mem_events = 0;
}

static int
tprof_spill_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0') {
        dir = "/tmp";
    }
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        return fd;
    }
#endif
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/threadprof-spill-XXXXXX", dir) >=
        (int)sizeof(path))
    {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd2 = mkstemp(path);
    if (fd2 >= 0) {
        unlink(path);
        (void)fcntl(fd2, F_SETFD, FD_CLOEXEC);
    }
    return fd2;
}

int
tprof_timeline_open_spill(tprof_tlsink *sink)
{
    int fd = tprof_spill_file();
    if (fd < 0) {
        return -1;
    }
    sink->fd = fd;
    sink->offset = 0;
    sink->pid = (long)getpid();
    return 0;
}

int
tprof_timeline_own_spill(tprof_tlsink *sink)
{
    if (sink->fd < 0 || sink->pid == (long)getpid()) {
        return 0;
    }
    int fd = tprof_spill_file();
    if (fd < 0) {
        return -1;
    }
    char buf[65536];
    int64_t done = 0;
    while (done < sink->offset) {
        size_t want = sink->offset - done < (int64_t)sizeof(buf)
                          ? (size_t)(sink->offset - done)
                          : sizeof(buf);
        ssize_t n = pread(sink->fd, buf, want, (off_t)done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || tprof_write_all(fd, buf, (size_t)n) < 0) {
            int err = n == 0 ? EIO : errno;
            close(fd);
            errno = err;
            return -1;
        }
        done += n;
    }
    int rc =
        dup2(fd, sink->fd) < 0 ? -1 : fcntl(sink->fd, F_SETFD, FD_CLOEXEC);
    int err = errno;
    close(fd);
    if (rc < 0) {
        errno = err;
        return -1;
    }
    sink->pid = (long)getpid();
    return 0;
}

int
tprof_timeline_fork_spill(tprof_tlsink *sink)
{
    if (sink->fd >= 0) {
        int *kept = tprof_mem_realloc(sink->kept,
                                      sizeof(int) * (size_t)(sink->nkept + 1));
        if (kept == NULL) {
            close(sink->fd); /* no room to keep it: old snapshots fail */
        }
        else {
            sink->kept = kept;
            sink->kept[sink->nkept++] = sink->fd;
        }
        sink->fd = -1;
    }
    if (tprof_timeline_open_spill(sink) < 0) {
        tprof_sink_break(sink);
        return -1;
    }
    return 0;
}

void
tprof_timeline_close(tprof_tlsink *sink)
{
    if (sink->fd >= 0) {
        close(sink->fd);
        sink->fd = -1;
    }
    for (int i = 0; i < sink->nkept; i++) {
        close(sink->kept[i]);
    }
    tprof_mem_free(sink->kept);
    sink->kept = NULL;
    sink->nkept = 0;
    tprof_mem_free(sink->enc);
    sink->enc = NULL;
    sink->enc_cap = 0;
}
