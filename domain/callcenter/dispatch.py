"""Dispatch decisions: which waiting caller goes to which free agents now; what a missed offer leads to.

Pure. The shell writes each offer at the agent stream's expected version; a writer that loses
the race reloads the agent and asks ``next_offers`` again, so an agent is never offered twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.callcenter.agents import AgentState
from domain.callcenter.config import QueueConfig
from domain.callcenter.events import AgentOffered, AgentOfferMissed, AgentPaused
from domain.callcenter.queue_state import Entry, QueueState
from domain.callcenter.strategies import rank, ring_group
from domain.events import DomainEvent

MISS_REASONS = frozenset({"no-answer", "busy", "failed"})


def next_offers(cfg: QueueConfig, line: QueueState, agents: Mapping[str, AgentState], now: datetime,
                seed: int = 0) -> list[tuple[Entry, list[str]]]:
    """Pairs of (waiting entry, agents to ring) in line order, each agent used once."""
    ringing = {a.offer.call_sid for a in agents.values() if a.offer is not None}
    used: set[str] = set()
    out: list[tuple[Entry, list[str]]] = []
    for entry in line.line():
        if entry.call_sid in ringing:
            continue
        free = {k: v for k, v in agents.items() if k not in used}
        ranked = rank(cfg, free, now, caller=entry.number, line=line, seed=seed)
        # skip: an agent who just missed this caller is tried after everyone else
        ranked.sort(key=lambda a: agents[a].last_missed_call == entry.call_sid)
        group = ring_group(cfg, ranked)
        if not group:
            break
        out.append((entry, group))
        used.update(group)
    return out


def offer(agent: AgentState, cfg: QueueConfig, entry: Entry, offer_id: str, now: datetime,
          kind: str = "queue") -> list[DomainEvent]:
    """The offer event, or nothing if the agent is not free at this version."""
    if not agent.available(now):
        return []
    return [AgentOffered(agent=agent.agent, offer_id=offer_id, call_sid=entry.call_sid, queue=cfg.queue_id,
                         at=now.isoformat(), ring_seconds=cfg.ring_seconds,
                         kind="callback" if entry.kind == "callback" else kind)]


def missed(agent: AgentState, offer_id: str, reason: str, now: datetime, max_misses: int) -> list[DomainEvent]:
    """End the offer; after ``max_misses`` counted misses in a row pause the agent and say why."""
    if agent.offer is None or agent.offer.offer_id != offer_id:
        return []
    counts = reason in MISS_REASONS
    events: list[DomainEvent] = [AgentOfferMissed(agent.agent, offer_id, agent.offer.call_sid, reason,
                                                  now.isoformat(), counts)]
    misses = agent.misses_in_row + (1 if counts else 0)
    if counts and max_misses and misses >= max_misses and not agent.paused:
        why = f"auto-paused after {misses} missed offers in a row (last: {reason})"
        events.append(AgentPaused(agent.agent, why, now.isoformat(), auto=True, misses=misses, actor="system"))
    return events
