"""The same webhooks through the Chalice app (routing, content types, status codes, headers)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.server import load_app_module
from chalicelib.signatures import twilio_signature
from tests.conftest import PUBLIC, TOKEN, call_params

SID = "CA" + "d" * 32


@pytest.fixture
def client(services):  # type: ignore[no-untyped-def]
    with Client(load_app_module().app) as c:
        yield c


def signed(path: str, params: dict[str, str]) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC + path, params.items())}


def test_voice_webhook_answers_xml_over_http(client) -> None:  # type: ignore[no-untyped-def]
    params = call_params(SID)
    resp = client.http.post("/webhooks/demo/voice", headers=signed("/webhooks/demo/voice", params),
                            body=urlencode(params))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    assert resp.body.decode().startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Gather')


def test_status_callback_over_http_returns_an_empty_response(client) -> None:  # type: ignore[no-untyped-def]
    params = call_params(SID, CallStatus="completed", SequenceNumber="3")
    resp = client.http.post("/webhooks/demo/status", headers=signed("/webhooks/demo/status", params),
                            body=urlencode(params))
    assert resp.status_code == 200 and resp.body.decode().endswith("<Response></Response>")


def test_a_dialled_devices_answer_url_is_routed_and_answered_empty(client) -> None:  # type: ignore[no-untyped-def]
    path = f"/webhooks/demo/answered?call={SID}&member=101&node=sales&step=4"
    params = call_params("CA" + "e" * 32, CallStatus="in-progress", Direction="outbound-dial")
    resp = client.http.post(path, headers=signed(path, params), body=urlencode(params))
    assert resp.status_code == 200 and resp.body.decode().endswith("<Response></Response>")


def test_unsigned_http_request_is_403(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.http.post("/webhooks/demo/voice", headers={"Content-Type": "application/x-www-form-urlencoded"},
                            body=urlencode(call_params(SID)))
    assert resp.status_code == 403


def test_media_core_events_need_the_media_token_and_are_idempotent(client, services) -> None:  # type: ignore[no-untyped-def]
    doc = {"event_id": "ev-1", "tenant_id": "demo", "call_sid": SID, "event_type": "RecordingCompleted",
           "data": {"duration_s": 3.5, "channels": 2, "blob_key": "rec/1.wav.enc"}}
    import json

    bad = client.http.post("/media/events", headers={"Content-Type": "application/json"}, body=json.dumps(doc))
    assert bad.status_code == 403
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {services.settings.media_token}"}
    first = client.http.post("/media/events", headers=auth, body=json.dumps(doc))
    again = client.http.post("/media/events", headers=auth, body=json.dumps(doc))
    assert first.status_code == 201 and again.status_code == 200
    stored, _ = services.store.load(f"call-{SID}")
    assert [e.event_type for e in stored] == ["MediaEventRecorded"]
    assert stored[0].data["kind"] == "RecordingCompleted"
    wrong = client.http.post("/media/events", headers=auth, body=json.dumps({**doc, "event_type": "Nope"}))
    assert wrong.status_code == 422 and "event_type" in wrong.json_body["error"]
