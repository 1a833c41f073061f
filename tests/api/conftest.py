"""An in-process client for the configuration API, with API keys of the demo tenant and of a second one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth import create_api_key
from chalicelib.bootstrap import Services
from chalicelib.demo import demo_config, demo_plan
from chalicelib.server import load_app_module
from domain.tenant import PlanPublished, TenantConfigured

OTHER = "acme"


@dataclass
class Api:
    """Calls /api/v1 as one API key; paths are relative to /api/v1/tenants/<tenant>."""

    client: Client
    key: str
    tenant: str

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"/api/v1/tenants/{self.tenant}{path}"

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> Any:
        hdrs = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        if body is not None or raw is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.client.http.request(method, self.url(path), headers=hdrs, body=payload)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body, {"Content-Type": "application/merge-patch+json"})

    def put(self, path: str, body: Any) -> Any:
        return self.call("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)


def body(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def errors(response: Any) -> dict[str, str]:
    """pointer -> message of an error response."""
    return {e["pointer"]: e["message"] for e in body(response)["errors"]}


@pytest.fixture
def app(services: Services) -> Any:
    return load_app_module().app


@pytest.fixture
def client(app: Any) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture
def other_tenant(services: Services) -> str:
    """A second tenant configured like the demo (same extension ids, other e-mails)."""
    config = demo_config("other-token")
    config["name"] = "Acme"
    config["voicemail_boxes"]["sales"]["email"] = "sales@acme.test"
    services.tenants.append(OTHER, [TenantConfigured(config=config, actor="seed"),
                                    PlanPublished(plan_id="main", version=1, document=demo_plan(), actor="seed")],
                            expected_version=0)
    return OTHER


@pytest.fixture
def api(services: Services, client: Client) -> Api:
    key, _ = create_api_key(services, "demo", label="tests")
    return Api(client, key, "demo")


@pytest.fixture
def other_api(services: Services, client: Client, other_tenant: str) -> Api:
    key, _ = create_api_key(services, other_tenant, label="tests")
    return Api(client, key, other_tenant)
