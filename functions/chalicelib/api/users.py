"""Sign-in, sessions and the tenant's login accounts (``/api/v1/auth/*``, ``/api/v1/users``).

Views stay thin: ``auth.authenticate`` (API key or session cookie + CSRF) and ``auth.require``
against the permission table; ``users.UserRepository`` does the work. The tenant is the caller's
own (accounts are per tenant). Extensions (phones) are the config API's; these are people.
"""

from __future__ import annotations

import functools
from typing import Any

import pyotp
from chalice import Blueprint, Response

from chalicelib import auth
from chalicelib.auth import AuthError, Principal
from chalicelib.bootstrap import get_services
from chalicelib.permissions import ROLE_PERMISSIONS, SELF, permissions_of, route_permission
from chalicelib.sessions import cleared_cookies, end_session, session_cookies, session_of, start_session
from chalicelib.users import User, UserError, users_of

bp = Blueprint(__name__)
MESSAGES = {"invalid_credentials": "wrong e-mail or password", "totp_required": "enter the code from your app",
            "totp_invalid": "that code is not valid", "locked": "too many failed attempts; try again later"}


def _body() -> dict[str, Any]:
    body = bp.current_request.json_body
    if not isinstance(body, dict):
        raise UserError("body", "send a JSON object")
    return body


def _guard() -> Principal:
    """Authenticate, then check this route's permission from the table (permissions.ROUTE_PERMISSIONS)."""
    req = bp.current_request
    permission = route_permission(req.method, str((req.context or {}).get("resourcePath", "")))
    principal = auth.authenticate(req)
    if permission is None:
        raise AuthError(403, "this route is not in the permission table")
    if permission != SELF:
        auth.require(principal, principal.tenant_id, permission)
    return principal


def _user(p: Principal) -> User:
    user = users_of(get_services()).get(p.tenant_id, p.subject) if p.kind == "user" else None
    if user is None:
        raise AuthError(403, "only a signed-in person can do this (not an API key)")
    return user


def _me(tenant: str, user: User, csrf: str) -> dict[str, Any]:
    """The signed-in person, with the tenant's time zone: the web app shows days and times in it."""
    snapshot = get_services().tenants.get(tenant)
    return {"tenant": tenant, "user": user.public_view(), "csrf": csrf, "permissions": permissions_of(user.role),
            "timezone": snapshot.timezone if snapshot is not None else "UTC"}


