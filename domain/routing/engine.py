"""decide: (call state, gateway callback, tenant, now) -> new events + instructions. Pure.

Invariant: every instruction emitted is recorded in a StepDecided event under the request id
that caused it, so a repeated webhook is answered from the events with the same LaML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import domain.actions  # noqa: F401  (registers the built-in actions)
from domain.actions.base import Context, Continue, Finish, Outcome, Wait, lookup
from domain.actions.call_features import extension_of_device
from domain.calls.events import CallStarted, CallStatusChanged, DialAnswered, StepDecided
from domain.calls.state import CallState, apply_status, evolve
from domain.events import DomainEvent
from domain.instructions import Hangup, Instruction, from_json, to_json
from domain.prompts import say
from domain.routing.device_calls import DEVICE_PLAN, device_plan, dialled, target, why_barred
from domain.routing.plan import Node, Plan, parse_plan
from domain.tenant import TenantSnapshot

MAX_HOPS = 64


@dataclass(frozen=True, slots=True)
class Callback:
    """A gateway webhook, reduced to what decide needs."""

    kind: str  # "incoming" | "action" | "status" | "answered"
    request_id: str
    params: Mapping[str, str] = field(default_factory=dict)
    node: str = ""
    step: int = -1
    member: str = ""  # answered: whose device picked up (the noun's answer URL says)


@dataclass(frozen=True, slots=True)
class Decision:
    events: tuple[DomainEvent, ...]
    instructions: tuple[Instruction, ...]


def action_url(node_id: str, step: int) -> str:
    # Keys in sorted order: the shell rebuilds the signed URL from parsed query parameters.
    return f"voice?node={quote(node_id, safe='')}&step={step}"


def decide(state: CallState, cb: Callback, tenant: TenantSnapshot, now: datetime,
           facts: Mapping[str, Any] | None = None) -> Decision:
    """``facts``: what the shell gathered for this call (history, CRM owner); recorded via step inputs."""
    facts = facts or {}
    if cb.kind == "status":
        return _status(state, cb)
    if cb.kind == "answered":
        return _answered(state, cb)
    if cb.kind == "incoming" and not state.started:
        return _incoming(state, cb, tenant, now, facts)
    if state.ended:
        return Decision((), (Hangup(),))
    if cb.kind == "incoming" or cb.node != state.awaiting or cb.step != state.step:
        # A re-fetch or a stale callback: say what the call is doing now, record nothing.
        return Decision((), tuple(from_json(i) for i in state.last_instructions) or (Hangup(),))
    plan = plan_of(state, cb, tenant)
    if plan is None:
        return _fail(state, cb, tenant, now, "", f"plan {state.plan_id} v{state.plan_version} is gone", [])
    return _walk(state, cb, tenant, now, plan, cb.node, resume=True, events=[], facts=facts)


def _status(state: CallState, cb: Callback) -> Decision:
    status = cb.params.get("CallStatus", "")
    seq = int(cb.params.get("SequenceNumber", "-1") or -1)
    changed = CallStatusChanged(status=status, sequence_number=seq,
                                duration=int(cb.params.get("CallDuration", "0") or 0),
                                sip_response_code=cb.params.get("SipResponseCode", ""), params=dict(cb.params))
    # Record every distinct callback (audit), even when the status machine ignores it.
    return Decision((changed,), ())


def _answered(state: CallState, cb: Callback) -> Decision:
    """A dialled member's device picked up (``answer_url``): recorded if the call is still waiting on that
    very dial, else nothing. No instructions: the empty answer lets the gateway bridge the two legs."""
    if state.ended or cb.node != state.awaiting or cb.step != state.step or not cb.member:
        return Decision((), ())
    return Decision((DialAnswered(node=cb.node, step=cb.step, member=cb.member,
                                  leg_sid=cb.params.get("CallSid", ""), device=cb.params.get("To", "")),), ())


def _incoming(state: CallState, cb: Callback, tenant: TenantSnapshot, now: datetime,
              facts: Mapping[str, Any]) -> Decision:
    p = cb.params
    caller, to, plan = incoming_route(tenant, p)
    barred = why_barred(tenant, caller, to) if caller and plan is not None and plan.plan_id == DEVICE_PLAN \
        and to.startswith("+") else ""
    started = CallStarted(call_sid=p["CallSid"], from_number=p.get("From", ""), to_number=to,
                          direction=p.get("Direction", "inbound"), account_sid=p.get("AccountSid", ""),
                          status=p.get("CallStatus", "ringing"), plan_id=plan.plan_id if plan else "",
                          plan_version=plan.version if plan else 0, params=dict(p), placed_by=caller)
    state = evolve(started, state)
    if barred:
        return _fail(state, cb, tenant, now, "", barred, [started], prompt="call_barred")
    if plan is None:
        return _fail(state, cb, tenant, now, "", "no routing plan for this number", [started],
                     prompt="not_in_service")
    return _walk(state, cb, tenant, now, plan, plan.root, resume=False, events=[started], facts=facts)


def incoming_route(tenant: TenantSnapshot, params: Mapping[str, str]) -> tuple[str, str, Plan | None]:
    """(the caller's extension for a device call else "", what the call is to, its plan) of a new call."""
    to = params.get("To", "")
    plan = tenant.plan_for_number(to)
    # one of the tenant's devices dialling (a colleague's extension, a phone number): see device_calls
    # (a call the gateway reports as inbound; one vpbx or an API placed, outbound-*, is never dialled again)
    inbound = params.get("Direction", "inbound") == "inbound"
    caller = extension_of_device(tenant, params.get("From", "")) if plan is None and inbound else ""
    if caller:
        to = target(tenant, to) or dialled(to)
        plan = tenant.plan_for_number(to) or device_plan(tenant, to, caller)  # our own number: its plan
    return caller, to, plan


def plan_of(state: CallState, cb: Callback, tenant: TenantSnapshot) -> Plan | None:
    """The plan ``decide`` routes this call by (None: no plan, or its version is gone)."""
    if not state.started:
        return incoming_route(tenant, cb.params)[2]
    if state.plan_id == DEVICE_PLAN:
        return device_plan(tenant, state.to_number, extension_of_device(tenant, state.from_number))
    return tenant.plan_versions.get((state.plan_id, state.plan_version))


def _fail(state: CallState, cb: Callback, tenant: TenantSnapshot, now: datetime, node: str, why: str,
          events: list[DomainEvent], prompt: str = "error") -> Decision:
    out = (say(prompt, tenant.language), Hangup())
    step = StepDecided(step=state.step + 1, node=node, action="error", branch="", inputs={"error": why},
                       instructions=[to_json(i) for i in out], request_id=cb.request_id,
                       plan_version=state.plan_version, at=now.isoformat())
    return Decision((*events, step), out)


def _walk(state: CallState, cb: Callback, tenant: TenantSnapshot, now: datetime, plan: Plan, node_id: str,
          *, resume: bool, events: list[DomainEvent], facts: Mapping[str, Any]) -> Decision:
    local_now = now.astimezone(ZoneInfo(tenant.timezone))
    scratch: dict[str, Mapping[str, Any]] = dict(state.scratch)
    emitted: list[Instruction] = []
    step = state.step
    nodes = _with_diverted(plan, state)
    for _ in range(MAX_HOPS):
        node = nodes.get(node_id)
        action = lookup(node.action) if node else None
        if node is None or action is None:
            why = f"unknown node {node_id!r}" if node is None else f"unknown action {node.action!r}"
            failed = _fail(state, cb, tenant, now, node_id, why, [])
            return Decision((*events, *failed.events), (*emitted, *failed.instructions))
        step += 1
        ctx = Context(call=state, tenant=tenant, now=local_now, action_url=action_url(node.id, step),
                      scratch=scratch.get(node.id, {}), params=cb.params, facts=facts)
        outcome: Outcome = action.resume(node, ctx) if resume else action.enter(node, ctx)
        resume = False
        here = list(outcome.instructions)
        events.extend(outcome.events)
        branch = outcome.branch if isinstance(outcome, Continue | Finish) else ""
        next_id = node.child(branch) if isinstance(outcome, Continue) else None
        if isinstance(outcome, Continue) and next_id is None:
            here.append(Hangup())  # the plan ends here
        new_scratch = outcome.scratch if isinstance(outcome, Continue | Wait) else None
        if new_scratch is not None:
            scratch[node.id] = new_scratch
        events.append(StepDecided(step=step, node=node.id, action=node.action, branch=branch,
                                  inputs=dict(outcome.inputs), instructions=[to_json(i) for i in here],
                                  awaiting=isinstance(outcome, Wait), scratch=dict(new_scratch or {}),
                                  request_id=cb.request_id, plan_version=plan.version, at=now.isoformat()))
        emitted.extend(here)
        if isinstance(outcome, Wait | Finish) or next_id is None:
            return Decision(tuple(events), tuple(emitted))
        node_id = next_id
    failed = _fail(state, cb, tenant, now, node_id, f"more than {MAX_HOPS} steps without waiting for the caller",
                   [])
    return Decision((*events, *failed.events), (*emitted, *failed.instructions))


DIVERT = "@divert"


def _with_diverted(plan: Plan, state: CallState) -> Mapping[str, Node]:
    """The plan's nodes plus the detached nodes a divert gave this call (ids start with ``@``)."""
    docs = (state.scratch.get(DIVERT) or {}).get("docs") or {}
    if not docs:
        return plan.nodes
    extra: dict[str, Node] = {}
    for doc in docs.values():
        extra.update(parse_plan(DIVERT, 0, {"root": doc}).nodes)
    return {**plan.nodes, **extra}


def divert(state: CallState, tenant: TenantSnapshot, now: datetime, doc: Mapping[str, Any], *, request_id: str,
           reason: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> Decision:
    """Send a live call to a node outside its plan (transfer, pickup, hold); pure like ``decide``.

    ``doc`` is a plan node document whose id starts with ``@``; it is kept in the call's scratch
    (a ``divert`` step records why), so the gateway's later callbacks resume it like any node.
    """
    node_id = str(doc.get("id", ""))
    if not node_id.startswith("@"):
        raise ValueError(f"a diverted node id must start with '@', got {node_id!r}")
    plan = tenant.plan_versions.get((state.plan_id, state.plan_version)) or Plan(state.plan_id, state.plan_version,
                                                                                  node_id, {})
    docs = {**((state.scratch.get(DIVERT) or {}).get("docs") or {}), node_id: dict(doc)}
    marker = StepDecided(step=state.step + 1, node=DIVERT, action="divert", inputs=dict(reason),
                         scratch={"docs": docs}, request_id=request_id, plan_version=state.plan_version,
                         at=now.isoformat())
    cb = Callback(kind="action", request_id=request_id)
    return _walk(evolve(marker, state), cb, tenant, now, plan, node_id, resume=False, events=[marker],
                 facts=facts or {})


__all__ = ["DIVERT", "Callback", "Decision", "action_url", "apply_status", "decide", "divert", "incoming_route",
           "plan_of"]
