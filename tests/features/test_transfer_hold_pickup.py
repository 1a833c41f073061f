"""Call features on live calls, through the API and feature codes: blind transfer, hold with
music and resume, call pickup (group *8, directed **ext, by API). Each is LaML for the leg in
hand plus a gateway REST update for the other leg, and an event on the call."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import auth
from chalicelib.server import load_app_module
from tests.conftest import Gateway
from tests.routing.pbx import Call, assert_golden, make_tenant, sid

CALLER = sid(0xC0)


def _api(path: str, key: str | None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    with Client(load_app_module().app) as client:
        resp = client.http.post(path, headers=headers, body=json.dumps(body or {}).encode())
    return resp.status_code, json.loads(resp.body or b"null")


@pytest.fixture
def key(services) -> str:  # type: ignore[no-untyped-def]
    secret, _ = auth.create_api_key(services, "demo", scopes=["calls.control", "calls.read"], actor="test")
    return secret


@pytest.fixture
def operator_call(services) -> Call:  # type: ignore[no-untyped-def]
    """A demo caller who pressed 0: Olivia's phone (100) is ringing or talking."""
    call = Call(Gateway(services), CALLER)
    call.start()
    assert ">sip:100@demo.sip.vpbx.local</Sip>" in call.press("0")
    return call


@pytest.fixture
def sales_call(services) -> Call:  # type: ignore[no-untyped-def]
    """A demo caller who pressed 1: the sales group (101, 102) is ringing."""
    call = Call(Gateway(services), CALLER)
    call.start()
    call.press("1")
    return call


def _types(call: Call) -> list[str]:
    return [e.event_type for e in call.events()]


