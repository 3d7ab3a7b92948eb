# SPDX-License-Identifier: MIT
"""The cyclic collector is paused while a snapshot or an export is built, and
left as it was found afterwards."""

from __future__ import annotations

import gc

import pytest

import threadprof
from threadprof._gcpause import gc_paused
from threadprof.exporters import get_exporter


def work() -> int:
    return sum(range(10))


def test_paused_inside_and_enabled_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), gc_paused():
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_snapshot_and_export_pause_the_collector(tmp_path, monkeypatch):
    seen: list[bool] = []
    with threadprof.profile() as p:
        work()
    import threadprof.rawmodel as rawmodel

    real = rawmodel._snapshot_from_raw

    def spy(raw, owner, subtree):
        seen.append(gc.isenabled())
        return real(raw, owner, subtree)

    monkeypatch.setattr(rawmodel, "_snapshot_from_raw", spy)
    snap = p.snapshot()
    assert seen and not any(seen)
    assert gc.isenabled()

    exporter = get_exporter("collapsed")
    impl = exporter.load()
    real_dump = impl.dump

    def dump_spy(s, out):
        seen.append(gc.isenabled())
        return real_dump(s, out)

    monkeypatch.setattr(impl, "dump", dump_spy)
    exporter.write(snap, tmp_path / "out.collapsed")
    assert seen[-1] is False
    assert gc.isenabled()
    assert (tmp_path / "out.collapsed").read_text().strip()
