"""Gateway webhooks: voice URL, status callback, and a dialled device's answer. Views stay thin; the
shell is in calls.py."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import get_services
from chalicelib.calls import handle_webhook

bp = Blueprint(__name__)
FORMS = ["application/x-www-form-urlencoded", "application/json"]


def _handle(tenant: str, endpoint: str) -> Response:
    req = bp.current_request
    result = handle_webhook(get_services(), tenant_id=tenant, endpoint=endpoint, query=req.query_params or {},
                            headers=dict(req.headers), body=req.raw_body or b"",
                            content_type=req.headers.get("content-type", ""))
    return Response(body=result.body, status_code=result.status, headers=dict(result.headers))


@bp.route("/webhooks/{tenant}/voice", methods=["POST"], content_types=FORMS)
def voice(tenant: str) -> Response:
    return _handle(tenant, "voice")


@bp.route("/webhooks/{tenant}/status", methods=["POST"], content_types=FORMS)
def status(tenant: str) -> Response:
    return _handle(tenant, "status")


@bp.route("/webhooks/{tenant}/answered", methods=["POST"], content_types=FORMS)
def answered(tenant: str) -> Response:
    return _handle(tenant, "answered")
