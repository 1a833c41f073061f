"""Every queue strategy picks the agent it promises, within penalty tiers; caller priority orders the line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.callcenter.agents import AgentState
from domain.callcenter.config import QueueConfigError, caller_priority, parse_queue
from domain.callcenter.dispatch import next_offers
from domain.callcenter.events import CallerAssigned, CallerQueued
from domain.callcenter.queue_state import fold as fold_line
from domain.callcenter.strategies import rank, ring_group
from domain.tenant import TenantSnapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TODAY = "2026-11-24"


def agent(name: str, idle: str = "2026-11-24T14:00:00+00:00", calls: int = 0, talk: int = 0,
          **kw: object) -> AgentState:
    return AgentState(agent=name, logged_in=True, idle_since=idle, calls_by_day={TODAY: calls},
                      talk_by_day={TODAY: talk}, **kw)  # type: ignore[arg-type]


def queue(strategy: str, members: list[object] | None = None) -> object:
    return parse_queue("q", {"strategy": strategy, "members": members or ["a", "b", "c"]})


AGENTS = {
    "a": agent("a", idle="2026-11-24T14:50:00+00:00", calls=5, talk=100),
    "b": agent("b", idle="2026-11-24T14:10:00+00:00", calls=2, talk=900),
    "c": agent("c", idle="2026-11-24T14:30:00+00:00", calls=9, talk=50),
}


@pytest.mark.parametrize(("strategy", "expected"), [
    ("linear", ["a", "b", "c"]),
    ("ring_all", ["a", "b", "c"]),
    ("longest_idle", ["b", "c", "a"]),
    ("fewest_calls", ["b", "a", "c"]),
    ("least_talk_time", ["c", "a", "b"]),
])
def test_each_strategy_orders_the_free_agents(strategy: str, expected: list[str]) -> None:
    assert rank(queue(strategy), AGENTS, NOW) == expected  # type: ignore[arg-type]


def test_ring_all_rings_the_whole_lowest_tier_and_the_others_ring_one() -> None:
    cfg = queue("ring_all", ["a", {"agent": "b", "penalty": 0}, {"agent": "c", "penalty": 1}])
    assert ring_group(cfg, rank(cfg, AGENTS, NOW)) == ["a", "b"]  # type: ignore[arg-type]
    linear = queue("linear")
    assert ring_group(linear, rank(linear, AGENTS, NOW)) == ["a"]  # type: ignore[arg-type]


def test_round_robin_starts_after_the_agent_who_took_the_last_call() -> None:
    line = fold_line([CallerAssigned("CA1", "b", "o1", "+1", NOW.isoformat())])
    assert rank(queue("round_robin"), AGENTS, NOW, line=line) == ["c", "a", "b"]  # type: ignore[arg-type]
    line = fold_line([CallerAssigned("CA1", "c", "o1", "+1", NOW.isoformat())])
    assert rank(queue("round_robin"), AGENTS, NOW, line=line) == ["a", "b", "c"]  # type: ignore[arg-type]


def test_random_is_a_function_of_the_seed_the_shell_chose() -> None:
    orders = {tuple(rank(queue("random"), AGENTS, NOW, seed=s)) for s in range(30)}  # type: ignore[arg-type]
    assert len(orders) > 1
    assert rank(queue("random"), AGENTS, NOW, seed=7) == rank(queue("random"), AGENTS, NOW, seed=7)  # type: ignore[arg-type]


def test_sticky_offers_the_callers_last_agent_first_then_longest_idle() -> None:
    line = fold_line([CallerAssigned("CA1", "a", "o1", "+15550007777", NOW.isoformat())])
    assert rank(queue("sticky"), AGENTS, NOW, caller="+15550007777", line=line) == ["a", "b", "c"]  # type: ignore[arg-type]
    assert rank(queue("sticky"), AGENTS, NOW, caller="+15550008888", line=line) == ["b", "c", "a"]  # type: ignore[arg-type]


def test_higher_penalty_agents_ring_only_when_nobody_lower_is_free() -> None:
    cfg = queue("longest_idle", [{"agent": "a", "penalty": 0}, {"agent": "b", "penalty": 5}, "c"])
    assert rank(cfg, AGENTS, NOW) == ["c", "a", "b"]  # type: ignore[arg-type]
    busy = {**AGENTS, "a": agent("a", paused=True), "c": agent("c", call_sid="CA9")}
    assert rank(cfg, busy, NOW) == ["b"]  # type: ignore[arg-type]


def test_agents_who_are_not_free_are_never_ranked() -> None:
    states = {"a": agent("a", dnd=True), "b": agent("b", wrapup_until="2026-11-24T15:00:10+00:00"),
              "c": AgentState(agent="c")}
    assert rank(queue("linear"), states, NOW) == []  # type: ignore[arg-type]


def test_vip_and_numeric_priorities_jump_ahead_in_line() -> None:
    tenant = TenantSnapshot(tenant_id="t", config={"lists": {"vip": ["+15550000001"]}})
    cfg = parse_queue("q", {"priorities": {"+15550000002": 50}, "vip_priority": 10})
    assert caller_priority(cfg, tenant, "+15550000001") == 10
    assert caller_priority(cfg, tenant, "+15550000002") == 50
    assert caller_priority(cfg, tenant, "+15550000003") == 0
    line = fold_line([CallerQueued("CA1", "+15550000003", 0, "2026-11-24T14:00:00+00:00"),
                      CallerQueued("CA2", "+15550000001", 10, "2026-11-24T14:05:00+00:00"),
                      CallerQueued("CA3", "+15550000002", 50, "2026-11-24T14:09:00+00:00")])
    assert [e.call_sid for e in line.line()] == ["CA3", "CA2", "CA1"]
    assert line.position("CA1") == 3 and line.estimated_wait("CA1", 2, 120) == 180


def test_next_offers_gives_each_free_agent_to_one_caller_in_line_order() -> None:
    line = fold_line([CallerQueued(f"CA{i}", f"+1555000000{i}", 0, f"2026-11-24T14:0{i}:00+00:00")
                      for i in range(1, 5)])
    pairs = next_offers(queue("linear"), line, AGENTS, NOW)  # type: ignore[arg-type]
    assert [(e.call_sid, g) for e, g in pairs] == [("CA1", ["a"]), ("CA2", ["b"]), ("CA3", ["c"])]


def test_bad_queue_settings_name_the_field() -> None:
    with pytest.raises(QueueConfigError, match=r"queues.q.strategy: unknown strategy 'fastest'"):
        parse_queue("q", {"strategy": "fastest"})
    with pytest.raises(QueueConfigError, match=r"queues.q.ring_seconds"):
        parse_queue("q", {"ring_seconds": 1})
    with pytest.raises(QueueConfigError, match=r"queues.q.exit_key"):
        parse_queue("q", {"exit_key": "12"})


def test_the_fast_line_fold_agrees_with_applying_events_one_by_one() -> None:
    from domain.callcenter.events import CallerCallbackRequested, CallerLeft
    from domain.callcenter.queue_state import QueueState, evolve

    events = [CallerQueued("CA1", "+1", 0, "2026-11-24T14:00:00+00:00"),
              CallerQueued("CA2", "+2", 5, "2026-11-24T14:01:00+00:00"),
              CallerQueued("CA1", "+1", 0, "2026-11-24T14:02:00+00:00"),
              CallerCallbackRequested("CA1", "+1", "2026-11-24T14:03:00+00:00"),
              CallerAssigned("CA2", "b", "o1", "+2", "2026-11-24T14:04:00+00:00", 180),
              CallerQueued("CA3", "+3", 0, "2026-11-24T14:05:00+00:00"),
              CallerLeft("CA3", "abandoned", "2026-11-24T14:06:00+00:00", 60),
              CallerLeft("CA9", "abandoned", "2026-11-24T14:06:00+00:00", 60)]
    stepwise = QueueState()
    for e in events:
        stepwise = evolve(e, stepwise)
    assert fold_line(events) == stepwise
    assert stepwise.line()[0].kind == "callback" and stepwise.outcome == {"CA2": "bridged", "CA3": "abandoned"}
