/* SPDX-License-Identifier: MIT */
/*
 * eventrender.h -- the per-event loop of the timeline exporters, in C.
 *
 * _core._EventRenderer repairs one thread's timeline as threadprof/replay.py
 * describes (a return that matches no open call is skipped, one of an outer
 * frame closes the frames above it, times never go back, frames open at the
 * end are closed at the last time) and writes each event as bytes the
 * exporter describes: the event's template, bytes the exporter's template
 * callable gives the first time a function code is met and the renderer
 * keeps, and its time in nanoseconds, in one of three forms:
 *
 *   "micros": template + decimal microseconds, exact ("12.5") + suffix
 *   "nanos":  template + decimal nanoseconds + suffix
 *   "varint": packet key + varint(len(body)) + body, where
 *             body = time key + varint(nanoseconds) + template
 *             (a length-delimited protobuf message with the time first)
 *
 * with a separator between events. A template callable may return a pair
 * (first, later): the first use writes `first`, every later one `later`
 * (Perfetto interns a name with its first use).
 *
 * Each renderer owns its cache of templates, its stack of open frames and an
 * output buffer; it shares nothing and takes no lock.
 */
#ifndef THREADPROF_EVENTRENDER_H
#define THREADPROF_EVENTRENDER_H

#include "compat.h"

/* The _EventRenderer type, created for `module`. */
PyObject *tprof_eventrender_type_create(PyObject *module);

#endif /* THREADPROF_EVENTRENDER_H */
