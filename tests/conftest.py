"""Shared fixtures: services on a fresh SQLite store with a fixed clock, a signing gateway client,
and moto's DynamoDB server mode on a free port (a real HTTP endpoint speaking DynamoDB)."""

from __future__ import annotations

import itertools
import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

from chalicelib.bootstrap import Services, bootstrap, set_services
from chalicelib.calls import WebhookResponse, handle_webhook
from chalicelib.demo import DEMO_TENANT, seed_demo
from chalicelib.settings import Settings
from chalicelib.signatures import public_url, twilio_signature
from chalicelib.stores.sqlite import SQLiteEventStore

PUBLIC = "https://pbx.example.com"
TOKEN = "test-auth-token"
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(public_url=PUBLIC, store="sqlite", sqlite_path=str(tmp_path / "vpbx.sqlite"),
                    demo_auth_token=TOKEN, blob_dir=str(tmp_path / "blobs"))


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """Services on a fresh SQLite file, the demo tenant seeded, installed as the app's services."""
    counter = itertools.count(1)
    svc = bootstrap(settings, SQLiteEventStore(settings.sqlite_path), clock=clock,
                    ids=lambda: f"00000000-0000-4000-8000-{next(counter):012d}")
    seed_demo(svc.tenants, TOKEN)
    set_services(svc)
    yield svc
    set_services(None)


class Gateway:
    """Posts signed webhooks straight into the shell (no HTTP), the way Twilio would sign them."""

    def __init__(self, services: Services, tenant: str = DEMO_TENANT, token: str = TOKEN) -> None:
        self.services = services
        self.tenant = tenant
        self.token = token

    def post(self, endpoint: str, params: dict[str, str], query: dict[str, str] | None = None,
             sign: bool = True, headers: dict[str, str] | None = None) -> WebhookResponse:
        query = query or {}
        url = public_url(PUBLIC, f"/webhooks/{self.tenant}/{endpoint}", query)
        hdrs = dict(headers or {})
        if sign:
            hdrs["X-Twilio-Signature"] = twilio_signature(self.token, url, params.items())
        return handle_webhook(self.services, tenant_id=self.tenant, endpoint=endpoint, query=query, headers=hdrs,
                              body=urlencode(params).encode(), content_type="application/x-www-form-urlencoded")

    def follow(self, action_url: str, params: dict[str, str]) -> WebhookResponse:
        """Post to an absolute action URL taken from LaML."""
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(action_url.replace("&amp;", "&"))
        endpoint = parts.path.rsplit("/", 1)[-1]
        return self.post(endpoint, params, dict(parse_qsl(parts.query)))


@pytest.fixture
def gateway(services: Services) -> Gateway:
    return Gateway(services)


def _serial_moto_server_class():  # type: ignore[no-untyped-def]
    from moto.moto_server.threaded_moto_server import MotoRequestHandler, ThreadedMotoServer
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    class SerialMotoServer(ThreadedMotoServer):
        """moto's server mode answering one request at a time. moto applies TransactWriteItems item
        by item without a lock, so concurrent requests on its threaded server could interleave two
        transactions; DynamoDB itself is atomic, and a serial endpoint is too."""

        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(self._ip_address, self._port, app, False, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerialMotoServer


@pytest.fixture(scope="session")
def dynamodb_url() -> Iterator[str]:
    """VPBX_TEST_DYNAMODB_URL if set, else moto's server mode started on a free port."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    external = os.environ.get("VPBX_TEST_DYNAMODB_URL")
    if external:
        yield external
        return
    port = free_port()
    server = _serial_moto_server_class()(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def answer_url(laml: str, member: str) -> str:
    """The answer URL of ``member``'s nouns in a <Dial> (what the gateway fetches when one picks up)."""
    tag = f"member={quote(member, safe='')}&"
    return next(u for u in (x.replace("&amp;", "&") for x in re.findall(r' url="([^"]+)"', laml)) if tag in u)


def answering_device(laml: str, member: str) -> str:
    """Where ``member``'s first noun in a <Dial> goes: the ``To`` the gateway reports on that new leg."""
    for tag, url, text in re.findall(r'<(Sip|Client|Number)\b[^>]* url="([^"]+)"[^>]*>([^<]*)</', laml):
        if f"member={quote(member, safe='')}&" in url.replace("&amp;", "&"):
            return f"client:{text}" if tag == "Client" else text
    raise AssertionError(f"no noun of member {member} in {laml}")


def call_params(call_sid: str, **extra: str) -> dict[str, str]:
    base = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": "+15550002000", "To": "+15550001000",
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    base.update(extra)
    return base
