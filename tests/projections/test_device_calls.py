"""Employees' own calls: a desk phone or the app dialling a colleague's extension or a phone number.
Through the webhook path (the gateway reports them as voice webhooks from the device); the figures, the
call log and the bill worked out by hand."""

from __future__ import annotations

from chalicelib.calls import WebhookResponse
from domain.tenant import TenantConfigPatched
from tests.conftest import answer_url, answering_device, call_params
from tests.projections.scenario import Calls, actions, sid

DESK_101 = "sip:101@demo.sip.vpbx.local"
APP_102 = "client:102"
DOMAIN = "@demo.sip.vpbx.local"


def dial(calls: Calls, call: str, device: str, to: str, *, answer: str = "", talk: int = 0,
         status: str = "completed", ring: float = 5) -> tuple[WebhookResponse, WebhookResponse | None]:
    """``device`` dials ``to``; the callee ``answer`` (a member of the dial) talks ``talk`` s, or the dial
    ends with ``status``; then the caller hangs up. Returns vpbx's answers to the call and to the dial's end."""
    first = calls.gw.post("voice", call_params(call, From=device, To=to))
    if "<Dial" not in first.body:
        return first, None
    calls.clock.advance(ring)
    leg = "CA" + call[2:][::-1]
    if answer:
        calls.gw.follow(answer_url(first.body, answer), call_params(
            leg, CallStatus="in-progress", Direction="outbound-dial", To=answering_device(first.body, answer)))
        calls.clock.advance(talk)
    extra = {"DialCallStatus": "completed" if answer else status, "DialCallSid": leg,
             "DialCallDuration": str(talk)}
    after = calls.gw.follow(actions(first.body)[0], call_params(call, From=device, To=to, CallStatus="in-progress",
                                                                **extra))
    assert after.status == 200
    calls.status(call, "completed", int(ring + talk), From=device, To=to)
    return first, after


