"""Sticky routing (from the call history) and the CRM owner lookup hook (HTTP, short timeout,
any failure falls back to normal routing), tested against a local HTTP server on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.crm import lookup_owner
from tests.routing.pbx import Call, assert_golden, make_tenant, sid

CALLER = "+15550002000"


class CrmHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        parts = urlsplit(self.path)
        self.server.seen.append(parse_qs(parts.query).get("caller", [""])[0])  # type: ignore[attr-defined]
        if parts.path == "/slow":  # far past every deadline tested, so a deadline not kept cannot pass for one
            time.sleep(6.0)
        body, status = {"/owner": (b'{"owner": "103"}', 200), "/nested": (b'{"owner": {"extension": "101"}}', 200),
                        "/nobody": (b'{"owner": null}', 200), "/garbage": (b"<html>oops", 200),
                        "/weird": (b'{"owner": ["103"]}', 200), "/broken": (b"{}", 500),
                        "/slow": (b'{"owner": "103"}', 200)}.get(parts.path, (b"{}", 404))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:
            pass

    def log_message(self, *args: object) -> None:
        pass


class CrmServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping must not hold the test up

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CrmHandler)
        self.seen: list[str] = []


@pytest.fixture
def crm_server() -> Iterator[CrmServer]:
    server = CrmServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def crm_url(crm_server: CrmServer) -> str:
    return f"http://127.0.0.1:{crm_server.server_address[1]}"


def _crm_plan(url: str, timeout_ms: int = 1500) -> dict:  # type: ignore[type-arg]
    return {"root": {"id": "crm", "action": "crm_lookup", "data": {"url": url, "lookup_timeout_ms": timeout_ms},
                     "children": {"_": {"id": "support", "action": "ring_extension", "data": {"extension": "100"}}}}}


def test_crm_owner_is_offered_the_call_first(services, crm_url) -> None:  # type: ignore[no-untyped-def]
    call = Call(make_tenant(services, "acme", _crm_plan(crm_url + "/owner")), sid(1))
    assert_golden("crm_owner_offered", call.start())
    # when the owner does not answer, normal routing continues
    assert ">sip:100@demo.sip.vpbx.local</Sip>" in call.dial_ended("no-answer")
    step = next(e for e in call.events() if e.event_type == "StepDecided")
    assert step.data["inputs"]["crm"] == {"owner": "103"}


def test_crm_answer_with_nested_owner_is_understood(services, crm_url) -> None:  # type: ignore[no-untyped-def]
    body = Call(make_tenant(services, "acme", _crm_plan(crm_url + "/nested")), sid(1)).start()
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in body


@pytest.mark.parametrize("path", ["/slow", "/garbage", "/broken", "/weird", "/nobody", "/missing"])
def test_any_crm_failure_falls_back_to_normal_routing(services, crm_url, path) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    body = Call(make_tenant(services, "acme", _crm_plan(crm_url + path, timeout_ms=300)), sid(1)).start()
    assert time.monotonic() - started < 1.5
    assert ">sip:100@demo.sip.vpbx.local</Sip>" in body


def test_unreachable_crm_falls_back_to_normal_routing(services) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port
    body = Call(make_tenant(services, "acme", _crm_plan(f"http://127.0.0.1:{free_port()}/owner")), sid(1)).start()
    assert ">sip:100@demo.sip.vpbx.local</Sip>" in body


def test_lookup_keeps_its_default_deadline_of_one_and_a_half_seconds(crm_url) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = lookup_owner(crm_url + "/slow", CALLER)
    elapsed = time.monotonic() - started
    # it gave up at its deadline (the CRM answers only after 6 s); the upper bound leaves room for a loaded machine
    # (the error is the deadline's, or the socket's own timeout when that fires first: both at 1.5 s)
    assert "error" in result and "owner" not in result and 1.4 < elapsed < 4.0


def test_crm_is_asked_once_per_call_not_on_every_webhook(services, crm_server, crm_url) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", _crm_plan(crm_url + "/owner"))
    call = Call(gateway, sid(1))
    call.start()
    call.dial_ended("no-answer")
    call.dial_ended("no-answer")
    # then the server saw exactly one lookup, for this caller
    assert crm_server.seen == [CALLER]


STICKY = {"root": {"id": "sticky", "action": "sticky", "data": {"timeout": 12}, "children": {
    "_": {"id": "group", "action": "ring_group", "data": {"group": "sales", "strategy": "sequential"}}}}}


def test_caller_who_spoke_with_a_manager_is_offered_to_that_manager_first(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", STICKY)
    # given a first call from this caller answered by 102 (second in the sequential group)
    first = Call(gateway, sid(1), From=CALLER)
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in first.start()  # no history yet: normal routing
    first.dial_ended("no-answer")
    first.dial_ended("completed")
    first.hang_up()
    # when the same caller calls again, 102 rings first, alone, for 12 s
    second = Call(gateway, sid(2), From=CALLER)
    assert_golden("sticky_offered", second.start())
    # and if 102 does not answer, normal routing goes on
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in second.dial_ended("no-answer")


def test_new_caller_goes_straight_to_normal_routing(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", STICKY)
    first = Call(gateway, sid(1), From=CALLER)
    first.start()
    first.dial_ended("completed")
    body = Call(gateway, sid(2), From="+15550007777").start()
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in body
