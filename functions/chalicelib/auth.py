"""Who is calling and what may they do: per-tenant API keys today, sessions and roles later.

Invariant: every ``/api/v1`` view calls ``authorize(request, tenant, permission)`` first and uses
the Principal it returns; nothing else in the API reads credentials.

API keys look like ``vpbx_<keyid>_<secret>``. The secret (32 random bytes) is shown once; the
tenant stream keeps only its SHA-256 (``ApiKeyCreated``), which is enough for a high-entropy
random secret (argon2 is for guessable secrets such as PINs) and keeps every request cheap.
Lookup is O(1): the stream ``apikey-<keyid>`` names the key's tenant, and the tenant's keyring is
a fold of ``ApiKeyCreated`` / ``ApiKeyRevoked`` on ``tenant-<id>``, cached by stream version, so a
revocation takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.bootstrap import Services, get_services
from chalicelib.envelopes import decode_all, wrap
from chalicelib.permissions import ALL_PERMISSIONS, has_permission
from chalicelib.permissions import ROLE_PERMISSIONS as _ROLE_TABLE
from chalicelib.tenants import tenant_stream
from domain.events import DomainEvent, event
from domain.ports import ConcurrencyError

KEY_RE = re.compile(r"^vpbx_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
FULL_ACCESS = "*"
# Permission names and role grants are chalicelib/permissions.py's (one table for keys and users):
# "<area>.<verb>"; an API key scope may also be "<area>.*" or "*" (full admin of its tenant).
PERMISSIONS = ALL_PERMISSIONS
ROLE_PERMISSIONS = _ROLE_TABLE


class AuthError(Exception):
    """401 (who are you?) or 403 (not allowed); the message is safe to show the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    kind: str  # "api_key" | "user"
    subject: str  # key id or user id
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    def can(self, permission: str) -> bool:
        """Scopes (API keys) grant directly, ``area.*`` a whole area; roles (users) via the permission table."""
        if permission == FULL_ACCESS or permission.endswith(".*"):  # a grant of many: hold every one of them
            area = permission.removesuffix("*")
            return FULL_ACCESS in self.scopes or permission in self.scopes or all(
                self.can(p) for p in PERMISSIONS if p.startswith(area) or permission == FULL_ACCESS)
        family = permission.split(".", 1)[0] + ".*"
        if FULL_ACCESS in self.scopes or permission in self.scopes or family in self.scopes:
            return True
        return any(has_permission(role, permission) for role in self.roles)

    @property
    def actor(self) -> str:
        """How events written on behalf of this principal name their author."""
        return f"{self.kind}:{self.subject}"


@event
@dataclass(frozen=True, slots=True)
class ApiKeyIndexed(DomainEvent):
    """Stream ``apikey-<keyid>``: which tenant a key id belongs to (written once)."""

    event_type = "ApiKeyIndexed"
    key_id: str
    tenant_id: str


@event
@dataclass(frozen=True, slots=True)
class ApiKeyCreated(DomainEvent):
    event_type = "ApiKeyCreated"
    key_id: str
    secret_sha256: str
    scopes: list[str] = field(default_factory=lambda: [FULL_ACCESS])
    label: str = ""
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class ApiKeyRevoked(DomainEvent):
    event_type = "ApiKeyRevoked"
    key_id: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    secret_sha256: str
    scopes: frozenset[str]
    label: str
    created_at: str
    revoked_at: str = ""

    def public(self) -> dict[str, Any]:
        return {"id": self.key_id, "label": self.label, "scopes": sorted(self.scopes),
                "created_at": self.created_at, "revoked_at": self.revoked_at or None}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_stream(key_id: str) -> str:
    return f"apikey-{key_id}"


class Keyring:
    """Per-store cache: key id -> tenant (immutable), tenant -> its keys (by stream version)."""

    def __init__(self) -> None:
        self._by_store: weakref.WeakKeyDictionary[Any, tuple[dict[str, str], dict[str, Any]]] = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _caches(self, services: Services) -> tuple[dict[str, str], dict[str, Any]]:
        with self._lock:
            caches = self._by_store.get(services.store)
            if caches is None:
                caches = self._by_store[services.store] = ({}, {})
            return caches

    def tenant_of(self, services: Services, key_id: str) -> str | None:
        tenant_of, _ = self._caches(services)
        if key_id in tenant_of:
            return tenant_of[key_id]
        stored, _ = services.store.load(key_stream(key_id))
        for e in decode_all(stored):
            if isinstance(e, ApiKeyIndexed):
                tenant_of[key_id] = e.tenant_id
                return e.tenant_id
        return None

    def keys(self, services: Services, tenant_id: str) -> dict[str, KeyRecord]:
        _, by_tenant = self._caches(services)
        version = services.store.stream_version(tenant_stream(tenant_id))
        cached = by_tenant.get(tenant_id)
        if cached is not None and cached[0] == version:
            return dict(cached[1])
        stored, version = services.store.load(tenant_stream(tenant_id))
        keys: dict[str, KeyRecord] = {}
        for s in stored:
            if s.event_type not in ("ApiKeyCreated", "ApiKeyRevoked"):
                continue
            (e,) = decode_all([s])
            if isinstance(e, ApiKeyCreated):
                keys[e.key_id] = KeyRecord(e.key_id, e.secret_sha256, frozenset(e.scopes), e.label, s.recorded_at)
            elif isinstance(e, ApiKeyRevoked) and e.key_id in keys:
                old = keys[e.key_id]
                keys[e.key_id] = KeyRecord(old.key_id, old.secret_sha256, old.scopes, old.label, old.created_at,
                                           s.recorded_at)
        by_tenant[tenant_id] = (version, keys)
        return dict(keys)


