"""The agent's and the called-back customer's legs: answer, bridge, status callbacks.

Invariant: a caller is given to exactly one agent: ``CallerAssigned`` is written at the queue
stream's expected version, and an agent who answers second is told the call was taken.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from chalicelib.bootstrap import Services
from chalicelib.callcenter.caller import bridge_instructions, request_callback, room_for
from chalicelib.callcenter.dispatcher import cc_url, dispatch, end_offer, max_misses_for, tenant_number
from chalicelib.callcenter.streams import (
    agent_stream,
    callbacks_stream,
    decide_and_append,
    load_agent,
    load_callbacks,
    queue_stream,
)
from chalicelib.calls import call_stream
from chalicelib.envelopes import decode_all, wrap
from chalicelib.gateway_api import GatewayError
from chalicelib.laml import render_laml
from domain.callcenter import callbacks as cb
from domain.callcenter import queue_state
from domain.callcenter.agents import fold as fold_agent
from domain.callcenter.config import queue_config, queues_of
from domain.callcenter.events import (
    AgentCallEnded,
    AgentConnected,
    CallbackCompleted,
    CallerAssigned,
    CallerLeft,
)
from domain.calls.events import placed_leg_events
from domain.calls.state import fold as fold_call
from domain.instructions import Hangup, Instruction, Say
from domain.ports import ConcurrencyError
from domain.tenant import TenantSnapshot

log = logging.getLogger("vpbx.callcenter")

TERMINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def load_callbacks_events(services: Services, t: str) -> list:  # type: ignore[type-arg]
    stored, _ = services.store.load(callbacks_stream(t))
    return decode_all(stored)


def caller_gone(services: Services, call_sid: str) -> bool:
    stored, _ = services.store.load(call_stream(call_sid))
    return bool(stored) and fold_call(decode_all(stored)).ended


def _say_hangup(tenant: TenantSnapshot, text: str) -> tuple[Instruction, ...]:
    return (Say(text=text, language=tenant.language), Hangup())


def handle_agent_answer(services: Services, tenant: TenantSnapshot, agent: str, offer_id: str,
                        params: Mapping[str, str]) -> str:
    """The agent picked up: claim the caller, join the agent to the room, bring the other party in."""
    t = tenant.tenant_id
    base = services.settings.public_url
    state, _ = load_agent(services, t, agent)
    current = state.offer
    if state.call_sid and state.room and state.call_leg == params.get("CallSid"):  # a redelivered answer webhook
        return render_laml(bridge_instructions(state.room), base)
    if current is None or current.offer_id != offer_id:
        return render_laml(_say_hangup(tenant, "This call is no longer waiting."), base)
    max_misses = max_misses_for(tenant, current.queue)
    if current.kind == "click_to_call":
        return _connect(services, tenant, agent, offer_id, current.call_sid, "", params,
                        intro="Connecting your call.", customer=current.call_sid.split(":", 2)[2])
    if current.kind == "redial":
        book, _ = load_callbacks(services, t)
        task = book.tasks.get(current.call_sid.split(":", 1)[1])
        if task is None or not task.open:
            end_offer(services, t, agent, offer_id, "withdrawn", 0)
            return render_laml(_say_hangup(tenant, "This callback is no longer needed."), base)
        return _connect(services, tenant, agent, offer_id, current.call_sid, "", params,
                        intro="Calling the customer again now.", customer=task.number)
    now = services.clock()
    gone = current.kind == "queue" and caller_gone(services, current.call_sid)

    def claim(events: list, version: int) -> list:  # type: ignore[type-arg]
        line = queue_state.fold(events)
        entry = line.waiting.get(current.call_sid)
        if entry is None:
            return []
        if gone:
            return [CallerLeft(entry.call_sid, "abandoned", now.isoformat(), entry.waited(now))]
        return [CallerAssigned(entry.call_sid, agent, offer_id, entry.number, now.isoformat(), entry.waited(now))]

    written = decide_and_append(services, t, queue_stream(t, current.queue), claim)
    if not written or isinstance(written[0], CallerLeft):
        end_offer(services, t, agent, offer_id, "caller-gone" if gone else "taken", max_misses)
        return render_laml(_say_hangup(tenant, "The caller is no longer waiting."), base)
    _withdraw_others(services, tenant, current.queue, current.call_sid, agent)
    entry_number = str(getattr(written[0], "number", ""))
    if current.kind == "callback":
        return _connect(services, tenant, agent, offer_id, current.call_sid, current.queue, params,
                        intro="Calling the customer back now.", customer=entry_number)
    laml = _connect(services, tenant, agent, offer_id, current.call_sid, current.queue, params, intro="")
    try:
        services.gateway.update_call(current.call_sid, url=cc_url(services, t, "bridge", room=room_for(current.call_sid)))
    except GatewayError:
        pass  # the caller's next hold-loop fetch sees the assignment and joins the room itself
    return laml


def _connect(services: Services, tenant: TenantSnapshot, agent: str, offer_id: str, call_sid: str, queue: str,
             params: Mapping[str, str], intro: str, customer: str = "") -> str:
    t = tenant.tenant_id
    room = room_for(call_sid)
    now = services.clock()
    decide_and_append(services, t, agent_stream(t, agent),
                      lambda ev, v: [AgentConnected(agent, offer_id, call_sid, queue, room, now.isoformat(),
                                                    params.get("CallSid", ""))]
                      if (s := fold_agent(agent, ev)).offer and s.offer.offer_id == offer_id else [])
    if customer:
        call_customer(services, tenant, customer, room, agent=agent, call_sid=call_sid)
    out: tuple[Instruction, ...] = bridge_instructions(room)
    if intro:
        out = (Say(text=intro, language=tenant.language), *out)
    return render_laml(out, services.settings.public_url)


def call_customer(services: Services, tenant: TenantSnapshot, number: str, room: str, *, agent: str,
                  call_sid: str) -> None:
    t = tenant.tenant_id
    try:
        placed = services.gateway.create_call(
            number, tenant_number(tenant), cc_url(services, t, "customer", room=room, agent=agent, number=number),
            status_callback=cc_url(services, t, "customer-status", agent=agent, call=call_sid, number=number),
            timeout=30)
    except GatewayError:
        customer_outcome(services, tenant, agent, call_sid, number, "failed", answered=False)
        return
    # the call starts now (its CDR's time, its ring time), not at its first webhook (the answer, or only the end)
    if placed.sid:
        record_placed_leg(services, tenant, {"CallSid": placed.sid, "From": tenant_number(tenant), "To": number,
                                             "Direction": "outbound-api"}, to=number, agent=agent,
                          request=f"placed-{placed.sid}")


def record_placed_leg(services: Services, tenant: TenantSnapshot, params: Mapping[str, str], *, to: str,
                      agent: str, request: str) -> None:
    """Keep a webhook of a customer leg vpbx placed as that call's events (``placed_leg_events``), once per
    request (a redelivery adds nothing). A call id another tenant owns is left alone. Never fails the leg:
    a failure to record is logged (the call goes on; its CDR misses this step)."""
    stream = call_stream(params.get("CallSid", ""))
    try:
        for _ in range(5):
            stored, version = services.store.load(stream)
            if stored and (stored[0].tenant_id != tenant.tenant_id or any(e.correlation_id == request for e in stored)):
                return
            events = placed_leg_events(bool(stored), params, to=to, caller_id=tenant_number(tenant), placed_by=agent)
            if not events:  # e.g. the placement's own record, after the gateway's first webhook beat it here
                return
            try:
                services.store.append(stream, wrap(events, tenant_id=tenant.tenant_id, stream_id=stream,
                                                   expected_version=version, now=services.clock(),
                                                   new_id=services.new_id, correlation_id=request), version)
                return
            except ConcurrencyError:
                continue
        log.warning("gave up recording %s of the placed call %s: other writers kept winning", request, stream)
    except Exception:
        log.exception("could not record %s of the placed call %s", request, stream)


def _withdraw_others(services: Services, tenant: TenantSnapshot, queue: str, call_sid: str, winner: str) -> None:
    """Ring-all: the other agents still ringing for this caller are released (not counted as misses)."""
    cfg = queue_config(tenant, queue)
    for m in cfg.members if cfg else ():
        if m.agent == winner:
            continue
        s, _ = load_agent(services, tenant.tenant_id, m.agent)
        if s.offer is not None and s.offer.call_sid == call_sid:
            end_offer(services, tenant.tenant_id, m.agent, s.offer.offer_id, "taken", 0, hangup=True)


def handle_agent_status(services: Services, tenant: TenantSnapshot, agent: str, offer_id: str,
                        params: Mapping[str, str]) -> None:
    """The agent leg's status callback: a miss if it never connected, the end of the call if it did."""
    status = params.get("CallStatus", "")
    if status not in TERMINAL:
        return
    t = tenant.tenant_id
    state, _ = load_agent(services, t, agent)
    if state.offer is not None and state.offer.offer_id == offer_id:
        queue = state.offer.queue
        reason = "no-answer" if status in ("no-answer", "completed") else status
        end_offer(services, t, agent, offer_id, "withdrawn" if status == "canceled" else reason,
                  max_misses_for(tenant, queue))
        if queue:
            dispatch(services, t, queue)
        return
    if state.call_sid and (not state.call_leg or state.call_leg == params.get("CallSid")):
        end_agent_call(services, tenant, agent, int(params.get("CallDuration", "0") or 0))


