"""A queue's waiting line as a fold of ``queue-<tenant>-<queue>``: order, positions, estimated wait.

Invariant: a caller is in the line at most once; order is (priority desc, joined at, arrival);
a callback entry keeps the place its caller had.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch

from domain.callcenter.events import CallerAssigned, CallerCallbackRequested, CallerLeft, CallerQueued
from domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class Entry:
    call_sid: str
    number: str
    priority: int
    at: str
    seq: int
    kind: str = "caller"  # caller | callback
    task_id: str = ""
    node: str = ""
    step: int = 0

    def waited(self, now: datetime) -> int:
        return max(0, int((now - datetime.fromisoformat(self.at)).total_seconds()))


@dataclass(frozen=True, slots=True)
class QueueState:
    waiting: Mapping[str, Entry] = field(default_factory=dict)
    seen: frozenset[str] = frozenset()
    arrivals: int = 0
    assigned: Mapping[str, str] = field(default_factory=dict)  # call_sid -> agent
    outcome: Mapping[str, str] = field(default_factory=dict)  # call_sid -> bridged | left reason
    last_agent_by_number: Mapping[str, str] = field(default_factory=dict)
    last_assigned_agent: str = ""
    answered: int = 0
    total_wait: int = 0

    def line(self) -> list[Entry]:
        return sorted(self.waiting.values(), key=lambda e: (-e.priority, e.at, e.seq))

    def position(self, call_sid: str) -> int:
        """1-based place in line, 0 when not waiting."""
        for i, e in enumerate(self.line(), start=1):
            if e.call_sid == call_sid:
                return i
        return 0

    def estimated_wait(self, call_sid: str, staffed: int, avg_handle_seconds: int) -> int:
        """Seconds: place in line times the average handle time, shared among the staffed agents."""
        pos = self.position(call_sid)
        if pos == 0:
            return 0
        return math.ceil(pos * avg_handle_seconds / max(1, staffed))

    def has_callback_for(self, number: str) -> bool:
        return any(e.kind == "callback" and e.number == number for e in self.waiting.values())


@singledispatch
def evolve(event: DomainEvent, s: QueueState) -> QueueState:
    return s


@evolve.register
def _(e: CallerQueued, s: QueueState) -> QueueState:
    if e.call_sid in s.waiting:
        return s
    entry = Entry(e.call_sid, e.number, e.priority, e.at, s.arrivals, e.kind, e.task_id, e.node, e.step)
    return replace(s, waiting={**s.waiting, e.call_sid: entry}, seen=s.seen | {e.call_sid},
                   arrivals=s.arrivals + 1)


@evolve.register
def _(e: CallerCallbackRequested, s: QueueState) -> QueueState:
    entry = s.waiting.get(e.call_sid)
    if entry is None:
        return s
    return replace(s, waiting={**s.waiting, e.call_sid: replace(entry, kind="callback")})


@evolve.register
def _(e: CallerAssigned, s: QueueState) -> QueueState:
    waiting = {k: v for k, v in s.waiting.items() if k != e.call_sid}
    return replace(s, waiting=waiting, assigned={**s.assigned, e.call_sid: e.agent},
                   outcome={**s.outcome, e.call_sid: "bridged"},
                   last_agent_by_number={**s.last_agent_by_number, e.number: e.agent},
                   last_assigned_agent=e.agent, answered=s.answered + 1, total_wait=s.total_wait + e.waited_seconds)


@evolve.register
def _(e: CallerLeft, s: QueueState) -> QueueState:
    if e.call_sid not in s.waiting:
        return s
    waiting = {k: v for k, v in s.waiting.items() if k != e.call_sid}
    return replace(s, waiting=waiting, outcome={**s.outcome, e.call_sid: e.reason})


def fold(events: Iterable[DomainEvent]) -> QueueState:
    """The same result as applying ``evolve`` event by event, built with local dicts (lines get long)."""
    waiting: dict[str, Entry] = {}
    seen: set[str] = set()
    assigned: dict[str, str] = {}
    outcome: dict[str, str] = {}
    last_by_number: dict[str, str] = {}
    arrivals = answered = total_wait = 0
    last_agent = ""
    for e in events:
        if isinstance(e, CallerQueued):
            if e.call_sid not in waiting:
                waiting[e.call_sid] = Entry(e.call_sid, e.number, e.priority, e.at, arrivals, e.kind, e.task_id,
                                            e.node, e.step)
                seen.add(e.call_sid)
                arrivals += 1
        elif isinstance(e, CallerCallbackRequested):
            if e.call_sid in waiting:
                waiting[e.call_sid] = replace(waiting[e.call_sid], kind="callback")
        elif isinstance(e, CallerAssigned):
            waiting.pop(e.call_sid, None)
            assigned[e.call_sid] = e.agent
            outcome[e.call_sid] = "bridged"
            last_by_number[e.number] = e.agent
            last_agent = e.agent
            answered += 1
            total_wait += e.waited_seconds
        elif isinstance(e, CallerLeft):
            if e.call_sid in waiting:
                del waiting[e.call_sid]
                outcome[e.call_sid] = e.reason
    return QueueState(waiting=waiting, seen=frozenset(seen), arrivals=arrivals, assigned=assigned, outcome=outcome,
                      last_agent_by_number=last_by_number, last_assigned_agent=last_agent, answered=answered,
                      total_wait=total_wait)
