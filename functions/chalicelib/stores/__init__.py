"""Event store adapters: SQLite (embedded default), DynamoDB (AWS), in-memory (tests)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from domain.events import StoredEvent
from domain.ports import ConcurrencyError, EventStore

__all__ = ["ConcurrencyError", "EventStore", "check_batch", "dumps", "loads", "read_snapshot_or_none",
           "snapshot_then_events"]

snapshot_log = logging.getLogger("vpbx.snapshots")


def dumps(data: object) -> str:
    """Canonical JSON (sorted keys, no spaces): the same event always stores as the same text."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def check_batch(stream_id: str, events: Sequence[StoredEvent], expected_version: int) -> None:
    """Every adapter refuses the same malformed batches before touching storage."""
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, got {expected_version}")
    for offset, e in enumerate(events, start=1):
        if e.stream_id != stream_id:
            raise ValueError(f"event {e.event_id} belongs to stream {e.stream_id!r}, not {stream_id!r}")
        if e.version != expected_version + offset:
            raise ValueError(f"event {e.event_id} has version {e.version}, expected {expected_version + offset}")


def snapshot_then_events(store: EventStore, stream_id: str) -> tuple[tuple[int, str, str] | None, list[StoredEvent], int]:
    """``load_from_snapshot`` in two steps (a local store: the second read costs microseconds)."""
    found = read_snapshot_or_none(store, stream_id)
    events, version = store.load(stream_id, found[0] if found else 0)
    return found, events, version


def read_snapshot_or_none(store: EventStore, stream_id: str) -> tuple[int, str, str] | None:
    """The stored snapshot, or None when there is none or it cannot be read (logged: a snapshot is only
    a cache, so an unreachable one costs a fold from the start, never the request)."""
    try:
        return store.load_snapshot(stream_id)
    except Exception:
        snapshot_log.warning("could not read the snapshot of %s; folding its events from the start", stream_id,
                             exc_info=True)
        return None
