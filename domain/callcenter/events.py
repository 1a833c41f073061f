"""Call-center events. Streams: ``agent-<tenant>-<ext>``, ``queue-<tenant>-<queue>``, ``callbacks-<tenant>``,
``widget-<tenant>``. Past tense, subject first, stable wire names; times are ISO strings passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.events import DomainEvent, event

# --- agent stream -----------------------------------------------------------------------------


@event
@dataclass(frozen=True, slots=True)
class AgentLoggedIn(DomainEvent):
    event_type = "AgentLoggedIn"
    agent: str
    at: str
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentLoggedOut(DomainEvent):
    event_type = "AgentLoggedOut"
    agent: str
    at: str
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentPaused(DomainEvent):
    """Paused by the agent or a supervisor, or automatically (``auto``) after ``misses`` missed offers."""

    event_type = "AgentPaused"
    agent: str
    reason: str
    at: str
    auto: bool = False
    misses: int = 0
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentUnpaused(DomainEvent):
    event_type = "AgentUnpaused"
    agent: str
    at: str
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentDndChanged(DomainEvent):
    event_type = "AgentDndChanged"
    agent: str
    dnd: bool
    at: str
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentOffered(DomainEvent):
    """A call is ringing this agent. Appended at the agent stream's expected version: one offer at a time."""

    event_type = "AgentOffered"
    agent: str
    offer_id: str
    call_sid: str
    queue: str
    at: str
    ring_seconds: int = 20
    kind: str = "queue"  # queue | callback | click_to_call


@event
@dataclass(frozen=True, slots=True)
class AgentLegPlaced(DomainEvent):
    """The gateway accepted the outbound leg that rings the agent at ``address`` (a SIP URI, ``client:<id>``,
    or a phone number: then the leg is a paid call to the phone network; empty in older events)."""

    event_type = "AgentLegPlaced"
    agent: str
    offer_id: str
    leg_sid: str
    address: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentOfferMissed(DomainEvent):
    """The offer ended without a conversation; ``counts`` is false when it was not the agent's fault."""

    event_type = "AgentOfferMissed"
    agent: str
    offer_id: str
    call_sid: str
    reason: str  # no-answer | busy | failed | caller-gone | taken
    at: str
    counts: bool = True


@event
@dataclass(frozen=True, slots=True)
class AgentConnected(DomainEvent):
    event_type = "AgentConnected"
    agent: str
    offer_id: str
    call_sid: str
    queue: str
    room: str
    at: str
    leg_sid: str = ""


@event
@dataclass(frozen=True, slots=True)
class AgentCallEnded(DomainEvent):
    event_type = "AgentCallEnded"
    agent: str
    call_sid: str
    queue: str
    at: str
    talk_seconds: int
    wrapup_until: str


@event
@dataclass(frozen=True, slots=True)
class SupervisionStarted(DomainEvent):
    """A supervisor listens, whispers (coach) or barges into this agent's call."""

    event_type = "SupervisionStarted"
    agent: str
    supervisor: str
    mode: str  # listen | whisper | barge
    call_sid: str
    room: str
    at: str
    leg_sid: str = ""
    actor: str = ""


# --- queue stream -----------------------------------------------------------------------------


@event
@dataclass(frozen=True, slots=True)
class CallerQueued(DomainEvent):
    event_type = "CallerQueued"
    call_sid: str
    number: str
    priority: int
    at: str
    node: str = ""
    step: int = 0
    kind: str = "caller"  # caller | callback (a scheduled callback task waiting for an agent)
    task_id: str = ""


@event
@dataclass(frozen=True, slots=True)
class CallerCallbackRequested(DomainEvent):
    """The waiting caller pressed the callback key: they hang up and KEEP their place."""

    event_type = "CallerCallbackRequested"
    call_sid: str
    number: str
    at: str


@event
@dataclass(frozen=True, slots=True)
class CallerAssigned(DomainEvent):
    """The agent answered first: the caller is theirs (written at the queue's expected version)."""

    event_type = "CallerAssigned"
    call_sid: str
    agent: str
    offer_id: str
    number: str
    at: str
    waited_seconds: int = 0


@event
@dataclass(frozen=True, slots=True)
class CallerLeft(DomainEvent):
    event_type = "CallerLeft"
    call_sid: str
    reason: str  # abandoned | timeout | exit | empty | transferred | callback-failed
    at: str
    waited_seconds: int = 0


@event
@dataclass(frozen=True, slots=True)
class CallerRefused(DomainEvent):
    """The queue would not take the caller (full, or empty with join-empty off)."""

    event_type = "CallerRefused"
    call_sid: str
    reason: str
    at: str


# --- callbacks stream ---------------------------------------------------------------------------


@event
@dataclass(frozen=True, slots=True)
class CallbackRequested(DomainEvent):
    event_type = "CallbackRequested"
    task_id: str
    number: str
    reason: str  # queue | abandoned | no_answer | after_hours | widget | busy_redial | timeout
    queue: str
    due_at: str
    at: str
    name: str = ""
    source_call: str = ""
    max_attempts: int = 3
    agent: str = ""  # click-to-call redial: the agent to ring first


@event
@dataclass(frozen=True, slots=True)
class CallbackStarted(DomainEvent):
    """The task joined its queue (as a callback entry) to wait for a free agent."""

    event_type = "CallbackStarted"
    task_id: str
    attempt: int
    at: str


@event
@dataclass(frozen=True, slots=True)
class CallbackAttemptFailed(DomainEvent):
    event_type = "CallbackAttemptFailed"
    task_id: str
    attempt: int
    outcome: str  # busy | no-answer | failed
    at: str
    next_due_at: str = ""


@event
@dataclass(frozen=True, slots=True)
class CallbackCompleted(DomainEvent):
    event_type = "CallbackCompleted"
    task_id: str
    how: str  # reached | customer_called_in | attempts_exhausted | cancelled
    at: str
    agent: str = ""


# --- widget stream -------------------------------------------------------------------------------


@event
@dataclass(frozen=True, slots=True)
class WidgetCallbackAccepted(DomainEvent):
    event_type = "WidgetCallbackAccepted"
    number: str
    client: str  # hashed IP address
    at: str
    task_id: str = ""
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
