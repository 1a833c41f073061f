"""Sign-in accounts of a tenant's people: users, password hashes, TOTP, lockout.

Streams: ``users-<tenant>`` (the tenant's accounts), ``login-<email>`` (who owns an e-mail address,
claimed at version 0 so two tenants can never share one), ``signin-<email>`` (attempts; the lockout
is a fold of it, so it holds across processes).

Invariant: a password is never stored, only its argon2id hash; the hash and the TOTP secret never
leave this module through the API (``public_view``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import singledispatch
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chalicelib.envelopes import decode_all, wrap
from chalicelib.permissions import ROLES
from domain.events import DomainEvent, event
from domain.ports import ConcurrencyError, EventStore

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8

_hasher = PasswordHasher()
# A hash to verify against when the e-mail is unknown, so timing does not tell which addresses exist.
_DUMMY: list[str] = []


def set_hasher(hasher: PasswordHasher) -> None:
    """Tests use cheaper argon2 parameters; production keeps the library defaults (argon2id)."""
    global _hasher
    _hasher = hasher
    _DUMMY.clear()


@event
@dataclass(frozen=True, slots=True)
class UserAdded(DomainEvent):
    event_type = "UserAdded"
    user_id: str
    email: str
    name: str
    role: str
    password_hash: str
    extension: str = ""
    team: str = ""
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class UserChanged(DomainEvent):
    event_type = "UserChanged"
    user_id: str
    changes: dict[str, Any]
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class UserPasswordSet(DomainEvent):
    event_type = "UserPasswordSet"
    user_id: str
    password_hash: str
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class UserTotpSet(DomainEvent):
    event_type = "UserTotpSet"
    user_id: str
    secret: str  # "" turns TOTP off
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class UserRemoved(DomainEvent):
    event_type = "UserRemoved"
    user_id: str
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class LoginClaimed(DomainEvent):
    event_type = "LoginClaimed"
    tenant_id: str
    user_id: str


@event
@dataclass(frozen=True, slots=True)
class LoginReleased(DomainEvent):
    event_type = "LoginReleased"
    tenant_id: str
    user_id: str


@event
@dataclass(frozen=True, slots=True)
class SignInFailed(DomainEvent):
    event_type = "SignInFailed"
    at: str
    reason: str


@event
@dataclass(frozen=True, slots=True)
class SignInSucceeded(DomainEvent):
    event_type = "SignInSucceeded"
    at: str


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    email: str
    name: str
    role: str
    password_hash: str = ""
    extension: str = ""
    team: str = ""
    totp_secret: str = ""
    disabled: bool = False

    def public_view(self) -> dict[str, Any]:
        return {"id": self.user_id, "email": self.email, "name": self.name, "role": self.role,
                "extension": self.extension, "team": self.team, "totp": bool(self.totp_secret),
                "disabled": self.disabled}


EDITABLE = ("name", "role", "extension", "team", "disabled")


@singledispatch
def _evolve(e: DomainEvent, users: dict[str, User]) -> None:
    return None


@_evolve.register
def _(e: UserAdded, users: dict[str, User]) -> None:
    users[e.user_id] = User(e.user_id, e.email, e.name, e.role, e.password_hash, e.extension, e.team)


@_evolve.register
def _(e: UserChanged, users: dict[str, User]) -> None:
    if e.user_id in users:
        users[e.user_id] = replace(users[e.user_id], **{k: v for k, v in e.changes.items() if k in EDITABLE})


@_evolve.register
def _(e: UserPasswordSet, users: dict[str, User]) -> None:
    if e.user_id in users:
        users[e.user_id] = replace(users[e.user_id], password_hash=e.password_hash)


@_evolve.register
def _(e: UserTotpSet, users: dict[str, User]) -> None:
    if e.user_id in users:
        users[e.user_id] = replace(users[e.user_id], totp_secret=e.secret)


@_evolve.register
def _(e: UserRemoved, users: dict[str, User]) -> None:
    users.pop(e.user_id, None)


class UserError(ValueError):
    """Bad input for a user; ``field`` names the offending field for the form."""

    def __init__(self, field_name: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message
        self.status = status


@dataclass
class SignInResult:
    user: User | None = None
    tenant_id: str = ""
    error: str = ""  # invalid_credentials | locked | totp_required | totp_invalid
    retry_after: int = 0


def validate_user_fields(data: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Check user fields; raise UserError naming the first bad field."""
    out: dict[str, Any] = {}
    if not partial or "email" in data:
        email = str(data.get("email") or "").strip().lower()
        if not EMAIL.match(email):
            raise UserError("email", "enter an e-mail address like name@example.com")
        out["email"] = email
    if not partial or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            raise UserError("name", "a name is required")
        out["name"] = name[:120]
    if not partial or "role" in data:
        role = str(data.get("role") or "")
        if role not in ROLES:
            raise UserError("role", f"choose one of {', '.join(ROLES)}")
        out["role"] = role
    for key in ("extension", "team"):
        if key in data:
            out[key] = str(data.get(key) or "").strip()
    if "disabled" in data:
        out["disabled"] = bool(data["disabled"])
    if not partial or "password" in data:
        check_password(str(data.get("password") or ""))
    return out


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"use at least {MIN_PASSWORD} characters")


