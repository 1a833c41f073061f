"""The caller's side of a queue: join, the hold loop (music, position, keys), leaving, resuming the plan.

The gateway keeps the caller in a ``<Gather>`` hold loop on ``/callcenter/<t>/queue``; when an
agent answers, vpbx redirects the caller (REST update) into the agent's conference. When the
caller leaves without an agent, the routing plan resumes at the queue node with ``QueueResult``.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.bootstrap import Services
from chalicelib.callcenter.dispatcher import cc_url, dispatch, gather_agents
from chalicelib.callcenter.streams import callbacks_stream, decide_and_append, queue_stream
from chalicelib.calls import call_stream
from chalicelib.envelopes import decode_all, wrap
from chalicelib.laml import render_laml
from domain.callcenter import callbacks as cb
from domain.callcenter import queue_state
from domain.callcenter.config import QueueConfig, caller_priority, queue_config
from domain.callcenter.events import CallerCallbackRequested, CallerLeft, CallerQueued, CallerRefused
from domain.calls.state import fold as fold_call
from domain.instructions import Conference, Dial, Gather, Hangup, Instruction, Play, Redirect, Say
from domain.ports import ConcurrencyError
from domain.routing.engine import Callback, decide
from domain.tenant import TenantSnapshot


def room_for(call_sid: str) -> str:
    return f"cc-{call_sid}"


def bridge_instructions(room: str) -> tuple[Instruction, ...]:
    conf = Conference(name=room, beep=False, end_conference_on_exit=True)
    return (Dial(targets=(conf,)), Hangup())


def staffed(states: Mapping[str, object]) -> int:
    return sum(1 for s in states.values() if getattr(s, "logged_in", False))


def handle_queue(services: Services, tenant: TenantSnapshot, query: Mapping[str, str],
                 params: Mapping[str, str], request_id: str) -> str:
    """The hold loop. Returns LaML."""
    t = tenant.tenant_id
    base = services.settings.public_url + f"/webhooks/{t}"
    queue, call_sid, number = query["queue"], params["CallSid"], params.get("From", "")
    cfg = queue_config(tenant, queue)
    if cfg is None:
        return resume_plan(services, tenant, call_sid, query, "empty", params, request_id)
    states, _ = gather_agents(services, t, cfg)
    now = services.clock()
    joined: dict[str, str] = {}

    def join(events: list, version: int) -> list:  # type: ignore[type-arg]
        line = queue_state.fold(events)
        if call_sid in line.seen:
            joined["outcome"] = line.outcome.get(call_sid, "waiting")
            return []
        if cfg.max_size and len(line.waiting) >= cfg.max_size:
            joined["outcome"] = "full"
            return [CallerRefused(call_sid, "full", now.isoformat())]
        if not cfg.join_empty and staffed(states) == 0:
            joined["outcome"] = "empty"
            return [CallerRefused(call_sid, "empty", now.isoformat())]
        prio = caller_priority(cfg, tenant, number, int(query.get("priority", "0") or 0))
        joined["outcome"] = "joined"
        return [CallerQueued(call_sid, number, prio, now.isoformat(), query.get("node", ""),
                             int(query.get("step", "0") or 0))]

    cached, _ = _line(services, t, queue)
    if call_sid in cached.seen:  # the usual hold-loop fetch: no write, no full reload
        joined["outcome"] = cached.outcome.get(call_sid, "waiting")
    else:
        decide_and_append(services, t, queue_stream(t, queue), join, request_id)
    outcome = joined.get("outcome", "waiting")
    if outcome in ("full", "empty"):
        return overflow(services, tenant, cfg, call_sid, number, query, outcome, params, request_id)
    if outcome == "joined" or (outcome == "waiting" and any(s.available(now) for s in states.values())):
        dispatch(services, t, queue)  # also from the hold loop, so queues move even without the scheduler
    line, _ = _line(services, t, queue)
    if line.outcome.get(call_sid) == "bridged" or line.assigned.get(call_sid):
        return render_laml(bridge_instructions(room_for(call_sid)), base)
    entry = line.waiting.get(call_sid)
    if entry is None:  # left already (a redelivered request after leaving)
        return render_laml((Hangup(),), base)
    digits = params.get("Digits", "")
    if digits and digits == cfg.exit_key:
        return leave(services, tenant, cfg, entry, query, "exit", params, request_id)
    if digits and digits == cfg.callback_key:
        return callback_key(services, tenant, cfg, entry, base, request_id)
    if cfg.max_wait and entry.waited(now) >= cfg.max_wait:
        return leave(services, tenant, cfg, entry, query, "timeout", params, request_id)
    if cfg.leave_empty and staffed(states) == 0:
        return leave(services, tenant, cfg, entry, query, "empty", params, request_id)
    return render_laml(hold_loop(services, tenant, cfg, line, entry, staffed(states), query), base)


def _line(services: Services, t: str, queue: str) -> tuple[queue_state.QueueState, int]:
    from chalicelib.callcenter.streams import load_queue

    return load_queue(services, t, queue)


def hold_loop(services: Services, tenant: TenantSnapshot, cfg: QueueConfig, line: queue_state.QueueState,
              entry: queue_state.Entry, agents: int, query: Mapping[str, str]) -> tuple[Instruction, ...]:
    url = cc_url(services, tenant.tenant_id, "queue", **query)
    prompts: list[Instruction] = []
    if cfg.announce_position:
        pos = line.position(entry.call_sid)
        minutes = max(1, round(line.estimated_wait(entry.call_sid, agents, cfg.avg_handle_seconds) / 60))
        prompts.append(Say(text=f"You are number {pos} in line. The estimated wait is about {minutes} "
                                f"minute{'s' if minutes != 1 else ''}.", language=tenant.language))
    keys = [f"press {cfg.callback_key} to be called back without losing your place"] if cfg.callback_key else []
    keys += [f"press {cfg.exit_key} to leave the queue"] if cfg.exit_key else []
    if keys:
        text = ", or ".join(keys) + "."
        prompts.append(Say(text=text[0].upper() + text[1:], language=tenant.language))
    prompts.append(Play(url=cfg.music))
    return (Gather(action=url, prompts=tuple(prompts), num_digits=1, timeout=1), Redirect(url=url))


def leave(services: Services, tenant: TenantSnapshot, cfg: QueueConfig, entry: queue_state.Entry,
          query: Mapping[str, str], reason: str, params: Mapping[str, str], request_id: str) -> str:
    t = tenant.tenant_id
    now = services.clock()
    left = decide_and_append(services, t, queue_stream(t, cfg.queue_id),
                             lambda ev, v: [CallerLeft(entry.call_sid, reason, now.isoformat(), entry.waited(now))]
                             if entry.call_sid in queue_state.fold(ev).waiting else [], request_id)
    if not left:  # an agent took the caller meanwhile
        return render_laml(bridge_instructions(room_for(entry.call_sid)), services.settings.public_url)
    return overflow(services, tenant, cfg, entry.call_sid, entry.number, query, reason, params, request_id)


def overflow(services: Services, tenant: TenantSnapshot, cfg: QueueConfig, call_sid: str, number: str,
             query: Mapping[str, str], reason: str, params: Mapping[str, str], request_id: str) -> str:
    """Where a caller goes who leaves without an agent: a callback task, or the plan's branch."""
    if cfg.overflow == "callback" and reason in ("timeout", "full", "exit"):
        request_callback(services, tenant, number, reason, cfg.queue_id, source_call=call_sid)
        out = (Say(text="We will call you back as soon as an agent is free. Goodbye.", language=tenant.language),
               Hangup())
        return render_laml(out, services.settings.public_url)
    return resume_plan(services, tenant, call_sid, query, reason, params, request_id)


