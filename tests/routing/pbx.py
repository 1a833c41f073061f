"""Helpers for routing tests: a tenant with its own config and plan, a call driven through the
signed webhook shell, and golden LaML files compared exactly."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

from chalicelib.bootstrap import Services
from chalicelib.calls import WebhookResponse
from chalicelib.demo import demo_config
from domain.tenant import PlanPublished, TenantConfigured
from tests.conftest import TOKEN, Gateway, call_params

GOLDEN = Path(__file__).parent / "golden"  # shared by tests/features (same layout)
NUMBER = "+15550001000"


def assert_golden(name: str, xml: str) -> None:
    """The LaML equals tests/routing/golden/<name>.xml exactly (VPBX_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("VPBX_UPDATE_GOLDEN") == "1":
        path.write_text(xml + "\n")
    assert path.exists(), f"golden file {path} is missing"
    assert xml == path.read_text().rstrip("\n")


def base_config(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(demo_config(TOKEN))
    config.update(changes)
    return config


def make_tenant(services: Services, tenant_id: str, plan: dict[str, Any], **config_changes: Any) -> Gateway:
    """A tenant (a copy of the demo config with changes) whose main number runs ``plan``."""
    config = base_config(**config_changes)
    services.tenants.append(tenant_id, [TenantConfigured(config=config, actor="test"),
                                        PlanPublished(plan_id="main", version=1, document=plan, actor="test")],
                            expected_version=0)
    return Gateway(services, tenant=tenant_id)


def publish(services: Services, tenant_id: str, plan: dict[str, Any], version: int) -> None:
    current = services.store.stream_version(f"tenant-{tenant_id}")
    services.tenants.append(tenant_id, [PlanPublished(plan_id="main", version=version, document=plan, actor="test")],
                            expected_version=current)


def action_urls(xml: str) -> list[str]:
    return re.findall(r'action="([^"]+)"', xml)


class Call:
    """One call through the webhook shell: start it, then answer each action URL as the gateway would."""

    def __init__(self, gateway: Gateway, sid: str, **params: str) -> None:
        self.gateway = gateway
        self.sid = sid
        self.params = params
        self.last: WebhookResponse | None = None

    def start(self) -> str:
        self.last = self.gateway.post("voice", call_params(self.sid, **self.params))
        assert self.last.status == 200, self.last.body
        return self.last.body

    def reply(self, **extra: str) -> str:
        """Post to the first action URL of the last document (Gather, Dial, Record, Receive)."""
        assert self.last is not None
        urls = action_urls(self.last.body)
        assert urls, f"nothing to reply to in {self.last.body}"
        self.last = self.gateway.follow(urls[0], call_params(self.sid, **{**self.params, "CallStatus": "in-progress",
                                                                          **extra}))
        assert self.last.status == 200, self.last.body
        return self.last.body

    def press(self, digits: str) -> str:
        return self.reply(Digits=digits)

    def dial_ended(self, status: str, **extra: str) -> str:
        return self.reply(DialCallStatus=status, **extra)

    def hang_up(self, duration: int = 30) -> None:
        resp = self.gateway.post("status", call_params(self.sid, **{**self.params, "CallStatus": "completed",
                                                                    "CallDuration": str(duration)}))
        assert resp.status == 200

    def events(self) -> list[Any]:
        stored, _ = self.gateway.services.store.load(f"call-{self.sid}")
        return stored


def sid(n: int) -> str:
    return "CA" + f"{n:032x}"
