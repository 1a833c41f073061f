"""Wrap domain events in envelopes (ids, times, correlation) and decode them back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from domain.events import DomainEvent, StoredEvent, decode


def wrap(events: Sequence[DomainEvent], *, tenant_id: str, stream_id: str, expected_version: int,
         now: datetime, new_id: Callable[[], str], correlation_id: str, causation_id: str = "",
         occurred_at: datetime | None = None) -> list[StoredEvent]:
    recorded = now.isoformat(timespec="microseconds")
    occurred = (occurred_at or now).isoformat(timespec="microseconds")
    return [
        StoredEvent(tenant_id=tenant_id, stream_id=stream_id, version=expected_version + i, event_id=new_id(),
                    event_type=e.event_type, schema_version=e.schema_version, occurred_at=occurred,
                    recorded_at=recorded, correlation_id=correlation_id,
                    causation_id=causation_id or correlation_id, data=e.to_data())
        for i, e in enumerate(events, start=1)
    ]


def decode_all(stored: Iterable[StoredEvent]) -> list[DomainEvent]:
    return [e for e in (decode(s) for s in stored) if e is not None]
