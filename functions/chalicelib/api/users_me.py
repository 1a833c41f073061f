"""A person's own things: ``GET /api/v1/me/calls``, ``/me/voicemail`` and ``/me/recordings`` (the team's).

Agents hold ``calls.read_own`` / ``voicemail.read_own`` but not the tenant-wide ``cdrs.read``; these
views read the same call-record projection the statistics API reads and keep only the calls of the
signed-in user's extension (and the messages of its voicemail box).

Voicemail messages carry the mailbox's state (``voicemail.heard``; deleted ones are left out), the same
state the phone's mailbox (*97) keeps. A box's owner marks the message a call left heard
(``POST /me/voicemail/{call}/heard``; the web app does it when the message is played) or deletes it
(``DELETE /me/voicemail/{call}``): ``VoicemailHeard`` / ``VoicemailDeleted`` in that call's stream, folded
by the ``mailboxes`` projection. ``GET /api/v1/voicemail`` lists every box's messages so (``voicemail.read``).
``PUT /api/v1/me/voicemail-pin`` sets one's own box's PIN (no easy-to-guess ones).
"""

from __future__ import annotations

import re
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
        return {"period": p, "extension": None, "items": [], "boxes": []}
    if kind == "calls":
        rows = filter_cdrs(calls, {"extension": user.extension}, device_map(snapshot.config))
        return {"period": p, "extension": user.extension, "items": rows}
    boxes = own_boxes(snapshot, user.extension)
    rows = [c for c in calls if c.get("voicemail") and str(c["voicemail"].get("box")) in boxes]
    return {"period": p, "extension": user.extension, "boxes": sorted(boxes),
            "items": with_mailbox_state(out, principal.tenant_id, since, rows)}


def own_boxes(snapshot: Any, extension: str) -> set[str]:
    """The voicemail boxes an extension's person reads: its box, and the one named like the extension."""
    from domain.actions.voicemail import box_of

    return {extension, box_of(snapshot, extension)}


def with_mailbox_state(out: Any, tenant: str, since: str, rows: list[Any]) -> list[Any]:
    """The call records' messages with ``heard``; a deleted one is left out (the mailboxes projection's marks,
    from the period's start on: a mark is never older than its message)."""
    from domain.projections.mailboxes import marks_of

    marks = marks_of(out.rows("mailboxes", tenant, since_t=since))
    kept = []
    for c in rows:
        done = marks.get(str(c["voicemail"].get("event")), set())
        if "deleted" not in done:
            kept.append({**c, "voicemail": {**c["voicemail"], "heard": "heard" in done}})
    return kept


def _mark(kind: str, call: str) -> Response:
    """A box's owner marks the message left in ``call`` heard, or deletes it: an event in that call's stream."""
    try:
        return _marked(kind, call)
    except ApiError as exc:
        return error_response(exc.status, exc.errors)


def _marked(kind: str, call: str) -> Response:
    from chalicelib.envelopes import wrap
    from chalicelib.stats_api import _context
    from domain.actions.mailbox import VoicemailDeleted, VoicemailHeard
    from domain.ports import ConcurrencyError
    from domain.projections.base import utc
    from domain.projections.mailboxes import marks_of

    principal = _guard()
    user = _user(principal)
    services, snapshot, out = _context(principal.tenant_id)  # the projections caught up with the log
    mine = own_boxes(snapshot, user.extension) if user.extension else set()
    stream = f"call-{call}"
    for _ in range(5):
        stored, version = services.store.load(stream)
        left = [e for e in stored if e.event_type == "VoicemailLeft" and e.tenant_id == principal.tenant_id]
        if not left or str(left[-1].data.get("box")) not in mine:
            raise ApiError(404, f"no message from call {call!r} in your voicemail", "/call")
        message = left[-1]
        # what was done to it: by phone (the projection) or here (its own stream, maybe not folded yet)
        done = marks_of(out.rows("mailboxes", principal.tenant_id,
                                 since_t=utc(message.occurred_at))).get(message.event_id, set())
        done |= {"heard" if e.event_type == "VoicemailHeard" else "deleted" for e in stored
                 if e.event_type in ("VoicemailHeard", "VoicemailDeleted") and e.data.get("message") == message.event_id}
        if "deleted" in done:
            raise ApiError(404, f"the message from call {call!r} was deleted", "/call")
        if kind == "heard" and "heard" in done:
            return Response(body="", status_code=204)
        box = str(message.data.get("box"))
        event = VoicemailHeard(box=box, message=message.event_id) if kind == "heard" \
            else VoicemailDeleted(box=box, message=message.event_id)
        try:
            services.store.append(stream, wrap([event], tenant_id=principal.tenant_id, stream_id=stream,
                                               expected_version=version, now=services.clock(), new_id=services.new_id,
                                               correlation_id=f"web-{kind}-{message.event_id}"), version)
            return Response(body="", status_code=204)
        except ConcurrencyError:
            continue  # the call's stream moved (a late webhook, another mark): read it again
    raise ApiError(503, "the message's call kept changing; try again", "/call")


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
    """The messages of your own voicemail box in a period, each with voicemail.heard (deleted ones left out)."""
    return _answer("voicemail")  # type: ignore[no-any-return]





