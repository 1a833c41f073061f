"""Events of a call stream (``call-<CallSid>``). Past tense, subject first, stable wire names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.events import DomainEvent, event, upcaster


@event
@dataclass(frozen=True, slots=True)
class CallStarted(DomainEvent):
    event_type = "CallStarted"
    schema_version = 2
    call_sid: str
    from_number: str
    to_number: str
    direction: str = "inbound"
    account_sid: str = ""
    status: str = "ringing"
    plan_id: str = ""
    plan_version: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    placed_by: str = ""  # a call vpbx placed for an extension (click-to-call, a callback): that extension


@upcaster("CallStarted", 1)
def _call_started_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 stored the caller and callee as ``from``/``to``; v2 names them unambiguously.
    out = {k: v for k, v in data.items() if k not in ("from", "to")}
    out["from_number"] = data.get("from", "")
    out["to_number"] = data.get("to", "")
    return out


@event
@dataclass(frozen=True, slots=True)
class StepDecided(DomainEvent):
    """One routing step: which node ran, with which inputs, the branch taken and what was emitted."""

    event_type = "StepDecided"
    step: int
    node: str
    action: str
    branch: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    instructions: list[dict[str, Any]] = field(default_factory=list)
    awaiting: bool = False
    scratch: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""
    plan_version: int = 0
    at: str = ""


@event
@dataclass(frozen=True, slots=True)
class DigitsGathered(DomainEvent):
    event_type = "DigitsGathered"
    node: str
    digits: str
    finished_on_key: str = ""


@event
@dataclass(frozen=True, slots=True)
class DialAnswered(DomainEvent):
    """A device of ``member`` picked up while the call was dialling at ``node``: the gateway fetched the
    answer URL of that member's noun on the new leg ``leg_sid``, before bridging it to the caller.
    ``device`` is where that leg went (its ``To``: a SIP URI, ``client:<id>``, or a phone number, which
    makes the leg a paid one to the phone network); empty in events recorded before it was kept."""

    event_type = "DialAnswered"
    node: str
    step: int
    member: str
    leg_sid: str = ""
    device: str = ""


@event
@dataclass(frozen=True, slots=True)
class DialEnded(DomainEvent):
    event_type = "DialEnded"
    node: str
    dial_status: str
    dial_call_sid: str = ""
    duration: int = 0
    targets: list[str] = field(default_factory=list)


@event
@dataclass(frozen=True, slots=True)
class VoicemailLeft(DomainEvent):
    event_type = "VoicemailLeft"
    box: str
    recording_url: str
    recording_sid: str = ""
    duration: int = 0
    caller: str = ""


@event
@dataclass(frozen=True, slots=True)
class CallStatusChanged(DomainEvent):
    event_type = "CallStatusChanged"
    status: str
    sequence_number: int = -1
    duration: int = 0
    sip_response_code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@event
@dataclass(frozen=True, slots=True)
class MediaEventRecorded(DomainEvent):
    """Something the media core did for this call (conference join/leave, recording, fax)."""

    event_type = "MediaEventRecorded"
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def placed_leg_events(started: bool, params: Mapping[str, str], *, to: str, caller_id: str,
                      placed_by: str) -> tuple[DomainEvent, ...]:
    """A webhook of a call vpbx placed to a customer (click-to-call, a callback), as that call's events: its
    ``CallStarted`` if ``started`` is False (the first webhook seen of it), then the status it reports.
    Such a call has no routing; recording it gives it a CDR, a line on the bill, and an outgoing call in
    ``placed_by``'s figures."""
    out: list[DomainEvent] = []
    if not started:
        out.append(CallStarted(call_sid=params.get("CallSid", ""), from_number=params.get("From") or caller_id,
                               to_number=params.get("To") or to, direction=params.get("Direction") or "outbound-api",
                               account_sid=params.get("AccountSid", ""), params=dict(params), placed_by=placed_by))
    if params.get("CallStatus"):
        out.append(CallStatusChanged(status=params["CallStatus"],
                                     sequence_number=int(params.get("SequenceNumber", "-1") or -1),
                                     duration=int(params.get("CallDuration", "0") or 0),
                                     sip_response_code=params.get("SipResponseCode", ""), params=dict(params)))
    return tuple(out)
