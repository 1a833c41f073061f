"""The demo tenant end to end through the webhook shell: menu, ring, voicemail, black list."""

from __future__ import annotations

import re

from tests.conftest import Gateway, answer_url, call_params

SID = "CA" + "1" * 32


def actions(xml: str) -> list[str]:
    return re.findall(r'action="([^"]+)"', xml)


def test_caller_hears_the_menu_first(gateway: Gateway) -> None:
    resp = gateway.post("voice", call_params(SID))
    assert resp.status == 200
    assert "For sales, press 1" in resp.body
    assert '<Gather action="https://pbx.example.com/webhooks/demo/voice?node=menu&amp;step=2" numDigits="1">' in resp.body


def test_sales_rings_both_and_falls_to_group_voicemail(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    menu = gateway.post("voice", call_params(SID))
    dial = gateway.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress", Digits="1"))
    # both members ring in one dial; each one's nouns carry the answer URL that says who picked up
    nouns = re.findall(r'<(Sip|Client) url="([^"]+)">([^<]+)<', dial.body)
    assert [(tag, text) for tag, _, text in nouns] == [("Sip", "sip:101@demo.sip.vpbx.local"), ("Client", "102")]
    assert [url for _, url, _ in nouns] == [
        f"https://pbx.example.com/webhooks/demo/answered?call={SID}&amp;member={m}&amp;node=sales&amp;step=4"
        for m in ("101", "102")]
    assert 'timeout="20"' in dial.body
    vm = gateway.follow(actions(dial.body)[0], call_params(SID, CallStatus="in-progress", DialCallStatus="no-answer"))
    assert "Demo Company sales" in vm.body and "<Record" in vm.body
    done = gateway.follow(actions(vm.body)[0], call_params(
        SID, CallStatus="in-progress", RecordingUrl="https://gw/rec/RE1", RecordingDuration="9", RecordingSid="RE1"))
    assert "<Hangup/>" in done.body
    stored, _ = services.store.load(f"call-{SID}")
    left = [e for e in stored if e.event_type == "VoicemailLeft"]
    assert len(left) == 1 and left[0].data["box"] == "sales" and left[0].data["duration"] == 9


def test_blacklisted_caller_is_rejected(gateway: Gateway) -> None:
    resp = gateway.post("voice", call_params(SID, From="+15550009999"))
    assert resp.body.endswith('<Response><Reject reason="rejected"/></Response>')


def test_no_input_twice_goes_to_the_operator(gateway: Gateway) -> None:
    menu = gateway.post("voice", call_params(SID))
    again = gateway.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress"))
    assert "For sales, press 1" in again.body and "not a valid choice" not in again.body
    operator = gateway.follow(actions(again.body)[0], call_params(SID, CallStatus="in-progress"))
    assert ">sip:100@demo.sip.vpbx.local</Sip>" in operator.body


def _to_sales(gateway: Gateway) -> str:
    menu = gateway.post("voice", call_params(SID))
    return gateway.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress", Digits="1")).body


LEG = "CA" + "2" * 32


def _answered(services) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return [dict(e.data) for e in services.store.load(f"call-{SID}")[0] if e.event_type == "DialAnswered"]


def test_the_answer_of_a_member_is_recorded_once_and_lets_the_gateway_bridge(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    dial = _to_sales(gateway)
    leg = call_params(LEG, CallStatus="in-progress", Direction="outbound-dial", To="client:102")
    # when the gateway fetches 102's answer URL on the new leg, twice (a redelivery)
    first = gateway.follow(answer_url(dial, "102"), leg)
    again = gateway.follow(answer_url(dial, "102"), leg)
    # then the answer is empty LaML (the legs are bridged), and recorded once on the caller's call
    assert first.status == again.status == 200 and first.body.endswith("<Response></Response>") and again.body == first.body
    assert _answered(services) == [{"node": "sales", "step": 4, "member": "102", "leg_sid": LEG,
                                  "device": "client:102"}]
    assert services.store.stream_version(f"call-{LEG}") == 0  # nothing is written under the new leg's id


def test_an_answer_after_the_dial_ended_changes_nothing(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    dial = _to_sales(gateway)
    gateway.follow(actions(dial)[0], call_params(SID, CallStatus="in-progress", DialCallStatus="no-answer"))
    late = gateway.follow(answer_url(dial, "101"), call_params(LEG, CallStatus="in-progress"))
    assert late.status == 200 and late.body.endswith("<Response></Response>") and _answered(services) == []


def test_an_answer_url_without_its_call_is_refused_naming_it(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    dial = _to_sales(gateway)
    url = answer_url(dial, "101").replace(f"call={SID}", "call=nope")
    resp = gateway.follow(url, call_params(LEG, CallStatus="in-progress"))
    assert resp.status == 400 and resp.body.startswith("call: 'nope' is not the call that dialled")
    resp = gateway.follow(answer_url(dial, "101").replace("&member=101", ""), call_params(LEG))
    assert resp.status == 400 and resp.body.startswith("member: is required")
    assert _answered(services) == []


def test_the_call_connects_even_when_the_answer_cannot_be_recorded(gateway: Gateway, services, caplog) -> None:  # type: ignore[no-untyped-def]
    dial = _to_sales(gateway)
    real_append = services.store.append

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    services.store.append = failing
    try:
        resp = gateway.follow(answer_url(dial, "101"), call_params(LEG, CallStatus="in-progress"))
    finally:
        services.store.append = real_append
    # the gateway still gets the empty document that bridges the legs; the failure is logged
    assert resp.status == 200 and resp.body.endswith("<Response></Response>")
    assert "could not record the answer of a dial of call " + SID in caplog.text and _answered(services) == []
