"""The demo tenant end to end through the webhook shell: menu, ring, voicemail, black list."""

from __future__ import annotations

import re

from tests.conftest import Gateway, call_params

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
    assert "<Sip>sip:101@demo.sip.vpbx.local</Sip><Client>102</Client>" in dial.body
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
    assert "<Sip>sip:100@demo.sip.vpbx.local</Sip>" in operator.body
