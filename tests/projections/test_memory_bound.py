"""Replay keeps state per open call, not per event: the cache stays the size of the calls in flight."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from chalicelib.envelopes import wrap
from chalicelib.projections.log import sqlite_rows
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.calls.events import CallStarted, CallStatusChanged
from domain.projections import all_projections

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_the_runner_holds_only_the_calls_in_flight(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # given 600 calls, 10 in flight at any moment (each starts, and ends 10 calls later)
    log = SQLiteEventStore(tmp_path / "log.sqlite")
    ids = itertools.count()

    def append(sid: str, event, version: int, second: int) -> None:  # type: ignore[no-untyped-def]
        log.append(f"call-{sid}", wrap([event], tenant_id="t", stream_id=f"call-{sid}", expected_version=version,
                                       now=T0 + timedelta(seconds=second), new_id=lambda: f"e{next(ids)}",
                                       correlation_id="c"), version)

    for i in range(610):
        if i < 600:
            append(f"CA{i}", CallStarted(call_sid=f"CA{i}", from_number="+1555", to_number="+1666"), 0, i)
        if i >= 10:
            append(f"CA{i - 10}", CallStatusChanged(status="completed", duration=10), 1, i)
    out = SQLiteProjectionStore(tmp_path / "out.sqlite")
    runner = Runner(out, all_projections(), fresh=True)
    sizes: list[int] = []
    # when the log is replayed, flushing every 50 events
    n = runner.run_rows(sqlite_rows(log, None, ""), flush_every=50, progress=lambda _: sizes.append(runner.cached()))
    # then after each flush the runner holds the open calls plus the tenant's chain head, never the whole log
    assert n == 1200 and max(sizes) <= 10 + 1
    assert len(list(out.states("calls", "t"))) == 600
