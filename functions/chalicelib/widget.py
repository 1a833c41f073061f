"""Website callback widget: ``POST /widget/<tenant>/callback {phone, name?}`` and ``/widget/<tenant>/embed.js``.

Invariants: only the tenant's own sites may call it (CORS from ``widget.allowed_origins``); numbers
are E.164 and valid (phonenumbers); per-IP and per-number limits are checked against the accepted
requests in ``widget-<tenant>`` and written at its expected version, so a flood on many threads
cannot slip past the limit; a number never gets a second open callback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import phonenumbers
from chalice import Blueprint, Response

from chalicelib.bootstrap import Services, get_services
from chalicelib.callcenter.caller import request_callback
from chalicelib.callcenter.dispatcher import dispatch, queues_by_id
from chalicelib.callcenter.scheduler import start_due_callbacks
from chalicelib.callcenter.streams import decide_and_append, load_callbacks, widget_stream
from domain.callcenter.callbacks import rate_limited
from domain.callcenter.events import WidgetCallbackAccepted
from domain.tenant import TenantSnapshot

bp = Blueprint(__name__)


class WidgetRefused(Exception):
    def __init__(self, status: int, field: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status, self.field, self.message, self.retry_after = status, field, message, retry_after


def _settings(tenant: TenantSnapshot) -> Mapping[str, Any]:
    return tenant.section("widget")


def cors_headers(tenant: TenantSnapshot | None, origin: str) -> dict[str, str]:
    allowed = list(_settings(tenant).get("allowed_origins", ())) if tenant else []
    if origin and origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600"}
    return {"Vary": "Origin"}


def e164(phone: object, countries: list[str]) -> str:
    if not isinstance(phone, str) or not phone.strip():
        raise WidgetRefused(400, "phone", "phone is required")
    try:
        parsed = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        raise WidgetRefused(400, "phone", "phone must be in international format, e.g. +14155550123") from None
    if not phonenumbers.is_valid_number(parsed):
        raise WidgetRefused(400, "phone", f"{phone!r} is not a valid phone number")
    region = phonenumbers.region_code_for_number(parsed)
    if countries and region not in countries:
        raise WidgetRefused(400, "phone", f"numbers from {region} are not accepted")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def handle_widget_callback(services: Services, tenant_id: str, body: Any, *, origin: str, client_ip: str
                           ) -> dict[str, str]:
    """Validate, rate-limit, open a callback task and start it if an agent is free."""
    tenant = services.tenants.get(tenant_id)
    if tenant is None or not _settings(tenant).get("enabled", True) or "widget" not in tenant.config:
        raise WidgetRefused(404, "tenant", f"no callback widget for {tenant_id!r}")
    settings = _settings(tenant)
    if origin and origin not in settings.get("allowed_origins", ()):
        raise WidgetRefused(403, "origin", f"origin {origin!r} may not use this widget")
    if not isinstance(body, dict):
        raise WidgetRefused(400, "body", "a JSON object {phone, name?} is required")
    number = e164(body.get("phone"), list(settings.get("countries", ())))
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 80:
        raise WidgetRefused(400, "name", "name must be text of at most 80 characters")
    client = hashlib.sha256(client_ip.encode()).hexdigest()[:16]
    per_ip, ip_window = int(settings.get("per_ip_limit", 5)), int(settings.get("per_ip_window_seconds", 3600))
    per_number, number_window = int(settings.get("per_number_limit", 2)), int(
        settings.get("per_number_window_seconds", 86400))
    now = services.clock()
    refused: list[WidgetRefused] = []

    def decide(events: list, version: int) -> list:  # type: ignore[type-arg]
        refused.clear()
        accepted = [e for e in events if isinstance(e, WidgetCallbackAccepted)]
        if rate_limited([datetime.fromisoformat(e.at) for e in accepted if e.client == client], now, per_ip,
                        ip_window):
            refused.append(WidgetRefused(429, "client", "too many callback requests from this address", ip_window))
            return []
        if rate_limited([datetime.fromisoformat(e.at) for e in accepted if e.number == number], now, per_number,
                        number_window):
            refused.append(WidgetRefused(429, "phone", "too many callback requests for this number", number_window))
            return []
        return [WidgetCallbackAccepted(number, client, now.isoformat(), origin=origin)]

    decide_and_append(services, tenant_id, widget_stream(tenant_id), decide)
    if refused:
        raise refused[0]
    opened = request_callback(services, tenant, number, "widget", str(settings.get("queue", "")), name=name)
    if not opened:
        return {"status": "already-scheduled", "phone": number}
    queues = queues_by_id(tenant)
    start_due_callbacks(services, tenant, dict(queues))
    for q in queues:
        dispatch(services, tenant_id, q)
    book, _ = load_callbacks(services, tenant_id)
    task = book.open_for(number)
    return {"status": "scheduled", "phone": number, "task": task.task_id if task else ""}


def _client_ip(tenant: TenantSnapshot | None, headers: Mapping[str, str], context: Mapping[str, Any]) -> str:
    forwarded = headers.get("x-forwarded-for", "")
    if tenant is not None and _settings(tenant).get("trust_forwarded_for") and forwarded:
        return forwarded.split(",")[0].strip()
    return str((context.get("identity") or {}).get("sourceIp", "unknown"))


@bp.route("/widget/{tenant}/callback", methods=["POST"], content_types=["application/json", "text/plain"])
def widget_callback(tenant: str) -> Response:
    req = bp.current_request
    services = get_services()
    snapshot = services.tenants.get(tenant)
    headers = {k.lower(): v for k, v in dict(req.headers).items()}
    origin = headers.get("origin", "")
    cors = cors_headers(snapshot, origin)
    try:
        try:
            body = json.loads(req.raw_body or b"{}")
        except ValueError:
            raise WidgetRefused(400, "body", "the body is not valid JSON") from None
        result = handle_widget_callback(services, tenant, body, origin=origin,
                                        client_ip=_client_ip(snapshot, headers, req.context or {}))
    except WidgetRefused as e:
        extra = {"Retry-After": str(e.retry_after)} if e.retry_after else {}
        return Response(body=json.dumps({"errors": [{"pointer": f"/{e.field}", "message": e.message}]}),
                        status_code=e.status, headers={"Content-Type": "application/json", **cors, **extra})
    return Response(body=json.dumps(result), status_code=202, headers={"Content-Type": "application/json", **cors})


@bp.route("/widget/{tenant}/callback", methods=["OPTIONS"])
def widget_preflight(tenant: str) -> Response:
    origin = {k.lower(): v for k, v in dict(bp.current_request.headers).items()}.get("origin", "")
    headers = cors_headers(get_services().tenants.get(tenant), origin)
    return Response(body="", status_code=204 if "Access-Control-Allow-Origin" in headers else 403, headers=headers)


EMBED = """(function () {
  var endpoint = %(endpoint)s;
  var box = document.createElement("form");
  box.setAttribute("data-vpbx-widget", %(tenant)s);
  box.innerHTML = '<input name="phone" type="tel" placeholder="+1 415 555 0123" required>' +
    '<input name="name" type="text" placeholder="Your name" maxlength="80">' +
    '<button type="submit">Call me back</button><output></output>';
  box.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var out = box.querySelector("output");
    fetch(endpoint, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({phone: box.phone.value, name: box.name.value})})
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (res) {
        out.textContent = res[0] === 202 ? "Thank you, we will call you shortly."
          : (res[1].errors && res[1].errors[0].message) || "Sorry, please try again later.";
      });
  });
  (document.currentScript && document.currentScript.parentNode || document.body).appendChild(box);
})();
"""


@bp.route("/widget/{tenant}/embed.js", methods=["GET"])
def widget_embed(tenant: str) -> Response:
    services = get_services()
    snapshot = services.tenants.get(tenant)
    if snapshot is None or "widget" not in snapshot.config:
        return Response(body="// no callback widget for this tenant\n", status_code=404,
                        headers={"Content-Type": "application/javascript"})
    endpoint = f"{services.settings.public_url}/widget/{tenant}/callback"
    script = EMBED % {"endpoint": json.dumps(endpoint), "tenant": json.dumps(tenant)}
    return Response(body=script, status_code=200, headers={"Content-Type": "application/javascript; charset=utf-8",
                                                            "Cache-Control": "public, max-age=300"})
