"""Call state as a fold of its events, and the call-status machine.

Invariants: a terminal status is final; non-terminal status callbacks apply only in
SequenceNumber order (gateways deliver them out of order); each request id answers once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import singledispatch
from typing import Any

from domain.calls.events import (
    CallStarted,
    CallStatusChanged,
    DialEnded,
    DigitsGathered,
    StepDecided,
    VoicemailLeft,
)
from domain.events import DomainEvent

TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress", "answered"}) | TERMINAL


@dataclass(frozen=True)
class CallState:
    call_sid: str = ""
    tenant_id: str = ""
    from_number: str = ""
    to_number: str = ""
    direction: str = ""
    status: str = "new"
    status_seq: int = -1
    plan_id: str = ""
    plan_version: int = 0
    step: int = 0
    awaiting: str = ""
    scratch: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    responses: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    last_request: str = ""
    last_instructions: tuple[dict[str, Any], ...] = ()
    digits: tuple[str, ...] = ()
    voicemails: int = 0

    @property
    def started(self) -> bool:
        return self.status != "new"

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL


def updated(s: CallState, **changes: Any) -> CallState:
    """``dataclasses.replace`` for the hot fold path (a call is re-folded on every webhook)."""
    new = object.__new__(CallState)
    # Frozen forbids attribute assignment, not filling the instance dict of a fresh copy.
    new.__dict__.update(s.__dict__)
    new.__dict__.update(changes)
    return new


@singledispatch
def evolve(event: DomainEvent, state: CallState) -> CallState:
    """Apply one event; event types this fold does not care about leave the state as it is."""
    return state


@evolve.register
def _(e: CallStarted, s: CallState) -> CallState:
    return updated(s, call_sid=e.call_sid, from_number=e.from_number, to_number=e.to_number,
                   direction=e.direction, status=e.status or "ringing", plan_id=e.plan_id,
                   plan_version=e.plan_version)


@evolve.register
def _(e: StepDecided, s: CallState) -> CallState:
    emitted = tuple(e.instructions)
    scratch = s.scratch
    if e.scratch:
        scratch = {**scratch, e.node: e.scratch}
    responses = s.responses
    if e.request_id:
        responses = {**responses, e.request_id: responses.get(e.request_id, ()) + emitted}
    same_request = bool(e.request_id) and e.request_id == s.last_request
    last = s.last_instructions + emitted if same_request else emitted
    return updated(s, step=e.step, awaiting=e.node if e.awaiting else "", scratch=scratch,
                   responses=responses, last_request=e.request_id, last_instructions=last)


@evolve.register
def _(e: DigitsGathered, s: CallState) -> CallState:
    return updated(s, digits=s.digits + (e.digits,))


@evolve.register
def _(e: VoicemailLeft, s: CallState) -> CallState:
    return updated(s, voicemails=s.voicemails + 1)


@evolve.register
def _(e: DialEnded, s: CallState) -> CallState:
    return s


@evolve.register
def _(e: CallStatusChanged, s: CallState) -> CallState:
    return apply_status(s, e.status, e.sequence_number)


def apply_status(s: CallState, status: str, seq: int) -> CallState:
    """The status machine: terminal is final, otherwise only newer sequence numbers apply."""
    if s.ended:
        return s
    if status in TERMINAL:
        return updated(s, status=status, status_seq=max(seq, s.status_seq))
    if seq >= 0 and seq <= s.status_seq:
        return s
    return updated(s, status=status, status_seq=max(seq, s.status_seq))


def fold(events: Iterable[DomainEvent], state: CallState | None = None) -> CallState:
    s = state or CallState()
    for e in events:
        s = evolve(e, s)
    return s


# A persisted snapshot is read by code that may be newer than the code that wrote it: the schema
# names both a manual version (bump it when a field keeps its name but changes meaning) and a hash
# of CallState's fields with their declared types, so any change of shape invalidates old snapshots.
SNAPSHOT_VERSION = 1


def snapshot_schema(cls: type, version: int = SNAPSHOT_VERSION) -> str:
    """``callstate-<version>-<hash of the dataclass's field names and declared types>``."""
    shape = ",".join(f"{f.name}:{f.type}" for f in fields(cls))
    return f"callstate-{version}-{hashlib.sha256(shape.encode()).hexdigest()[:12]}"


SNAPSHOT_SCHEMA = snapshot_schema(CallState)
_DEFAULT = CallState()
_NAMES = tuple(f.name for f in fields(CallState))
_NAME_SET = frozenset(_NAMES)
# What JSON gives back for each field: tuple fields arrive as lists; ``responses`` maps to tuples.
_KINDS = {name: type(getattr(_DEFAULT, name)) for name in _NAMES}
_TUPLE_VALUES = frozenset({"responses"})


def to_snapshot(state: CallState) -> dict[str, Any]:
    """The state as plain JSON data (tuples as lists, mappings as dicts); ``from_snapshot`` inverts it."""
    return {name: _plain(getattr(state, name)) for name in _NAMES}


def from_snapshot(doc: Mapping[str, Any]) -> CallState:
    """The state ``to_snapshot`` wrote; a missing, extra or mistyped field is a ValueError naming it."""
    if not isinstance(doc, Mapping):
        raise ValueError(f"call state snapshot is {type(doc).__name__}, expected an object")
    if doc.keys() != _NAME_SET:
        missing, unknown = sorted(_NAME_SET - doc.keys()), sorted(doc.keys() - _NAME_SET)
        raise ValueError(f"call state snapshot fields: missing {missing}, unknown {unknown}")
    values: dict[str, Any] = {}
    for name, kind in _KINDS.items():
        value = doc[name]
        if kind is tuple:
            value = tuple(_checked(name, value, list))
        elif name in _TUPLE_VALUES:
            value = {k: tuple(v if type(v) is list else _checked(f"{name}.{k}", v, list))
                     for k, v in _checked(name, value, dict).items()}
        else:
            _checked(name, value, kind)
        values[name] = value
    # As in ``updated``: a cold webhook builds one of these, so skip the frozen __init__'s setattrs.
    state = object.__new__(CallState)
    state.__dict__.update(values)
    return state


def _checked(name: str, value: Any, kind: type) -> Any:
    if type(value) is not kind:  # exact: JSON gives exactly these, and a bool is not an int here
        raise ValueError(f"call state snapshot field {name!r} is {type(value).__name__}, expected {kind.__name__}")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value
