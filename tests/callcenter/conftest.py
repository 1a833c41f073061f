"""A call-center tenant and a driver that plays the gateway: callers, agent legs, customers, key presses."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from chalicelib.bootstrap import Services
from chalicelib.callcenter.operations import set_presence
from chalicelib.callcenter.scheduler import double_bookings, tick
from chalicelib.callcenter.streams import agent_stream, load_agent, load_callbacks, load_events, load_queue
from chalicelib.callcenter.webhooks import handle_callcenter
from chalicelib.gateway_api import GatewayRequest, RecordingGateway
from chalicelib.signatures import twilio_signature
from domain.tenant import PlanPublished, TenantConfigPatched
from tests.conftest import PUBLIC, TOKEN, FakeClock, Gateway, call_params

CC_NUMBER = "+15550001001"
AGENTS = ("201", "202", "203")


def queue_plan(queue: str = "support") -> dict[str, Any]:
    return {"root": {"id": "q", "action": "queue", "data": {"queue": queue},
                     "children": {"timeout": {"id": "vm", "action": "voicemail", "data": {"box": "cc"}},
                                  "full": "vm", "exit": "vm",
                                  "empty": {"id": "sorry", "action": "say", "data": {"text": "Nobody is here."}}}}}


def cc_config(**queue: Any) -> dict[str, Any]:
    base = {"name": "Support", "strategy": "linear", "members": list(AGENTS), "ring_seconds": 15,
            "max_misses": 2, "wrapup_seconds": 30, "callback_key": "1", "exit_key": "*", "loop_seconds": 20}
    base.update(queue)
    return base


def setup_callcenter(services: Services, queues: dict[str, dict[str, Any]] | None = None,
                     extra: dict[str, Any] | None = None, agents: tuple[str, ...] = AGENTS) -> None:
    exts = {a: {"name": f"Agent {a}", "devices": [{"type": "sip", "uri": f"sip:{a}@demo.sip.vpbx.local"}]}
            for a in agents}
    patch: dict[str, Any] = {"extensions": exts, "queues": queues or {"support": cc_config()},
                             "numbers": {CC_NUMBER: {"plan": "cc"}}, "voicemail_boxes": {"cc": {}},
                             **(extra or {})}
    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [TenantConfigPatched(path=[], patch=patch, actor="test"),
                                     PlanPublished(plan_id="cc", version=1, document=queue_plan(), actor="test")],
                            version)


class CallCenter:
    """Plays the gateway for the call center; every request is signed like Twilio signs it."""

    def __init__(self, services: Services, clock: FakeClock) -> None:
        self.services = services
        self.clock = clock
        self.gw = Gateway(services)
        assert isinstance(services.gateway, RecordingGateway)
        self.rest: RecordingGateway = services.gateway
        self.hold_url: dict[str, str] = {}
        self._n = itertools.count(1)

    # --- plumbing ---------------------------------------------------------------------------
    def post(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url.replace("&amp;", "&"))
        query = dict(parse_qsl(parts.query))
        signed = PUBLIC + parts.path + ("?" + urlencode(sorted(query.items())) if query else "")
        sig = twilio_signature(TOKEN, signed, params.items())
        _, tenant, endpoint = parts.path.strip("/").split("/")
        return handle_callcenter(self.services, tenant_id=tenant, endpoint=endpoint, query=query,
                                 headers={"X-Twilio-Signature": sig}, body=urlencode(params).encode(),
                                 content_type="application/x-www-form-urlencoded")

    @staticmethod
    def sid(n: int) -> str:
        return f"CA{n:032x}"

    # --- callers ----------------------------------------------------------------------------
    def call(self, sid: str, caller: str) -> str:
        """A caller dials the queue number; returns the hold-loop LaML."""
        first = self.gw.post("voice", call_params(sid, From=caller, To=CC_NUMBER))
        redirect = re.search(r"<Redirect[^>]*>([^<]+)</Redirect>", first.body)
        assert redirect, first.body
        self.hold_url[sid] = redirect.group(1).replace("&amp;", "&")
        status, body = self.post(self.hold_url[sid], call_params(sid, From=caller, To=CC_NUMBER,
                                                                  CallStatus="in-progress"))
        assert status == 200, body
        return body

    def poll(self, sid: str, caller: str = "+15550002000", digits: str = "") -> str:
        params = call_params(sid, From=caller, To=CC_NUMBER, CallStatus="in-progress")
        if digits:
            params["Digits"] = digits
        status, body = self.post(self.hold_url[sid], params)
        assert status == 200, body
        return body

    def hangup(self, sid: str, caller: str = "+15550002000") -> None:
        self.gw.post("status", call_params(sid, From=caller, To=CC_NUMBER, CallStatus="completed",
                                           SequenceNumber=str(next(self._n) + 100)))

    # --- agents -----------------------------------------------------------------------------
    def login(self, *agents: str) -> None:
        tenant = self.services.tenants.get("demo")
        assert tenant is not None
        for a in agents:
            set_presence(self.services, tenant, a, "login", actor="test")

    def presence(self, action: str, agent: str, reason: str = "") -> str:
        tenant = self.services.tenants.get("demo")
        assert tenant is not None
        return set_presence(self.services, tenant, agent, action, reason).presence(self.clock())

    def legs_to(self, agent: str) -> list[GatewayRequest]:
        return [r for r in self.rest.created() if r.params["To"] == f"sip:{agent}@demo.sip.vpbx.local"]

    def rung(self) -> list[str]:
        """Agents rung so far, in order."""
        return [r.params["To"].split(":")[1].split("@")[0] for r in self.rest.created()
                if r.params["To"].startswith("sip:")]

    def answer(self, agent: str) -> str:
        leg = self.legs_to(agent)[-1]
        status, body = self.post(leg.params["Url"], {"CallSid": leg.sid, "CallStatus": "in-progress"})
        assert status == 200, body
        return body

    def agent_leg_ends(self, agent: str, status: str = "completed", duration: int = 60) -> None:
        leg = self.legs_to(agent)[-1]
        code, body = self.post(leg.params["StatusCallback"], {"CallSid": leg.sid, "CallStatus": status,
                                                             "CallDuration": str(duration)})
        assert code == 200, body

    def customer_leg(self, number: str) -> GatewayRequest:
        return [r for r in self.rest.created() if r.params["To"] == number][-1]

    def customer_ends(self, number: str, status: str, duration: int = 0) -> None:
        leg = self.customer_leg(number)
        code, body = self.post(leg.params["StatusCallback"], {"CallSid": leg.sid, "CallStatus": status,
                                                             "CallDuration": str(duration)})
        assert code == 200, body

    def agent_state(self, agent: str) -> Any:
        return load_agent(self.services, "demo", agent)[0]

    def line(self, queue: str = "support") -> Any:
        return load_queue(self.services, "demo", queue)[0]

    def book(self) -> Any:
        return load_callbacks(self.services, "demo")[0]

    def tick(self) -> Any:
        return tick(self.services, "demo")

    def audit(self, agents: tuple[str, ...] = AGENTS) -> list[str]:
        return [p for a in agents for p in double_bookings(load_events(self.services, agent_stream("demo", a))[0])]


@pytest.fixture
def cc(services: Services, clock: FakeClock) -> Iterator[CallCenter]:
    services.gateway = RecordingGateway()
    setup_callcenter(services)
    yield CallCenter(services, clock)
