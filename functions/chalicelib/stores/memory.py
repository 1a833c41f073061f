"""In-memory event store: the same uniqueness rules as the databases, for unit tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from chalicelib.stores import check_batch, snapshot_then_events
from domain.events import StoredEvent
from domain.ports import ConcurrencyError


class InMemoryEventStore:
    def __init__(self) -> None:
        self._streams: dict[str, list[StoredEvent]] = {}
        self._log: list[StoredEvent] = []
        self._ids: set[str] = set()
        self._snapshots: dict[str, tuple[int, str, str]] = {}
        self._lock = threading.Lock()

    def load(self, stream_id: str, after_version: int = 0) -> tuple[list[StoredEvent], int]:
        events = self._streams.get(stream_id, [])
        return events[after_version:], max(len(events), after_version)

    def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, ()))

    def append(self, stream_id: str, events: Sequence[StoredEvent], expected_version: int) -> int:
        check_batch(stream_id, events, expected_version)
        with self._lock:
            current = self._streams.setdefault(stream_id, [])
            if len(current) != expected_version:
                raise ConcurrencyError(stream_id, expected_version)
            if any(e.event_id in self._ids for e in events):
                raise ValueError("duplicate event id")
            for e in events:
                stored = replace(e, position=f"{len(self._log) + 1:016d}")
                current.append(stored)
                self._log.append(stored)
                self._ids.add(e.event_id)
            return len(current)

    def read_log(self, tenant_id: str | None, after: str = "", limit: int = 1000) -> list[StoredEvent]:
        out = [e for e in self._log if e.position > after and (tenant_id is None or e.tenant_id == tenant_id)]
        return out[:limit]

    def load_snapshot(self, stream_id: str) -> tuple[int, str, str] | None:
        return self._snapshots.get(stream_id)

    def load_from_snapshot(self, stream_id: str) -> tuple[tuple[int, str, str] | None, list[StoredEvent], int]:
        return snapshot_then_events(self, stream_id)

    def save_snapshot(self, stream_id: str, version: int, schema: str, doc_json: str) -> None:
        with self._lock:
            stored = self._snapshots.get(stream_id)
            if stored is None or version > stored[0]:
                self._snapshots[stream_id] = (version, schema, doc_json)

    def drop_snapshot(self, stream_id: str, version: int) -> None:
        with self._lock:
            stored = self._snapshots.get(stream_id)
            if stored is not None and stored[0] <= version:
                del self._snapshots[stream_id]
