"""The webhook shell: authentication, validation, idempotent redelivery, status ordering, atomicity."""

from __future__ import annotations

import re
import threading
import uuid
from urllib.parse import urlencode

import pytest

from chalicelib.calls import handle_webhook
from domain.ports import ConcurrencyError
from tests.conftest import PUBLIC, Gateway, call_params

SID = "CA" + "a" * 32


def action(xml: str) -> str:
    return re.findall(r'action="([^"]+)"', xml)[0]


def events_of(services, sid: str = SID) -> list:  # type: ignore[no-untyped-def]
    return services.store.load(f"call-{sid}")[0]


def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_written(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    assert gateway.post("voice", call_params(SID), sign=False).status == 403
    assert gateway.post("voice", call_params(SID), sign=False,
                        headers={"X-Twilio-Signature": "bm9wZQ=="}).status == 403
    assert events_of(services) == []


def test_the_signature_is_checked_against_the_public_url_not_the_host(services) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.signatures import twilio_signature

    params = call_params(SID)
    internal = twilio_signature("test-auth-token", "http://10.0.0.5:9000/webhooks/demo/voice", params.items())
    resp = handle_webhook(services, tenant_id="demo", endpoint="voice", query={},
                          headers={"X-Twilio-Signature": internal, "Host": "10.0.0.5:9000"},
                          body=urlencode(params).encode(), content_type="application/x-www-form-urlencoded")
    assert resp.status == 403


def test_an_unknown_tenant_is_404(services) -> None:  # type: ignore[no-untyped-def]
    assert Gateway(services, tenant="nobody").post("voice", call_params(SID)).status == 404


def test_another_tenant_cannot_change_or_probe_this_tenants_call(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    # given a call of the demo tenant, and a rival tenant with its own gateway account (its own token)
    from tests.routing.pbx import base_config, make_tenant

    gateway.post("voice", call_params(SID))
    config = base_config()
    config["gateway"] = {**config["gateway"], "auth_token": "rival-token"}
    rival = make_tenant(services, "rival", {"root": {"id": "bye", "action": "hangup", "data": {}}},
                        gateway=config["gateway"])
    rival.token = "rival-token"
    before = events_of(services)
    # when the rival signs webhooks (a status callback, an answer URL) naming the demo tenant's call
    status = rival.post("status", call_params(SID, CallStatus="completed", SequenceNumber="9"))
    answer = rival.post("answered", call_params("CA" + "b" * 32, CallStatus="in-progress"),
                        {"call": SID, "member": "101", "node": "menu", "step": "2"})
    # then it is told there is no such call, and the call is as it was, in this process and a fresh one
    assert status.status == answer.status == 404 and "no call " + SID in status.body
    assert events_of(services) == before
    from chalicelib.calls import _caches

    _caches.clear()
    assert rival.post("status", call_params(SID, CallStatus="completed", SequenceNumber="10")).status == 404
    assert events_of(services) == before
    # nor through the call center's return to the plan (the queue's result)
    from chalicelib.callcenter.caller import resume_plan

    laml = resume_plan(services, services.tenants.get("rival"), SID, {"node": "menu", "step": "2"}, "hangup",
                       call_params(SID), "req-rival")
    assert laml.endswith("<Response><Hangup/></Response>") and events_of(services) == before
    # while the demo tenant's own callbacks still apply
    assert gateway.post("status", call_params(SID, CallStatus="completed", SequenceNumber="11")).status == 200
    assert len(events_of(services)) == len(before) + 1


@pytest.mark.parametrize(("change", "field"), [
    ({"CallSid": ""}, "CallSid"),
    ({"CallSid": "not-a-call"}, "CallSid"),
    ({"CallStatus": "exploded"}, "CallStatus"),
    ({"To": ""}, "To"),
    ({"SequenceNumber": "seven"}, "SequenceNumber"),
    ({"Digits": "1; DROP"}, "Digits"),
])
def test_malformed_input_is_400_naming_the_field(gateway: Gateway, services, change, field) -> None:  # type: ignore[no-untyped-def]
    resp = gateway.post("voice", {**call_params(SID), **change})
    assert resp.status == 400 and resp.body.startswith(field + ":")
    assert events_of(services) == []


def test_uuid_call_ids_are_accepted_like_twilio_ones(gateway: Gateway) -> None:
    resp = gateway.post("voice", call_params(str(uuid.uuid4())))
    assert resp.status == 200 and "<Gather" in resp.body


def test_unknown_parameters_are_kept_in_the_event(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    gateway.post("voice", call_params(SID, StirVerstat="TN-Validation-Passed-A", AudioInMos="4.3"))
    started = events_of(services)[0]
    assert started.event_type == "CallStarted"
    assert started.data["params"]["StirVerstat"] == "TN-Validation-Passed-A"
    assert started.data["params"]["AudioInMos"] == "4.3"


def test_a_redelivered_webhook_gets_the_same_laml_and_writes_nothing_new(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    first = gateway.post("voice", call_params(SID))
    count = len(events_of(services))
    again = gateway.post("voice", call_params(SID))
    assert again.body == first.body and len(events_of(services)) == count
    digits = call_params(SID, CallStatus="in-progress", Digits="2")
    dial = gateway.follow(action(first.body), digits)
    count = len(events_of(services))
    assert gateway.follow(action(first.body), digits).body == dial.body
    assert len(events_of(services)) == count


def test_concurrent_redeliveries_are_answered_once(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    bodies: list[str] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        barrier.wait()
        bodies.append(gateway.post("voice", call_params(SID)).body)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(bodies)) == 1
    assert [e.event_type for e in events_of(services)].count("CallStarted") == 1


def status(gateway: Gateway, value: str, seq: int) -> None:
    assert gateway.post("status", call_params(SID, CallStatus=value, SequenceNumber=str(seq))).status == 200


def current_status(services) -> str:  # type: ignore[no-untyped-def]
    from chalicelib.envelopes import decode_all
    from domain.calls.state import fold

    return fold(decode_all(events_of(services))).status


def test_status_callbacks_out_of_order_are_applied_in_sequence_order(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    gateway.post("voice", call_params(SID))
    status(gateway, "in-progress", 2)
    status(gateway, "ringing", 1)  # late: must not move the call back
    assert current_status(services) == "in-progress"


def test_a_terminal_status_is_final(gateway: Gateway, services) -> None:  # type: ignore[no-untyped-def]
    gateway.post("voice", call_params(SID))
    status(gateway, "completed", 3)
    status(gateway, "in-progress", 4)
    assert current_status(services) == "completed"
    menu_again = gateway.post("voice", call_params(SID), query={"node": "menu", "step": "2"})
    assert "<Hangup/>" in menu_again.body


def test_a_failing_store_leaves_no_half_written_call(gateway: Gateway, services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = services.store.append

    def explode(stream, events, expected):  # type: ignore[no-untyped-def]
        assert len(events) > 1  # CallStarted and the steps go together
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.store, "append", explode)
    with pytest.raises(RuntimeError):
        gateway.post("voice", call_params(SID))
    monkeypatch.setattr(services.store, "append", real)
    assert events_of(services) == []
    assert gateway.post("voice", call_params(SID)).status == 200


def test_a_conflicting_writer_makes_the_shell_decide_again(gateway: Gateway, services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    menu = gateway.post("voice", call_params(SID))
    real = services.store.append
    calls = {"n": 0}

    def conflict_once(stream, events, expected):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConcurrencyError(stream, expected)
        return real(stream, events, expected)

    monkeypatch.setattr(services.store, "append", conflict_once)
    resp = gateway.follow(action(menu.body), call_params(SID, CallStatus="in-progress", Digits="2"))
    assert calls["n"] == 2 and ">sip:103@demo.sip.vpbx.local</Sip>" in resp.body
    assert [e.event_type for e in events_of(services)].count("DigitsGathered") == 1


def test_public_url_is_the_configured_one(services) -> None:  # type: ignore[no-untyped-def]
    assert services.settings.public_url == PUBLIC
