# SPDX-License-Identifier: MIT
"""Perfetto's protobuf trace format, read by the Perfetto UI and trace_processor.

Needs a timeline (``threadprof run --timeline``): a snapshot in which no thread
has one raises :class:`~threadprof.exporters.NeedsTimelineError`.

The file is a ``perfetto.protos.Trace``: a stream of ``TracePacket`` messages,
encoded by :mod:`threadprof.exporters._protobuf`.

* One packet, a sequence of its own, describes the process: a
  ``TrackDescriptor`` with a ``ProcessDescriptor`` (the pid, the command line,
  a name).
* Each thread with a timeline is one packet sequence
  (``trusted_packet_sequence_id``): its first packet is the thread's
  ``TrackDescriptor`` with a ``ThreadDescriptor`` (pid, the native thread id as
  tid, the thread's name) and the flag ``SEQ_INCREMENTAL_STATE_CLEARED``; then
  one ``TrackEvent`` per call (``TYPE_SLICE_BEGIN``) and per return
  (``TYPE_SLICE_END``) on that track, at its time in nanoseconds since the
  start of profiling.
* Slice names are interned: the first begin of a function on a sequence
  carries ``InternedData.event_names`` (``iid`` -> name) and every begin refers
  to its name by ``name_iid`` (and sets ``SEQ_NEEDS_INCREMENTAL_STATE``), so a
  name is written once per thread, not once per call. This is what makes the
  file several times smaller than the Chrome JSON of the same timeline.

* Each asyncio task with a timeline gets a track of its own, named ``task
  NAME``, a child of its thread's track: a slice per step of the task (from
  its resume by the event loop to its next suspension), named after its
  coroutine; a packet sequence each, after the threads'.

Slice names are ``qualname (file:line)``, or pstats' label for a C function,
in UTF-8. Returns whose calls were dropped by ``--timeline-limit`` are skipped
and frames still open at the end are closed there, so slices always nest (see
:mod:`threadprof.replay`). Packets are written chunk by chunk as
the timeline gives them, so a trace of any length is converted in bounded
memory. The pid is the profiled process's (0 for a snapshot that does not
record it), so that the Perfetto UI marks the main thread, whose id on Linux is
the process's.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from ..model import Snapshot, TaskProfile, ThreadProfile
from . import NeedsTimelineError
from ._common import event_renderer, function_table, ns_converter, render_events
from ._protobuf import LEN, VARINT, field_message, field_string, field_varint, key, varint

__all__ = ["SEQ_INCREMENTAL_STATE_CLEARED", "SEQ_NEEDS_INCREMENTAL_STATE", "dump"]


# TracePacket.sequence_flags
SEQ_INCREMENTAL_STATE_CLEARED = 1
SEQ_NEEDS_INCREMENTAL_STATE = 2
# TrackEvent.Type
TYPE_SLICE_BEGIN = 1
TYPE_SLICE_END = 2

# Trace
_PACKET = 1
# TracePacket
_TIMESTAMP = 8
_SEQUENCE_ID = 10  # trusted_packet_sequence_id
_TRACK_EVENT = 11
_INTERNED_DATA = 12
_SEQUENCE_FLAGS = 13
_TRACK_DESCRIPTOR = 60
# TrackEvent
_TE_NAME = 23
_TE_TYPE = 9
_TE_NAME_IID = 10
_TE_TRACK_UUID = 11
# TrackDescriptor
_TD_UUID = 1
_TD_NAME = 2
_TD_PROCESS = 3
_TD_THREAD = 4
_TD_PARENT_UUID = 5
# ProcessDescriptor
_PD_PID = 1
_PD_CMDLINE = 2
_PD_PROCESS_NAME = 6
# ThreadDescriptor
_THD_PID = 1
_THD_TID = 2
_THD_THREAD_NAME = 5
# InternedData / EventName
_ID_EVENT_NAMES = 2
_EN_IID = 1
_EN_NAME = 2

#: Track uuids: the process track, then one per thread in order (small: one varint byte).
_UUID_BASE = 1
_PROCESS_SEQUENCE = 1

_TIMESTAMP_KEY = key(_TIMESTAMP, VARINT)
_PACKET_KEY = key(_PACKET, LEN)


def _packet(body: bytes) -> bytes:
    return _PACKET_KEY + varint(len(body)) + body


#: The track uuids and sequences of a process tree's processes after the
#: first (whose are ``_UUID_BASE`` and ``_PROCESS_SEQUENCE``): far above those
#: of the threads and tasks.
_MORE_PROCESSES_UUID = 1 << 48
_MORE_PROCESSES_SEQUENCE = 1 << 30


def _process_uuids(snapshot: Snapshot) -> dict[int, tuple[int, list[str]]]:
    """``{pid: (track uuid, command line)}``, a track per process."""
    if not snapshot.processes:
        return {snapshot.pid: (_UUID_BASE, list(snapshot.argv))}
    out: dict[int, tuple[int, list[str]]] = {}
    for p in snapshot.processes:
        if p.pid not in out:
            uuid = _UUID_BASE if not out else _MORE_PROCESSES_UUID + len(out)
            out[p.pid] = (uuid, list(p.argv))
    return out


def _process_packet(pid: int, uuid: int, argv: list[str]) -> bytes:
    """A process's track descriptor, in a sequence of its own."""
    if uuid == _UUID_BASE:
        sequence = _PROCESS_SEQUENCE
    else:
        sequence = _MORE_PROCESSES_SEQUENCE + uuid - _MORE_PROCESSES_UUID
    name = os.path.basename(argv[0]) if argv else "python"
    process = [field_varint(_PD_PID, pid)]
    process += [field_string(_PD_CMDLINE, arg) for arg in argv]
    process.append(field_string(_PD_PROCESS_NAME, name))
    descriptor = [field_varint(_TD_UUID, uuid), field_message(_TD_PROCESS, process)]
    return _packet(
        field_varint(_SEQUENCE_ID, sequence)
        + field_varint(_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED)
        + field_message(_TRACK_DESCRIPTOR, descriptor)
    )


