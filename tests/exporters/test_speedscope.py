# SPDX-License-Identifier: MIT
"""The speedscope exporter, validated against a JSON Schema of speedscope's file
format and against the rules speedscope's importer enforces on top of it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from threadprof.exporters import get_exporter, speedscope

MS = 1_000_000  # nanoseconds in a tick of the fixtures' 1 ms unit
SCHEMA = json.loads((Path(__file__).parent / "data" / "speedscope-schema.json").read_text())


def export(snapshot) -> dict:
    doc = json.loads(get_exporter("speedscope").to_bytes(snapshot).decode("utf-8"))
    check(doc)
    return doc


def check(doc: dict) -> None:
    """The schema, then what speedscope's importer needs beyond it."""
    jsonschema.validate(doc, SCHEMA)
    frames = doc["shared"]["frames"]
    for profile in doc["profiles"]:
        assert profile["startValue"] <= profile["endValue"]
        if profile["type"] == "sampled":
            assert len(profile["samples"]) == len(profile["weights"])
            assert sum(profile["weights"]) == profile["endValue"] - profile["startValue"]
            assert all(0 <= f < len(frames) for s in profile["samples"] for f in s)
            continue
        stack: list[int] = []
        at = profile["startValue"]
        for event in profile["events"]:
            assert 0 <= event["frame"] < len(frames)
            assert at <= event["at"] <= profile["endValue"]  # never backwards
            at = event["at"]
            if event["type"] == "O":
                stack.append(event["frame"])
            else:  # speedscope refuses to close a frame that is not on top
                assert stack and stack.pop() == event["frame"]
        assert stack == []  # everything opened is closed


def test_schema_rejects_what_speedscope_rejects():
    # the validator really checks: a wrong unit and a missing member fail
    good = {"$schema": SCHEMA["properties"]["$schema"]["const"], "shared": {"frames": []}}
    jsonschema.validate({**good, "profiles": []}, SCHEMA)
    bad_unit = {
        "type": "sampled",
        "name": "x",
        "unit": "ticks",
        "startValue": 0,
        "endValue": 0,
        "samples": [],
        "weights": [],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "profiles": [bad_unit]}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"$schema": good["$schema"], "profiles": []}, SCHEMA)


def test_sampled_profiles_from_call_trees(tree_snap):
    doc = export(tree_snap)
    assert doc["name"] == "app.py"
    assert doc["exporter"].startswith("threadprof ")
    frames = doc["shared"]["frames"]
    # helper and its twin (same name, file and line) share a frame
    assert frames == [
        {"name": "main", "file": "app.py", "line": 10},
        {"name": "fact", "file": "app.py", "line": 20},
        {"name": "ping", "file": "app.py", "line": 30},
        {"name": "pong", "file": "app.py", "line": 40},
        {"name": "helper", "file": "app.py", "line": 50},
        {"name": "run", "file": "app.py", "line": 60},
        {"name": "{built-in function len}"},
    ]
    main, worker = doc["profiles"]
    assert main["type"] == worker["type"] == "sampled"
    assert (main["name"], main["unit"]) == ("MainThread", "nanoseconds")
    assert main["samples"] == [
        [0],
        [0, 1],
        [0, 1, 1],
        [0, 1, 1, 1],
        [0, 1, 1, 1, 6],
        [0, 2],
        [0, 2, 3],
        [0, 2, 3, 2],
        [0, 2, 3, 2, 3],
        [0, 4],
    ]
    assert main["weights"] == [w * MS for w in (18, 10, 12, 7, 1, 15, 15, 6, 4, 12)]
    assert (main["startValue"], main["endValue"]) == (0, 100 * MS)
    assert worker["samples"] == [[5], [5, 4], [5, 1], [5, 1, 1], [5, 4]]
    assert worker["weights"] == [w * MS for w in (5, 20, 20, 10, 5)]


