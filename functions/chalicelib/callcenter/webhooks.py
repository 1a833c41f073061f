"""Gateway webhooks of the call center (``/callcenter/<tenant>/...``), signed like every gateway request.

queue: the caller's hold loop; agent / agent-status: the agent's leg; bridge: the caller joins the
agent's room; customer / customer-status: the called-back customer's leg; supervise: a supervisor's leg.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Blueprint, Response

from chalicelib.bootstrap import Services, get_services
from chalicelib.callcenter.caller import bridge_instructions, handle_queue
from chalicelib.callcenter.legs import (
    handle_agent_answer,
    handle_agent_status,
    handle_customer_status,
    record_placed_leg,
)
from chalicelib.laml import render_laml
from chalicelib.signatures import public_url, verify_request
from chalicelib.webhook_input import BadWebhook, parse_body, request_id
from domain.instructions import Conference, Dial, Hangup, Say

bp = Blueprint(__name__)
FORMS = ["application/x-www-form-urlencoded", "application/json"]
XML = {"Content-Type": "text/xml; charset=utf-8"}
ENDPOINTS = ("queue", "agent", "agent-status", "bridge", "customer", "customer-status", "supervise")
REQUIRED_QUERY = {"queue": ("queue",), "agent": ("agent", "offer"), "agent-status": ("agent", "offer"),
                  "bridge": ("room",), "customer": ("room",), "customer-status": ("agent", "call"),
                  "supervise": ("room", "mode")}


def handle_callcenter(services: Services, *, tenant_id: str, endpoint: str, query: Mapping[str, str],
                      headers: Mapping[str, str], body: bytes, content_type: str) -> tuple[int, str]:
    """Verify, validate, dispatch to the handler of ``endpoint``; (status, body)."""
    tenant = services.tenants.get(tenant_id)
    if tenant is None:
        return 404, f"unknown tenant {tenant_id!r}\n"
    if endpoint not in ENDPOINTS:
        return 404, f"unknown call-center endpoint {endpoint!r}\n"
    try:
        data = parse_body(body, content_type)
    except BadWebhook as exc:
        return 400, f"{exc}\n"
    token = str(tenant.section("gateway").get("auth_token", ""))
    path = f"/callcenter/{tenant_id}/{endpoint}"
    url = public_url(services.settings.public_url, path, query)
    if not verify_request(token=token, url=url, headers=headers, body=body, params=data.pairs, is_json=data.is_json):
        return 403, "webhook signature missing or invalid\n"
    missing = [q for q in REQUIRED_QUERY[endpoint] if not query.get(q)]
    if missing or not data.params.get("CallSid"):
        return 400, f"{(missing or ['CallSid'])[0]}: is required\n"
    p, base = data.params, services.settings.public_url
    if endpoint in ("customer", "customer-status"):  # a call vpbx placed: kept as a call of its own
        record_placed_leg(services, tenant, p, to=query.get("number", ""), agent=query.get("agent", ""),
                          request=request_id(endpoint, path, query, data.pairs))
    if endpoint == "queue":
        return 200, handle_queue(services, tenant, query, p, request_id("queue", path, query, data.pairs))
    if endpoint == "agent":
        return 200, handle_agent_answer(services, tenant, query["agent"], query["offer"], p)
    if endpoint == "agent-status":
        handle_agent_status(services, tenant, query["agent"], query["offer"], p)
        return 200, render_laml((), base)
    if endpoint == "customer-status":
        handle_customer_status(services, tenant, query, p)
        return 200, render_laml((), base)
    if endpoint == "supervise":
        mode = query["mode"]
        conf = Conference(name=query["room"], beep=False, muted=mode == "listen",
                          coach=query.get("coach", "") if mode == "whisper" else "")
        return 200, render_laml((Dial(targets=(conf,)), Hangup()), base)
    if endpoint == "customer":
        intro = Say(text=f"This is {tenant.config.get('name', 'us')} returning your call.", language=tenant.language)
        return 200, render_laml((intro, *bridge_instructions(query["room"])), base)
    return 200, render_laml(bridge_instructions(query["room"]), base)


@bp.route("/callcenter/{tenant}/{endpoint}", methods=["POST"], content_types=FORMS)
def callcenter_webhook(tenant: str, endpoint: str) -> Response:
    req = bp.current_request
    status, body = handle_callcenter(get_services(), tenant_id=tenant, endpoint=endpoint,
                                     query=req.query_params or {}, headers=dict(req.headers),
                                     body=req.raw_body or b"", content_type=req.headers.get("content-type", ""))
    headers = XML if status == 200 else {"Content-Type": "text/plain; charset=utf-8"}
    return Response(body=body, status_code=status, headers=headers)
