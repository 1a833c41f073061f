"""Every /api/v1 route of the Chalice app, with every role, against the one permission table.

Routes come from ``app.routes``, so a route another issue adds is walked automatically; a route
that is missing from permissions.ROUTE_PERMISSIONS fails here instead of shipping unguarded.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.permissions import (
    OWN_RESOURCES,
    PUBLIC,
    ROLES,
    has_permission,
    known_permission,
    route_permission,
)
from chalicelib.server import load_app_module
from chalicelib.users import users_of
from domain.tenant import TenantConfigured
from tests.access.conftest import PASSWORD, Caller

PARAM = re.compile(r"\{([^}]+)\}")


def api_routes() -> list[tuple[str, str]]:
    app = load_app_module().app
    return sorted((method, path) for path, entries in app.routes.items() if path.startswith("/api/v1")
                  for method in entries)


def call(caller: Caller, method: str, path: str, tenant: str = "demo") -> Any:
    """Call a route with an empty JSON object, as the route's first declared content type."""
    entry = load_app_module().app.routes[path][method]
    ctype = (entry.content_types or ["application/json"])[0]
    rule = OWN_RESOURCES.get((method, path))
    body = {rule[1]: OWN_EXTENSION} if rule and rule[0] == "body" else {}
    return caller.request(method, concrete(path, tenant), body=body, headers={"Content-Type": ctype})


OWN_EXTENSION = "101"  # the demo agent's; "own" routes are called for it (permissions.OWN_RESOURCES)


def concrete(path: str, tenant: str = "demo") -> str:
    def fill(m: re.Match[str]) -> str:
        if m.group(1) in ("tenant", "tenant_id"):
            return tenant
        return OWN_EXTENSION if m.group(1) == "agent" else "no-such-" + m.group(1)

    return PARAM.sub(fill, path)


ACCESS_WORDS = ("permission", "not valid for tenant", "csrf", "sign in", "credentials", "role")


def is_access_refusal(status: int, body: bytes) -> bool:
    text = (body or b"").decode(errors="replace").lower()
    return status == 401 or status == 403 and any(w in text for w in ACCESS_WORDS)


def test_every_api_route_is_in_the_permission_table():
    missing = [f"{m} {p}" for m, p in api_routes() if route_permission(m, p) is None]
    assert api_routes(), "the app has no /api/v1 routes at all"
    assert missing == [], f"add these routes to functions/chalicelib/permissions.py ROUTE_PERMISSIONS: {missing}"


def test_every_permission_a_route_needs_is_one_the_roles_know():
    unknown = [f"{m} {p}: {route_permission(m, p)}" for m, p in api_routes()
               if route_permission(m, p) is not None and not known_permission(str(route_permission(m, p)))]
    assert unknown == [], "name these permissions in permissions.ROLE_PERMISSIONS (or fix the typo)"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_routes_its_permissions_allow(role, as_role):
    # given a signed-in user of the demo tenant with this role
    caller = as_role(role)
    wrong = []
    for method, path in api_routes():
        permission = route_permission(method, path)
        if permission is None or permission == PUBLIC or path.endswith("/logout"):
            continue
        # when it calls the route
        resp = call(caller, method, path)
        status = resp.status_code
        # then it is refused exactly when the table says the role lacks the permission (a 403 for a
        # business rule, e.g. "a key may not grant more than you hold", is not an access refusal)
        allowed = has_permission(role, permission)
        if allowed and is_access_refusal(status, resp.body) or not allowed and status != 403:
            wrong.append(f"{method} {path} needs {permission}: {role} got {status}")
    assert wrong == []


def test_nobody_signed_in_gets_401_on_every_non_public_route(accounts, client):
    anonymous = Caller(client)
    wrong = [f"{m} {p} -> {s}" for m, p in api_routes() if route_permission(m, p) not in (PUBLIC, None)
             and (s := call(anonymous, m, p).status_code) != 401]
    assert wrong == []


def test_another_tenants_owner_is_refused_on_every_route_of_this_tenant(accounts, client):
    # given a second tenant with its own owner
    accounts.tenants.append("other", [TenantConfigured(config={"name": "Other Inc"}, actor="seed")], 0)
    users_of(accounts).add("other", {"email": "boss@other.test", "name": "Boss", "role": "owner",
                                     "password": PASSWORD}, actor="seed")
    outsider = Caller(client)
    assert outsider.sign_in("boss@other.test").status_code == 200
    # when it calls every route that names the demo tenant
    wrong = []
    for method, path in api_routes():
        if "{tenant" not in path or route_permission(method, path) == PUBLIC:
            continue
        status = call(outsider, method, path, "demo").status_code
        if status not in (403, 404):
            wrong.append(f"{method} {path} -> {status}")
    # then each one is refused; and the tenant-less routes only ever show its own tenant
    assert wrong == []
    status, body = outsider.json("GET", "/api/v1/users")
    assert status == 200 and [u["email"] for u in body["users"]] == ["boss@other.test"]
    assert outsider.json("GET", "/api/v1/users/u-owner")[0] == 404


def test_an_api_key_acts_only_within_its_scopes(accounts, client):
    from chalicelib.auth import create_api_key

    key, _ = create_api_key(accounts, "demo", scopes=["audit.read"], label="siem", actor="test")
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.http.get("/api/v1/audit/config", headers=bearer).status_code == 200
    assert client.http.get("/api/v1/users", headers=bearer).status_code == 403
