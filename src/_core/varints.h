/* SPDX-License-Identifier: MIT */
/*
 * varints.h -- the format 2.0 encoding of a timeline chunk (.tprof's
 * timeline sections), shared by the spill file (timeline.c), which holds
 * chunks in it as they fill, and the Python layer's codec (eventcodec.c).
 *
 * A payload is an 8-byte head whose first byte is the encoding
 * (TPROF_EVENTS_VARINTS), then the differences of consecutive times modulo
 * 2**64 (the first time's from 0), then the function codes, each an LEB128
 * varint of its zigzag encoding. threadprof/tprof.py describes the layout.
 * It owns nothing.
 */
#ifndef THREADPROF_VARINTS_H
#define THREADPROF_VARINTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TPROF_EVENTS_HEAD 8    /* u8 encoding + 7 reserved bytes */
#define TPROF_EVENTS_VARINTS 2 /* the encoding byte of this layout */
#define TPROF_MAX_VARINT 10    /* bytes of a 64-bit LEB128 varint */

/* The most bytes a payload of n events takes. */
#define TPROF_EVENTS_BOUND(n) \
    (TPROF_EVENTS_HEAD + (size_t)(n) * (TPROF_MAX_VARINT + 5))

static inline unsigned char *
tprof_put_varint(unsigned char *out, uint64_t v)
{
    while (v >= 0x80) {
        *out++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *out++ = (unsigned char)v;
    return out;
}

static inline uint64_t
tprof_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static inline int64_t
tprof_unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Encode n events into `out` (TPROF_EVENTS_BOUND(n) bytes): the payload's
 * end. */
static inline unsigned char *
tprof_varints_encode(unsigned char *out, const int32_t *funcs,
                     const int64_t *times, size_t n)
{
    memset(out, 0, TPROF_EVENTS_HEAD);
    out[0] = TPROF_EVENTS_VARINTS;
    out += TPROF_EVENTS_HEAD;
    uint64_t prev = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t t = (uint64_t)times[k];
        out = tprof_put_varint(out, tprof_zigzag((int64_t)(t - prev)));
        prev = t;
    }
    for (size_t k = 0; k < n; k++) {
        out = tprof_put_varint(out, tprof_zigzag(funcs[k]));
    }
    return out;
}

#endif /* THREADPROF_VARINTS_H */
