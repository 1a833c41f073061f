"""Tenant settings: display name, language of the system prompts, time zone, hold music, dial plan.

Setting ``hold_music`` (an uploaded audio id) also sets ``hold_music_url``, which the hold action plays.

Top-level configuration keys; the gateway credentials and other sections are not exposed here.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.audio import playback_url
from chalicelib.api.common import E164, LANGUAGE, NAME, REF, obj
from chalicelib.api.http import TENANT, ApiError, endpoint, json_body
from chalicelib.api.state import change, current
from chalicelib.api.validation import validate
from chalicelib.auth import Principal
from chalicelib.bootstrap import get_services
from domain.tenant import TenantConfigPatched, TenantSnapshot, merge_patch

bp = Blueprint(__name__)
DIAL_PLAN = obj({
    "outside_prefix": {"type": "string", "pattern": "^[0-9]?$",
                       "description": "a digit dialled before an outside number (9, 0), optional for callers"},
    "speed_dials": {"type": "object", "propertyNames": {"pattern": "^[0-9]{2,4}$"},
                    "additionalProperties": E164,
                    "description": "short code (2-4 digits, not an extension) -> E.164 number"},
}, description="what employees' phones may dial besides extensions and phone numbers")
SCHEMA = obj({"name": NAME, "language": LANGUAGE, "timezone": {"type": "string", "format": "timezone"},
              "hold_music": {**REF, "description": "id of an uploaded audio file (kind hold_music)"},
              "dial_plan": DIAL_PLAN})
FIELDS = tuple(SCHEMA["properties"])


def _view(snapshot: TenantSnapshot) -> dict[str, Any]:
    return {k: snapshot.config[k] for k in FIELDS if k in snapshot.config}


@endpoint(bp, "GET", TENANT + "/settings", summary="Get the tenant settings", permission="config.read",
          tag="settings", response=SCHEMA)
def get_settings(tenant: str, principal: Principal) -> dict[str, Any]:
    return _view(current(get_services(), tenant))


@endpoint(bp, "PATCH", TENANT + "/settings", summary="Change tenant settings (JSON merge-patch)",
          permission="config.write", tag="settings", request=SCHEMA, response=SCHEMA)
def patch_settings(tenant: str, principal: Principal) -> dict[str, Any]:
    body = json_body(bp.current_request)
    if not isinstance(body, dict):
        raise ApiError(422, "a merge-patch must be a JSON object")

    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        merged = merge_patch(_view(snapshot), body)
        validate(SCHEMA, merged)
        _check_dial_plan(snapshot, merged.get("dial_plan") or {})
        patch = dict(body)
        if "hold_music" in patch:  # what the hold action plays
            music = patch["hold_music"]
            patch["hold_music_url"] = playback_url(get_services().settings, tenant, music) if music else None
        return [TenantConfigPatched(path=[], patch=patch, actor=principal.actor)]

    return _view(change(get_services(), tenant, decide, "tenant settings"))


def _check_dial_plan(snapshot: TenantSnapshot, plan: dict[str, Any]) -> None:
    """A speed dial that is an extension or an emergency number would never be reached: refused, named."""
    from domain.routing.device_calls import is_emergency

    errors = []
    for code in sorted(plan.get("speed_dials") or {}):
        pointer = f"/dial_plan/speed_dials/{code}"
        if code in snapshot.section("extensions"):
            errors.append({"pointer": pointer, "message": f"{code} is an extension: a speed dial needs its own code"})
        elif is_emergency(snapshot, code):
            errors.append({"pointer": pointer, "message": f"{code} is an emergency number: it always dials it"})
    if errors:
        raise ApiError(422, errors)
