"""The website callback widget: CORS for the tenant's sites, E.164 validation, per-IP and per-number limits
(also under a concurrent flood), no duplicate callbacks, and the embeddable script."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.server import load_app_module
from tests.callcenter.conftest import CallCenter, setup_callcenter

SITE = "https://www.demo.test"


@pytest.fixture
def http(cc: CallCenter) -> Iterator[Client]:
    setup_callcenter(cc.services, extra={"widget": {"allowed_origins": [SITE], "queue": "support",
                                                    "trust_forwarded_for": True, "per_ip_limit": 3,
                                                    "per_number_limit": 2, "countries": ["US", "GB"]}})
    with Client(load_app_module().app) as client:
        yield client


def ask(http: Client, phone: Any, ip: str = "198.51.100.7", origin: str = SITE, name: str = "Ann") -> tuple[int, Any, Any]:
    resp = http.http.post("/widget/demo/callback", body=json.dumps({"phone": phone, "name": name}),
                          headers={"Content-Type": "application/json", "Origin": origin, "X-Forwarded-For": ip})
    return resp.status_code, json.loads(resp.body), resp.headers


def test_a_visitor_asks_for_a_callback_and_the_first_free_agent_is_rung(cc: CallCenter, http: Client) -> None:
    cc.login("202")
    status, body, headers = ask(http, "+1 (415) 555-0123")
    assert status == 202 and body["status"] == "scheduled" and body["phone"] == "+14155550123"
    assert headers["Access-Control-Allow-Origin"] == SITE
    assert cc.rung() == ["202"]
    assert "Calling the customer back now." in cc.answer("202")
    assert cc.customer_leg("+14155550123").params["Url"].startswith("https://pbx.example.com/callcenter/demo/customer")
    assert cc.book().open_for("+14155550123").name == "Ann"  # type: ignore[union-attr]


@pytest.mark.parametrize(("phone", "message"), [
    ("", "phone is required"),
    ("4155550123", "international format"),
    ("+1 415 555", "not a valid phone number"),
    ("+7 912 345 67 89", "numbers from RU are not accepted"),
    (12345, "phone is required"),
])
def test_bad_numbers_are_refused_naming_the_field(cc: CallCenter, http: Client, phone: Any, message: str) -> None:
    status, body, _ = ask(http, phone)
    assert status == 400 and body["errors"][0]["pointer"] == "/phone" and message in body["errors"][0]["message"]
    assert cc.book().tasks == {}


def test_other_sites_get_no_cors_and_are_refused(cc: CallCenter, http: Client) -> None:
    status, body, headers = ask(http, "+14155550123", origin="https://evil.example")
    assert status == 403 and body["errors"][0]["pointer"] == "/origin"
    assert "Access-Control-Allow-Origin" not in headers
    ok = http.http.request("OPTIONS", "/widget/demo/callback", headers={"Origin": SITE})
    bad = http.http.request("OPTIONS", "/widget/demo/callback", headers={"Origin": "https://evil.example"})
    assert ok.status_code == 204 and ok.headers["Access-Control-Allow-Origin"] == SITE
    assert bad.status_code == 403


def test_one_number_gets_one_open_callback_and_at_most_two_requests_a_day(cc: CallCenter, http: Client) -> None:
    assert ask(http, "+14155550123")[1]["status"] == "scheduled"
    assert ask(http, "+14155550123", ip="198.51.100.8")[1]["status"] == "already-scheduled"
    status, body, headers = ask(http, "+14155550123", ip="198.51.100.9")
    assert status == 429 and body["errors"][0]["pointer"] == "/phone" and headers["Retry-After"] == "86400"
    assert len(cc.book().tasks) == 1


def test_one_address_is_limited_to_three_requests_an_hour(cc: CallCenter, http: Client) -> None:
    for n in range(3):
        assert ask(http, f"+1415555012{n}")[0] == 202
    status, body, _ = ask(http, "+14155550129")
    assert status == 429 and body["errors"][0]["pointer"] == "/client"
    assert ask(http, "+14155550129", ip="203.0.113.1")[0] == 202
    cc.clock.advance(3601)
    assert ask(http, "+442079460000")[0] == 202


def test_a_concurrent_flood_from_one_address_gets_exactly_the_limit_through(cc: CallCenter, http: Client) -> None:
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def one(n: int) -> None:
        barrier.wait()
        status = ask(http, f"+1415555013{n}", ip="192.0.2.66")[0]
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [202] * 3 + [429] * 7
    assert len(cc.book().tasks) == 3


def test_the_embeddable_script_posts_to_the_tenants_endpoint(cc: CallCenter, http: Client) -> None:
    resp = http.http.get("/widget/demo/embed.js")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/javascript")
    assert '"https://pbx.example.com/widget/demo/callback"' in resp.body.decode()
    assert http.http.get("/widget/nobody/embed.js").status_code == 404
