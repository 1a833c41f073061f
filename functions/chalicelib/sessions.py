"""Browser sessions: an HttpOnly SameSite=Lax cookie and a CSRF token, plugged into chalicelib.auth.

Streams: ``session-<sha256(token)>`` (SessionStarted / SessionEnded). Only the token's hash is
stored, so a leaked event log does not hand out sessions.

Invariant: an unsafe request (POST/PUT/PATCH/DELETE) made with a session cookie must carry the
session's CSRF token both in the ``vpbx_csrf`` cookie and the ``X-CSRF-Token`` header (double
submit), and the header must equal the token stored with the session. The role is read from the
user's account on every request, so a demotion or removal takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from chalicelib import auth
from chalicelib.auth import AuthError, Principal
from chalicelib.bootstrap import get_services
from chalicelib.envelopes import decode_all, wrap
from chalicelib.permissions import OWN_RESOURCES, has_permission
from chalicelib.users import User, users_of
from domain.events import DomainEvent, event

SESSION_COOKIE = "vpbx_session"
CSRF_COOKIE = "vpbx_csrf"
CSRF_HEADER = "x-csrf-token"
LIFETIME = timedelta(hours=12)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@event
@dataclass(frozen=True, slots=True)
class SessionStarted(DomainEvent):
    event_type = "SessionStarted"
    user_id: str
    csrf: str
    expires_at: str


@event
@dataclass(frozen=True, slots=True)
class SessionEnded(DomainEvent):
    event_type = "SessionEnded"
    reason: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """An open session: whose, in which tenant, and its CSRF token."""

    tenant_id: str
    user: User
    csrf: str
    token_hash: str

    def principal(self) -> Principal:
        return Principal(tenant_id=self.tenant_id, kind="user", subject=self.user.user_id,
                         roles=frozenset({self.user.role}))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_cookies(raw: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header means no cookies, not a 500
        return {}
    return {k: v.value for k, v in jar.items()}


def start_session(services: Any, tenant_id: str, user: User) -> tuple[str, str]:
    """Open a session; returns (token, csrf). The token goes only into the HttpOnly cookie."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    stream = f"session-{_hash(token)}"
    expires = services.clock() + LIFETIME
    envelopes = wrap([SessionStarted(user_id=user.user_id, csrf=csrf, expires_at=expires.isoformat())],
                     tenant_id=tenant_id, stream_id=stream, expected_version=0, now=services.clock(),
                     new_id=services.new_id, correlation_id=services.new_id())
    services.store.append(stream, envelopes, 0)
    return token, csrf


def end_session(services: Any, info: SessionInfo) -> None:
    stream = f"session-{info.token_hash}"
    version = services.store.stream_version(stream)
    events: list[DomainEvent] = [SessionEnded(reason="signed out")]
    services.store.append(stream, wrap(events, tenant_id=info.tenant_id, stream_id=stream,
                                       expected_version=version, now=services.clock(), new_id=services.new_id,
                                       correlation_id=services.new_id()), version)


def session_of(services: Any, headers: Mapping[str, str]) -> SessionInfo | None:
    """The open session of this request's cookie, or None (no, unknown, expired or ended session)."""
    token = parse_cookies(headers.get("cookie", "")).get(SESSION_COOKIE)
    if not token:
        return None
    token_hash = _hash(token)
    stored, _ = services.store.load(f"session-{token_hash}")
    if not stored:
        return None
    started: SessionStarted | None = None
    for e in decode_all(stored):
        if isinstance(e, SessionStarted):
            started = e
        elif isinstance(e, SessionEnded):
            return None
    if started is None or datetime.fromisoformat(started.expires_at) <= services.clock():
        return None
    tenant_id = stored[0].tenant_id
    user = users_of(services).get(tenant_id, started.user_id)
    if user is None or user.disabled:
        return None
    return SessionInfo(tenant_id=tenant_id, user=user, csrf=started.csrf, token_hash=token_hash)


def session_authenticator(services: Any, headers: Mapping[str, str]) -> Principal | None:
    """auth.AUTHENTICATORS entry: a session cookie proves who is calling (role read fresh each time)."""
    info = session_of(services, headers)
    return info.principal() if info else None


def check_csrf(request: Any, principal: Principal, services: Any = None) -> None:
    """auth.REQUEST_CHECKS entry: unsafe methods with a session need the double-submit CSRF token."""
    if principal.kind != "user" or str(request.method).upper() not in UNSAFE:
        return
    headers = {k.lower(): v for k, v in dict(request.headers or {}).items()}
    info = session_of(services or get_services(), headers)
    header = headers.get(CSRF_HEADER, "")
    cookie = parse_cookies(headers.get("cookie", "")).get(CSRF_COOKIE, "")
    if info is None or not header or not hmac.compare_digest(header, cookie) \
            or not hmac.compare_digest(header, info.csrf):
        raise AuthError(403, "missing or wrong CSRF token (send the X-CSRF-Token header)")


def check_ownership(request: Any, principal: Principal, services: Any = None) -> None:
    """auth.REQUEST_CHECKS entry: on OWN_RESOURCES routes a person acts only for their own extension."""
    if principal.kind != "user":
        return
    ctx = getattr(request, "context", None) or {}
    rule = OWN_RESOURCES.get((str(request.method).upper(), str(ctx.get("resourcePath", ""))))
    if rule is None:
        return
    where, field_name, wider = rule
    if any(has_permission(role, wider) for role in principal.roles):
        return
    if where == "path":
        value = (getattr(request, "uri_params", None) or {}).get(field_name)
    else:
        try:
            body = json.loads(request.raw_body or b"{}")
        except ValueError:
            return  # the view answers 400 for a body that is not JSON
        value = body.get(field_name) if isinstance(body, dict) else None
    user = users_of(services or get_services()).get(principal.tenant_id, principal.subject)
    own = user.extension if user else ""
    if not own or value != own:
        raise AuthError(403, f"your role may act only for your own extension ({own or 'none'}), not {value!r}")


def session_cookies(services: Any, token: str, csrf: str) -> list[str]:
    secure = "; Secure" if str(services.settings.public_url).startswith("https://") else ""
    age = int(LIFETIME.total_seconds())
    return [f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}{secure}",
            f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Lax; Max-Age={age}{secure}"]


def cleared_cookies() -> list[str]:
    return [f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            f"{CSRF_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0"]


def register() -> None:
    """Plug sessions into chalicelib.auth (idempotent)."""
    if session_authenticator not in auth.AUTHENTICATORS:
        auth.AUTHENTICATORS.append(session_authenticator)
    checks = getattr(auth, "REQUEST_CHECKS", None)
    if checks is not None:
        for check in (check_csrf, check_ownership):
            if check not in checks:
                checks.append(check)


register()
