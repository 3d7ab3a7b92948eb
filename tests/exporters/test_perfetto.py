# SPDX-License-Identifier: MIT
"""The Perfetto exporter, decoded with Perfetto's own trace protos (the ``perfetto``
package's generated ``perfetto_trace_pb2``): descriptors, interned names, nesting,
monotonic time, streaming, and a file far smaller than the Chrome JSON."""

from __future__ import annotations

from exporter_data import assert_bounded_memory, assert_streams, lazy_timeline_snapshot
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as trace_pb2
from shared import LEN

from threadprof.exporters import get_exporter
from threadprof.exporters.perfetto import (
    SEQ_INCREMENTAL_STATE_CLEARED,
    SEQ_NEEDS_INCREMENTAL_STATE,
)

MS = 1_000_000  # nanoseconds in a tick of the fixtures' 1 ms unit


def decode(data: bytes):
    trace = trace_pb2.Trace()
    trace.ParseFromString(data)
    return trace


def read(trace):
    """Replay the trace as trace_processor would: per sequence, interned names
    and track descriptors; return ({uuid: descriptor}, {uuid: slices}).

    A slice is (name, begin, end, depth). Checks the sequence flags, that
    interned names are used only after they are defined, that time never goes
    back on a track and that every end closes the innermost open slice."""
    tracks = {}
    slices: dict[int, list] = {}
    stacks: dict[int, list] = {}
    last: dict[int, int] = {}
    interned: dict[int, dict[int, str]] = {}  # per sequence
    started: set[int] = set()
    for packet in trace.packet:
        seq = packet.trusted_packet_sequence_id
        assert seq > 0
        if packet.HasField("track_descriptor"):
            desc = packet.track_descriptor
            assert desc.uuid not in tracks
            tracks[desc.uuid] = desc
            # each sequence starts with a descriptor, clearing the state
            assert seq not in started
            assert packet.sequence_flags == SEQ_INCREMENTAL_STATE_CLEARED
            started.add(seq)
            interned[seq] = {}
            continue
        assert packet.HasField("track_event")
        assert seq in started
        names = interned[seq]
        for entry in packet.interned_data.event_names:
            assert entry.iid not in names  # each name is interned once
            names[entry.iid] = entry.name
        event = packet.track_event
        uuid = event.track_uuid
        assert uuid in tracks
        assert packet.timestamp >= last.get(uuid, 0), "time went backwards"
        last[uuid] = packet.timestamp
        stack = stacks.setdefault(uuid, [])
        if event.type == trace_pb2.TrackEvent.TYPE_SLICE_BEGIN and event.HasField("name"):
            # a name of its own (a task's step), which needs no incremental state
            assert not event.HasField("name_iid")
            assert packet.sequence_flags == 0
            stack.append((event.name, packet.timestamp))
        elif event.type == trace_pb2.TrackEvent.TYPE_SLICE_BEGIN:
            assert packet.sequence_flags == SEQ_NEEDS_INCREMENTAL_STATE
            assert event.name_iid in names, "a name used before it was interned"
            assert not event.HasField("name")
            stack.append((names[event.name_iid], packet.timestamp))
        else:
            assert event.type == trace_pb2.TrackEvent.TYPE_SLICE_END
            assert stack, "an end without a begin"
            name, begin = stack.pop()
            slices.setdefault(uuid, []).append((name, begin, packet.timestamp, len(stack)))
    assert all(not s for s in stacks.values()), "slices left open"
    return tracks, slices


def test_field_numbers_match_perfettos_protos():
    # the exporter's field numbers, checked against Perfetto's own definitions
    from threadprof.exporters import perfetto as ours

    fields = {
        trace_pb2.TracePacket: {
            "timestamp": ours._TIMESTAMP,
            "trusted_packet_sequence_id": ours._SEQUENCE_ID,
            "track_event": ours._TRACK_EVENT,
            "interned_data": ours._INTERNED_DATA,
            "sequence_flags": ours._SEQUENCE_FLAGS,
            "track_descriptor": ours._TRACK_DESCRIPTOR,
        },
        trace_pb2.TrackEvent: {
            "type": ours._TE_TYPE,
            "name": ours._TE_NAME,
            "name_iid": ours._TE_NAME_IID,
            "track_uuid": ours._TE_TRACK_UUID,
        },
        trace_pb2.TrackDescriptor: {
            "uuid": ours._TD_UUID,
            "name": ours._TD_NAME,
            "process": ours._TD_PROCESS,
            "thread": ours._TD_THREAD,
            "parent_uuid": ours._TD_PARENT_UUID,
        },
        trace_pb2.ProcessDescriptor: {
            "pid": ours._PD_PID,
            "cmdline": ours._PD_CMDLINE,
            "process_name": ours._PD_PROCESS_NAME,
        },
        trace_pb2.ThreadDescriptor: {
            "pid": ours._THD_PID,
            "tid": ours._THD_TID,
            "thread_name": ours._THD_THREAD_NAME,
        },
        trace_pb2.InternedData: {"event_names": ours._ID_EVENT_NAMES},
        trace_pb2.EventName: {"iid": ours._EN_IID, "name": ours._EN_NAME},
    }
    for message, numbers in fields.items():
        for name, number in numbers.items():
            assert message.DESCRIPTOR.fields_by_name[name].number == number, name
    flags = trace_pb2.TracePacket.SequenceFlags
    assert flags.Value("SEQ_INCREMENTAL_STATE_CLEARED") == SEQ_INCREMENTAL_STATE_CLEARED
    assert flags.Value("SEQ_NEEDS_INCREMENTAL_STATE") == SEQ_NEEDS_INCREMENTAL_STATE
    types = trace_pb2.TrackEvent.Type
    assert types.Value("TYPE_SLICE_BEGIN") == ours.TYPE_SLICE_BEGIN
    assert types.Value("TYPE_SLICE_END") == ours.TYPE_SLICE_END