KEYRING = Keyring()


def create_api_key(services: Services, tenant_id: str, *, scopes: Iterable[str] = (FULL_ACCESS,), label: str = "",
                   actor: str = "cli") -> tuple[str, KeyRecord]:
    """Issue a key for a tenant; returns the full key (shown once) and its stored record."""
    if services.tenants.get(tenant_id) is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s != FULL_ACCESS and s not in PERMISSIONS and not s.endswith(".*")]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}; known: {', '.join((FULL_ACCESS, *PERMISSIONS))}")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    services.store.append(key_stream(key_id), _wrap(services, tenant_id, key_stream(key_id), [
        ApiKeyIndexed(key_id=key_id, tenant_id=tenant_id)], 0), 0)
    created = ApiKeyCreated(key_id=key_id, secret_sha256=_digest(secret), scopes=scopes, label=label, actor=actor)
    _append_to_tenant(services, tenant_id, created)
    return f"vpbx_{key_id}_{secret}", KEYRING.keys(services, tenant_id)[key_id]


def revoke_api_key(services: Services, tenant_id: str, key_id: str, actor: str) -> bool:
    """Revoke a key of this tenant; False if the tenant has no such (live) key."""
    record = KEYRING.keys(services, tenant_id).get(key_id)
    if record is None or record.revoked_at:
        return False
    _append_to_tenant(services, tenant_id, ApiKeyRevoked(key_id=key_id, actor=actor))
    return True


def _wrap(services: Services, tenant_id: str, stream: str, events: list[DomainEvent], expected: int) -> list[Any]:
    return wrap(events, tenant_id=tenant_id, stream_id=stream, expected_version=expected, now=services.clock(),
                new_id=services.new_id, correlation_id=services.new_id())


def _append_to_tenant(services: Services, tenant_id: str, e: DomainEvent) -> None:
    for _ in range(20):
        version = services.store.stream_version(tenant_stream(tenant_id))
        try:
            services.tenants.append(tenant_id, [e], expected_version=version)
            return
        except ConcurrencyError:
            continue
    raise ConcurrencyError(tenant_stream(tenant_id), -1)


def api_key_principal(services: Services, headers: Mapping[str, str]) -> Principal | None:
    """The principal of an ``Authorization: Bearer vpbx_...`` header; None if there is no such header."""
    header = headers.get("authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "Authorization must be 'Bearer <api key>'")
    match = KEY_RE.match(token.strip())
    if match is None:
        raise AuthError(401, "malformed API key")
    key_id, secret = match.groups()
    tenant_id = KEYRING.tenant_of(services, key_id)
    record = KEYRING.keys(services, tenant_id).get(key_id) if tenant_id else None
    if tenant_id is None or record is None or not hmac.compare_digest(record.secret_sha256, _digest(secret)):
        raise AuthError(401, "unknown API key")
    if record.revoked_at:
        raise AuthError(401, "this API key was revoked")
    return Principal(tenant_id=tenant_id, kind="api_key", subject=key_id, scopes=record.scopes)


# Ways to prove identity, tried in order; issue 8 appends a session-cookie authenticator here.
Authenticator = Callable[[Services, Mapping[str, str]], Principal | None]
AUTHENTICATORS: list[Authenticator] = [api_key_principal]
# Checks run on every authenticated request; issue 8 adds the CSRF double-submit check for sessions.
RequestCheck = Callable[[Any, Principal], None]
REQUEST_CHECKS: list[RequestCheck] = []


def authenticate(request: Any, services: Services | None = None) -> Principal:
    """The caller's principal, or AuthError(401)."""
    services = services or get_services()
    headers = {k.lower(): v for k, v in dict(request.headers or {}).items()}
    for authenticator in AUTHENTICATORS:
        principal = authenticator(services, headers)
        if principal is not None:
            for check in REQUEST_CHECKS:
                check(request, principal)
            return principal
    raise AuthError(401, "missing credentials: send 'Authorization: Bearer <api key>' (or sign in)")


def require(principal: Principal, tenant_id: str, permission: str) -> None:
    """Raise AuthError(403) unless the principal acts for this tenant with this permission."""
    if principal.tenant_id != tenant_id:
        raise AuthError(403, f"these credentials are not valid for tenant {tenant_id!r}")
    if not principal.can(permission):
        raise AuthError(403, f"permission {permission!r} is not granted to these credentials")


def authorize(request: Any, tenant_id: str, permission: str, services: Services | None = None) -> Principal:
    """The one call every API view makes: authenticate, then require."""
    principal = authenticate(request, services)
    require(principal, tenant_id, permission)
    return principal


PIN_ITERATIONS = 120_000


def hash_pin(pin: str) -> str:
    """A salted PBKDF2-SHA256 hash of a short PIN (``pbkdf2_sha256$iterations$salt$hex``)."""
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), PIN_ITERATIONS).hex()
    return f"pbkdf2_sha256${PIN_ITERATIONS}${salt}${digest}"


def verify_pin(stored: str, pin: str) -> bool:
    """True if ``pin`` matches a ``hash_pin`` result."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)
