"""The call-center tick: skip agents who do not answer, drop callers who hung up, open tasks for missed
calls, start due callbacks, and offer waiting callers to free agents.

The decisions are the domain's (``callbacks.due``, ``dispatch.missed``, ...); this module only
gathers streams and applies. ``vpbx callbacks run-due`` runs one tick; ``vpbx serve`` runs it in a
background thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.bootstrap import Services
from chalicelib.callcenter.caller import request_callback
from chalicelib.callcenter.dispatcher import (
    Placed,
    dispatch,
    end_offer,
    queues_by_id,
    ring,
)
from chalicelib.callcenter.legs import caller_gone
from chalicelib.callcenter.streams import (
    agent_stream,
    append,
    callbacks_stream,
    decide_and_append,
    load_agent,
    load_callbacks,
    load_queue,
    queue_stream,
)
from chalicelib.envelopes import decode_all
from domain.callcenter import callbacks as cb
from domain.callcenter import queue_state
from domain.callcenter.agents import evolve as evolve_agent
from domain.callcenter.agents import fold as fold_agent
from domain.callcenter.config import QueueConfig
from domain.callcenter.events import (
    AgentOffered,
    CallbackCompleted,
    CallbackStarted,
    CallerLeft,
    CallerQueued,
)
from domain.calls.events import CallStarted, CallStatusChanged, DialEnded, StepDecided
from domain.calls.state import TERMINAL
from domain.ports import ConcurrencyError
from domain.tenant import TenantSnapshot

CLOSED_BRANCHES = frozenset({"closed", "after_hours", "holiday", "night"})


@dataclass
class TickReport:
    skipped: int = 0
    abandoned: int = 0
    missed_tasks: int = 0
    called_in: int = 0
    started: int = 0
    placed: list[Placed] = field(default_factory=list)

    def line(self) -> str:
        return (f"skipped={self.skipped} abandoned={self.abandoned} missed_tasks={self.missed_tasks} "
                f"called_in={self.called_in} callbacks_started={self.started} offers={len(self.placed)}")


def tick(services: Services, tenant_id: str) -> TickReport:
    report = TickReport()
    tenant = services.tenants.get(tenant_id)
    if tenant is None:
        return report
    queues = queues_by_id(tenant)
    report.skipped = skip_unanswered(services, tenant, queues)
    report.abandoned = drop_gone_callers(services, tenant, queues)
    report.missed_tasks, report.called_in = scan_calls(services, tenant, queues)
    report.started = start_due_callbacks(services, tenant, queues)
    for q in queues:
        report.placed += dispatch(services, tenant_id, q)
    return report


def skip_unanswered(services: Services, tenant: TenantSnapshot, queues: Mapping[str, QueueConfig]) -> int:
    """Agents ringing past the queue's ring time are skipped (a miss; M in a row pauses them)."""
    now = services.clock()
    skipped = 0
    agents = {m.agent: cfg for cfg in queues.values() for m in cfg.members}
    for agent, cfg in agents.items():
        state, _ = load_agent(services, tenant.tenant_id, agent)
        if state.offer is not None and state.offer_expired(now):
            queue_cfg = queues.get(state.offer.queue, cfg)
            if end_offer(services, tenant.tenant_id, agent, state.offer.offer_id, "no-answer",
                         queue_cfg.max_misses, hangup=True):
                skipped += 1
    return skipped


def drop_gone_callers(services: Services, tenant: TenantSnapshot, queues: Mapping[str, QueueConfig]) -> int:
    """Callers who hung up while waiting leave the line; their call becomes a callback task."""
    now = services.clock()
    dropped = 0
    on_abandon = bool(tenant.section("callbacks").get("on_abandon", True))
    for q in queues:
        line, _ = load_queue(services, tenant.tenant_id, q)
        for entry in line.line():
            if entry.kind != "caller" or not caller_gone(services, entry.call_sid):
                continue
            left = decide_and_append(
                services, tenant.tenant_id, queue_stream(tenant.tenant_id, q),
                lambda ev, v, e=entry: [CallerLeft(e.call_sid, "abandoned", now.isoformat(), e.waited(now))]
                if e.call_sid in queue_state.fold(ev).waiting else [])
            if left:
                dropped += 1
                if on_abandon and entry.number:
                    request_callback(services, tenant, entry.number, "abandoned", q, source_call=entry.call_sid)
    return dropped


_cursors: dict[tuple[int, str], str] = {}
_cursor_lock = threading.Lock()


