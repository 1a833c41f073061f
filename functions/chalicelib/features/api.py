"""API for live-call features: ``POST /api/v1/calls/{sid}/{transfer,hold,resume,pickup}`` for the
caller's own tenant (permission ``calls.control``); another tenant's call is a 404.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response

from chalicelib.bootstrap import get_services
from chalicelib.features.live import (
    FeatureError,
    attended_transfer,
    hold,
    pickup_to_extension,
    resume,
    transfer,
)

bp = Blueprint(__name__)
CONTROL = "calls.control"
FEATURE_ROUTES = {
    "transfer": ("Transfer: blind (ring another extension or number instead) or attended (hold, ask the target)",
                 {"to": "extension or E.164", "by": "ext", "mode": "blind | attended"}),
    "hold": ("Put the caller on hold with music", {"by": "ext"}),
    "resume": ("Take a held call back: ring an extension", {"to": "extension"}),
    "pickup": ("Pick up a ringing call to an extension's devices", {"extension": "extension"}),
}


def _register_route_docs() -> None:
    try:
        from chalicelib.api.http import ROUTES, RouteDoc
    except ImportError:  # the configuration API is not there yet
        return
    for name, (summary, body) in FEATURE_ROUTES.items():
        path = f"/api/v1/calls/{{sid}}/{name}"
        if not any(r.path == path for r in ROUTES):
            ROUTES.append(RouteDoc("POST", path, summary, CONTROL, "calls",
                                   request={"type": "object", "properties": {k: {"type": "string", "description": v}
                                                                             for k, v in body.items()}}))


_register_route_docs()


def _answer(body: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, sort_keys=True), status_code=status,
                    headers={"Content-Type": "application/json"})


def _feature_view(name: str, sid: str) -> Response:
    from chalicelib import auth
    from chalicelib.explain import authorized_principal
    from chalicelib.gateway_api import GatewayError

    request = bp.current_request
    try:
        principal = authorized_principal(request, CONTROL)
    except auth.AuthError as e:
        return _answer({"errors": [{"pointer": "", "message": e.message}]}, e.status)
    try:
        body = json.loads(request.raw_body or b"{}")
    except ValueError:
        return _answer({"errors": [{"pointer": "", "message": "the body is not valid JSON"}]}, 400)
    if not isinstance(body, dict):
        return _answer({"errors": [{"pointer": "", "message": "send a JSON object"}]}, 400)
    services = get_services()
    request_id = "api-" + services.new_id()
    required = {"transfer": "to", "resume": "to", "pickup": "extension"}.get(name)
    if required and not isinstance(body.get(required), str | int):
        return _answer({"errors": [{"pointer": f"/{required}", "message": f"{required} is required"}]}, 422)
    tenant_id = principal.tenant_id
    try:
        if name == "transfer" and body.get("mode", "blind") not in ("blind", "attended"):
            raise FeatureError(422, "mode: must be 'blind' or 'attended'", "/mode")
        if name == "transfer" and body.get("mode") == "attended":
            done = attended_transfer(services, tenant_id, sid, str(body["to"]), by=str(body.get("by", "")),
                                     request_id=request_id)
        elif name == "transfer":
            done = transfer(services, tenant_id, sid, str(body["to"]), by=str(body.get("by", "")), request_id=request_id)
        elif name == "hold":
            done = hold(services, tenant_id, sid, by=str(body.get("by", "")), request_id=request_id)
        elif name == "resume":
            done = resume(services, tenant_id, sid, str(body["to"]), request_id=request_id)
        else:
            done = pickup_to_extension(services, tenant_id, sid, str(body["extension"]), request_id=request_id)
    except FeatureError as e:
        return _answer({"errors": [{"pointer": e.field, "message": e.message}]}, e.status)
    except GatewayError as e:
        return _answer({"errors": [{"pointer": "", "message": f"the gateway did not take the change: {e}"}]}, 502)
    return _answer({"call_sid": done.call_sid, "events": list(done.events), "laml": done.laml})


@bp.route("/api/v1/calls/{sid}/transfer", methods=["POST"])
def transfer_view(sid: str) -> Response:
    return _feature_view("transfer", sid)


@bp.route("/api/v1/calls/{sid}/hold", methods=["POST"])
def hold_view(sid: str) -> Response:
    return _feature_view("hold", sid)


@bp.route("/api/v1/calls/{sid}/resume", methods=["POST"])
def resume_view(sid: str) -> Response:
    return _feature_view("resume", sid)


@bp.route("/api/v1/calls/{sid}/pickup", methods=["POST"])
def pickup_view(sid: str) -> Response:
    return _feature_view("pickup", sid)
