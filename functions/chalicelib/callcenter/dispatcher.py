"""Offer waiting callers to free agents: conditional offers on agent streams, then ring the agent's leg.

Invariant: an AgentOffered is only ever appended at the agent stream version the decision read,
so two dispatchers (two webhooks for different calls) can never offer the same agent twice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.bootstrap import Services
from chalicelib.callcenter.streams import (
    agent_stream,
    append,
    decide_and_append,
    load_agent,
    load_queue,
)
from chalicelib.gateway_api import GatewayError
from chalicelib.signatures import public_url
from domain.callcenter.agents import AgentState
from domain.callcenter.agents import fold as fold_agent
from domain.callcenter.config import QueueConfig, queue_config
from domain.callcenter.dispatch import missed, next_offers, offer
from domain.callcenter.events import AgentLegPlaced
from domain.callcenter.queue_state import Entry
from domain.ports import ConcurrencyError
from domain.tenant import TenantSnapshot

MAX_ROUNDS = 50


@dataclass(frozen=True, slots=True)
class Placed:
    agent: str
    offer_id: str
    call_sid: str
    leg_sid: str


def cc_url(services: Services, tenant: str, endpoint: str, **query: str) -> str:
    return public_url(services.settings.public_url, f"/callcenter/{tenant}/{endpoint}", query)


def agent_address(tenant: TenantSnapshot, agent: str) -> str:
    """What to dial for an agent: first device of the extension (SIP URI, client:<id> or number)."""
    for device in (tenant.section("extensions").get(agent) or {}).get("devices", ()):
        kind = device.get("type")
        if kind == "sip":
            return str(device["uri"])
        if kind == "client":
            return f"client:{device['identity']}"
        if kind in ("number", "mobile"):
            return str(device["number"])
    raise ValueError(f"extensions.{agent}.devices: agent {agent!r} has no device to ring")


def tenant_number(tenant: TenantSnapshot) -> str:
    return next(iter(tenant.section("numbers")), "")


def gather_agents(services: Services, tenant: str, cfg: QueueConfig) -> tuple[dict[str, AgentState], dict[str, int]]:
    states: dict[str, AgentState] = {}
    versions: dict[str, int] = {}
    for m in cfg.members:
        states[m.agent], versions[m.agent] = load_agent(services, tenant, m.agent)
    return states, versions


def dispatch(services: Services, tenant_id: str, queue_id: str, seed: int | None = None) -> list[Placed]:
    """Offer as many waiting entries as there are free agents, then ring them. Returns the legs placed."""
    tenant = services.tenants.get(tenant_id)
    cfg = queue_config(tenant, queue_id) if tenant else None
    if tenant is None or cfg is None:
        return []
    offered: list[tuple[str, str, Entry]] = []
    for _ in range(MAX_ROUNDS):
        line, _version = load_queue(services, tenant_id, queue_id)
        states, versions = gather_agents(services, tenant_id, cfg)
        now = services.clock()
        pairs = next_offers(cfg, line, states, now, random.randrange(2**32) if seed is None else seed)
        conflict = False
        for entry, group in pairs:
            for agent in group:
                offer_id = services.new_id()
                events = offer(states[agent], cfg, entry, offer_id, now)
                try:
                    append(services, tenant_id, agent_stream(tenant_id, agent), events, versions[agent], now)
                except ConcurrencyError:
                    conflict = True  # someone else changed this agent: read again, decide again
                    break
                offered.append((agent, offer_id, entry))
            if conflict:
                break
        if not conflict:
            break
    return [p for p in (ring(services, tenant, cfg, a, o, e) for a, o, e in offered) if p is not None]


def ring(services: Services, tenant: TenantSnapshot, cfg: QueueConfig, agent: str, offer_id: str,
         entry: Entry) -> Placed | None:
    """Place the agent's leg; a gateway failure ends the offer (not counted against the agent)."""
    t = tenant.tenant_id
    try:
        address = agent_address(tenant, agent)
        # SIP and client legs may show the caller; a PSTN leg must use a number the tenant owns
        caller_id = entry.number if address.startswith(("sip:", "client:")) and entry.number else tenant_number(tenant)
        leg = services.gateway.create_call(
            address, caller_id,
            cc_url(services, t, "agent", agent=agent, offer=offer_id),
            status_callback=cc_url(services, t, "agent-status", agent=agent, offer=offer_id),
            timeout=cfg.ring_seconds)
    except (GatewayError, ValueError):
        end_offer(services, t, agent, offer_id, "failed-to-place", cfg.max_misses)
        return None
    decide_and_append(services, t, agent_stream(t, agent),
                      lambda ev, v: [AgentLegPlaced(agent, offer_id, leg.sid, address)]
                      if (s := fold_agent(agent, ev)).offer and s.offer.offer_id == offer_id else [])
    return Placed(agent, offer_id, entry.call_sid, leg.sid)


def end_offer(services: Services, tenant: str, agent: str, offer_id: str, reason: str, max_misses: int,
              hangup: bool = False) -> list[object]:
    """End an offer (miss, skip, taken by another agent); optionally hang up the ringing leg."""
    state_before: dict[str, AgentState] = {}

    def decide(events: list, version: int) -> list:  # type: ignore[type-arg]
        state_before["s"] = fold_agent(agent, events)
        return missed(state_before["s"], offer_id, reason, services.clock(), max_misses)

    written = decide_and_append(services, tenant, agent_stream(tenant, agent), decide)
    s = state_before.get("s")
    if written and hangup and s is not None and s.offer is not None and s.offer.leg_sid:
        try:
            services.gateway.hangup(s.offer.leg_sid)
        except GatewayError:
            pass  # the leg ends on its own at the ring timeout
    return list(written)


def max_misses_for(tenant: TenantSnapshot, queue: str) -> int:
    cfg = queue_config(tenant, queue) if queue else None
    return cfg.max_misses if cfg else 0


def queues_by_id(tenant: TenantSnapshot) -> Mapping[str, QueueConfig]:
    from domain.callcenter.config import parse_queue

    return {q: parse_queue(q, raw) for q, raw in tenant.section("queues").items()}
