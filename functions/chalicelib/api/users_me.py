"""A person's own things: ``GET /api/v1/me/calls``, ``/me/voicemail`` and ``/me/recordings`` (the team's).

Agents hold ``calls.read_own`` / ``voicemail.read_own`` but not the tenant-wide ``cdrs.read``; these
views read the same call-record projection the statistics API reads and keep only the calls of the
signed-in user's extension (and the messages of its voicemail box).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import ApiError, error_response
from chalicelib.api.users import _guard, _user, handle_errors
from chalicelib.bootstrap import get_services

bp = Blueprint(__name__)


def _own(kind: str) -> Any:
    from chalicelib.stats_api import _context, filter_cdrs, period
    from domain.projections.stats import device_map

    principal = _guard()
    user = _user(principal)
    services, snapshot, out = _context(principal.tenant_id)
    params = dict(bp.current_request.query_params or {})
    since, until, p = period(services, snapshot, params)
    calls = list(out.states("calls", principal.tenant_id, since, until))
    if kind == "recordings":
        return {"period": p, "extension": user.extension or None,
                "items": _team_recordings(principal, user, calls, device_map(snapshot.config))}
    if not user.extension:
        return {"period": p, "extension": None, "items": []}
    if kind == "calls":
        rows = filter_cdrs(calls, {"extension": user.extension}, device_map(snapshot.config))
    else:
        ext = snapshot.section("extensions").get(user.extension) or {}
        boxes = {user.extension, str(ext.get("voicemail") or user.extension)}
        rows = [c for c in calls if c.get("voicemail") and str(c["voicemail"].get("box")) in boxes]
    return {"period": p, "extension": user.extension, "items": rows}


def _team_recordings(principal: Any, user: Any, calls: list[Any], devices: Any) -> list[Any]:
    """Recorded calls that rang the user's team (accounts with the same team, and the user)."""
    from chalicelib.stats_api import extensions
    from chalicelib.users import users_of

    recorded = [c for c in calls if c.get("recordings")]
    if principal.can("recordings.read"):
        return recorded
    people, _ = users_of(get_services()).all(principal.tenant_id)
    team = {u.extension for u in people.values() if u.extension and user.team and u.team == user.team}
    team |= {user.extension} if user.extension else set()
    return [c for c in recorded if team & set(extensions(c, devices))]


def _answer(kind: str) -> Any:
    try:
        return _own(kind)
    except ApiError as exc:
        return error_response(exc.status, exc.errors)


@bp.route("/api/v1/me/calls", methods=["GET"])
@handle_errors
def my_calls() -> Response | dict[str, Any]:
    return _answer("calls")  # type: ignore[no-any-return]


@bp.route("/api/v1/me/voicemail", methods=["GET"])
@handle_errors
def my_voicemail() -> Response | dict[str, Any]:
    return _answer("voicemail")  # type: ignore[no-any-return]





@bp.route("/api/v1/me/recordings", methods=["GET"])
@handle_errors
def my_team_recordings() -> Response | dict[str, Any]:
    return _answer("recordings")  # type: ignore[no-any-return]