@bp.route("/api/v1/me/voicemail/{call}/heard", methods=["POST"])
@handle_errors
def my_message_heard(call: str) -> Response:
    """Mark the message the call left in your box heard (204; 404 if it is not in your box or deleted)."""
    return _mark("heard", call)


@bp.route("/api/v1/me/voicemail/{call}", methods=["DELETE"])
@handle_errors
def my_message_deleted(call: str) -> Response:
    """Delete the message the call left in your box (the call record stays; the phone's mailbox drops it too)."""
    return _mark("deleted", call)


PIN = re.compile(r"^[0-9]{4,12}$")


def weak_pin(pin: str, box: str, extension: str) -> str:
    """Why a PIN is too easy to guess ("" when it is not): one digit repeated, a run up or down, or the
    box's or extension's own number (the first things a caller trying boxes would enter)."""
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if len(set(pin)) == 1:
        return "one digit repeated is the first thing guessed; choose another"
    if steps in ({1}, {-1}):
        return "a run of digits (1234, 9876) is the first thing guessed; choose another"
    if pin in (box, extension):
        return "the mailbox's own number is the first thing guessed; choose another"
    return ""


@bp.route("/api/v1/me/voicemail-pin", methods=["PUT"])
@handle_errors
def my_voicemail_pin() -> Response:
    """Set the PIN of one's own voicemail box (the phone's *97 and *98 ask it); stored hashed, audited."""
    from chalicelib.api.http import json_body
    from chalicelib.api.state import change
    from chalicelib.auth import hash_pin
    from domain.actions.voicemail import box_of
    from domain.tenant import TenantConfigPatched, TenantSnapshot

    try:
        principal = _guard()
        user = _user(principal)
        body = json_body(bp.current_request)
        pin = body.get("pin") if isinstance(body, dict) else None
        if not isinstance(pin, str) or not PIN.match(pin):
            raise ApiError(422, "a PIN is 4 to 12 digits", "/pin")
        if not user.extension:
            raise ApiError(409, "you have no extension, so no voicemail box", "/pin")

        def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
            box = box_of(snapshot, user.extension)
            if box not in snapshot.section("voicemail_boxes"):
                raise ApiError(409, f"extension {user.extension} has no voicemail box", "/pin")
            why = weak_pin(pin, box, user.extension)
            if why:
                raise ApiError(422, why, "/pin")
            return [TenantConfigPatched(path=["voicemail_boxes", box], patch={"pin_hash": hash_pin(pin)},
                                        actor=principal.actor)]

        change(get_services(), principal.tenant_id, decide)
        return Response(body="", status_code=204)
    except ApiError as exc:
        return error_response(exc.status, exc.errors)


@bp.route("/api/v1/voicemail", methods=["GET"])
@handle_errors
def every_box() -> Response | dict[str, Any]:
    """Every box's messages (voicemail.read), with the mailbox state; ``boxes``: the caller's own."""
    from chalicelib.stats_api import _context, period

    try:
        principal = _guard()
        services, snapshot, out = _context(principal.tenant_id)
        since, until, p = period(services, snapshot, dict(bp.current_request.query_params or {}))
        rows = [c for c in out.states("calls", principal.tenant_id, since, until) if c.get("voicemail")]
        user = _user(principal) if principal.kind == "user" else None
        mine = own_boxes(snapshot, user.extension) if user is not None and user.extension else set()
        return {"period": p, "boxes": sorted(mine), "items": with_mailbox_state(out, principal.tenant_id, since, rows)}
    except ApiError as exc:
        return error_response(exc.status, exc.errors)


@bp.route("/api/v1/me/recordings", methods=["GET"])
@handle_errors
def my_team_recordings() -> Response | dict[str, Any]:
    return _answer("recordings")  # type: ignore[no-any-return]
