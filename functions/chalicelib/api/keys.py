"""API keys of a tenant: list (never the secret), create (the key is in this one response), revoke."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.common import obj
from chalicelib.api.http import TENANT, ApiError, endpoint, json_body
from chalicelib.api.validation import validate
from chalicelib.auth import FULL_ACCESS, KEYRING, PERMISSIONS, Principal, create_api_key, revoke_api_key
from chalicelib.bootstrap import get_services

bp = Blueprint(__name__)
SCOPE = {"type": "string", "enum": [FULL_ACCESS, *PERMISSIONS]}
CREATE = obj({"label": {"type": "string", "maxLength": 100}, "scopes": {"type": "array", "items": SCOPE,
                                                                         "minItems": 1, "uniqueItems": True}})
KEY = {"type": "object", "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                                        "scopes": {"type": "array", "items": SCOPE},
                                        "created_at": {"type": "string"}, "revoked_at": {"type": ["string", "null"]},
                                        "key": {"type": "string", "description": "only in the create response"}}}


@endpoint(bp, "GET", TENANT + "/api-keys", summary="List API keys", permission="apikeys.manage", tag="api-keys",
          response={"type": "object", "properties": {"items": {"type": "array", "items": KEY}}})
def list_keys(tenant: str, principal: Principal) -> dict[str, Any]:
    keys = KEYRING.keys(get_services(), tenant)
    return {"items": [k.public() for k in sorted(keys.values(), key=lambda k: (k.created_at, k.key_id))]}


@endpoint(bp, "POST", TENANT + "/api-keys", summary="Create an API key (shown once)", permission="apikeys.manage",
          tag="api-keys", request=CREATE, response=KEY, status=201)
def create_key(tenant: str, principal: Principal) -> dict[str, Any]:
    body = json_body(bp.current_request)
    validate(CREATE, body)
    scopes = body.get("scopes") or [FULL_ACCESS]
    wider = [s for s in scopes if not principal.can(s)]
    if wider:  # a key may only hand out what it holds itself
        raise ApiError(403, [{"pointer": f"/scopes/{scopes.index(s)}", "message": f"{s!r} is not yours to grant"}
                             for s in wider])
    key, record = create_api_key(get_services(), tenant, scopes=scopes, label=body.get("label", ""),
                                 actor=principal.actor)
    return {**record.public(), "key": key}


@endpoint(bp, "DELETE", TENANT + "/api-keys/{key_id}", summary="Revoke an API key", permission="apikeys.manage",
          tag="api-keys", status=204)
def revoke_key(tenant: str, key_id: str, principal: Principal) -> dict[str, Any]:
    if not revoke_api_key(get_services(), tenant, key_id, actor=principal.actor):
        raise ApiError(404, f"no active API key {key_id!r}")
    return {}
