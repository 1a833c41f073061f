"""Who may do what: role -> permissions, and /api/v1 route -> the permission it needs.

Invariant: this module is the ONE table. The API enforces it (``auth.authorize`` / ``sessions.require``),
the web app only mirrors it to hide what a role cannot use, and tests/access walks every /api/v1 route of
the Chalice app against it, so a route that is missing here fails the build rather than being open.
"""

from __future__ import annotations

from collections.abc import Mapping

ROLES = ("owner", "admin", "supervisor", "agent", "analyst")

# Sign in / out and "who am I" need a signed-in user but no particular right.
SELF = "self"
# Routes anyone may call (sign-in itself).
PUBLIC = "public"

# Permission names are the API-key scope names of chalicelib.auth ("family.verb"); a key scope
# "family.*" or "*" covers a family or everything.
FULL_ACCESS = "*"
_REPORTS = {"stats.read", "calls.read", "cdrs.read", "calls.read_own"}
_CONFIG_READ = {"config.read", "audit.read"}
_AGENT = {"agent.status_own", "calls.read_own", "voicemail.read_own", "calls.originate", "calls.control"}
_ADMIN = _REPORTS | _CONFIG_READ | _AGENT | {
    "config.write", "plans.publish", "apikeys.manage", "live.read", "calls.listen", "agents.manage",
    "recordings.read", "recordings.read_team", "voicemail.read", "faxes.read", "users.read",
}

ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = {
    "owner": frozenset(_ADMIN | {"users.manage", "billing.read", "billing.manage"}),
    "admin": frozenset(_ADMIN),
    # no cdrs.read: call records carry recording URLs, and a supervisor hears only their team's
    # recordings (GET /api/v1/me/recordings); aggregates (stats.read) and call timelines stay open.
    "supervisor": frozenset((_REPORTS - {"cdrs.read"}) | _AGENT | {
        "config.read", "live.read", "calls.listen", "agents.manage", "recordings.read_team", "users.read"}),
    "agent": frozenset(_AGENT),
    "analyst": frozenset(_REPORTS),
}
ALL_PERMISSIONS: tuple[str, ...] = tuple(sorted(set().union(*ROLE_PERMISSIONS.values())))

# (METHOD, Chalice route path) -> permission. Every /api/v1 route of the app must be listed.
ROUTE_PERMISSIONS: dict[tuple[str, str], str] = {
    # access (issue 8)
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SELF,
    ("GET", "/api/v1/auth/me"): SELF,
    ("POST", "/api/v1/auth/totp"): SELF,
    ("POST", "/api/v1/auth/totp/confirm"): SELF,
    ("POST", "/api/v1/auth/password"): SELF,
    ("GET", "/api/v1/users"): "users.read",
    ("POST", "/api/v1/users"): "users.manage",
    ("GET", "/api/v1/users/{user_id}"): "users.read",
    ("PATCH", "/api/v1/users/{user_id}"): "users.manage",
    ("DELETE", "/api/v1/users/{user_id}"): "users.manage",
    ("GET", "/api/v1/audit/config"): "audit.read",
    ("GET", "/api/v1/permissions"): SELF,
    ("GET", "/api/v1/me/calls"): "calls.read_own",
    ("GET", "/api/v1/me/voicemail"): "voicemail.read_own",
    ("POST", "/api/v1/me/voicemail/{call}/heard"): "voicemail.read_own",
    ("DELETE", "/api/v1/me/voicemail/{call}"): "voicemail.read_own",
    ("GET", "/api/v1/voicemail"): "voicemail.read",
    ("PUT", "/api/v1/me/voicemail-pin"): "voicemail.read_own",
    ("GET", "/api/v1/me/recordings"): "recordings.read_team",
}


# Routes where a person may only act for themselves: (method, route) -> (where, field, wider permission).
# A signed-in user whose role lacks the wider permission must name their own extension in that
# path parameter or JSON body field (an agent sets their own presence, dials as themselves).
OWN_RESOURCES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("GET", "/api/v1/tenants/{tenant}/agents/{agent}/presence"): ("path", "agent", "agents.manage"),
    ("POST", "/api/v1/tenants/{tenant}/agents/{agent}/presence"): ("path", "agent", "agents.manage"),
    ("POST", "/api/v1/tenants/{tenant}/calls"): ("body", "agent", "agents.manage"),
    ("POST", "/api/v1/calls"): ("body", "agent", "agents.manage"),
}


def has_permission(role: str, permission: str) -> bool:
    """True if ``role`` holds ``permission`` (directly or through a wider one)."""
    if permission == PUBLIC:
        return True
    if role not in ROLE_PERMISSIONS:
        return False
    if permission == SELF:
        return True
    return permission in ROLE_PERMISSIONS[role]


def route_permission(method: str, path: str) -> str | None:
    """The permission a route needs, or None if the route is not in the table (which tests reject).

    Routes declared through ``chalicelib.api.http.endpoint`` carry their permission with them (the
    same declaration drives OpenAPI and ``authorize``), so they join the table from there; the route
    matrix test still proves each one enforces it, and that the permission is one the roles know.
    """
    key = (method.upper(), path)
    if key in ROUTE_PERMISSIONS:
        return ROUTE_PERMISSIONS[key]
    try:
        from chalicelib.api.http import ROUTES
    except ImportError:
        return None
    for doc in ROUTES:
        if doc.method.upper() == key[0] and doc.path == path:
            return str(doc.permission)
    return None


def known_permission(permission: str) -> bool:
    return permission in (PUBLIC, SELF) or permission in ALL_PERMISSIONS


def permissions_of(role: str) -> list[str]:
    return sorted(ROLE_PERMISSIONS.get(role, frozenset()))