class UserRepository:
    """The tenant's accounts, folded from ``users-<tenant>`` and cached by stream version."""

    def __init__(self, store: EventStore, clock: Any, new_id: Any) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id
        self._cache: dict[str, tuple[int, dict[str, User]]] = {}
        self._lock = threading.Lock()

    def all(self, tenant_id: str) -> tuple[dict[str, User], int]:
        stream = f"users-{tenant_id}"
        version = self.store.stream_version(stream)
        cached = self._cache.get(tenant_id)
        if cached and cached[0] == version:
            return cached[1], version
        stored, version = self.store.load(stream)
        users: dict[str, User] = {}
        for e in decode_all(stored):
            _evolve(e, users)
        with self._lock:
            self._cache[tenant_id] = (version, users)
        return users, version

    def get(self, tenant_id: str, user_id: str) -> User | None:
        return self.all(tenant_id)[0].get(user_id)

    def by_email(self, email: str) -> tuple[str, User] | None:
        stored, _ = self.store.load(f"login-{email.strip().lower()}")
        owner: tuple[str, str] | None = None
        for e in decode_all(stored):
            if isinstance(e, LoginClaimed):
                owner = (e.tenant_id, e.user_id)
            elif isinstance(e, LoginReleased):
                owner = None
        if owner is None:
            return None
        user = self.get(*owner)
        return (owner[0], user) if user else None

    def _append(self, tenant_id: str, events: list[DomainEvent], stream: str | None = None,
                expected: int | None = None) -> int:
        stream = stream or f"users-{tenant_id}"
        for _ in range(10):
            version = self.store.stream_version(stream) if expected is None else expected
            envelopes = wrap(events, tenant_id=tenant_id, stream_id=stream, expected_version=version,
                             now=self.clock(), new_id=self.new_id, correlation_id=self.new_id())
            try:
                return self.store.append(stream, envelopes, version)
            except ConcurrencyError:
                if expected is not None:
                    raise
        raise ConcurrencyError(stream, -1)

    def add(self, tenant_id: str, data: Mapping[str, Any], actor: str) -> User:
        fields_ = validate_user_fields(data)
        user_id = str(data.get("id") or "") or self.new_id()
        login_stream = f"login-{fields_['email']}"
        stored, version = self.store.load(login_stream)
        claimed = [e for e in decode_all(stored) if isinstance(e, LoginClaimed | LoginReleased)]
        if claimed and isinstance(claimed[-1], LoginClaimed):
            raise UserError("email", "this e-mail address already has an account", status=409)
        try:
            self._append(tenant_id, [LoginClaimed(tenant_id=tenant_id, user_id=user_id)], stream=login_stream,
                         expected=version)
        except ConcurrencyError as exc:
            raise UserError("email", "this e-mail address already has an account", status=409) from exc
        self._append(tenant_id, [UserAdded(user_id=user_id, email=fields_["email"], name=fields_["name"],
                                           role=fields_["role"], password_hash=_hasher.hash(str(data["password"])),
                                           extension=fields_.get("extension", ""), team=fields_.get("team", ""),
                                           actor=actor)])
        user = self.get(tenant_id, user_id)
        assert user is not None
        return user

    def change(self, tenant_id: str, user_id: str, data: Mapping[str, Any], actor: str) -> User:
        if self.get(tenant_id, user_id) is None:
            raise UserError("id", "no such user", status=404)
        if "email" in data:
            raise UserError("email", "the e-mail address of an account cannot change; add a new user")
        fields_ = validate_user_fields({k: v for k, v in data.items() if k != "password"}, partial=True)
        events: list[DomainEvent] = []
        if fields_:
            events.append(UserChanged(user_id=user_id, changes=fields_, actor=actor))
        if "password" in data:
            check_password(str(data["password"]))
            events.append(UserPasswordSet(user_id=user_id, password_hash=_hasher.hash(str(data["password"])),
                                          actor=actor))
        if events:
            self._append(tenant_id, events)
        user = self.get(tenant_id, user_id)
        assert user is not None
        return user

    def remove(self, tenant_id: str, user_id: str, actor: str) -> None:
        user = self.get(tenant_id, user_id)
        if user is None:
            raise UserError("id", "no such user", status=404)
        self._append(tenant_id, [UserRemoved(user_id=user_id, actor=actor)])
        self._append(tenant_id, [LoginReleased(tenant_id=tenant_id, user_id=user_id)],
                     stream=f"login-{user.email}")

    def set_totp(self, tenant_id: str, user_id: str, secret: str, actor: str) -> None:
        self._append(tenant_id, [UserTotpSet(user_id=user_id, secret=secret, actor=actor)])

    # -- signing in ---------------------------------------------------------------------------------

    def lockout_remaining(self, email: str, now: datetime) -> int:
        """Seconds until ``email`` may try again (0 if not locked): MAX_FAILURES failures in LOCKOUT."""
        stored, _ = self.store.load(f"signin-{email}")
        failures: list[datetime] = []
        for e in decode_all(stored):
            if isinstance(e, SignInSucceeded):
                failures = []
            elif isinstance(e, SignInFailed):
                failures.append(datetime.fromisoformat(e.at))
        recent = [t for t in failures if now - t < LOCKOUT]
        if len(recent) < MAX_FAILURES:
            return 0
        return max(1, int((recent[-1] + LOCKOUT - now).total_seconds()))

    def sign_in(self, email: str, password: str, totp: str = "") -> SignInResult:
        email = email.strip().lower()
        now = self.clock()
        wait = self.lockout_remaining(email, now) if EMAIL.match(email) else 0
        if wait:
            return SignInResult(error="locked", retry_after=wait)
        found = self.by_email(email) if EMAIL.match(email) else None
        if found is None or found[1].disabled:
            if not _DUMMY:
                _DUMMY.append(_hasher.hash("not-a-password"))
            _verify(_DUMMY[0], password)
            if EMAIL.match(email):
                self._record(email, SignInFailed(at=now.isoformat(), reason="unknown"))
            return SignInResult(error="invalid_credentials")
        tenant_id, user = found
        if not _verify(user.password_hash, password):
            self._record(email, SignInFailed(at=now.isoformat(), reason="password"), tenant_id)
            return SignInResult(error="invalid_credentials")
        if user.totp_secret:
            if not totp:
                return SignInResult(error="totp_required")
            if not pyotp.TOTP(user.totp_secret).verify(totp.strip(), for_time=now, valid_window=1):
                self._record(email, SignInFailed(at=now.isoformat(), reason="totp"), tenant_id)
                return SignInResult(error="totp_invalid")
        self._record(email, SignInSucceeded(at=now.isoformat()), tenant_id)
        return SignInResult(user=user, tenant_id=tenant_id)

    def _record(self, email: str, e: DomainEvent, tenant_id: str = "_signin") -> None:
        self._append(tenant_id, [e], stream=f"signin-{email}")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@dataclass
class _Registry:
    repos: dict[int, UserRepository] = field(default_factory=dict)


_REG = _Registry()


def users_of(services: Any) -> UserRepository:
    """One UserRepository per Services object (keeps the cache without touching bootstrap)."""
    key = id(services)
    repo = _REG.repos.get(key)
    if repo is None or repo.store is not services.store or repo.clock is not services.clock:
        repo = UserRepository(services.store, services.clock, services.new_id)
        _REG.repos = {key: repo}  # keep one: tests make many Services
    return repo