class _Sequence:
    """The packets of one thread: its descriptor, then its slices."""

    def __init__(
        self,
        thread: ThreadProfile,
        pid: int,
        parent: int,
        index: int,
        names: dict[int, str],
    ) -> None:
        self.thread = thread
        self.pid = pid
        self.parent = parent  # the uuid of its process's track
        self.names = names
        self.uuid = _UUID_BASE + 1 + index
        self.seq = field_varint(_SEQUENCE_ID, _PROCESS_SEQUENCE + 1 + index)
        uuid = field_varint(_TE_TRACK_UUID, self.uuid)
        self.end = (
            field_message(_TRACK_EVENT, [field_varint(_TE_TYPE, TYPE_SLICE_END), uuid]) + self.seq
        )
        self.needs_state = field_varint(_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE)
        self.begin: dict[int, bytes] = {}  # function id -> the packet body after the timestamp

    def descriptor(self) -> bytes:
        thread = self.thread
        desc = [
            field_varint(_THD_PID, self.pid),
            field_varint(_THD_TID, thread.native_id),
            field_string(_THD_THREAD_NAME, thread.name),
        ]
        track = [
            field_varint(_TD_UUID, self.uuid),
            field_varint(_TD_PARENT_UUID, self.parent),
            field_message(_TD_THREAD, desc),
        ]
        flags = field_varint(_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED)
        return _packet(self.seq + flags + field_message(_TRACK_DESCRIPTOR, track))

    def _first_begin(self, func: int) -> bytes:
        """The body of the first begin of ``func``, which interns its name."""
        iid = len(self.begin) + 1
        event = field_message(
            _TRACK_EVENT,
            [
                field_varint(_TE_TYPE, TYPE_SLICE_BEGIN),
                field_varint(_TE_TRACK_UUID, self.uuid),
                field_varint(_TE_NAME_IID, iid),
            ],
        )
        self.begin[func] = event + self.seq + self.needs_state
        name = field_message(
            _ID_EVENT_NAMES, [field_varint(_EN_IID, iid), field_string(_EN_NAME, self.names[func])]
        )
        return self.begin[func] + field_message(_INTERNED_DATA, [name])

    def template(self, code: int) -> bytes | tuple[bytes, bytes]:
        """What follows a packet's timestamp: an end, or a begin (with its
        name interned, the first time)."""
        if code < 0:
            return self.end
        first = self._first_begin(code)
        return first, self.begin[code]

    def slices(self, out: BinaryIO, snapshot: Snapshot) -> None:
        """Write a begin packet per call and an end packet per return, chunk by chunk."""
        assert self.thread.timeline is not None
        renderer = event_renderer(
            snapshot, self.template, "varint", packet_key=_PACKET_KEY, time_key=_TIMESTAMP_KEY
        )
        for part in render_events(self.thread.timeline, renderer):
            out.write(part)