def handle_errors(view: Any) -> Any:
    """Turn AuthError / UserError into JSON answers (UserError names the field)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except AuthError as exc:
            return Response(body={"error": "unauthenticated" if exc.status == 401 else "forbidden",
                                  "message": exc.message}, status_code=exc.status)
        except UserError as exc:
            return Response(body={"error": "invalid", "field": exc.field, "message": exc.message},
                            status_code=exc.status)
    return wrapper


@bp.route("/api/v1/auth/login", methods=["POST"])
@handle_errors
def login() -> Response:
    body = _body()
    services = get_services()
    result = users_of(services).sign_in(str(body.get("email") or ""), str(body.get("password") or ""),
                                        str(body.get("totp") or ""))
    if result.user is None:
        status = 429 if result.error == "locked" else 401
        headers: dict[str, str | list[str]] = {"Retry-After": str(result.retry_after)} if result.retry_after else {}
        return Response(body={"error": result.error, "message": MESSAGES[result.error],
                              "field": "totp" if result.error.startswith("totp") else "password"},
                        status_code=status, headers=headers)
    token, csrf = start_session(services, result.tenant_id, result.user)
    return Response(body=_me(result.tenant_id, result.user, csrf), status_code=200,
                    headers={"Set-Cookie": session_cookies(services, token, csrf)})


@bp.route("/api/v1/auth/logout", methods=["POST"])
@handle_errors
def logout() -> Response:
    _guard()
    info = session_of(get_services(), {k.lower(): v for k, v in bp.current_request.headers.items()})
    if info is not None:
        end_session(get_services(), info)
    return Response(body={"signed_out": True}, headers={"Set-Cookie": cleared_cookies()})


@bp.route("/api/v1/auth/me", methods=["GET"])
@handle_errors
def me() -> Any:
    p = _guard()
    if p.kind != "user":
        return {"tenant": p.tenant_id, "api_key": p.subject, "permissions": sorted(p.scopes)}
    info = session_of(get_services(), {k.lower(): v for k, v in bp.current_request.headers.items()})
    return _me(p.tenant_id, _user(p), info.csrf if info else "")


@bp.route("/api/v1/permissions", methods=["GET"])
@handle_errors
def permission_table() -> Any:
    _guard()
    return {role: sorted(perms) for role, perms in ROLE_PERMISSIONS.items()}


@bp.route("/api/v1/auth/password", methods=["POST"])
@handle_errors
def change_password() -> Any:
    p = _guard()
    user = _user(p)
    body = _body()
    repo = users_of(get_services())
    if repo.sign_in(user.email, str(body.get("current") or ""), _skip_totp(user)).user is None:
        raise UserError("current", "the current password is wrong", status=400)
    repo.change(p.tenant_id, user.user_id, {"password": str(body.get("new") or "")}, actor=p.actor)
    return {"changed": True}


def _skip_totp(user: User) -> str:
    """Changing the password re-checks the password only; the session already passed TOTP."""
    return pyotp.TOTP(user.totp_secret).now() if user.totp_secret else ""


@bp.route("/api/v1/auth/totp", methods=["POST"])
@handle_errors
def totp_start() -> Any:
    user = _user(_guard())
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="vpbx")
    return {"secret": secret, "uri": uri}


@bp.route("/api/v1/auth/totp/confirm", methods=["POST"])
@handle_errors
def totp_confirm() -> Any:
    p = _guard()
    body = _body()
    secret = str(body.get("secret") or "")
    if secret and not pyotp.TOTP(secret).verify(str(body.get("code") or ""), for_time=get_services().clock(),
                                                valid_window=1):
        raise UserError("code", "that code is not valid; check the clock of your phone")
    users_of(get_services()).set_totp(p.tenant_id, _user(p).user_id, secret, actor=p.actor)
    return {"totp": bool(secret)}


@bp.route("/api/v1/users", methods=["GET"])
@handle_errors
def list_users() -> Any:
    p = _guard()
    users, _ = users_of(get_services()).all(p.tenant_id)
    return {"users": sorted((u.public_view() for u in users.values()), key=lambda u: u["email"])}


@bp.route("/api/v1/users", methods=["POST"])
@handle_errors
def add_user() -> Response:
    p = _guard()
    user = users_of(get_services()).add(p.tenant_id, _body(), actor=p.actor)
    return Response(body=user.public_view(), status_code=201)


@bp.route("/api/v1/users/{user_id}", methods=["GET"])
@handle_errors
def get_user(user_id: str) -> Any:
    p = _guard()
    user = users_of(get_services()).get(p.tenant_id, user_id)
    if user is None:
        raise UserError("id", "no such user", status=404)
    return user.public_view()


@bp.route("/api/v1/users/{user_id}", methods=["PATCH"])
@handle_errors
def change_user(user_id: str) -> Any:
    p = _guard()
    body = _body()
    if user_id == p.subject and body.get("role") not in (None, _user(p).role):
        raise UserError("role", "you cannot change your own role; ask another owner")
    return users_of(get_services()).change(p.tenant_id, user_id, body, actor=p.actor).public_view()


@bp.route("/api/v1/users/{user_id}", methods=["DELETE"])
@handle_errors
def remove_user(user_id: str) -> Any:
    p = _guard()
    if user_id == p.subject:
        raise UserError("id", "you cannot remove your own account")
    users_of(get_services()).remove(p.tenant_id, user_id, actor=p.actor)
    return {"removed": user_id}


@bp.route("/api/v1/audit/config", methods=["GET"])
@handle_errors
def config_audit() -> Any:
    from chalicelib.api.users_audit import audit_trail

    p = _guard()
    q: dict[str, str] = dict(bp.current_request.query_params or {})
    return {"entries": audit_trail(get_services(), p.tenant_id, limit=int(q.get("limit") or 200))}
