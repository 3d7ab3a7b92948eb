/* SPDX-License-Identifier: MIT */
#include "bytebuf.h"

#include <stdint.h>

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

void
tprof_bytebuf_free(tprof_bytebuf *b)
{
    PyMem_Free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}
