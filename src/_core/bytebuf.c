/* SPDX-License-Identifier: MIT */
#include "bytebuf.h"

#include <stdint.h>
#include <string.h>

int
tprof_bytebuf_reserve(tprof_bytebuf *b, size_t more)
{
    if (b->cap - b->len >= more) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *buf = PyMem_Realloc(b->buf, cap);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->buf = buf;
    b->cap = cap;
    return 0;
}

int
tprof_bytebuf_put(tprof_bytebuf *b, const void *data, size_t n)
{
    if (tprof_bytebuf_reserve(b, n) < 0) {
        return -1;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return 0;
}

int
tprof_bytebuf_put_decimal(tprof_bytebuf *b, int64_t v)
{
    char digits[24], *end = digits + sizeof digits, *p = end;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    return tprof_bytebuf_put(b, p, (size_t)(end - p));
}

void
tprof_bytebuf_free(tprof_bytebuf *b)
{
    PyMem_Free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}
