"""Access fixtures: demo accounts (cheap argon2 parameters), an in-process client, signed-in callers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from chalice.test import Client

from chalicelib import users
from chalicelib.bootstrap import Services
from chalicelib.demo.users import seed_demo_users
from chalicelib.server import load_app_module
from chalicelib.sessions import CSRF_COOKIE, SESSION_COOKIE, parse_cookies

PASSWORD = "correct horse battery"
ROLE_EMAILS = {role: f"{role}@demo.test" for role in ("owner", "admin", "supervisor", "agent", "analyst")}


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """argon2id with tiny parameters: same code path, milliseconds instead of tenths of a second."""
    users.set_hasher(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    yield
    users.set_hasher(PasswordHasher())


@pytest.fixture
def accounts(services: Services) -> Services:
    """The demo tenant with one account per role, all with PASSWORD."""
    seed_demo_users(services, PASSWORD)
    return services


@pytest.fixture
def client(services: Services) -> Iterator[Client]:
    with Client(load_app_module().app) as c:
        yield c


@dataclass
class Caller:
    """A signed-in browser in miniature: keeps the cookies and sends the CSRF header on unsafe methods."""

    client: Client
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: bool = True

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        hdrs = {"Content-Type": "application/json"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if self.csrf and CSRF_COOKIE in self.cookies:
                hdrs["X-CSRF-Token"] = self.cookies[CSRF_COOKIE]
        hdrs.update(headers or {})
        resp = self.client.http.request(method, path, headers=hdrs,
                                        body=json.dumps(body).encode() if body is not None else b"")
        for raw in _set_cookies(resp.headers):
            for name, value in parse_cookies(raw).items():
                if "Max-Age=0" in raw:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return resp

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        resp = self.request(method, path, body)
        return resp.status_code, json.loads(resp.body or b"null")

    def sign_in(self, email: str, password: str = PASSWORD, totp: str = "") -> Any:
        return self.request("POST", "/api/v1/auth/login", {"email": email, "password": password, "totp": totp})

    @property
    def signed_in(self) -> bool:
        return SESSION_COOKIE in self.cookies


def _set_cookies(headers: Any) -> list[str]:
    value = headers.get("Set-Cookie") or headers.get("set-cookie") or []
    return value if isinstance(value, list) else [value]


@pytest.fixture
def as_role(accounts: Services, client: Client) -> Any:
    """as_role("admin") -> a Caller signed in as the demo tenant's admin."""

    def make(role: str) -> Caller:
        caller = Caller(client)
        resp = caller.sign_in(ROLE_EMAILS[role])
        assert resp.status_code == 200, resp.body
        return caller

    return make
