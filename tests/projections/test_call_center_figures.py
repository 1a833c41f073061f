"""Queue, agent and callback figures from call-center events, against a timeline worked out by hand.

Queue "support", members 201 and 202, SL threshold 20 s, short abandon <= 5 s; times UTC on 2026-11-24:
  15:00:00 201 and 202 log in
  c1 queued 15:01:00, rings 201 at 15:01:05, answered 15:01:10 (waited 10), ends 15:03:10, wrap-up to 15:03:40
  c2 queued 15:02:00, hangs up 15:02:03 (waited 3: short abandon)
  c3 queued 15:02:30, rings 202 at 15:02:31, answered 15:03:00 (waited 30), ends 15:04:00, wrap-up to 15:04:20
  c4 queued 15:05:00, hangs up 15:05:40 (waited 40: abandoned)
  c5 queued 15:06:00, asks for a callback at 15:06:20 (task t1, reached 15:12:00); task t2 for c4 at 15:07:00
  201 paused 15:15:00-15:20:00;  c6 queued 15:25:00, rings 202 15:25:05-15:25:20 unanswered, still
  waiting when the manager looks at 15:30:00
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.envelopes import wrap
from domain.callcenter.events import (
    AgentCallEnded,
    AgentConnected,
    AgentLoggedIn,
    AgentOffered,
    AgentOfferMissed,
    AgentPaused,
    AgentUnpaused,
    CallbackAttemptFailed,
    CallbackCompleted,
    CallbackRequested,
    CallerAssigned,
    CallerCallbackRequested,
    CallerLeft,
    CallerQueued,
)
from domain.calls.events import CallStarted, CallStatusChanged
from domain.tenant import TenantConfigPatched

DAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
Q, CB = "queue-demo-support", "callbacks-demo"


def at(minutes: int, seconds: int = 0) -> datetime:
    return DAY + timedelta(minutes=minutes, seconds=seconds)


class Log:
    def __init__(self, services) -> None:  # type: ignore[no-untyped-def]
        self.services = services
        self.ids = itertools.count(1)

    def emit(self, stream: str, event, when: datetime) -> None:  # type: ignore[no-untyped-def]
        store = self.services.store
        version = store.stream_version(stream)
        n = next(self.ids)
        store.append(stream, wrap([event], tenant_id="demo", stream_id=stream, expected_version=version, now=when,
                                  new_id=lambda: f"cc-{n}", correlation_id=f"cc-{n}"), version)


def agent(ext: str) -> str:
    return f"agent-demo-{ext}"


def a_day_in_the_queue(services) -> None:  # type: ignore[no-untyped-def]
    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [
        TenantConfigPatched(path=["queues"], patch={"support": {"members": ["201", "202"]}}, actor="test"),
        TenantConfigPatched(path=["statistics"], patch={"service_level": {"formula": "offered",
                                                                          "threshold_seconds": 20},
                                                        "short_abandon_seconds": 5}, actor="test")],
        expected_version=version, correlation_id="queue-setup")
    log = Log(services)
    e = log.emit
    iso = lambda t: t.isoformat()  # noqa: E731
    for ext in ("201", "202"):
        e(agent(ext), AgentLoggedIn(agent=ext, at=iso(at(0))), at(0))
    e(Q, CallerQueued(call_sid="c1", number="+15550003001", priority=0, at=iso(at(1))), at(1))
    e(agent("201"), AgentOffered(agent="201", offer_id="o1", call_sid="c1", queue="support", at=iso(at(1, 5))),
      at(1, 5))
    e(Q, CallerQueued(call_sid="c2", number="+15550003002", priority=0, at=iso(at(2))), at(2))
    e(Q, CallerLeft(call_sid="c2", reason="abandoned", at=iso(at(2, 3)), waited_seconds=3), at(2, 3))
    e(Q, CallerAssigned(call_sid="c1", agent="201", offer_id="o1", number="+15550003001", at=iso(at(1, 10)),
                        waited_seconds=10), at(2, 5))
    e(agent("201"), AgentConnected(agent="201", offer_id="o1", call_sid="c1", queue="support", room="r1",
                                   at=iso(at(1, 10))), at(2, 5))
    e(Q, CallerQueued(call_sid="c3", number="+15550003003", priority=0, at=iso(at(2, 30))), at(2, 30))
    e(agent("202"), AgentOffered(agent="202", offer_id="o3", call_sid="c3", queue="support", at=iso(at(2, 31))),
      at(2, 31))
    e(Q, CallerAssigned(call_sid="c3", agent="202", offer_id="o3", number="+15550003003", at=iso(at(3)),
                        waited_seconds=30), at(3))
    e(agent("202"), AgentConnected(agent="202", offer_id="o3", call_sid="c3", queue="support", room="r3",
                                   at=iso(at(3))), at(3))
    e(agent("201"), AgentCallEnded(agent="201", call_sid="c1", queue="support", at=iso(at(3, 10)), talk_seconds=120,
                                   wrapup_until=iso(at(3, 40))), at(3, 10))
    e(agent("202"), AgentCallEnded(agent="202", call_sid="c3", queue="support", at=iso(at(4)), talk_seconds=60,
                                   wrapup_until=iso(at(4, 20))), at(4))
    e(Q, CallerQueued(call_sid="c4", number="+15550003004", priority=0, at=iso(at(5))), at(5))
    e(Q, CallerLeft(call_sid="c4", reason="abandoned", at=iso(at(5, 40)), waited_seconds=40), at(5, 40))
    e(Q, CallerQueued(call_sid="c5", number="+15550003005", priority=0, at=iso(at(6))), at(6))
    e(Q, CallerCallbackRequested(call_sid="c5", number="+15550003005", at=iso(at(6, 20))), at(6, 20))
    e(CB, CallbackRequested(task_id="t1", number="+15550003005", reason="queue", queue="support",
                            due_at=iso(at(6, 20)), at=iso(at(6, 20)), source_call="c5"), at(6, 20))
    e(CB, CallbackRequested(task_id="t2", number="+15550003004", reason="abandoned", queue="support",
                            due_at=iso(at(7)), at=iso(at(7)), source_call="c4"), at(7))
    e(CB, CallbackAttemptFailed(task_id="t2", attempt=1, outcome="no-answer", at=iso(at(9))), at(9))
    e(CB, CallbackCompleted(task_id="t1", how="reached", at=iso(at(12)), agent="201"), at(12))
    e(agent("201"), AgentPaused(agent="201", reason="lunch", at=iso(at(15))), at(15))
    e(agent("201"), AgentUnpaused(agent="201", at=iso(at(20))), at(20))
    e(Q, CallerQueued(call_sid="c6", number="+15550003006", priority=0, at=iso(at(25))), at(25))
    e(agent("202"), AgentOffered(agent="202", offer_id="o6", call_sid="c6", queue="support", at=iso(at(25, 5))),
      at(25, 5))
    e(agent("202"), AgentOfferMissed(agent="202", offer_id="o6", call_sid="c6", reason="no-answer",
                                     at=iso(at(25, 20))), at(25, 20))


@pytest.fixture
def day(services, clock):  # type: ignore[no-untyped-def]
    a_day_in_the_queue(services)
    clock.now = at(30)


def test_queue_figures_match_the_hand_worked_day(api, day) -> None:  # type: ignore[no-untyped-def]
    q = api.get("/stats/queues?from=2026-11-24").json_body["queues"]["support"]
    assert (q["offered"], q["answered"], q["abandoned"], q["short_abandoned"]) == (6, 2, 2, 1)
    # answered within 20 s: c1 only; offered minus short abandons: 6 - 1
    assert q["service_level"] == 0.2 and q["asa_seconds"] == 20.0
    assert (q["waiting_now"], q["longest_wait_now_seconds"]) == (1, 300.0)
    # (120 + 60 talk + 30 + 20 wrap-up) / 2 calls
    assert (q["handled"], q["aht_seconds"]) == (2, 115.0)
    # (150 + 80) contact seconds / (1500 + 1800) staffed seconds
    assert q["occupancy"] == 0.0697
    assert (q["callbacks_requested"], q["callbacks_connected"]) == (2, 1)
    assert q["calls"]["short_abandoned"] == ["c2"] and q["calls"]["abandoned"] == ["c2", "c4"]


@pytest.mark.parametrize("formula, expected", [("answered", 0.5), ("answered_and_abandoned", 0.5),
                                               ("offered", 0.2)])
def test_the_tenant_chooses_the_service_level_formula(api, day, services, formula, expected) -> None:  # type: ignore[no-untyped-def]
    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [TenantConfigPatched(path=["statistics", "service_level"],
                                                         patch={"formula": formula}, actor="test")],
                            expected_version=version, correlation_id=f"sl-{formula}")
    q = api.get("/stats/queues?from=2026-11-24").json_body["queues"]["support"]
    assert q["service_level"] == expected and q["service_level_threshold_seconds"] == 20


def test_agent_presence_time_and_occupancy(api, day) -> None:  # type: ignore[no-untyped-def]
    agents = api.get("/stats/agents?from=2026-11-24").json_body["agents"]
    a = agents["201"]
    assert {k: v for k, v in a["seconds"].items() if v} == {"available": 1345.0, "ringing": 5.0, "on_call": 120.0,
                                                              "wrap_up": 30.0, "paused": 300.0}
    assert (a["handled"], a["calls"], a["occupancy"]) == (1, ["c1"], 0.1)
    # 202: available 151 + 1245 + 280, ringing 29 + 15, contact 80 of 1800 staffed seconds
    assert agents["202"]["seconds"]["available"] == 1676.0 and agents["202"]["seconds"]["ringing"] == 44.0
    assert agents["202"]["occupancy"] == 0.0444


def test_queue_calls_count_in_the_employee_figures(api, day) -> None:  # type: ignore[no-untyped-def]
    e = api.get("/stats/employees?from=2026-11-24").json_body["employees"]
    assert {k: e["201"][k] for k in ("incoming_answered", "incoming_missed", "talk_seconds", "ring_seconds")} == {
        "incoming_answered": 1, "incoming_missed": 0, "talk_seconds": 120.0, "ring_seconds": 5.0}
    assert {k: e["202"][k] for k in ("incoming_answered", "incoming_missed", "talk_seconds", "ring_seconds")} == {
        "incoming_answered": 1, "incoming_missed": 1, "talk_seconds": 60.0, "ring_seconds": 44.0}
    assert e["202"]["calls"]["incoming_missed"] == ["c6"] and e["202"]["talk_average"] == 60.0


def test_live_view_shows_agents_by_state_and_queue_sizes(api, day) -> None:  # type: ignore[no-untyped-def]
    live = api.get("/live").json_body
    assert live["agents"] == {"201": "available", "202": "available"}
    assert live["queues"]["support"] == {"waiting": 1, "callbacks_waiting": 1}


def test_a_caller_bridged_from_the_queue_is_an_answered_call_in_the_cdrs(api, day, services) -> None:  # type: ignore[no-untyped-def]
    # given the callers' own call streams (the bridge itself writes only to queue and agent streams)
    log = Log(services)
    log.ids = itertools.count(1000)  # after the day's own event ids
    for call, number, start, end in (("c1", "+15550003001", at(1), at(3, 10)), ("c2", "+15550003002", at(2),
                                                                                 at(2, 3))):
        log.emit(f"call-{call}", CallStarted(call_sid=call, from_number=number, to_number="+15550001000"), start)
        log.emit(f"call-{call}", CallStatusChanged(status="completed", duration=int((end - start).total_seconds())),
                 end)
    cdrs = {c["sid"]: c for c in api.get("/cdrs?from=2026-11-24").json_body["cdrs"]}
    assert cdrs["c1"]["outcome"] == "answered" and cdrs["c1"]["queue"] == {"queue": "support", "agent": "201",
                                                                            "wait": 10.0}
    assert cdrs["c2"]["outcome"] == "missed"
    assert [c["sid"] for c in api.get("/cdrs?from=2026-11-24&extension=201").json_body["cdrs"]] == ["c1"]
    recovery = api.get("/stats/kpis?from=2026-11-24").json_body["missed_call_recovery"]
    assert [c["missed_call"] for c in recovery["callers"]] == ["c2"]


def test_an_administrator_chooses_the_formula_through_the_api(api, day) -> None:  # type: ignore[no-untyped-def]
    patch = {"service_level": {"formula": "answered"}, "billing_tariff": "per-second"}
    resp = api.client.http.patch("/api/v1/tenants/demo/stats/settings", body=json.dumps(patch),
                                 headers={**api.headers, "Content-Type": "application/json"})
    assert resp.status_code == 200 and resp.json_body["service_level"] == {"formula": "answered",
                                                                           "threshold_seconds": 20}
    assert api.get("/stats/queues?from=2026-11-24").json_body["queues"]["support"]["service_level"] == 0.5
    assert api.get("/bills/2026-11").json_body["tariff"]["id"] == "per-second"
    bad = api.client.http.patch("/api/v1/tenants/demo/stats/settings",
                                body=json.dumps({"service_level": {"formula": "best"}}),
                                headers={**api.headers, "Content-Type": "application/json"})
    assert bad.status_code == 422 and "formula" in json.dumps(bad.json_body)
    unknown = api.client.http.patch("/api/v1/tenants/demo/stats/settings", body=json.dumps({"billing_tariff": "x"}),
                                    headers={**api.headers, "Content-Type": "application/json"})
    assert unknown.status_code == 422 and unknown.json_body["errors"][0]["pointer"] == "/json/billing_tariff"