def test_cpu_clock_weights(make_builder):
    b = make_builder(clock="cpu")
    C = b.call
    b.thread("T", [C("main", 1, 100, [C("f", 1, 50, cpu=7)], cpu=7)])
    (profile,) = export(b.build())["profiles"]
    assert profile["samples"] == [[0, 1]]  # main has no CPU self time
    assert profile["weights"] == [7 * MS]


def test_evented_profiles_from_timelines(timeline_snap):
    doc = export(timeline_snap)
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert names == ["{built-in function len}", "main", "fact", "ping", "helper", "run", "sleep"]
    main, worker, idle = doc["profiles"]

    def events(profile):
        return [(e["type"], names[e["frame"]], e["at"] // MS) for e in profile["events"]]

    assert main["type"] == "evented"
    assert main["name"] == "MainThread"
    assert events(main) == [
        ("O", "main", 0),
        ("O", "fact", 10),
        ("O", "fact", 12),
        ("O", "{built-in function len}", 13),
        ("C", "{built-in function len}", 14),
        ("C", "fact", 15),
        ("C", "fact", 20),
        ("O", "ping", 20),
        ("C", "ping", 20),
        ("O", "ping", 25),
        ("C", "ping", 31),
        ("C", "main", 40),
    ]
    assert (main["startValue"], main["endValue"]) == (0, 40 * MS)
    # returns whose calls were dropped are skipped; open frames closed at the end
    assert events(worker) == [
        ("O", "helper", 5),
        ("O", "fact", 6),
        ("C", "fact", 9),
        ("C", "helper", 11),
        ("O", "helper", 12),
        ("O", "fact", 13),
        ("C", "fact", 13),
        ("C", "helper", 13),
    ]
    assert (worker["startValue"], worker["endValue"]) == (5 * MS, 13 * MS)
    # a thread without a timeline keeps its call tree
    assert idle["type"] == "sampled"
    assert (idle["samples"], idle["weights"]) == ([[6]], [50 * MS])


def test_evented_is_written_chunk_by_chunk(make_builder):
    from exporter_data import assert_streams

    assert_streams("speedscope", make_builder)


def test_empty_snapshot(builder):
    doc = export(builder.build(argv=[]))
    assert doc["profiles"] == []
    assert doc["name"] == "threadprof profile"


def test_empty_timeline(builder):
    t = builder.thread("T", [])
    builder.timeline(t, [])
    (profile,) = export(builder.build())["profiles"]
    assert profile["events"] == []
    assert (profile["startValue"], profile["endValue"]) == (0, 0)


def test_evented_memory_is_bounded(make_builder):
    from exporter_data import assert_bounded_memory

    assert_bounded_memory("speedscope", make_builder)


def task_snap(builder, tasks):
    C = builder.call
    t = builder.thread("MainThread", [C("run", 1, 100 * tasks, [C("fetch", tasks, 100 * tasks)])])
    for i in range(tasks):
        builder.task(t, f"fetch-{i}", [C("fetch", 1, 100, [C("sleep", 2, 90 - i % 7)])], id=i + 1)
    return builder.build()


def test_a_profile_per_task(builder):
    doc = export(task_snap(builder, 3))
    frames = [f["name"] for f in doc["shared"]["frames"]]
    names = [p["name"] for p in doc["profiles"]]
    assert names == ["MainThread", "task fetch-0", "task fetch-1", "task fetch-2"]
    for i, profile in enumerate(doc["profiles"][1:]):
        assert profile["type"] == "sampled"
        assert [[frames[f] for f in s] for s in profile["samples"]] == [
            ["fetch"],
            ["fetch", "sleep"],
        ]
        assert profile["weights"] == [(10 + i % 7) * MS, (90 - i % 7) * MS]


def test_many_tasks_share_a_profile_per_name_pattern(builder, monkeypatch):
    monkeypatch.setattr(speedscope, "MAX_TASK_PROFILES", 4)
    doc = export(task_snap(builder, 5))
    (group,) = doc["profiles"][1:]
    assert group["name"] == "task fetch-* (5 tasks)"
    assert group["weights"] == [
        sum(10 + i % 7 for i in range(5)) * MS,
        sum(90 - i % 7 for i in range(5)) * MS,
    ]