def callback_key(services: Services, tenant: TenantSnapshot, cfg: QueueConfig, entry: queue_state.Entry,
                 base: str, request_id: str) -> str:
    """Keep the caller's place as a callback entry, unless that number already has a callback."""
    t = tenant.tenant_id
    now = services.clock()
    book, _ = _book(services, t)
    duplicate = {"yes": False}

    def decide_cb(events: list, version: int) -> list:  # type: ignore[type-arg]
        line = queue_state.fold(events)
        if entry.call_sid not in line.waiting or line.waiting[entry.call_sid].kind == "callback":
            return []  # gone, or a redelivered key press: the place is already kept
        if line.has_callback_for(entry.number) or book.open_for(entry.number):
            duplicate["yes"] = True
            return [CallerLeft(entry.call_sid, "callback-duplicate", now.isoformat(), entry.waited(now))]
        return [CallerCallbackRequested(entry.call_sid, entry.number, now.isoformat())]

    decide_and_append(services, t, queue_stream(t, cfg.queue_id), decide_cb, request_id)
    text = ("You already have a callback scheduled. We will call you soon. Goodbye." if duplicate["yes"] else
            "Thank you. We will call you back and you keep your place in line. Goodbye.")
    return render_laml((Say(text=text, language=tenant.language), Hangup()), base)


