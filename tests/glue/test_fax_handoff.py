"""fax_receive hands the call to the media core: a fax session is allocated once, after the append."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.media_client import FaxSession, HttpMediaClient, MediaError, RecordingMediaClient
from domain.tenant import PlanPublished, TenantConfigPatched
from tests.conftest import Gateway, call_params, free_port

SID = "CA" + "7" * 32
FAX_NUMBER = "+15550001090"
FAX_PLAN = {"root": {"id": "fax", "action": "fax_receive", "data": {}}}


def _fax_line(services, number_config: dict | None = None) -> None:  # type: ignore[no-untyped-def,type-arg]
    """The demo tenant gets a fax number whose plan receives faxes."""
    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [
        TenantConfigPatched(path=["numbers", FAX_NUMBER], patch={"plan": "fax", "label": "Fax", **(number_config or {})}),
        PlanPublished(plan_id="fax", version=1, document=FAX_PLAN)], expected_version=version)


def _events(services, kind: str | None = None):  # type: ignore[no-untyped-def]
    stored, _ = services.store.load(f"call-{SID}")
    return [e for e in stored if kind is None or e.event_type == kind]


def test_fax_call_allocates_a_session_for_the_tenant_fax_address(services, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    # given the demo tenant's fax line and a media core (fake)
    _fax_line(services)
    services.media = RecordingMediaClient(url="http://media.test:8080")
    # when a fax call arrives
    resp = gateway.post("voice", call_params(SID, To=FAX_NUMBER))
    # then the gateway is told to receive, and the media core was asked for a session for the tenant address
    assert resp.status == 200 and "<Receive" in resp.body
    assert services.media.requests == [{"tenant_id": "demo", "call_sid": SID, "email": "fax@demo.test"}]
    # and the session is recorded after the FaxReceiveRequested that caused it
    assert [e.event_type for e in _events(services)][-2:] == ["EffectStarted", "FaxSessionAllocated"]
    requested = _events(services, "FaxReceiveRequested")[0]
    [allocated] = _events(services, "FaxSessionAllocated")
    assert allocated.version > requested.version and allocated.causation_id == requested.event_id
    assert allocated.data == {"port": 40000, "media_url": "http://media.test:8080", "session_id": "fax-1",
                              "email": "fax@demo.test"}


def test_the_number_fax_address_wins_over_the_tenant_one(services, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    _fax_line(services, {"fax": {"email": "billing-fax@demo.test"}})
    services.media = RecordingMediaClient()
    gateway.post("voice", call_params(SID, To=FAX_NUMBER))
    assert services.media.requests[0]["email"] == "billing-fax@demo.test"


def test_redelivered_fax_webhook_allocates_no_second_session(services, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    _fax_line(services)
    services.media = RecordingMediaClient()
    first = gateway.post("voice", call_params(SID, To=FAX_NUMBER))
    again = gateway.post("voice", call_params(SID, To=FAX_NUMBER))
    assert again.body == first.body and len(services.media.requests) == 1
    assert len(_events(services, "FaxSessionAllocated")) == 1


def test_media_core_down_is_recorded_and_the_webhook_still_answers(services, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    # given a media core URL where nothing listens
    _fax_line(services)
    services.media = HttpMediaClient(f"http://127.0.0.1:{free_port()}", "tok", timeout_s=1, backoff_s=0.01)
    # when a fax call arrives
    resp = gateway.post("voice", call_params(SID, To=FAX_NUMBER))
    # then the caller still gets <Receive>, and the failure is on the call stream, naming the URL
    assert resp.status == 200 and "<Receive" in resp.body
    [failed] = _events(services, "EffectFailed")
    assert failed.data["effect"] == "allocate_fax_session"
    assert failed.data["error"].startswith(f"MediaError: POST {services.media.url}/fax-sessions failed (unreachable")
    assert not _events(services, "FaxSessionAllocated")


def test_without_a_media_core_the_gateway_receives_the_fax_alone(services, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    _fax_line(services)
    assert services.media is None  # no VPBX_MEDIA_URL in the test settings
    gateway.post("voice", call_params(SID, To=FAX_NUMBER))
    types = {e.event_type for e in _events(services)}
    assert "FaxReceiveRequested" in types
    assert not types & {"EffectStarted", "EffectFailed", "FaxSessionAllocated"}


def _media_answering(statuses: list[int]):  # type: ignore[no-untyped-def]
    """A media core that answers POST /fax-sessions with the given statuses in turn; returns (url, seen, stop)."""
    seen: list[dict] = []  # type: ignore[type-arg]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server hook)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"auth": self.headers["Authorization"], **body})
            status = statuses[min(len(seen), len(statuses)) - 1]
            out = json.dumps({"session_id": "s1", "port": 41234} if status == 201 else {"error": "no"}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", seen, server


def test_http_client_retries_an_unavailable_media_core_then_gets_the_port() -> None:
    url, seen, server = _media_answering([503, 503, 201])
    try:
        client = HttpMediaClient(url, "s3cret", backoff_s=0.01)
        session = client.create_fax_session(tenant_id="demo", call_sid=SID, email="fax@demo.test")
    finally:
        server.shutdown()
    assert session == FaxSession(session_id="s1", port=41234)
    assert len(seen) == 3 and seen[0] == {"auth": "Bearer s3cret", "tenant_id": "demo", "call_sid": SID,
                                          "email": "fax@demo.test"}


def test_http_client_does_not_retry_a_refusal_and_names_the_status() -> None:
    url, seen, server = _media_answering([401, 201])
    try:
        client = HttpMediaClient(url, "wrong", backoff_s=0.01)
        with pytest.raises(MediaError, match=r"/fax-sessions failed \(status 401"):
            client.create_fax_session(tenant_id="demo", call_sid=SID, email=None)
    finally:
        server.shutdown()
    assert len(seen) == 1 and "email" not in seen[0]