def end_agent_call(services: Services, tenant: TenantSnapshot, agent: str, talk_seconds: int) -> None:
    from datetime import timedelta

    t = tenant.tenant_id
    now = services.clock()
    state, _ = load_agent(services, t, agent)
    cfg = queue_config(tenant, state.call_queue) if state.call_queue else None
    wrapup = cfg.wrapup_seconds if cfg else int(tenant.section("callcenter").get("wrapup_seconds", 0))
    until = (now + timedelta(seconds=wrapup)).isoformat()
    decide_and_append(services, t, agent_stream(t, agent),
                      lambda ev, v: [AgentCallEnded(agent, s.call_sid, s.call_queue, now.isoformat(), talk_seconds,
                                                    until)] if (s := fold_agent(agent, ev)).call_sid else [])
    if wrapup == 0:
        for queue in queues_of(tenant, agent):
            dispatch(services, t, queue.queue_id)


def handle_customer_status(services: Services, tenant: TenantSnapshot, query: Mapping[str, str],
                           params: Mapping[str, str]) -> None:
    status = params.get("CallStatus", "")
    if status not in TERMINAL:
        return
    answered = status == "completed" and int(params.get("CallDuration", "0") or 0) > 0
    customer_outcome(services, tenant, query["agent"], query["call"], query.get("number", ""), status, answered)