def _book(services: Services, t: str) -> tuple[cb.CallbackBook, int]:
    from chalicelib.callcenter.streams import load_callbacks

    return load_callbacks(services, t)


def callback_settings(tenant: TenantSnapshot) -> Mapping[str, object]:
    return tenant.section("callbacks")


def request_callback(services: Services, tenant: TenantSnapshot, number: str, reason: str, queue: str, *,
                     name: str = "", source_call: str = "", agent: str = "", max_attempts: int = 0,
                     delay_seconds: int = 0) -> list[object]:
    """Open a callback task (none if the number has one open already). Returns the events written."""
    from zoneinfo import ZoneInfo

    t = tenant.tenant_id
    settings = callback_settings(tenant)
    hours = cb.business_hours(settings.get("business_hours"))  # type: ignore[arg-type]
    queue = queue or str(settings.get("queue", "")) or next(iter(tenant.section("queues")), "")
    task_id = services.new_id()
    now = services.clock().astimezone(ZoneInfo(tenant.timezone))
    attempts = max_attempts or int(settings.get("max_attempts", 3))  # type: ignore[call-overload]
    return list(decide_and_append(
        services, t, callbacks_stream(t),
        lambda ev, v: cb.request(cb.fold(ev), task_id=task_id, number=number, reason=reason, queue=queue, now=now,
                                 hours=hours, name=name, source_call=source_call, max_attempts=attempts,
                                 agent=agent, delay_seconds=delay_seconds)))


def resume_plan(services: Services, tenant: TenantSnapshot, call_sid: str, query: Mapping[str, str],
                result: str, params: Mapping[str, str], request_id: str) -> str:
    """Continue the routing plan at the queue node with QueueResult (the ``<Enqueue action>`` contract)."""
    t = tenant.tenant_id
    base = services.settings.public_url + f"/webhooks/{t}"
    stream = call_stream(call_sid)
    cb_params = {**params, "QueueResult": result}
    callback = Callback(kind="action", request_id=f"{request_id}-{result}", params=cb_params,
                        node=query.get("node", ""), step=int(query.get("step", "-1") or -1))
    for _ in range(20):
        stored, version = services.store.load(stream)
        if not stored or stored[0].tenant_id != t:  # no such call of this tenant (another's is not theirs)
            return render_laml((Hangup(),), base)
        state = fold_call(decode_all(stored))
        if not state.started:
            return render_laml((Hangup(),), base)
        decision = decide(state, callback, tenant, services.clock())
        if decision.events:
            try:
                services.store.append(stream, wrap(decision.events, tenant_id=t, stream_id=stream,
                                                   expected_version=version, now=services.clock(),
                                                   new_id=services.new_id, correlation_id=callback.request_id),
                                      version)
            except ConcurrencyError:
                continue
        return render_laml(decision.instructions, base)
    return render_laml((Hangup(),), base)