def dump(snapshot: Snapshot, out: BinaryIO) -> None:
    """Write the timelines of ``snapshot``'s threads as a Perfetto trace.

    Raises :class:`~threadprof.exporters.NeedsTimelineError` before writing
    anything if no thread has a timeline.
    """
    threads = [t for t in snapshot.threads if t.timeline is not None]
    if not threads:
        raise NeedsTimelineError("the perfetto format needs a timeline: profile with --timeline")
    names = {fid: f.display for fid, f in function_table(snapshot).items()}
    processes = _process_uuids(snapshot)
    for pid, (uuid, argv) in processes.items():
        out.write(_process_packet(pid, uuid, argv))
    uuids = {}
    for index, thread in enumerate(threads):
        pid = snapshot.pid_of(thread)
        sequence = _Sequence(thread, pid, processes[pid][0], index, names)
        uuids[thread.serial] = sequence.uuid
        out.write(sequence.descriptor())
        sequence.slices(out, snapshot)
    tasks = [t for t in snapshot.tasks() if t.step_spans and t.serial in uuids]
    _task_tracks(out, snapshot, tasks, uuids, _UUID_BASE + 1 + len(threads), names)


def _task_tracks(
    out: BinaryIO,
    snapshot: Snapshot,
    tasks: list[TaskProfile],
    parents: dict[int, int],
    first_uuid: int,
    names: dict[int, str],
) -> None:
    """A track per task, below its thread's, with a slice per step."""
    if not tasks:
        return
    to_ns = ns_converter(snapshot.unit)
    flags = field_varint(_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED)
    for k, task in enumerate(tasks):
        uuid = first_uuid + k
        seq = field_varint(_SEQUENCE_ID, _PROCESS_SEQUENCE + 1 + len(parents) + k)
        track = [
            field_varint(_TD_UUID, uuid),
            field_string(_TD_NAME, f"task {task.name}"),
            field_varint(_TD_PARENT_UUID, parents[task.serial]),
        ]
        out.write(_packet(seq + flags + field_message(_TRACK_DESCRIPTOR, track)))
        cols = task.tree_columns()
        name = names[cols.func[1]] if len(cols) > 1 else task.name
        on_track = field_varint(_TE_TRACK_UUID, uuid)
        begin = field_message(
            _TRACK_EVENT,
            [field_varint(_TE_TYPE, TYPE_SLICE_BEGIN), on_track, field_string(_TE_NAME, name)],
        )
        end = field_message(_TRACK_EVENT, [field_varint(_TE_TYPE, TYPE_SLICE_END), on_track])
        for start, stop in task.step_spans:
            out.write(_packet(field_varint(_TIMESTAMP, to_ns(start)) + begin + seq))
            out.write(_packet(field_varint(_TIMESTAMP, to_ns(stop)) + end + seq))
