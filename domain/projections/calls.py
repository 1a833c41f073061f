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
from domain.projections.base import JSON, Row, StoredEvent, StreamProjection, get, seconds_between, shift, utc

ANSWERED = frozenset({"completed", "answered"})
Handler = Callable[[JSON, StoredEvent], JSON | None]
HANDLERS: dict[str, Handler] = {}


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a CDR handler; adding support for an event type is adding one function."""

    def register(fn: Handler) -> Handler:
        for name in event_types:
            HANDLERS[name] = fn
        return fn

    return register


_BLANK: JSON = {"sid": "", "tenant": "", "t": "", "direction": "", "from": "", "to": "", "status": "new",
                "outcome": "", "answered_at": "", "connected_at": "", "ended_at": "", "duration": 0, "talk": 0.0,
                "ring": 0.0, "hold": 0.0, "legs": [], "dialing": None, "voicemail": None, "recordings": [],
                "transfers": [], "holding": None, "holds": [], "picked_up_by": "", "placed_by": "", "events": []}


def new_record(e: StoredEvent) -> JSON:
    # The blank's lists are shared safely: handlers always replace a list, never append to it.
    s = dict(_BLANK)
    s["sid"] = e.stream_id[5:] if e.stream_id.startswith("call-") else e.stream_id
    s["tenant"] = e.tenant_id
    s["t"] = utc(e.occurred_at)
    return s


def evolve(state: JSON | None, e: StoredEvent) -> tuple[JSON | None, list[Row]]:
    # One copy per event; handlers change the copy (lists are replaced, never appended to in place).
    s = state.copy() if state is not None else new_record(e)
    if HANDLERS[e.event_type](s, e) is None:
        return None, []
    s["events"] = [*s["events"], e.event_id]
    s["outcome"] = outcome(s)
    return s, []


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


# Handlers fill in ``s`` (the fold's fresh copy) and return it, or None when the event changes nothing.


@handles("CallStarted")
def _started(s: JSON, e: StoredEvent) -> JSON | None:
    d = e.data
    s["t"] = utc(e.occurred_at)
    s["direction"] = get(d, "direction", "inbound")
    s["from"], s["to"], s["plan"] = get(d, "from_number"), get(d, "to_number"), get(d, "plan_id")
    s["status"] = get(d, "status", "ringing") or "ringing"
    s["placed_by"] = str(get(d, "placed_by"))  # the extension a call vpbx placed was for (click-to-call)
    return s


# What a StepDecided must contain to matter to a CDR (canonical JSON is compact, so these are literal). The
# leading quote is left off: SQLite's instr() compares at every position whose first byte matches, and a
# quote starts every JSON string (with a rarer first byte the test took a quarter less time; matching more is harmless).
STEP_NEEDLES = ('verb":"Dial"', 'verb":"Reject"')


@handles("StepDecided")
def _step(s: JSON, e: StoredEvent) -> JSON | None:
    dial = reject = False
    for i in e.data.get("instructions") or ():
        verb = i.get("verb")
        dial = dial or verb == "Dial"
        reject = reject or verb == "Reject"
    if not dial and not reject:
        return None  # a menu, a prompt, a hang-up: nothing a CDR records (see STEP_NEEDLES)
    if reject:
        s["rejected"] = True
    if dial and e.data.get("awaiting"):
        inputs = e.data.get("inputs") or {}
        targets = [str(t) for t in inputs.get("targets") or ()]
        s["dialing"] = {"node": get(e.data, "node"), "start": utc(e.occurred_at), "targets": targets,
                        "for": str(get(inputs, "forwarded_for"))}
    return s


@handles("DialAnswered")
def _dial_answered(s: JSON, e: StoredEvent) -> JSON | None:
    pending = s["dialing"]
    if not pending or pending.get("node") != get(e.data, "node") or pending.get("answered_by"):
        return None  # not this dial's, or the first answer is already known
    s["dialing"] = {**pending, "answered_by": str(get(e.data, "member")), "leg_sid": str(get(e.data, "leg_sid")),
                    "device": str(get(e.data, "device"))}
    s["answered_at"] = s["answered_at"] or utc(e.occurred_at)  # the moment itself (DialEnded can only infer it)
    return s


@handles("DialEnded")
def _dial_ended(s: JSON, e: StoredEvent) -> JSON | None:
    d = e.data
    pending = s["dialing"] or {}
    end = utc(e.occurred_at)
    start = pending.get("start") or end
    talk = float(get(d, "duration", 0) or 0)
    status = str(get(d, "dial_status"))
    answered = status in ANSWERED
    began = datetime.fromisoformat(start) if start and end else None
    ring = 0.0 if began is None else max(0.0, (datetime.fromisoformat(end) - began).total_seconds())
    if answered:
        ring = max(0.0, ring - talk)
    targets = [str(t) for t in (get(d, "targets", []) or pending.get("targets") or [])]
    # who picked up: the member whose answer URL was fetched, else the only one rung (else unknown)
    by = str(get(d, "answered_by")) or str(pending.get("answered_by") or "") or \
        (targets[0] if answered and len(targets) == 1 else "")
    s["legs"] = [*s["legs"], {"node": get(d, "node"), "targets": targets, "status": status, "start": start,
                              "end": end, "ring": ring, "talk": talk if answered else 0.0,
                              "answered_by": by if answered else "",
                              "sid": get(d, "dial_call_sid") or (pending.get("leg_sid", "") if answered else ""),
                              "device": str(pending.get("device") or "") if answered else "",
                              "forwarded_for": str(pending.get("for") or ""), "event": e.event_id}]
    s["dialing"] = None
    s["ring"] = s["ring"] + ring
    if answered:
        s["talk"] = s["talk"] + talk
        if not s["answered_at"]:
            at = datetime.fromisoformat(start) if began is None else began
            s["answered_at"] = (at + timedelta(seconds=ring)).isoformat(timespec="microseconds")
    return s


@handles("VoicemailLeft")
def _voicemail(s: JSON, e: StoredEvent) -> JSON | None:
    d = e.data
    vm = {"box": get(d, "box"), "duration": get(d, "duration", 0), "url": get(d, "recording_url"),
          "sid": get(d, "recording_sid"), "event": e.event_id}
    s.update({"voicemail": vm, "recordings": [*s["recordings"], vm["url"]]})
    return s


@handles("CallStatusChanged")
def _status(s: JSON, e: StoredEvent) -> JSON | None:
    status = str(get(e.data, "status"))
    if s["status"] in TERMINAL:  # terminal is final; a late callback may only fill the duration
        if s["duration"] or not e.data.get("duration"):
            return s  # recorded (it is in the call's history) but changes no figure
        s["duration"] = int(e.data["duration"])
        return s
    s["status"] = status
    if status in ("in-progress", "answered") and not s["connected_at"]:
        s["connected_at"] = utc(e.occurred_at)
        if s["direction"].startswith("outbound"):
            s["answered_at"] = s["connected_at"]
    if status in TERMINAL:
        end = utc(e.occurred_at)
        duration = int(get(e.data, "duration", 0) or 0)
        s.update({"ended_at": end, "duration": duration, "dialing": None})
        if s["holding"]:  # hung up while on hold: the hold ends with the call
            _close_hold(s, end, "")
        if s["direction"].startswith("outbound") and not s["answered_at"] and status == "completed" and duration:
            # the gateway reported only the end (a status callback asked for "completed" alone): an outbound
            # call that completed with a duration was answered that many seconds before it ended
            s["answered_at"] = shift(end, -duration)
        if s["direction"].startswith("outbound") and s["answered_at"]:
            s["talk"] = s["talk"] + float(duration or seconds_between(s["answered_at"], end))
    return s


@handles("MediaEventRecorded")
def _media(s: JSON, e: StoredEvent) -> JSON | None:
    data: Any = e.data.get("data") or {}
    url = data.get("url") or data.get("recording_url") or data.get("blob") if isinstance(data, dict) else ""
    if e.data.get("kind") == "RecordingCompleted" and url:
        s["recordings"] = [*s["recordings"], str(url)]
        return s
    return None


@handles("CallTransferred")
def _transferred(s: JSON, e: StoredEvent) -> JSON | None:
    if get(e.data, "state", "done") != "done":
        return None  # an attended transfer still consulting, or declined: not a transfer (yet)
    s["transfers"] = [*s["transfers"], {"by": get(e.data, "by"), "to": get(e.data, "to"),
                                        "kind": get(e.data, "kind", "blind"), "at": utc(e.occurred_at),
                                        "event": e.event_id}]
    return s


@handles("CallHeld")
def _held(s: JSON, e: StoredEvent) -> JSON | None:
    if s["holding"]:
        return None
    s["holding"] = {"by": get(e.data, "by"), "start": utc(e.occurred_at)}
    return s


@handles("CallResumed")
def _resumed(s: JSON, e: StoredEvent) -> JSON | None:
    if not s["holding"]:
        return None
    _close_hold(s, utc(e.occurred_at), str(get(e.data, "by")))
    return s


def _close_hold(s: JSON, end: str, by: str) -> None:
    held = s["holding"]
    seconds = seconds_between(held["start"], end)
    s["holds"] = [*s["holds"], {"by": held["by"] or by, "start": held["start"], "end": end, "seconds": seconds}]
    s["hold"] = s["hold"] + seconds
    s["holding"] = None


@handles("CallPickedUp")
def _picked_up(s: JSON, e: StoredEvent) -> JSON | None:
    s["picked_up_by"] = str(get(e.data, "by"))
    s["answered_at"] = s["answered_at"] or utc(e.occurred_at)
    return s


def is_closed(s: JSON) -> bool:
    return str(s["status"]) in TERMINAL


def projection() -> StreamProjection:
    return StreamProjection(name="calls", prefixes=("call-",), handles=frozenset(HANDLERS), evolve=evolve,
                            closed=is_closed, prefilter={"StepDecided": STEP_NEEDLES})
