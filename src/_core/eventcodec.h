/* SPDX-License-Identifier: MIT */
/*
 * eventcodec.h -- the loops of a .tprof timeline section's payload, in C.
 *
 * threadprof/tprof.py describes the layout: an 8-byte head whose first byte
 * is the encoding, then the events. Format 2.0 writes varints (2): the
 * differences of consecutive times modulo 2**64, then the function codes,
 * each an LEB128 varint of its zigzag encoding. Format 1.x wrote the times
 * plain (0) or as differences (1) as little-endian int64, and the function
 * codes as little-endian int32, each byte-shuffled (byte 0 of every item,
 * then byte 1, ...); those still read. These two module functions run the
 * per-event loops, which in Python cost a few hundred nanoseconds an event:
 *
 *   _core._encode_events(funcs, times, nfuncs, shuffled=False) -> bytes
 *   _core._decode_events(payload, count, nfuncs, codes_only=False)
 *       -> (funcs bytes, times bytes; empty with codes_only)
 *
 * They own nothing and keep no state. tprof_chunk_get reads a chunk's two
 * arrays for them and for eventrender.c.
 */
#ifndef THREADPROF_EVENTCODEC_H
#define THREADPROF_EVENTCODEC_H

#include "compat.h"

/* The buffers of a chunk's function codes (int32, each naming one of
 * `nfuncs` functions) and times (int64), as many of each; -1 with a
 * ValueError set otherwise. */
int tprof_chunk_get(PyObject *funcs, PyObject *times, Py_ssize_t nfuncs,
                    Py_buffer *fv, Py_buffer *tv);

PyObject *tprof_encode_events(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs);
PyObject *tprof_decode_events(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs);

#endif /* THREADPROF_EVENTCODEC_H */
