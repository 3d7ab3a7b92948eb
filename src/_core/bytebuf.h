/* SPDX-License-Identifier: MIT */
/*
 * bytebuf.h -- a growing buffer of bytes, what the loops that write a file's
 * text or bytes (eventrender, marshalstats) write into. It owns its memory.
 */
#ifndef THREADPROF_BYTEBUF_H
#define THREADPROF_BYTEBUF_H

#include "compat.h"

#include <stddef.h>

typedef struct {
    char *buf;
    size_t len, cap;
} tprof_bytebuf;

/* Room for `more` bytes after `len`: 0, or -1 with MemoryError set (the
 * buffer then stays as it was). */
int tprof_bytebuf_reserve(tprof_bytebuf *b, size_t more);

/* Free the memory; the buffer is then empty. */
void tprof_bytebuf_free(tprof_bytebuf *b);

#endif /* THREADPROF_BYTEBUF_H */
