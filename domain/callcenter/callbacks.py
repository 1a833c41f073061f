"""Callback tasks as a fold of ``callbacks-<tenant>``, and the scheduler's pure decisions.

Invariant: a number has at most one open task (no duplicate callbacks); a task ends when the
customer is reached, calls in by themselves, or the attempts run out; retries back off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from functools import singledispatch
from typing import Any

from domain.callcenter.events import (
    CallbackAttemptFailed,
    CallbackCompleted,
    CallbackRequested,
    CallbackStarted,
)
from domain.events import DomainEvent

DEFAULT_RETRY_SECONDS = (300, 900, 3600)


@dataclass(frozen=True, slots=True)
class Task:
    task_id: str
    number: str
    reason: str
    queue: str
    due_at: str
    created_at: str
    name: str = ""
    source_call: str = ""
    max_attempts: int = 3
    agent: str = ""
    attempts: int = 0
    running: bool = False  # waiting in its queue for an agent, or being dialled
    done: str = ""  # how it ended

    @property
    def open(self) -> bool:
        return not self.done


@dataclass(frozen=True, slots=True)
class CallbackBook:
    tasks: Mapping[str, Task] = field(default_factory=dict)
    sources: frozenset[str] = frozenset()  # calls that already produced a task

    def open_for(self, number: str) -> Task | None:
        return next((t for t in self.tasks.values() if t.open and t.number == number), None)

    def open_tasks(self) -> list[Task]:
        return sorted((t for t in self.tasks.values() if t.open), key=lambda t: (t.due_at, t.task_id))


@singledispatch
def evolve(event: DomainEvent, s: CallbackBook) -> CallbackBook:
    return s


@evolve.register
def _(e: CallbackRequested, s: CallbackBook) -> CallbackBook:
    task = Task(e.task_id, e.number, e.reason, e.queue, e.due_at, e.at, e.name, e.source_call, e.max_attempts,
                e.agent)
    sources = s.sources | {e.source_call} if e.source_call else s.sources
    return replace(s, tasks={**s.tasks, e.task_id: task}, sources=sources)


def _update(s: CallbackBook, task_id: str, **changes: Any) -> CallbackBook:
    task = s.tasks.get(task_id)
    if task is None:
        return s
    return replace(s, tasks={**s.tasks, task_id: replace(task, **changes)})


@evolve.register
def _(e: CallbackStarted, s: CallbackBook) -> CallbackBook:
    return _update(s, e.task_id, attempts=e.attempt, running=True)


@evolve.register
def _(e: CallbackAttemptFailed, s: CallbackBook) -> CallbackBook:
    return _update(s, e.task_id, running=False, due_at=e.next_due_at or e.at)


@evolve.register
def _(e: CallbackCompleted, s: CallbackBook) -> CallbackBook:
    return _update(s, e.task_id, running=False, done=e.how)


def fold(events: Iterable[DomainEvent]) -> CallbackBook:
    s = CallbackBook()
    for e in events:
        s = evolve(e, s)
    return s


@dataclass(frozen=True, slots=True)
class BusinessHours:
    days: frozenset[int] = frozenset(range(7))  # Monday = 0
    start: time = time(0, 0)
    end: time = time(23, 59, 59)

    def open_at(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, local: datetime) -> datetime:
        """The first moment at or after ``local`` inside business hours (within two weeks)."""
        probe = local
        for _ in range(15):
            if probe.weekday() in self.days:
                start = probe.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
                if probe < start:
                    return start
                if probe.time() < self.end:
                    return probe
            probe = (probe + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return local


def business_hours(raw: Mapping[str, Any] | None) -> BusinessHours:
    if not raw:
        return BusinessHours()
    try:
        days = frozenset(int(d) for d in raw.get("days", range(7)))
        start = time.fromisoformat(str(raw.get("start", "00:00")))
        end = time.fromisoformat(str(raw.get("end", "23:59:59")))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"callbacks.business_hours: {exc}") from None
    if not days <= set(range(7)):
        raise ValueError(f"callbacks.business_hours.days: weekdays 0 (Monday) .. 6, got {sorted(days)}")
    return BusinessHours(days, start, end)


def due(book: CallbackBook, local_now: datetime, hours: BusinessHours) -> list[Task]:
    """Open tasks that should start now: not running, due, and inside business hours."""
    if not hours.open_at(local_now):
        return []
    return [t for t in book.open_tasks() if not t.running and datetime.fromisoformat(t.due_at) <= local_now]


def retry_after(attempt: int, retry_seconds: Sequence[int] = DEFAULT_RETRY_SECONDS) -> int:
    """Back-off before attempt ``attempt + 1``: the configured ladder, its last step repeated."""
    steps = list(retry_seconds) or list(DEFAULT_RETRY_SECONDS)
    return steps[min(attempt - 1, len(steps) - 1)] if attempt >= 1 else 0


def after_failure(task: Task, outcome: str, now: datetime, hours: BusinessHours,
                  retry_seconds: Sequence[int] = DEFAULT_RETRY_SECONDS) -> DomainEvent:
    """What a failed attempt leads to: another try later (in business hours), or giving up."""
    if task.attempts >= task.max_attempts:
        return CallbackCompleted(task.task_id, "attempts_exhausted", now.isoformat())
    nxt = hours.next_open(now + timedelta(seconds=retry_after(task.attempts, retry_seconds)))
    return CallbackAttemptFailed(task.task_id, task.attempts, outcome, now.isoformat(), nxt.isoformat())


def request(book: CallbackBook, *, task_id: str, number: str, reason: str, queue: str, now: datetime,
            hours: BusinessHours, name: str = "", source_call: str = "", max_attempts: int = 3,
            agent: str = "", delay_seconds: int = 0) -> list[DomainEvent]:
    """A new task, unless the number already has one open or this call already produced one."""
    if book.open_for(number) is not None or (source_call and source_call in book.sources):
        return []
    due_at = hours.next_open(now + timedelta(seconds=delay_seconds))
    return [CallbackRequested(task_id=task_id, number=number, reason=reason, queue=queue,
                              due_at=due_at.isoformat(), at=now.isoformat(), name=name, source_call=source_call,
                              max_attempts=max_attempts, agent=agent)]


def rate_limited(times: Sequence[datetime], now: datetime, limit: int, window_seconds: int) -> bool:
    """True if ``limit`` or more of ``times`` fall inside the window ending now."""
    start = now - timedelta(seconds=window_seconds)
    return sum(1 for t in times if t > start) >= limit
