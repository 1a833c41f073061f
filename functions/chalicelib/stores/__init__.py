"""Event store adapters: SQLite (embedded default), DynamoDB (AWS), in-memory (tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from domain.events import StoredEvent
from domain.ports import ConcurrencyError, EventStore

__all__ = ["ConcurrencyError", "EventStore", "check_batch", "dumps", "loads"]


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
