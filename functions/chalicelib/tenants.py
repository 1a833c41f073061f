"""Tenant configuration: load (cached by stream version), change (events), seed the demo."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from chalicelib.envelopes import decode_all, wrap
from domain.events import DomainEvent
from domain.ports import EventStore
from domain.tenant import TenantSnapshot, fold


def tenant_stream(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


class TenantRepository:
    def __init__(self, store: EventStore, clock: Callable[[], datetime], new_id: Callable[[], str]) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id
        self._cache: dict[str, TenantSnapshot] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str) -> TenantSnapshot | None:
        """The tenant's current configuration, re-folded only when its stream moved."""
        version = self.store.stream_version(tenant_stream(tenant_id))
        if version == 0:
            return None
        cached = self._cache.get(tenant_id)
        if cached is not None and cached.version == version:
            return cached
        stored, version = self.store.load(tenant_stream(tenant_id))
        snapshot = fold(tenant_id, decode_all(stored), version)
        with self._lock:
            self._cache[tenant_id] = snapshot
        return snapshot

    def append(self, tenant_id: str, events: Sequence[DomainEvent], expected_version: int,
               correlation_id: str = "") -> int:
        stream = tenant_stream(tenant_id)
        envelopes = wrap(events, tenant_id=tenant_id, stream_id=stream, expected_version=expected_version,
                         now=self.clock(), new_id=self.new_id, correlation_id=correlation_id or self.new_id())
        return self.store.append(stream, envelopes, expected_version)