def test_a_desk_phone_rings_a_colleague_by_extension_and_the_call_is_internal(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    # when 101's desk phone dials 102 (the gateway's To is a SIP URI on the tenant's domain) and 102 answers
    first, _ = dial(calls, sid(31), DESK_101, "sip:102" + DOMAIN, answer="102", talk=40)
    # then 102's app rings, showing 101's phone as the caller
    assert '<Client url="' in first.body and ">102</Client>" in first.body and f'callerId="{DESK_101}"' in first.body
    # and the figures: 101 made an answered outgoing call, 102 answered an incoming one; nobody missed a caller
    e = api.get("/stats/employees?from=2026-11-24&to=2026-11-24").json_body["employees"]
    assert (e["101"]["outgoing_attempted"], e["101"]["outgoing_answered"], e["101"]["incoming_answered"]) == (1, 1, 0)
    assert (e["102"]["incoming_answered"], e["102"]["talk_seconds"]) == (1, 40.0)
    kpi = api.get("/stats/kpis?from=2026-11-24&to=2026-11-24").json_body
    assert kpi["missed_call_recovery"]["missed_callers"] == 0 and kpi["repeat_callers"]["inbound_calls"] == 0
    # the call log shows it under both, to "102", and the bill counts it as a free internal call
    cdr = api.get(f"/cdrs?calls={sid(31)}").json_body["cdrs"][0]
    assert (cdr["to"], cdr["placed_by"], cdr["outcome"], cdr["kind"]) == ("102", "101", "answered", "internal")
    assert [c["sid"] for c in api.get("/cdrs?from=2026-11-24&direction=internal").json_body["cdrs"]] == [sid(31)]
    assert api.get("/cdrs?from=2026-11-24&direction=inbound").json_body["cdrs"] == []
    bill = api.get("/bills/2026-11?details=1").json_body
    assert [i["call"] for line in bill["lines"] if line["kind"] == "internal" for i in line["items"]] == [sid(31)]
    assert bill["total"] == "29.00" and bill["lines"][0]["quantity"] == 0


def allow(services, ext: str, level: str) -> None:  # type: ignore[no-untyped-def]
    """Let ``ext``'s phones dial out to ``level`` (none, national, international, all)."""
    services.tenants.append("demo", [TenantConfigPatched(path=["extensions", ext], patch={"dial_out": level},
                                                         actor="test")],
                            expected_version=services.store.stream_version("tenant-demo"))


def test_a_desk_phone_dials_out_in_national_or_international_form_and_the_call_is_rated(
        api, services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    allow(services, "101", "international")
    # when 101 dials a London number in international form, talks 61 s, and 102's app a US number in
    # national form, unanswered
    out, _ = dial(calls, sid(32), DESK_101, "sip:+442071234567" + DOMAIN + ";user=phone", answer="+442071234567", talk=61)
    assert ">+442071234567</Number>" in out.body and 'callerId="+15550001000"' in out.body  # the tenant's number
    national, _ = dial(calls, sid(33), APP_102, "(202) 555-0143", status="no-answer")
    assert ">+12025550143</Number>" in national.body
    # then both are the callers' outgoing calls (one answered), and no employee is charged a miss
    e = api.get("/stats/employees?from=2026-11-24&to=2026-11-24").json_body["employees"]
    assert (e["101"]["outgoing_attempted"], e["101"]["outgoing_answered"], e["101"]["talk_seconds"]) == (1, 1, 61.0)
    assert (e["102"]["outgoing_attempted"], e["102"]["outgoing_answered"]) == (1, 0)
    assert set(e) == {"101", "102"} and e["102"]["incoming_missed"] == 0
    # and the answered one is on the bill as a call to the UK: 61 s -> 120 s x 0.020 = 0.04
    bill = api.get("/bills/2026-11?details=1").json_body
    uk = [line for line in bill["lines"] if line["kind"] == "minutes"]
    assert [(line["prefix"], line["amount"]) for line in uk] == [("44", "0.04")]
    assert [(i["call"], i["to"], i["billed_seconds"]) for i in uk[0]["items"]] == [(sid(32), "+442071234567", 120)]
    assert bill["lines"][0]["quantity"] == 2 and bill["total"] == "29.04"
    # and the call log lists both as outbound (the gateway said "inbound": the phone's call to it)
    out = api.get("/cdrs?from=2026-11-24&direction=outbound").json_body["cdrs"]
    assert sorted(c["sid"] for c in out) == [sid(32), sid(33)] and {c["direction"] for c in out} == {"inbound"}


def test_a_device_dialling_nothing_valid_hears_not_in_service_and_an_unanswered_colleague_gets_voicemail(
        api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    nothing, _ = dial(calls, sid(34), DESK_101, "sip:99" + DOMAIN)
    assert "<Dial" not in nothing.body and "<Hangup/>" in nothing.body and "<Say" in nothing.body
    rang, after = dial(calls, sid(35), DESK_101, "sip:103" + DOMAIN, status="no-answer")
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in rang.body and after is not None and "<Record" in after.body
    e = api.get("/stats/employees?from=2026-11-24&to=2026-11-24").json_body["employees"]
    assert e["103"]["incoming_missed"] == 1 and e["101"]["outgoing_attempted"] == 2


def test_a_call_placed_through_the_api_is_not_dialled_again(gateway) -> None:  # type: ignore[no-untyped-def]
    # a call an API placed from a device's identity fetches the voice URL when the callee answers: it
    # is reported outbound-api, and routing it as a device call would ring the callee a second time
    resp = gateway.post("voice", call_params(sid(36), From=APP_102, To="+442071234567", Direction="outbound-api"))
    assert resp.status == 200 and "<Dial" not in resp.body


def test_the_live_view_says_which_colleague_is_talking_with_whom(api, gateway) -> None:  # type: ignore[no-untyped-def]
    first = gateway.post("voice", call_params(sid(37), From=DESK_101, To="sip:102" + DOMAIN))
    gateway.follow(answer_url(first.body, "102"), call_params(
        "CA" + "e" * 32, CallStatus="in-progress", Direction="outbound-dial", To=answering_device(first.body, "102")))
    live = api.get("/live").json_body
    assert [(t["agent"], t["with"]) for t in live["talking"]] == [("102", "101")]


def test_a_missed_caller_called_back_from_a_desk_phone_counts_as_recovered(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # given a caller from Washington who rang the demo number at 15:00 and hung up in the menu (missed)
    calls = Calls(gateway, clock)
    caller = "+12025550143"
    calls.gw.post("voice", call_params(sid(38), From=caller))
    clock.advance(10)
    calls.status(sid(38), "completed", 10, From=caller)
    # when 101 calls them back from the desk phone 5 minutes later, dialling the national form, and they answer
    clock.advance(300)
    dial(calls, sid(39), DESK_101, "sip:2025550143" + DOMAIN, answer="+12025550143", talk=30)
    # then the KPI counts the caller as reached by that call, 300 s after the missed call ended
    kpi = api.get("/stats/kpis?from=2026-11-24&to=2026-11-24").json_body["missed_call_recovery"]
    assert kpi["callers"] == [{"caller": caller, "missed_call": sid(38), "reached_by": sid(39), "seconds": 300.0}]


def test_what_a_phone_may_dial_out_to_is_limited_by_its_extension(services, gateway) -> None:  # type: ignore[no-untyped-def]
    # dial_out: national by default (the company's country, +1 here), international, all (premium rate),
    # none (colleagues only); a barred call hears why, and the step records it (explain)
    def dials(call: str, device: str, to: str) -> bool:
        body = gateway.post("voice", call_params(call, From=device, To=to)).body
        assert "<Dial" in body or "not allowed to call this number" in body, body
        return "<Dial" in body

    uk, us, us_premium = "+442071234567", "+12025550143", "+19002001234"
    assert (dials(sid(40), DESK_101, uk), dials(sid(41), DESK_101, us), dials(sid(42), DESK_101, us_premium)) == \
        (False, True, False)
    allow(services, "101", "international")
    assert (dials(sid(43), DESK_101, uk), dials(sid(44), DESK_101, us_premium)) == (True, False)
    allow(services, "101", "all")
    assert dials(sid(45), DESK_101, us_premium)
    allow(services, "101", "none")
    assert not dials(sid(46), DESK_101, us) and dials(sid(47), DESK_101, "sip:102" + DOMAIN)
    steps = [e for e in services.store.load(f"call-{sid(40)}")[0] if e.event_type == "StepDecided"]
    assert steps[0].data["inputs"]["error"] == f"{uk} is abroad (extension 101: dial_out national)"


def test_a_call_out_presents_the_extensions_direct_line_never_a_strangers_number(services, gateway) -> None:  # type: ignore[no-untyped-def]
    # given 101 has a direct line among the company's numbers, and 102 names a number the company does not own
    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [
        TenantConfigPatched(path=["numbers"], patch={"+15550001001": {"plan": "main", "label": "Sam direct"}},
                            actor="test"),
        TenantConfigPatched(path=["extensions", "101"], patch={"caller_id": "+15550001001"}, actor="test"),
        TenantConfigPatched(path=["extensions", "102"], patch={"caller_id": "+12025550100"}, actor="test"),
    ], expected_version=version)
    sam = gateway.post("voice", call_params(sid(48), From=DESK_101, To="+12025550143")).body
    sasha = gateway.post("voice", call_params(sid(49), From=APP_102, To="+12025550143")).body
    assert 'callerId="+15550001001"' in sam and 'callerId="+15550001000"' in sasha


def test_an_extension_without_a_second_line_is_busy_while_its_phone_is_on_a_call_it_placed(
        services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # given 103 has no call waiting and its phone is calling 102 (still on the call)
    services.tenants.append("demo", [TenantConfigPatched(path=["extensions", "103"], patch={"call_waiting": False},
                                                         actor="test")],
                            expected_version=services.store.stream_version("tenant-demo"))
    desk_103 = "sip:103@demo.sip.vpbx.local"
    assert "<Dial" in gateway.post("voice", call_params(sid(50), From=desk_103, To="sip:102" + DOMAIN)).body
    # when a caller asks for support (103) meanwhile, then 103 is busy: the caller goes to voicemail
    menu = gateway.post("voice", call_params(sid(51)))
    support = gateway.follow(actions(menu.body)[0], call_params(sid(51), CallStatus="in-progress", Digits="2"))
    assert "<Record" in support.body and "sip:103@" not in support.body
    # and once 103's call has ended, 103 rings again
    clock.advance(60)
    Calls(gateway, clock).status(sid(50), "completed", 60, From=desk_103)
    menu = gateway.post("voice", call_params(sid(52)))
    again = gateway.follow(actions(menu.body)[0], call_params(sid(52), CallStatus="in-progress", Digits="2"))
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in again.body


def test_an_emergency_number_is_always_dialled_whatever_the_phone_may_dial_out_to(services, gateway) -> None:  # type: ignore[no-untyped-def]
    # given 101 may call colleagues only; the company's number is in the US (911, and 112 too)
    allow(services, "101", "none")
    for k, number in enumerate(("911", "112")):
        body = gateway.post("voice", call_params(sid(60 + k), From=DESK_101, To=f"sip:{number}" + DOMAIN)).body
        # then it is dialled as dialled, presenting the company's number (its emergency address is the carrier's)
        assert f">{number}</Number>" in body and 'callerId="+15550001000"' in body, body
    # while a number that is not an emergency one stays barred
    assert "not allowed" in gateway.post("voice", call_params(sid(62), From=DESK_101, To="+12025550143")).body
