/* SPDX-License-Identifier: MIT */
/*
 * bytebuf.h -- a growing buffer of bytes, what the loops that write a file's
 * text or bytes (timelines, pstats, callgrind, pprof, the HTML page's JSON)
 * write into. It owns its memory.
 */
#ifndef THREADPROF_BYTEBUF_H
#define THREADPROF_BYTEBUF_H

#include "compat.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t len, cap;
} tprof_bytebuf;

/* Room for `more` bytes after `len`: 0, or -1 with MemoryError set (the
 * buffer then stays as it was). */
int tprof_bytebuf_reserve(tprof_bytebuf *b, size_t more);

/* `n` bytes of `data` after `len`: 0, or -1 with MemoryError set. */
int tprof_bytebuf_put(tprof_bytebuf *b, const void *data, size_t n);

/* `v` in decimal digits (a '-' before a negative one): 0, or -1 with
 * MemoryError set. */
int tprof_bytebuf_put_decimal(tprof_bytebuf *b, int64_t v);

/* Free the memory; the buffer is then empty. */
void tprof_bytebuf_free(tprof_bytebuf *b);

#endif /* THREADPROF_BYTEBUF_H */