def test_blind_transfer_rings_the_target_then_its_voicemail(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    status, doc = _api(f"/api/v1/calls/{CALLER}/transfer", key, {"to": "102", "by": "100"})
    assert status == 200 and doc["events"][0] == "CallTransferred"
    assert_golden("transfer_blind", doc["laml"])
    # the gateway was told to run that LaML on the caller's leg
    sent = services.gateway.requests[-1]
    assert (sent.op, sent.sid, sent.params) == ("update", CALLER, {"Twiml": doc["laml"]})
    # when 102 does not answer, the gateway posts to the diverted node's action URL: 102's voicemail
    operator_call.last = type(operator_call.last)(200, doc["laml"], {})
    assert "<Record" in operator_call.dial_ended("no-answer")
    transferred = next(e for e in operator_call.events() if e.event_type == "CallTransferred")
    assert transferred.data == {"to": "102", "kind": "blind", "by": "100", "state": "done"}


def test_transfer_to_an_outside_number_presents_the_caller(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    status, doc = _api(f"/api/v1/calls/{CALLER}/transfer", key, {"to": "+442071234567"})
    assert status == 200
    assert '>+442071234567</Number>' in doc["laml"] and 'callerId="+15550002000"' in doc["laml"]


def test_hold_plays_music_and_resume_rings_the_extension_again(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    status, held = _api(f"/api/v1/calls/{CALLER}/hold", key, {"by": "100"})
    assert status == 200
    assert_golden("hold_prompt", held["laml"])
    status, back = _api(f"/api/v1/calls/{CALLER}/resume", key, {"to": "100"})
    assert status == 200 and ">sip:100@demo.sip.vpbx.local</Sip>" in back["laml"]
    assert [t for t in _types(operator_call) if t.startswith("Call")][-2:] == ["CallHeld", "CallResumed"]


def test_hold_uses_the_tenants_hold_music(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", {"root": {"id": "op", "action": "ring_extension",
                                                      "data": {"extension": "100"}}},
                          hold_music_url="https://cdn.example.com/hold.mp3")
    Call(gateway, sid(9)).start()
    secret, _ = auth.create_api_key(services, "acme", scopes=["calls.control"], actor="test")
    status, held = _api(f"/api/v1/calls/{sid(9)}/hold", secret)
    assert status == 200
    assert held["laml"].endswith('<Response><Play loop="0">https://cdn.example.com/hold.mp3</Play></Response>')


def test_feature_api_refuses_bad_requests_naming_the_field(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    assert _api(f"/api/v1/calls/{CALLER}/transfer", None, {"to": "102"})[0] == 401
    read_only, _ = auth.create_api_key(services, "demo", scopes=["calls.read"], actor="test")
    assert _api(f"/api/v1/calls/{CALLER}/transfer", read_only, {"to": "102"})[0] == 403
    status, doc = _api(f"/api/v1/calls/{CALLER}/transfer", key, {"to": "999"})
    assert status == 422 and doc["errors"][0]["pointer"] == "/to"
    assert _api(f"/api/v1/calls/{CALLER}/transfer", key, {})[1]["errors"][0]["pointer"] == "/to"
    assert _api(f"/api/v1/calls/{sid(404)}/transfer", key, {"to": "102"})[0] == 404
    operator_call.hang_up()
    status, doc = _api(f"/api/v1/calls/{CALLER}/hold", key)
    assert status == 409 and "has ended" in doc["errors"][0]["message"]


def test_another_tenants_key_cannot_touch_the_call(services, operator_call) -> None:  # type: ignore[no-untyped-def]
    make_tenant(services, "other", {"root": {"action": "hangup"}})
    secret, _ = auth.create_api_key(services, "other", scopes=["calls.control"], actor="test")
    assert _api(f"/api/v1/calls/{CALLER}/transfer", secret, {"to": "102"})[0] == 404
    assert all(r.op != "update" for r in services.gateway.requests)


def _device_call(services, n: int, device: str, dialled: str) -> Call:  # type: ignore[no-untyped-def]
    return Call(Gateway(services), sid(n), From=device, To=dialled, Direction="inbound")


def test_group_pickup_code_bridges_the_colleagues_ringing_call(services, sales_call) -> None:  # type: ignore[no-untyped-def]
    # when Sasha (102, in the sales group) dials *8 from her browser phone
    picker = _device_call(services, 1, "client:102", "*8")
    body = picker.start()
    # then her leg joins a room, and the ringing caller is moved into the same room
    assert_golden("pickup_group_picker", body)
    sent = services.gateway.requests[-1]
    assert sent.op == "update" and sent.sid == CALLER and sent.params["Twiml"] == body
    picked = next(e for e in sales_call.events() if e.event_type == "CallPickedUp")
    assert picked.data == {"by": "102", "mode": "group", "picker_call_sid": sid(1)}


def test_directed_pickup_code_takes_the_call_ringing_at_that_extension(services, sales_call) -> None:  # type: ignore[no-untyped-def]
    body = _device_call(services, 1, "sip:100@demo.sip.vpbx.local", "sip:**101@demo.sip.vpbx.local").start()
    assert f"pickup-{CALLER}" in body


def test_pickup_code_with_nothing_ringing_says_so(services) -> None:  # type: ignore[no-untyped-def]
    body = _device_call(services, 1, "client:102", "*8").start()
    assert_golden("pickup_nothing", body)
    assert services.gateway.requests == []


def test_pickup_code_outside_the_group_does_not_take_the_call(services, sales_call) -> None:  # type: ignore[no-untyped-def]
    body = _device_call(services, 1, "sip:103@demo.sip.vpbx.local", "*8").start()
    assert "no ringing call" in body
    assert "CallPickedUp" not in _types(sales_call)


def test_pickup_code_redelivered_is_answered_once(services, sales_call) -> None:  # type: ignore[no-untyped-def]
    first = _device_call(services, 1, "client:102", "*8").start()
    again = _device_call(services, 1, "client:102", "*8").start()
    assert first == again
    assert len([r for r in services.gateway.requests if r.op == "update"]) == 1


def test_answered_call_cannot_be_picked_up(services, sales_call) -> None:  # type: ignore[no-untyped-def]
    sales_call.dial_ended("completed")
    assert "no ringing call" in _device_call(services, 1, "client:102", "*8").start()


def test_pickup_by_api_rings_only_the_pickers_phone(services, key, sales_call) -> None:  # type: ignore[no-untyped-def]
    status, doc = _api(f"/api/v1/calls/{CALLER}/pickup", key, {"extension": "103"})
    assert status == 200 and doc["events"][0] == "CallPickedUp"
    assert_golden("pickup_api", doc["laml"])
    # and the call now rings 103 alone: the history shows it ringing there
    from chalicelib.features import call_history
    assert call_history(services, "demo").ringing[f"call-{CALLER}"]["targets"] == ["103"]


def test_pickup_by_api_of_an_answered_call_is_refused(services, key, sales_call) -> None:  # type: ignore[no-untyped-def]
    sales_call.dial_ended("completed")
    status, doc = _api(f"/api/v1/calls/{CALLER}/pickup", key, {"extension": "103"})
    assert status == 409 and "not ringing" in doc["errors"][0]["message"]


def test_explain_shows_why_the_call_left_its_plan(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    _api(f"/api/v1/calls/{CALLER}/transfer", key, {"to": "102", "by": "100"})
    with Client(load_app_module().app) as client:
        doc = json.loads(client.http.get(f"/api/v1/calls/{CALLER}/explain",
                                         headers={"Authorization": f"Bearer {key}"}).body)
    divert = next(s for s in doc["steps"] if s["action"] == "divert")
    assert divert["inputs"] == {"feature": "transfer", "to": "102", "by": "100"}
    assert doc["steps"][-1]["node"].startswith("@transfer-")
    assert any(e["event"] == "CallTransferred" for e in doc["events"])


def _consult(services, url: str, **extra: str) -> str:  # type: ignore[no-untyped-def]
    """The gateway fetching the consult leg's URL once the target answers (its own call sid)."""
    from tests.conftest import call_params
    resp = Gateway(services).follow(url, call_params(sid(0xB0), From="+15550001000", To="client:102",
                                                     Direction="outbound-api", CallStatus="in-progress", **extra))
    assert resp.status == 200, resp.body
    return resp.body


def test_attended_transfer_holds_the_caller_and_asks_the_target(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    status, doc = _api(f"/api/v1/calls/{CALLER}/transfer", key, {"to": "102", "by": "100", "mode": "attended"})
    assert status == 200 and doc["events"][:2] == ["CallTransferred", "CallHeld"]
    assert "Please hold." in doc["laml"]
    created = services.gateway.created()[-1]
    assert created.params["To"] == "client:102" and created.params["From"] == "+15550001000"
    # when 102 answers, they are told who is waiting and asked to accept
    offer = _consult(services, created.params["Url"])
    assert_golden("transfer_attended_offer", offer)
    # and pressing 1 bridges them with the caller
    accept = re.findall(r'action="([^"]+)"', offer)[0]
    bridged = _consult(services, accept, Digits="1")
    assert bridged.endswith(f"<Dial timeout=\"20\"><Conference beep=\"false\" endConferenceOnExit=\"true\">"
                            f"transfer-{CALLER}</Conference></Dial></Response>")
    assert services.gateway.requests[-1].params["Twiml"] == bridged
    states = [e.data["state"] for e in operator_call.events() if e.event_type == "CallTransferred"]
    assert states == ["consulting", "done"]


def test_declined_attended_transfer_sends_the_caller_back(services, key, operator_call) -> None:  # type: ignore[no-untyped-def]
    _api(f"/api/v1/calls/{CALLER}/transfer", key, {"to": "102", "by": "100", "mode": "attended"})
    offer = _consult(services, services.gateway.created()[-1].params["Url"])
    declined = _consult(services, re.findall(r'action="([^"]+)"', offer)[0], Digits="2")
    assert "Goodbye." in declined
    back = services.gateway.requests[-1]
    assert back.sid == CALLER and ">sip:100@demo.sip.vpbx.local</Sip>" in back.params["Twiml"]
    assert [e.data["state"] for e in operator_call.events() if e.event_type == "CallTransferred"][-1] == "declined"


def test_hold_plays_the_uploaded_hold_music(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", {"root": {"id": "op", "action": "ring_extension",
                                                      "data": {"extension": "100"}}},
                          hold_music="jazz", audio={"jazz": {"kind": "hold_music", "url": "https://pbx/media/jazz"}})
    Call(gateway, sid(9)).start()
    secret, _ = auth.create_api_key(services, "acme", scopes=["calls.control"], actor="test")
    status, held = _api(f"/api/v1/calls/{sid(9)}/hold", secret)
    assert status == 200 and '<Play loop="0">https://pbx/media/jazz</Play>' in held["laml"]