def test_descriptors(timeline_snap):
    tracks, _ = read(decode(get_exporter("perfetto").to_bytes(timeline_snap)))
    process = [d for d in tracks.values() if d.HasField("process")]
    threads = [d for d in tracks.values() if d.HasField("thread")]
    assert len(process) == 1
    assert process[0].process.pid == 4242
    assert list(process[0].process.cmdline) == ["app.py"]
    assert process[0].process.process_name == "app.py"
    # the thread without a timeline has no track
    assert [(d.thread.pid, d.thread.tid, d.thread.thread_name) for d in threads] == [
        (4242, 4242, "MainThread"),
        (4242, 4343, "worker-1"),
    ]
    assert all(d.parent_uuid == process[0].uuid for d in threads)


def test_slices(timeline_snap):
    trace = decode(get_exporter("perfetto").to_bytes(timeline_snap))
    tracks, slices = read(trace)
    by_tid = {tracks[uuid].thread.tid: s for uuid, s in slices.items()}
    fact, ping, main = "fact (app.py:30)", "ping (app.py:40)", "main (app.py:20)"
    helper = "helper (app.py:50)"
    len_ = "{" + LEN[1:-1] + "}"
    assert by_tid[4242] == [
        (len_, 13 * MS, 14 * MS, 3),
        (fact, 12 * MS, 15 * MS, 2),
        (fact, 10 * MS, 20 * MS, 1),
        (ping, 20 * MS, 20 * MS, 1),
        (ping, 25 * MS, 31 * MS, 1),
        (main, 0, 40 * MS, 0),
    ]
    # the leading returns without calls are skipped; open frames close at the end
    assert by_tid[4343] == [
        (fact, 6 * MS, 9 * MS, 1),
        (helper, 5 * MS, 11 * MS, 0),
        (fact, 13 * MS, 13 * MS, 1),
        (helper, 12 * MS, 13 * MS, 0),
    ]


def test_names_are_interned_once_per_sequence(timeline_snap):
    trace = decode(get_exporter("perfetto").to_bytes(timeline_snap))
    per_seq: dict[int, list[str]] = {}
    for packet in trace.packet:
        for entry in packet.interned_data.event_names:
            per_seq.setdefault(packet.trusted_packet_sequence_id, []).append(entry.name)
    assert sorted(per_seq.values()) == sorted(
        [
            [
                "main (app.py:20)",
                "fact (app.py:30)",
                "{built-in function len}",
                "ping (app.py:40)",
            ],
            ["helper (app.py:50)", "fact (app.py:30)"],
        ]
    )


def test_far_smaller_than_chrome_json(make_builder):
    from exporter_data import CountingSink

    sizes = {}
    for name in ("perfetto", "chrome"):
        sink = CountingSink()
        snap, _ = lazy_timeline_snapshot(make_builder, sink, chunks=20, per_chunk=1000)
        get_exporter(name).dump(snap, sink)
        sizes[name] = sink.size
    assert sizes["perfetto"] * 3 < sizes["chrome"], sizes
    assert sizes["perfetto"] < 25 * 20_000, sizes  # under 25 bytes an event


def test_lazy_trace_decodes(make_builder):
    from exporter_data import CountingSink

    snap, _ = lazy_timeline_snapshot(make_builder, CountingSink(), chunks=3, per_chunk=10)
    _, slices = read(decode(get_exporter("perfetto").to_bytes(snap)))
    ((_track, events),) = slices.items()
    assert len(events) == 16  # 15 leaf calls and main, closed at the last time
    assert events[-1] == ("main (app.py:10)", 1_000_000_000, events[-2][2], 0)


def test_streams(make_builder):
    assert_streams("perfetto", make_builder)


def test_memory_is_bounded(make_builder):
    assert_bounded_memory("perfetto", make_builder)


def task_timeline_snap(builder):
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 100, [C("fetch", 2, 60)])])
    builder.timeline(t, [("call", "run", 0), ("call", "fetch", 10), ("ret", "fetch", 70),
                         ("ret", "run", 100)])  # fmt: skip
    for i in range(2):
        task = builder.task(t, f"fetch-{i}", [C("fetch", 1, 30)], id=i + 1)
        task.step_spans = [(10 + 30 * i, 20 + 30 * i), (25 + 30 * i, 40 + 30 * i)]
    builder.task(t, "quiet", [C("fetch", 1, 0)], id=3)  # no spans: no track
    return builder.build()


def test_a_track_per_task_below_its_thread(builder):
    tracks, slices = read(decode(get_exporter("perfetto").to_bytes(task_timeline_snap(builder))))
    thread = next(d for d in tracks.values() if d.HasField("thread"))
    tasks = [d for d in tracks.values() if d.name.startswith("task ")]
    assert [d.name for d in tasks] == ["task fetch-0", "task fetch-1"]
    assert all(d.parent_uuid == thread.uuid for d in tasks)
    ms = 1_000_000
    assert [slices[d.uuid] for d in tasks] == [
        [("fetch (app.py:20)", 10 * ms, 20 * ms, 0), ("fetch (app.py:20)", 25 * ms, 40 * ms, 0)],
        [("fetch (app.py:20)", 40 * ms, 50 * ms, 0), ("fetch (app.py:20)", 55 * ms, 70 * ms, 0)],
    ]