def scan_calls(services: Services, tenant: TenantSnapshot, queues: Mapping[str, QueueConfig]) -> tuple[int, int]:
    """Read new call events: unanswered inbound calls open tasks (``callbacks.missed_calls``); a customer
    who calls in closes their open task."""
    settings = tenant.section("callbacks")
    t = tenant.tenant_id
    key = (id(services.store), t)
    with _cursor_lock:
        cursor = _cursors.get(key, "")
    calls: dict[str, dict[str, object]] = {}
    callers_in: list[tuple[str, str, str]] = []
    while True:
        batch = services.store.read_log(t, cursor, 1000)
        if not batch:
            break
        cursor = batch[-1].position
        for stored, event in zip(batch, decode_all(batch), strict=False):
            if not stored.stream_id.startswith("call-"):
                continue
            info = calls.setdefault(stored.stream_id[5:], {})
            if isinstance(event, CallStarted) and event.direction == "inbound":
                info.update(number=event.from_number, inbound=True)
                callers_in.append((event.from_number, stored.recorded_at, event.call_sid))
            elif isinstance(event, DialEnded) and event.dial_status in ("completed", "answered"):
                info["answered"] = True
            elif isinstance(event, StepDecided) and event.branch in CLOSED_BRANCHES:
                info["after_hours"] = True
            elif isinstance(event, CallStatusChanged) and event.status in TERMINAL:
                info["ended"] = True
    with _cursor_lock:
        _cursors[key] = cursor
    called_in = close_called_in(services, tenant, callers_in)
    if not settings.get("missed_calls"):
        return 0, called_in
    in_queues: set[str] = set()
    for q in queues:
        line, _ = load_queue(services, t, q)
        in_queues |= line.seen
    opened = 0
    for sid, info in calls.items():
        if info.get("inbound") and info.get("ended") and not info.get("answered") and sid not in in_queues:
            reason = "after_hours" if info.get("after_hours") else "no_answer"
            if request_callback(services, tenant, str(info["number"]), reason, "", source_call=sid):
                opened += 1
    return opened, called_in


def close_called_in(services: Services, tenant: TenantSnapshot, callers: list[tuple[str, str, str]]) -> int:
    if not callers:
        return 0
    t = tenant.tenant_id
    now = services.clock().isoformat()

    def decide(events: list, version: int) -> list:  # type: ignore[type-arg]
        book = cb.fold(events)
        out = []
        for task in book.open_tasks():
            if task.source_call.startswith("c2c:"):
                continue
            created = datetime.fromisoformat(task.created_at)
            if any(n == task.number and sid != task.source_call and datetime.fromisoformat(at) > created
                   for n, at, sid in callers):
                out.append(CallbackCompleted(task.task_id, "customer_called_in", now))
        return out

    return len(decide_and_append(services, t, callbacks_stream(t), decide))


def start_due_callbacks(services: Services, tenant: TenantSnapshot, queues: Mapping[str, QueueConfig]) -> int:
    """Due tasks (in business hours) join their queue as callback entries; agent-bound redials ring the agent."""
    t = tenant.tenant_id
    settings = tenant.section("callbacks")
    hours = cb.business_hours(settings.get("business_hours"))
    now = services.clock()
    local = now.astimezone(ZoneInfo(tenant.timezone))
    book, _ = load_callbacks(services, t)
    started = 0
    for task in cb.due(book, local, hours):
        queue = task.queue if task.queue in queues else next(iter(queues), "")
        if task.agent:
            if not _offer_redial(services, tenant, task):
                continue
        elif not queue:
            continue
        written = decide_and_append(
            services, t, callbacks_stream(t),
            lambda ev, v, k=task: [CallbackStarted(k.task_id, k.attempts + 1, now.isoformat())]
            if (cur := cb.fold(ev).tasks.get(k.task_id)) and cur.open and not cur.running else [])
        if not written:
            continue
        started += 1
        if not task.agent:
            entry_sid = f"cb:{task.task_id}"
            decide_and_append(services, t, queue_stream(t, queue),
                              lambda ev, v, k=task, s=entry_sid: [] if s in queue_state.fold(ev).waiting else [
                                  CallerQueued(s, k.number, 0, now.isoformat(), kind="callback", task_id=k.task_id)])
    return started


def _offer_redial(services: Services, tenant: TenantSnapshot, task: cb.Task) -> bool:
    """Ring the task's agent first (auto-redial of an outbound call), if that agent is free now."""
    t = tenant.tenant_id
    state, version = load_agent(services, t, task.agent)
    now = services.clock()
    if not state.available(now):
        return False
    offer_id = services.new_id()
    try:
        append(services, t, agent_stream(t, task.agent),
               [AgentOffered(task.agent, offer_id, f"cb:{task.task_id}", "", now.isoformat(), 30, "redial")],
               version, now)
    except ConcurrencyError:
        return False
    cfg = QueueConfig(queue_id="", ring_seconds=30)
    placed = ring(services, tenant, cfg, task.agent, offer_id,
                  queue_state.Entry(f"cb:{task.task_id}", task.number, 0, now.isoformat(), 0, "callback"))
    return placed is not None


def double_bookings(events: list) -> list[str]:  # type: ignore[type-arg]
    """Audit an agent stream: offers made while another offer or call was still open (must be empty)."""
    problems = []
    state = fold_agent("", [])
    for e in events:
        if isinstance(e, AgentOffered) and (state.offer is not None or state.call_sid):
            problems.append(f"offer {e.offer_id} for {e.call_sid} while busy with "
                            f"{state.offer.call_sid if state.offer else state.call_sid}")
        state = evolve_agent(e, state)
    return problems


def outcome_counts(services: Services, tenant: str, queue: str) -> Counter[str]:
    line, _ = load_queue(services, tenant, queue)
    return Counter(line.outcome.values())

