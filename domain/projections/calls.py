"""The call detail record (CDR) of each call stream, folded from its events.

Invariant: a CDR only ever grows from its own stream's events; a terminal status is final (a late
status callback cannot reopen a call); every event that shaped the record is listed in ``events``
so any figure built on CDRs can be traced back to the event log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from domain.calls.state import TERMINAL
from domain.events import StoredEvent
from domain.projections.base import JSON, Row, StreamProjection, get, seconds_between, utc

ANSWERED = frozenset({"completed", "answered"})
Handler = Callable[[JSON, StoredEvent], JSON]
HANDLERS: dict[str, Handler] = {}


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a CDR handler; adding support for an event type is adding one function."""

    def register(fn: Handler) -> Handler:
        for name in event_types:
            HANDLERS[name] = fn
        return fn

    return register


def new_record(e: StoredEvent) -> JSON:
    sid = e.stream_id[5:] if e.stream_id.startswith("call-") else e.stream_id
    return {"sid": sid, "tenant": e.tenant_id, "t": utc(e.occurred_at), "direction": "", "from": "", "to": "",
            "status": "new", "outcome": "", "answered_at": "", "connected_at": "", "ended_at": "", "duration": 0,
            "talk": 0.0, "ring": 0.0, "hold": 0.0, "legs": [], "dialing": None, "voicemail": None,
            "recordings": [], "transfers": [], "holding": {}, "queue": None, "events": []}


def evolve(state: JSON | None, e: StoredEvent) -> tuple[JSON, list[Row]]:
    s = state if state is not None else new_record(e)
    s = HANDLERS[e.event_type](s, e)
    s = {**s, "events": [*s["events"], e.event_id]}
    return {**s, "outcome": outcome(s)}, []


def outcome(s: JSON) -> str:
    """answered (a person talked), voicemail, missed, rejected, or the gateway's failure status."""
    if s["answered_at"]:
        return "answered"
    if s["voicemail"]:
        return "voicemail"
    if s.get("rejected"):
        return "rejected"
    if s["direction"].startswith("outbound"):
        return s["status"] if s["status"] in TERMINAL else "attempted"
    if s["status"] in TERMINAL or s["legs"]:
        return "missed"
    return "ringing" if s["dialing"] else "in-ivr"


@handles("CallStarted")
def _started(s: JSON, e: StoredEvent) -> JSON:
    d = e.data
    return {**s, "t": utc(e.occurred_at), "direction": get(d, "direction", "inbound"), "from": get(d, "from_number"),
            "to": get(d, "to_number"), "status": get(d, "status", "ringing") or "ringing", "plan": get(d, "plan_id")}


@handles("StepDecided")
def _step(s: JSON, e: StoredEvent) -> JSON:
    verbs = [i.get("verb") for i in e.data.get("instructions") or ()]
    if "Reject" in verbs:
        s = {**s, "rejected": True}
    if "Dial" in verbs and e.data.get("awaiting"):
        inputs = e.data.get("inputs") or {}
        targets = [str(t) for t in inputs.get("targets") or ()]
        s = {**s, "dialing": {"node": get(e.data, "node"), "start": utc(e.occurred_at), "targets": targets}}
    return s


@handles("DialEnded")
def _dial_ended(s: JSON, e: StoredEvent) -> JSON:
    d = e.data
    pending = s["dialing"] or {}
    end = utc(e.occurred_at)
    start = pending.get("start") or end
    talk = float(get(d, "duration", 0) or 0)
    status = str(get(d, "dial_status"))
    answered = status in ANSWERED
    ring = max(0.0, seconds_between(start, end) - (talk if answered else 0.0))
    targets = [str(t) for t in (get(d, "targets", []) or pending.get("targets") or [])]
    by = str(get(d, "answered_by")) or (targets[0] if answered and len(targets) == 1 else "")
    leg = {"node": get(d, "node"), "targets": targets, "status": status, "start": start, "end": end,
           "ring": ring, "talk": talk if answered else 0.0, "answered_by": by if answered else "",
           "sid": get(d, "dial_call_sid"), "event": e.event_id}
    out = {**s, "legs": [*s["legs"], leg], "dialing": None, "ring": s["ring"] + ring}
    if answered:
        answered_at = _plus(start, ring)
        out = {**out, "talk": s["talk"] + talk, "answered_at": s["answered_at"] or answered_at}
    return out


@handles("VoicemailLeft")
def _voicemail(s: JSON, e: StoredEvent) -> JSON:
    d = e.data
    vm = {"box": get(d, "box"), "duration": get(d, "duration", 0), "url": get(d, "recording_url"),
          "sid": get(d, "recording_sid"), "event": e.event_id}
    return {**s, "voicemail": vm, "recordings": [*s["recordings"], vm["url"]]}


@handles("CallStatusChanged")
def _status(s: JSON, e: StoredEvent) -> JSON:
    status = str(get(e.data, "status"))
    if s["status"] in TERMINAL:  # terminal is final; a late callback may only fill the duration
        return s if s["duration"] or not e.data.get("duration") else {**s, "duration": int(e.data["duration"])}
    out = {**s, "status": status}
    if status in ("in-progress", "answered") and not s["connected_at"]:
        out["connected_at"] = utc(e.occurred_at)
        if s["direction"].startswith("outbound"):
            out["answered_at"] = out["connected_at"]
    if status in TERMINAL:
        end = utc(e.occurred_at)
        duration = int(get(e.data, "duration", 0) or 0)
        out = {**out, "ended_at": end, "duration": duration, "dialing": None}
        if s["direction"].startswith("outbound") and out["answered_at"]:
            out["talk"] = s["talk"] + float(duration or seconds_between(out["answered_at"], end))
    return out


@handles("MediaEventRecorded")
def _media(s: JSON, e: StoredEvent) -> JSON:
    data: Any = e.data.get("data") or {}
    url = data.get("url") or data.get("recording_url") or data.get("blob") if isinstance(data, dict) else ""
    if e.data.get("kind") == "RecordingCompleted" and url:
        return {**s, "recordings": [*s["recordings"], str(url)]}
    return s


def _plus(stamp: str, seconds: float) -> str:
    return (datetime.fromisoformat(stamp) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def is_closed(s: JSON) -> bool:
    return str(s["status"]) in TERMINAL


def projection() -> StreamProjection:
    return StreamProjection(name="calls", prefixes=("call-",), handles=frozenset(HANDLERS), evolve=evolve,
                            closed=is_closed)