def customer_outcome(services: Services, tenant: TenantSnapshot, agent: str, call_sid: str, number: str,
                     status: str, answered: bool) -> None:
    """A called-back (or click-to-call) customer answered or not: finish or retry the task; free the agent."""
    from zoneinfo import ZoneInfo

    t = tenant.tenant_id
    now = services.clock()
    task_id = call_sid.split(":", 1)[1] if call_sid.startswith("cb:") else ""
    if task_id:
        settings = tenant.section("callbacks")
        hours = cb.business_hours(settings.get("business_hours"))
        retry = tuple(settings.get("retry_seconds", cb.DEFAULT_RETRY_SECONDS))
        task_now = cb.fold(load_callbacks_events(services, t)).tasks.get(task_id)
        if task_now is not None and task_now.reason == "busy_redial":
            retry = (int(tenant.section("outbound").get("redial_spacing_seconds", 60)),)
        local = now.astimezone(ZoneInfo(tenant.timezone))

        def decide(events: list, version: int) -> list:  # type: ignore[type-arg]
            task = cb.fold(events).tasks.get(task_id)
            if task is None or not task.open or not task.running:
                return []
            if answered:
                return [CallbackCompleted(task_id, "reached", now.isoformat(), agent)]
            return [cb.after_failure(task, status, local, hours, retry)]

        decide_and_append(services, t, callbacks_stream(t), decide)
    elif call_sid.startswith("c2c:") and status == "busy":
        redial_busy(services, tenant, agent, call_sid, number)
    elif not answered and not call_sid.startswith("c2c:"):
        # a queue callback whose customer did not pick up: keep trying as a callback task
        request_callback(services, tenant, number, "queue", "", source_call=call_sid)
    state, _ = load_agent(services, t, agent)
    if state.call_sid == call_sid and state.call_leg:
        try:
            services.gateway.hangup(state.call_leg)  # the agent's status callback ends the agent's call
        except GatewayError:
            end_agent_call(services, tenant, agent, 0)
    elif state.call_sid == call_sid and not answered:
        end_agent_call(services, tenant, agent, 0)


def redial_busy(services: Services, tenant: TenantSnapshot, agent: str, call_sid: str, number: str) -> None:
    """Outbound click-to-call found the customer busy: a redial task (agent first again) after a spacing."""
    settings = tenant.section("outbound")
    attempts = int(settings.get("redial_attempts", 2))
    if attempts <= 0:
        return
    book, _ = load_callbacks(services, tenant.tenant_id)
    if number and book.open_for(number) is None:
        request_callback(services, tenant, number, "busy_redial", "", agent=agent, source_call=call_sid,
                         max_attempts=attempts, delay_seconds=int(settings.get("redial_spacing_seconds", 60)))
