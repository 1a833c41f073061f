"""SQLite under real concurrent writer processes (not just threads): one file, no lost event."""

from __future__ import annotations

import multiprocessing
import uuid

from chalicelib.stores.sqlite import SQLiteEventStore
from domain.events import StoredEvent
from domain.ports import ConcurrencyError


def _writer(path: str, writer: int, count: int) -> None:
    store = SQLiteEventStore(path)
    for j in range(count):
        while True:
            v = store.stream_version("shared")
            e = StoredEvent(tenant_id="t", stream_id="shared", version=v + 1, event_id=str(uuid.uuid4()),
                            event_type="Tick", schema_version=1, occurred_at="x", recorded_at="x",
                            correlation_id="c", causation_id="c", data={"w": writer, "j": j})
            try:
                store.append("shared", [e], v)
                break
            except ConcurrencyError:
                continue


def test_writer_processes_interleave_without_losing_or_duplicating(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "shared.sqlite")
    SQLiteEventStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 15)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    events, version = SQLiteEventStore(path).load("shared")
    assert version == 45
    assert [e.version for e in events] == list(range(1, 46))
    assert sorted((e.data["w"], e.data["j"]) for e in events) == [(w, j) for w in range(3) for j in range(15)]
