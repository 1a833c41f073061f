"""Things people do: agents change presence, a CRM places click-to-call, a supervisor listens in.

Each is a read-decide-append on the agent's stream, then a gateway call. Errors name the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers

from chalicelib.bootstrap import Services
from chalicelib.callcenter.dispatcher import agent_address, cc_url, dispatch, end_offer, tenant_number
from chalicelib.callcenter.streams import agent_stream, append, decide_and_append, load_agent
from chalicelib.gateway_api import GatewayError
from domain.callcenter.agents import AgentState
from domain.callcenter.agents import fold as fold_agent
from domain.callcenter.config import queues_of
from domain.callcenter.events import (
    AgentDndChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentOffered,
    AgentPaused,
    AgentUnpaused,
    SupervisionStarted,
)
from domain.events import DomainEvent
from domain.ports import ConcurrencyError
from domain.tenant import TenantSnapshot

PRESENCE_ACTIONS = ("login", "logout", "pause", "unpause", "dnd_on", "dnd_off")
MODES = ("listen", "whisper", "barge")


class Refused(ValueError):
    """The request cannot be done; ``field`` names the input at fault, ``status`` the HTTP status."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status = status


def _agent_exists(tenant: TenantSnapshot, agent: str) -> None:
    if agent not in tenant.section("extensions"):
        raise Refused("agent", f"no extension {agent!r}", 404)


def presence_events(state: AgentState, action: str, reason: str, at: str, actor: str) -> list[DomainEvent]:
    """What a presence request records (nothing when it changes nothing)."""
    a = state.agent
    if action == "login":
        return [] if state.logged_in else [AgentLoggedIn(a, at, actor)]
    if action == "logout":
        return [AgentLoggedOut(a, at, actor)] if state.logged_in else []
    if action == "pause":
        return [] if state.paused and state.pause_reason == reason else [AgentPaused(a, reason or "break", at,
                                                                                     actor=actor)]
    if action == "unpause":
        return [AgentUnpaused(a, at, actor)] if state.paused else []
    if action in ("dnd_on", "dnd_off"):
        dnd = action == "dnd_on"
        return [] if state.dnd == dnd else [AgentDndChanged(a, dnd, at, actor)]
    raise Refused("action", f"one of {', '.join(PRESENCE_ACTIONS)}, got {action!r}")


def set_presence(services: Services, tenant: TenantSnapshot, agent: str, action: str, reason: str = "",
                 actor: str = "") -> AgentState:
    _agent_exists(tenant, agent)
    t = tenant.tenant_id
    now = services.clock().isoformat()
    decide_and_append(services, t, agent_stream(t, agent),
                      lambda ev, v: presence_events(fold_agent(agent, ev), action, reason, now, actor))
    if action in ("login", "unpause", "dnd_off"):
        for cfg in queues_of(tenant, agent):
            dispatch(services, t, cfg.queue_id)
    return load_agent(services, t, agent)[0]


def agent_view(state: AgentState, services: Services) -> dict[str, object]:
    now = services.clock()
    return {"agent": state.agent, "presence": state.presence(now), "pause_reason": state.pause_reason,
            "call": state.call_sid or None, "misses_in_row": state.misses_in_row,
            "wrapup_until": state.wrapup_until or None}


def e164(number: str, field: str = "to") -> str:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise Refused(field, f"{number!r} is not an E.164 number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise Refused(field, f"{number!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True, slots=True)
class Originated:
    call: str
    agent_leg: str


def click_to_call(services: Services, tenant: TenantSnapshot, agent: str, to: str) -> Originated:
    """Ring the agent first; when they answer, vpbx calls the customer into the agent's room."""
    _agent_exists(tenant, agent)
    number = e164(to)
    t = tenant.tenant_id
    state, version = load_agent(services, t, agent)
    if state.offer is not None or state.call_sid:
        raise Refused("agent", f"agent {agent} is {state.presence(services.clock())}", 409)
    offer_id = services.new_id()
    call = f"c2c:{offer_id}:{number}"
    now = services.clock()
    try:
        append(services, t, agent_stream(t, agent),
               [AgentOffered(agent, offer_id, call, "", now.isoformat(), 30, "click_to_call")], version, now)
    except ConcurrencyError:
        raise Refused("agent", f"agent {agent} just got another call", 409) from None
    address = agent_address(tenant, agent)
    try:
        leg = services.gateway.create_call(address, tenant_number(tenant) or number,
                                           cc_url(services, t, "agent", agent=agent, offer=offer_id),
                                           status_callback=cc_url(services, t, "agent-status", agent=agent,
                                                                  offer=offer_id), timeout=30)
    except (GatewayError, ValueError) as exc:
        end_offer(services, t, agent, offer_id, "failed-to-place", 0)
        raise Refused("agent", f"could not ring the agent: {exc}", 502) from None
    from domain.callcenter.events import AgentLegPlaced

    decide_and_append(services, t, agent_stream(t, agent), lambda ev, v: [AgentLegPlaced(agent, offer_id, leg.sid, address)]
                      if (s := fold_agent(agent, ev)).offer and s.offer.offer_id == offer_id else [])
    return Originated(call, leg.sid)


def supervise(services: Services, tenant: TenantSnapshot, supervisor: str, agent: str, mode: str,
              actor: str) -> SupervisionStarted:
    """Join the agent's room: muted (listen), as a coach only the agent hears (whisper), or openly (barge)."""
    if mode not in MODES:
        raise Refused("mode", f"one of {', '.join(MODES)}, got {mode!r}")
    _agent_exists(tenant, agent)
    _agent_exists_as(tenant, supervisor)
    t = tenant.tenant_id
    state, _ = load_agent(services, t, agent)
    if not state.call_sid or not state.room:
        raise Refused("agent", f"agent {agent} is not on a call", 409)
    query: Mapping[str, str] = {"room": state.room, "mode": mode, "coach": state.call_leg}
    try:
        leg = services.gateway.create_call(agent_address(tenant, supervisor), tenant_number(tenant),
                                           cc_url(services, t, "supervise", **query), timeout=30)
    except GatewayError as exc:
        raise Refused("supervisor", f"could not ring the supervisor: {exc}", 502) from None
    started = SupervisionStarted(agent, supervisor, mode, state.call_sid, state.room, services.clock().isoformat(),
                                 leg.sid, actor)
    decide_and_append(services, t, agent_stream(t, agent), lambda ev, v: [started])
    return started


def _agent_exists_as(tenant: TenantSnapshot, ext: str) -> None:
    if ext not in tenant.section("extensions"):
        raise Refused("supervisor", f"no extension {ext!r}", 404)
