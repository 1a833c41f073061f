"""The Calls REST adapter against a local fake gateway on a free port: auth, form fields, retries, errors."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from chalicelib.bootstrap import Services
from chalicelib.gateway_api import GatewayError, RecordingGateway, TwilioRestGateway, gateway_from_env

ACCOUNT = "AC" + "1" * 32


class FakeGatewayServer:
    """Answers the Calls resource like Twilio; ``script`` lists status codes to answer first (then 201/200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.script: list[int] = []
        self.delay_first = 0.0
        self.rooms: set[str] = set()  # conferences in progress, by name
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                outer.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "form": form})
                if outer.delay_first:
                    delay, outer.delay_first = outer.delay_first, 0.0
                    threading.Event().wait(delay)
                code = outer.script.pop(0) if outer.script else (201 if self.path.endswith("Calls.json") else 200)
                body = {"sid": "CA" + "a" * 32, "status": "queued", "to": form.get("To", [""])[0],
                        "from": form.get("From", [""])[0]}
                if code >= 400:
                    body = {"code": 21211, "message": "The 'To' number is not a valid phone number."}
                raw = json.dumps(body).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first, on purpose

            def do_GET(self) -> None:  # noqa: N802 - the Conferences list, filtered like Twilio's
                query = parse_qs(self.path.partition("?")[2])
                outer.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "query": query})
                names = query.get("FriendlyName", [""])
                rooms = [{"sid": "CF" + "b" * 32, "friendly_name": names[0], "status": "in-progress"}] \
                    if names[0] in outer.rooms and query.get("Status") == ["in-progress"] else []
                raw = json.dumps({"conferences": rooms}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/2010-04-01"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server() -> Iterator[FakeGatewayServer]:
    server = FakeGatewayServer()
    yield server
    server.close()


def client(server: FakeGatewayServer, **kw: float) -> TwilioRestGateway:
    sleeps: list[float] = []
    gw = TwilioRestGateway(ACCOUNT, "secret-token", server.url, sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    gw.sleeps = sleeps  # type: ignore[attr-defined]
    return gw


def test_create_call_posts_the_twilio_form_with_basic_auth(fake_server: FakeGatewayServer) -> None:
    # given a client of the fake gateway
    gw = client(fake_server)
    # when a call is created
    call = gw.create_call("+15550003000", "+15550001000", "https://pbx.example.com/webhooks/t/voice",
                          status_callback="https://pbx.example.com/webhooks/t/status", timeout=20)
    # then the Calls resource got the Twilio fields, authenticated as AccountSid:AuthToken
    request = fake_server.received[0]
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert request["auth"] == "Basic " + base64.b64encode(f"{ACCOUNT}:secret-token".encode()).decode()
    form = request["form"]
    assert isinstance(form, dict)
    assert form["To"] == ["+15550003000"] and form["From"] == ["+15550001000"]
    assert form["Url"] == ["https://pbx.example.com/webhooks/t/voice"] and form["Timeout"] == ["20"]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert call.sid == "CA" + "a" * 32 and call.status == "queued" and call.to == "+15550003000"


def test_update_call_redirects_or_replaces_twiml_or_completes(fake_server: FakeGatewayServer) -> None:
    gw = client(fake_server)
    gw.update_call("CA1", url="https://pbx.example.com/next")
    gw.update_call("CA1", twiml="<Response><Hangup/></Response>")
    gw.hangup("CA1")
    forms = [r["form"] for r in fake_server.received]
    assert [r["path"] for r in fake_server.received] == [f"/2010-04-01/Accounts/{ACCOUNT}/Calls/CA1.json"] * 3
    assert forms == [{"Url": ["https://pbx.example.com/next"], "Method": ["POST"]},
                     {"Twiml": ["<Response><Hangup/></Response>"]}, {"Status": ["completed"]}]


def test_retries_server_errors_with_exponential_back_off(fake_server: FakeGatewayServer) -> None:
    # given a gateway that fails twice with 503 then succeeds
    fake_server.script = [503, 500]
    gw = client(fake_server, backoff=0.25)
    # when a call is created, it succeeds on the third attempt after 0.25 s and 0.5 s pauses
    call = gw.create_call("+15550003000", "+15550001000", "https://x/voice")
    assert call.status == "queued"
    assert len(fake_server.received) == 3
    assert gw.sleeps == [0.25, 0.5]  # type: ignore[attr-defined]


def test_gives_up_after_the_configured_retries(fake_server: FakeGatewayServer) -> None:
    fake_server.script = [502, 502, 502]
    gw = client(fake_server, retries=2)
    with pytest.raises(GatewayError) as err:
        gw.hangup("CA9")
    assert err.value.status == 502 and len(fake_server.received) == 3


def test_client_errors_are_not_retried_and_carry_the_gateway_message(fake_server: FakeGatewayServer) -> None:
    fake_server.script = [400]
    gw = client(fake_server)
    with pytest.raises(GatewayError, match="not a valid phone number") as err:
        gw.create_call("bogus", "+15550001000", "https://x/voice")
    assert err.value.status == 400 and len(fake_server.received) == 1


def test_a_timeout_is_retried(fake_server: FakeGatewayServer) -> None:
    # given a gateway whose first answer comes after the client's timeout
    fake_server.delay_first = 0.6
    gw = client(fake_server, timeout=0.2)
    call = gw.update_call("CA2", url="https://x/y")
    assert call.sid.startswith("CA") and len(gw.sleeps) == 1  # type: ignore[attr-defined]


def test_an_unreachable_gateway_raises_after_retries() -> None:
    gw = TwilioRestGateway(ACCOUNT, "t", "http://127.0.0.1:9/none", retries=1, sleep=lambda s: None, timeout=0.5)
    with pytest.raises(GatewayError, match="unreachable"):
        gw.hangup("CA3")


def test_bad_arguments_name_the_field() -> None:
    gw = RecordingGateway()
    with pytest.raises(ValueError, match="to"):
        gw.create_call("", "+1555", "https://x")
    with pytest.raises(ValueError, match="exactly one of url, twiml, status"):
        gw.update_call("CA1", url="https://x", status="completed")
    with pytest.raises(ValueError, match="status must be"):
        gw.update_call("CA1", status="ringing")


def test_recording_gateway_records_and_hands_out_sids() -> None:
    gw = RecordingGateway()
    first = gw.create_call("+15550003000", "+15550001000", "https://x/voice")
    second = gw.create_call("+15550003001", "+15550001000", "https://x/voice")
    gw.hangup(first.sid)
    assert first.sid != second.sid
    assert [(r.op, r.params.get("To") or r.params.get("Status")) for r in gw.requests] == [
        ("create", "+15550003000"), ("create", "+15550003001"), ("update", "completed")]


def test_services_default_to_a_recording_gateway_unless_credentials_are_set(services: Services) -> None:
    assert isinstance(services.gateway, RecordingGateway)
    real = gateway_from_env({"VPBX_GATEWAY_ACCOUNT_SID": ACCOUNT, "VPBX_GATEWAY_AUTH_TOKEN": "t",
                             "VPBX_GATEWAY_API_URL": "https://example.signalwire.com/api/laml/2010-04-01"})
    assert isinstance(real, TwilioRestGateway)
    assert real._calls_url() == f"https://example.signalwire.com/api/laml/2010-04-01/Accounts/{ACCOUNT}/Calls.json"


def test_a_create_that_timed_out_is_not_sent_twice(fake_server: FakeGatewayServer) -> None:
    # given a gateway that answers the first create too late (it may well have placed the call)
    fake_server.delay_first = 0.6
    gw = client(fake_server, timeout=0.2)
    with pytest.raises(GatewayError, match="did not answer"):
        gw.create_call("+15550003000", "+15550001000", "https://x/voice")
    threading.Event().wait(0.7)
    assert len(fake_server.received) == 1


def test_hold_finds_the_conference_in_progress_by_name_and_holds_the_participant(
        fake_server: FakeGatewayServer) -> None:
    # given a conference in progress named cc-CA1
    fake_server.rooms.add("cc-CA1")
    gw = client(fake_server)
    # when its caller is put on hold with music, then taken back
    gw.hold_participant("cc-CA1", "CA1", hold=True, hold_url="https://cdn.example.com/hold.mp3")
    gw.hold_participant("cc-CA1", "CA1", hold=False)
    # then each looked the conference up by name (in progress only) and updated the call's participant
    lookups, holds = fake_server.received[0::2], fake_server.received[1::2]
    assert all(r["query"] == {"FriendlyName": ["cc-CA1"], "Status": ["in-progress"]} for r in lookups)
    assert [r["path"] for r in holds] == [f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/CF{'b' * 32}/Participants/CA1.json"] * 2
    assert [r["form"] for r in holds] == [
        {"Hold": ["true"], "HoldUrl": ["https://cdn.example.com/hold.mp3"], "HoldMethod": ["GET"]}, {"Hold": ["false"]}]
    # and a room that is not in progress is a clear error, with nothing updated
    with pytest.raises(GatewayError, match="no conference named 'cc-CA9' is in progress"):
        gw.hold_participant("cc-CA9", "CA9", hold=True)
    assert len(fake_server.received) == 5
