"""An event stored under an older schema version is read in today's shape."""

from __future__ import annotations

from domain.calls.events import CallStarted
from domain.events import StoredEvent, decode


def test_call_started_v1_is_upcast_to_v2() -> None:
    old = StoredEvent(tenant_id="demo", stream_id="call-CA1", version=1, event_id="e1", event_type="CallStarted",
                      schema_version=1, occurred_at="t", recorded_at="t", correlation_id="r", causation_id="r",
                      data={"call_sid": "CA1", "from": "+15550002000", "to": "+15550001000", "direction": "inbound"})
    event = decode(old)
    assert isinstance(event, CallStarted)
    assert (event.from_number, event.to_number, event.direction) == ("+15550002000", "+15550001000", "inbound")


def test_unknown_event_types_decode_to_none_rather_than_failing() -> None:
    future = StoredEvent(tenant_id="demo", stream_id="s", version=1, event_id="e", event_type="FromTheFuture",
                         schema_version=7, occurred_at="t", recorded_at="t", correlation_id="", causation_id="",
                         data={"x": 1})
    assert decode(future) is None
