"""API client with a full-access key, and the scripted day most statistics tests read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth import create_api_key
from chalicelib.server import load_app_module
from domain.tenant import PlanPublished, TenantConfigured
from tests.conftest import TOKEN
from tests.projections.scenario import Calls, sid

A, B, C = "+15550002001", "+15550002002", "+15550002003"
HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def fixed_tenant(request):  # type: ignore[no-untyped-def]
    """The demo tenant pinned to this directory's copy of its config and plan, so figures worked out by
    hand do not move when the shipped demo changes (it gains features over time)."""
    if "services" not in request.fixturenames:
        return
    services = request.getfixturevalue("services")
    config = json.loads((HERE / "tenant.json").read_text())
    config["gateway"]["auth_token"] = TOKEN
    plan = json.loads((HERE / "plan.json").read_text())
    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [TenantConfigured(config=config, actor="test"),
                                     PlanPublished(plan_id="main", version=100, document=plan, actor="test")],
                            expected_version=version, correlation_id="pin-demo")


class Api:
    def __init__(self, client: Client, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path: str, **headers: str) -> Any:
        return self.client.http.get(f"/api/v1/tenants/demo{path}", headers={**self.headers, **headers})


@pytest.fixture
def api(services):  # type: ignore[no-untyped-def]
    key, _ = create_api_key(services, "demo", scopes=["*"], label="stats-tests", actor="test")
    with Client(load_app_module().app) as client:
        yield Api(client, key)


def scripted_day(calls: Calls) -> None:
    """Tuesday 2026-11-24 from 15:00:00 UTC (10:00 in New York); times in the comments are UTC.

    1 A presses 2, 103 rings 8 s, they talk 95 s            15:00:00-15:01:50
    2 B presses 0, 100 rings 20 s, no answer, voicemail 12 s 15:01:50-15:02:30
    3 C presses 2, 103 busy after 5 s, C hangs up           15:02:30-15:02:43
    4 102 calls +442071234567, rings 4 s, talks 30 s        15:02:43-15:03:17
    5 101 calls +447700900123, no answer after 5 s          15:03:17-15:03:22
    6 B calls again, presses 0, 100 rings 6 s, talk 40 s    15:03:22-15:04:16
    """
    calls.inbound(sid(1), A, "2", menu=6, ring=8, talk=95, after=1)
    calls.inbound(sid(2), B, "0", menu=6, ring=20, dial="no-answer", voicemail=12, after=2)
    calls.inbound(sid(3), C, "2", menu=6, ring=5, dial="busy", after=2)
    calls.outbound(sid(4), "client:102", "+442071234567", ring=4, talk=30)
    calls.outbound(sid(5), "sip:101@demo.sip.vpbx.local", "+447700900123", ring=5, talk=0)
    calls.inbound(sid(6), B, "0", menu=6, ring=6, talk=40, after=2)
