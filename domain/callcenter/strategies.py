"""Queue strategies: which free agents to ring for the next caller, in which order. Pure.

``rank`` returns the free members in the order to try; ring-all rings the whole first penalty
tier at once (``ring_group``). Randomness comes in as a seed chosen by the shell.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime

from domain.callcenter.agents import AgentState
from domain.callcenter.config import QueueConfig
from domain.callcenter.queue_state import QueueState

Key = Callable[[str, AgentState], object]


def _today(now: datetime) -> str:
    return now.date().isoformat()


def rank(cfg: QueueConfig, agents: Mapping[str, AgentState], now: datetime, *, caller: str = "",
         line: QueueState | None = None, seed: int = 0) -> list[str]:
    """Free members, lowest penalty tier first, ordered by the queue's strategy within a tier."""
    order = [m.agent for m in cfg.members]
    free = [m for m in cfg.members if m.agent in agents and agents[m.agent].available(now)]
    line = line or QueueState()
    day = _today(now)
    shuffled = order[:]
    random.Random(seed).shuffle(shuffled)
    keys: dict[str, Key] = {
        "ring_all": lambda a, s: order.index(a),
        "linear": lambda a, s: order.index(a),
        "longest_idle": lambda a, s: (s.idle_since or "", order.index(a)),
        "fewest_calls": lambda a, s: (s.calls_by_day.get(day, 0), s.idle_since or "", order.index(a)),
        "least_talk_time": lambda a, s: (s.talk_by_day.get(day, 0), s.idle_since or "", order.index(a)),
        "round_robin": _round_robin(order, line.last_assigned_agent),
        "random": lambda a, s: shuffled.index(a),
        "sticky": _sticky(order, line.last_agent_by_number.get(caller, "")),
    }
    key = keys[cfg.strategy]
    ranked = sorted(free, key=lambda m: (m.penalty, key(m.agent, agents[m.agent])))
    return [m.agent for m in ranked]


def ring_group(cfg: QueueConfig, ranked: list[str]) -> list[str]:
    """The agents to offer at once: the whole lowest tier for ring-all, else just the first."""
    if not ranked:
        return []
    if cfg.strategy != "ring_all":
        return ranked[:1]
    tier = {m.agent: m.penalty for m in cfg.members}
    best = tier[ranked[0]]
    return [a for a in ranked if tier[a] == best]


def _round_robin(order: list[str], last: str) -> Key:
    start = order.index(last) + 1 if last in order else 0

    def key(agent: str, s: AgentState) -> object:
        return (order.index(agent) - start) % len(order)

    return key


def _sticky(order: list[str], last: str) -> Key:
    def key(agent: str, s: AgentState) -> object:
        return (agent != last, s.idle_since or "", order.index(agent))

    return key
