"""An agent's presence as a fold of ``agent-<tenant>-<ext>``, and what it means at a given moment.

Invariant: an agent holds at most one offer or one call at a time; a new offer is only decided
against the state at a known stream version, and written at that version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch

from domain.callcenter.events import (
    AgentCallEnded,
    AgentConnected,
    AgentDndChanged,
    AgentLegPlaced,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentOffered,
    AgentOfferMissed,
    AgentPaused,
    AgentUnpaused,
    SupervisionStarted,
)
from domain.events import DomainEvent

PRESENCE = ("logged_out", "dnd", "paused", "ringing", "on_call", "wrap_up", "available")


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: str
    call_sid: str
    queue: str
    at: str
    ring_seconds: int
    kind: str
    leg_sid: str = ""


@dataclass(frozen=True, slots=True)
class AgentState:
    agent: str = ""
    logged_in: bool = False
    paused: bool = False
    pause_reason: str = ""
    dnd: bool = False
    offer: Offer | None = None
    call_sid: str = ""
    room: str = ""
    call_leg: str = ""
    call_queue: str = ""
    wrapup_until: str = ""
    idle_since: str = ""
    misses_in_row: int = 0
    last_missed_call: str = ""  # skip: the caller this agent just missed goes to someone else first
    calls_by_day: Mapping[str, int] = field(default_factory=dict)
    talk_by_day: Mapping[str, int] = field(default_factory=dict)
    supervisions: int = 0

    def presence(self, now: datetime) -> str:
        if not self.logged_in:
            return "logged_out"
        if self.offer is not None:
            return "ringing"
        if self.call_sid:
            return "on_call"
        if self.dnd:
            return "dnd"
        if self.paused:
            return "paused"
        if self.wrapup_until and datetime.fromisoformat(self.wrapup_until) > now:
            return "wrap_up"
        return "available"

    def available(self, now: datetime) -> bool:
        return self.presence(now) == "available"

    def offer_expired(self, now: datetime, grace: int = 5) -> bool:
        """The offer rang longer than its ring time (plus grace for the gateway's own no-answer report)."""
        if self.offer is None:
            return False
        return (now - datetime.fromisoformat(self.offer.at)).total_seconds() > self.offer.ring_seconds + grace


@singledispatch
def evolve(event: DomainEvent, s: AgentState) -> AgentState:
    return s


@evolve.register
def _(e: AgentLoggedIn, s: AgentState) -> AgentState:
    return replace(s, agent=e.agent, logged_in=True, idle_since=e.at, misses_in_row=0)


@evolve.register
def _(e: AgentLoggedOut, s: AgentState) -> AgentState:
    return replace(s, agent=e.agent, logged_in=False)


@evolve.register
def _(e: AgentPaused, s: AgentState) -> AgentState:
    return replace(s, paused=True, pause_reason=e.reason)


@evolve.register
def _(e: AgentUnpaused, s: AgentState) -> AgentState:
    return replace(s, paused=False, pause_reason="", misses_in_row=0, idle_since=e.at)


@evolve.register
def _(e: AgentDndChanged, s: AgentState) -> AgentState:
    return replace(s, dnd=e.dnd)


@evolve.register
def _(e: AgentOffered, s: AgentState) -> AgentState:
    return replace(s, offer=Offer(e.offer_id, e.call_sid, e.queue, e.at, e.ring_seconds, e.kind))


@evolve.register
def _(e: AgentLegPlaced, s: AgentState) -> AgentState:
    if s.offer is None or s.offer.offer_id != e.offer_id:
        return s
    return replace(s, offer=replace(s.offer, leg_sid=e.leg_sid))


@evolve.register
def _(e: AgentOfferMissed, s: AgentState) -> AgentState:
    if s.offer is None or s.offer.offer_id != e.offer_id:
        return s
    return replace(s, offer=None, misses_in_row=s.misses_in_row + (1 if e.counts else 0),
                   last_missed_call=e.call_sid if e.reason != "taken" else s.last_missed_call)


@evolve.register
def _(e: AgentConnected, s: AgentState) -> AgentState:
    leg = e.leg_sid or (s.offer.leg_sid if s.offer else "")
    return replace(s, offer=None, call_sid=e.call_sid, room=e.room, call_leg=leg, call_queue=e.queue,
                   misses_in_row=0)


@evolve.register
def _(e: AgentCallEnded, s: AgentState) -> AgentState:
    day = e.at[:10]
    return replace(s, call_sid="", room="", call_leg="", call_queue="", wrapup_until=e.wrapup_until,
                   idle_since=e.wrapup_until,
                   calls_by_day={**s.calls_by_day, day: s.calls_by_day.get(day, 0) + 1},
                   talk_by_day={**s.talk_by_day, day: s.talk_by_day.get(day, 0) + e.talk_seconds})


@evolve.register
def _(e: SupervisionStarted, s: AgentState) -> AgentState:
    return replace(s, supervisions=s.supervisions + 1)


def fold(agent: str, events: Iterable[DomainEvent]) -> AgentState:
    s = AgentState(agent=agent)
    for e in events:
        s = evolve(e, s)
    return s
