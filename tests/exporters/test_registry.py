# SPDX-License-Identifier: MIT
"""The new formats in the exporter registry, and what all of them share."""

from __future__ import annotations

import pytest

from threadprof.exporters import (
    EXPORTERS,
    FORMATS,
    NeedsTimelineError,
    exporter_for_path,
    get_exporter,
)

NEW = ("callgrind", "collapsed", "speedscope", "pprof", "chrome", "perfetto")
TIMELINE_ONLY = ("chrome", "perfetto")


def test_formats_registered():
    for name in NEW:
        assert name in FORMATS
        assert get_exporter(name).load().dump  # the module exists and has dump()


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("callgrind.out", "callgrind"),
        ("callgrind.out.12345", "callgrind"),
        ("dir/Callgrind.Out.1", "callgrind"),
        ("x.callgrind", "callgrind"),
        ("x.folded", "collapsed"),
        ("x.collapsed", "collapsed"),
        ("x.speedscope.json", "speedscope"),
        ("x.pb.gz", "pprof"),
        ("x.pprof", "pprof"),
        ("x.trace.json", "chrome"),
        ("x.chrome.json", "chrome"),
        ("x.pftrace", "perfetto"),
        ("x.perfetto-trace", "perfetto"),
        ("callgrind.out.prof", "pstats"),  # an extension beats a prefix
    ],
)
def test_exporter_for_path(path, name):
    found = exporter_for_path(path)
    assert found is not None and found.name == name


@pytest.mark.parametrize("path", ["x.json", "x.gz", "mycallgrind.out", "dir/callgrind/out"])
def test_paths_no_format_claims(path):
    assert exporter_for_path(path) is None


def test_extensions_are_unique_and_lower_case():
    seen = [ext for e in EXPORTERS for ext in e.extensions]
    assert len(seen) == len(set(seen))
    assert all(ext.startswith(".") and ext == ext.lower() for ext in seen)


@pytest.mark.parametrize("name", TIMELINE_ONLY)
def test_timeline_formats_refuse_a_snapshot_without_timeline(name, tree_snap, tmp_path):
    path = tmp_path / "out"
    with pytest.raises(NeedsTimelineError) as info:
        get_exporter(name).write(tree_snap, path)
    assert str(info.value) == f"the {name} format needs a timeline: profile with --timeline"
    assert isinstance(info.value, ValueError)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file


@pytest.mark.parametrize("name", NEW)
def test_write_matches_to_bytes(name, timeline_snap, tmp_path):
    exporter = get_exporter(name)
    path = tmp_path / "out"
    exporter.write(timeline_snap, path)
    assert path.read_bytes() == exporter.to_bytes(timeline_snap)


@pytest.mark.parametrize("name", NEW)
def test_output_is_deterministic(name, timeline_snap):
    exporter = get_exporter(name)
    assert exporter.to_bytes(timeline_snap) == exporter.to_bytes(timeline_snap)


@pytest.mark.parametrize("name", [n for n in NEW if n not in TIMELINE_ONLY])
def test_empty_snapshot(name, builder):
    assert isinstance(get_exporter(name).to_bytes(builder.build()), bytes)
