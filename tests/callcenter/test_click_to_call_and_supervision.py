"""Click-to-call from a CRM (agent first, then the customer), busy auto-redial, and supervision — over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth import create_api_key
from chalicelib.callcenter.streams import agent_stream, load_events
from chalicelib.server import load_app_module
from domain.callcenter.events import SupervisionStarted
from tests.callcenter.conftest import CallCenter, setup_callcenter

CUSTOMER = "+14155550123"


@pytest.fixture
def http(cc: CallCenter) -> Iterator[Client]:
    with Client(load_app_module().app) as client:
        yield client


def bearer(cc: CallCenter, *scopes: str) -> dict[str, str]:
    key, _ = create_api_key(cc.services, "demo", scopes=scopes or ("*",), label="crm")
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def post(http: Client, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    resp = http.http.post(path, body=json.dumps(body), headers=headers)
    return resp.status_code, json.loads(resp.body or b"null")


def test_click_to_call_rings_the_agent_then_calls_the_customer_into_the_agents_room(cc: CallCenter,
                                                                                   http: Client) -> None:
    cc.login("201")
    status, body = post(http, "/api/v1/calls", {"agent": "201", "to": "+1 415 555 0123"},
                        bearer(cc, "calls.originate"))
    assert status == 202 and body["status"] == "ringing-agent"
    assert cc.rung() == ["201"] and not any(r.params["To"] == CUSTOMER for r in cc.rest.created())
    laml = cc.answer("201")
    assert "Connecting your call." in laml and "<Conference" in laml
    customer = cc.customer_leg(CUSTOMER)
    assert customer.params["From"] == "+15550001000"  # the tenant's number, not the agent's device
    assert cc.agent_state("201").presence(cc.clock()) == "on_call"


def test_click_to_call_validates_and_refuses_a_busy_agent(cc: CallCenter, http: Client) -> None:
    headers = bearer(cc, "calls.originate")
    assert post(http, "/api/v1/calls", {"agent": "201"}, headers)[1]["errors"][0]["pointer"] == "/to"
    status, body = post(http, "/api/v1/calls", {"agent": "201", "to": "12345"}, headers)
    assert status == 400 and body["errors"][0]["pointer"] == "/to"
    assert post(http, "/api/v1/tenants/demo/calls", {"agent": "999", "to": CUSTOMER}, headers)[0] == 404
    assert post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, headers)[0] == 202
    assert post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, headers)[0] == 409
    assert post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, {"Content-Type": "application/json"})[0] == 401
    assert post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, bearer(cc, "stats.read"))[0] == 403


def test_a_busy_customer_is_redialled_after_the_spacing_agent_first(cc: CallCenter, http: Client) -> None:
    setup_callcenter(cc.services, extra={"outbound": {"redial_attempts": 2, "redial_spacing_seconds": 120}})
    cc.login("201")
    post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, bearer(cc))
    cc.answer("201")
    cc.customer_ends(CUSTOMER, "busy")
    cc.agent_leg_ends("201", duration=3)
    task = cc.book().open_for(CUSTOMER)
    assert task is not None and task.reason == "busy_redial" and task.agent == "201" and task.max_attempts == 2
    cc.clock.advance(119)
    assert cc.tick().started == 0
    cc.clock.advance(2)
    assert cc.tick().started == 1 and cc.rung() == ["201", "201"]
    assert "Calling the customer again now." in cc.answer("201")
    cc.customer_ends(CUSTOMER, "busy")
    cc.agent_leg_ends("201", duration=3)
    cc.clock.advance(121)
    cc.tick()
    cc.answer("201")
    cc.customer_ends(CUSTOMER, "busy")
    assert cc.book().open_for(CUSTOMER) is None  # two redials, then it stops
    assert [t.done for t in cc.book().tasks.values()] == ["attempts_exhausted"]


@pytest.mark.parametrize(("mode", "conference"), [
    ("listen", '<Conference beep="false" muted="true">'),
    ("whisper", '<Conference beep="false" coach="CAfake'),
    ("barge", '<Conference beep="false">'),
])
def test_a_supervisor_listens_whispers_or_barges_and_it_is_recorded(cc: CallCenter, http: Client, mode: str,
                                                                     conference: str) -> None:
    cc.login("201")
    cc.call(cc.sid(1), "+15550002000")
    cc.answer("201")
    status, body = post(http, "/api/v1/tenants/demo/supervision", {"supervisor": "203", "agent": "201",
                                                                   "mode": mode}, bearer(cc, "calls.listen"))
    assert status == 202 and body["call"] == cc.sid(1)
    leg = cc.legs_to("203")[-1]
    code, laml = cc.post(leg.params["Url"], {"CallSid": leg.sid, "CallStatus": "in-progress"})
    assert code == 200 and conference in laml and f">cc-{cc.sid(1)}</Conference>" in laml
    if mode == "whisper":
        assert f'coach="{cc.legs_to("201")[-1].sid}"' in laml
    started = [e for e in load_events(cc.services, agent_stream("demo", "201"))[0]
               if isinstance(e, SupervisionStarted)]
    assert [(e.supervisor, e.mode, e.call_sid) for e in started] == [("203", mode, cc.sid(1))]
    assert started[0].actor  # the API key that did it


def test_supervision_needs_a_live_call_and_a_known_mode(cc: CallCenter, http: Client) -> None:
    headers = bearer(cc)
    status, body = post(http, "/api/v1/tenants/demo/supervision", {"supervisor": "203", "agent": "201",
                                                                   "mode": "listen"}, headers)
    assert status == 409 and "not on a call" in body["errors"][0]["message"]
    status, body = post(http, "/api/v1/tenants/demo/supervision", {"supervisor": "203", "agent": "201",
                                                                   "mode": "spy"}, headers)
    assert status == 400 and body["errors"][0]["pointer"] == "/mode"


def test_presence_over_the_api(cc: CallCenter, http: Client) -> None:
    headers = bearer(cc, "agent.status_own")
    status, body = post(http, "/api/v1/tenants/demo/agents/201/presence", {"action": "login"}, headers)
    assert status == 200 and body["presence"] == "available"
    status, body = post(http, "/api/v1/tenants/demo/agents/201/presence", {"action": "pause", "reason": "lunch"},
                        headers)
    assert body["presence"] == "paused" and body["pause_reason"] == "lunch"
    status, body = post(http, "/api/v1/tenants/demo/agents/201/presence", {"action": "dance"}, headers)
    assert status == 400 and body["errors"][0]["pointer"] == "/action"
    resp = http.http.get("/api/v1/tenants/demo/queues/support/live", headers=bearer(cc, "live.read"))
    live = json.loads(resp.body)
    assert resp.status_code == 200 and live["agents"][0] == {"agent": "201", "presence": "paused", "call": None,
                                                             "misses_in_row": 0, "pause_reason": "lunch",
                                                             "wrapup_until": None}


def test_callback_tasks_are_listed_over_the_api(cc: CallCenter, http: Client) -> None:
    cc.call(cc.sid(1), "+15550002000")
    cc.hangup(cc.sid(1), "+15550002000")
    cc.tick()
    resp = http.http.get("/api/v1/tenants/demo/callbacks", headers=bearer(cc, "calls.read"))
    tasks = json.loads(resp.body)["tasks"]
    assert resp.status_code == 200 and [(t["number"], t["reason"], t["attempts"]) for t in tasks] == [
        ("+15550002000", "abandoned", 1)]
    assert http.http.get("/api/v1/tenants/demo/callbacks", headers=bearer(cc, "live.read")).status_code == 403


def test_a_click_to_call_is_a_call_of_its_own_on_the_agents_figures_the_call_log_and_the_bill(
        cc: CallCenter, http: Client) -> None:
    # given agent 201 clicks to call a US customer who answers and talks 61 s, then a second customer who is busy
    cc.login("201")
    headers = bearer(cc)
    assert post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, headers)[0] == 202
    cc.answer("201")
    leg = cc.customer_leg(CUSTOMER)
    code, laml = cc.post(leg.params["Url"], {"CallSid": leg.sid, "CallStatus": "in-progress"})
    assert code == 200 and "returning your call" in laml and "<Conference" in laml
    # and the live view shows 201 talking with the customer, on an outbound call
    live = json.loads(http.http.get("/api/v1/tenants/demo/live", headers=headers).body)
    assert [(t["agent"], t["with"]) for t in live["talking"]] == [("201", CUSTOMER)]
    assert [(c["to"], c["direction"], c["status"]) for c in live["calls"]] == [(CUSTOMER, "outbound-api", "in-progress")]
    cc.clock.advance(61)
    cc.customer_ends(CUSTOMER, "completed", duration=61)
    cc.customer_ends(CUSTOMER, "completed", duration=61)  # the gateway redelivers the status callback
    cc.agent_leg_ends("201", duration=61)
    other = "+14155550999"
    assert post(http, "/api/v1/calls", {"agent": "201", "to": other}, headers)[0] == 202
    cc.answer("201")
    cc.customer_ends(other, "busy")
    cc.agent_leg_ends("201", duration=3)
    # then each customer leg is a call with its own events: started, in progress, completed (once)
    stored, _ = cc.services.store.load(f"call-{leg.sid}")
    assert [(e.event_type, e.data["status"]) for e in stored] == [
        ("CallStarted", "ringing"), ("CallStatusChanged", "in-progress"), ("CallStatusChanged", "completed")]
    assert stored[0].data["placed_by"] == "201" and stored[0].data["to_number"] == CUSTOMER
    # with a CDR: outbound from the tenant's number, placed by 201, answered, 61 s
    day = cc.clock().date().isoformat()
    cdrs = json.loads(http.http.get(f"/api/v1/tenants/demo/cdrs?from={day}&to={day}&extension=201",
                                    headers=headers).body)["cdrs"]
    mine = {c["to"]: c for c in cdrs}
    assert set(mine) == {CUSTOMER, other}
    answered, busy = mine[CUSTOMER], mine[other]
    assert (answered["direction"], answered["from"], answered["placed_by"], answered["outcome"],
            answered["duration"]) == ("outbound-api", "+15550001000", "201", "answered", 61)
    assert (busy["outcome"], busy["status"]) == ("busy", "busy")
    # on 201's figures: two outgoing calls attempted, one answered, 61 s of talk
    e = json.loads(http.http.get(f"/api/v1/tenants/demo/stats/employees?from={day}&to={day}",
                                 headers=headers).body)["employees"]["201"]
    assert (e["outgoing_attempted"], e["outgoing_answered"]) == (2, 1) and e["talk_seconds"] >= 61
    assert e["calls"]["outgoing_answered"] == [leg.sid]
    # and on the bill: 61 s to +1 -> 120 s billed at the standard tariff's US rate; the busy one is free
    bill = json.loads(http.http.get(f"/api/v1/tenants/demo/bills/{day[:7]}?details=1", headers=headers).body)
    us = next(line for line in bill["lines"] if line["kind"] == "minutes" and line["prefix"] == "1")
    assert [(i["call"], i["seconds"], i["billed_seconds"]) for i in us["items"]] == [(leg.sid, 61, 120)]


def test_another_tenant_cannot_write_into_a_placed_call(cc: CallCenter, http: Client) -> None:
    # given 201's click-to-call customer leg, answered
    from tests.routing.pbx import make_tenant

    cc.login("201")
    post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, bearer(cc))
    cc.answer("201")
    leg = cc.customer_leg(CUSTOMER)
    cc.post(leg.params["Url"], {"CallSid": leg.sid, "CallStatus": "in-progress"})
    before = cc.services.store.load(f"call-{leg.sid}")[0]
    # when another tenant (its own account, signing its own webhooks) reports a status naming that call id
    make_tenant(cc.services, "rival", {"root": {"id": "bye", "action": "hangup", "data": {}}})
    code, _ = cc.post("https://pbx.example.com/callcenter/rival/customer-status?agent=201&call=c2c:x&number=%2B1",
                      {"CallSid": leg.sid, "CallStatus": "completed", "CallDuration": "9999"})
    # then the call's events are as they were
    assert code == 200 and cc.services.store.load(f"call-{leg.sid}")[0] == before and len(before) == 2


def test_a_placed_calls_webhooks_arriving_together_are_each_kept_once(cc: CallCenter, http: Client) -> None:
    # given 8 placed customer legs whose answer and final status (each sent twice) reach vpbx at the same time
    import threading

    cc.login("201")
    post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, bearer(cc))
    cc.answer("201")
    leg = cc.customer_leg(CUSTOMER)
    sids = [f"CA{k:032x}" for k in range(1, 9)]
    posts = [(leg.params["Url"], {"CallSid": s, "CallStatus": "in-progress"}) for s in sids] + \
        [(leg.params["StatusCallback"], {"CallSid": s, "CallStatus": "completed", "CallDuration": "7"})
         for s in sids for _ in range(2)]
    start = threading.Barrier(len(posts))
    codes: list[int] = []

    def send(url: str, params: dict[str, str]) -> None:
        start.wait()
        codes.append(cc.post(url, params)[0])

    threads = [threading.Thread(target=send, args=p) for p in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every leg is one call: started once, its answer and its final status once each (any order)
    assert codes == [200] * len(posts)
    for s in sids:
        kept = [(e.event_type, e.data.get("status")) for e in cc.services.store.load(f"call-{s}")[0]]
        assert kept[0][0] == "CallStarted" and sorted(kept[1:]) == [
            ("CallStatusChanged", "completed"), ("CallStatusChanged", "in-progress")], kept


def test_a_placed_calls_first_webhook_may_beat_its_placement_record(cc: CallCenter, http: Client, caplog) -> None:  # type: ignore[no-untyped-def]
    # given the gateway reports the customer's answer before vpbx has recorded that it placed the call
    import logging

    from chalicelib.callcenter.legs import record_placed_leg

    cc.login("201")
    post(http, "/api/v1/calls", {"agent": "201", "to": CUSTOMER}, bearer(cc))
    cc.answer("201")
    leg = cc.customer_leg(CUSTOMER)
    stream = f"call-{leg.sid}"
    with cc.services.store._conn() as db:  # the placement record, undone: as if it had not happened yet
        db.execute("DELETE FROM events WHERE stream_id = ?", (stream,))
    cc.post(leg.params["Url"], {"CallSid": leg.sid, "CallStatus": "in-progress"})
    # when the placement is recorded after it, then it adds nothing (no second CallStarted) and logs nothing
    with caplog.at_level(logging.WARNING, logger="vpbx.callcenter"):
        record_placed_leg(cc.services, cc.services.tenants.get("demo"), {"CallSid": leg.sid, "To": CUSTOMER},
                          to=CUSTOMER, agent="201", request=f"placed-{leg.sid}")
    assert [e.event_type for e in cc.services.store.load(stream)[0]] == ["CallStarted", "CallStatusChanged"]
    assert caplog.records == []
