"""handle_webhook: the three-step shell for every gateway webhook (gather, decide, apply).

Invariant: nothing is written unless the signature holds and the input is valid; the append is
conditional on the stream version read, and on a conflict the whole decision is made again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from chalicelib.bootstrap import Services
from chalicelib.envelopes import decode_all, wrap
from chalicelib.laml import render_laml
from chalicelib.signatures import public_url, verify_request
from chalicelib.webhook_input import BadWebhook, parse_body, request_id, validate
from domain.calls.state import fold
from domain.instructions import from_json
from domain.ports import ConcurrencyError
from domain.routing.engine import Callback, decide

MAX_ATTEMPTS = 8
XML = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int
    body: str
    headers: Mapping[str, str]


def call_stream(call_sid: str) -> str:
    return f"call-{call_sid}"


def _error(status: int, message: str) -> WebhookResponse:
    return WebhookResponse(status, message + "\n", {"Content-Type": "text/plain; charset=utf-8"})


def handle_webhook(services: Services, *, tenant_id: str, endpoint: str, query: Mapping[str, str],
                   headers: Mapping[str, str], body: bytes, content_type: str) -> WebhookResponse:
    """endpoint is ``voice`` or ``status``; query holds the action URL's parameters."""
    tenant = services.tenants.get(tenant_id)
    if tenant is None:
        return _error(404, f"unknown tenant {tenant_id!r}")
    path = f"/webhooks/{tenant_id}/{endpoint}"
    try:
        data = parse_body(body, content_type)
    except BadWebhook as exc:
        return _error(400, str(exc))
    token = str((tenant.section("gateway")).get("auth_token", ""))
    url = public_url(services.settings.public_url, path, query)
    if not verify_request(token=token, url=url, headers=headers, body=body, params=data.pairs, is_json=data.is_json):
        return _error(403, "webhook signature missing or invalid")
    kind = "status" if endpoint == "status" else ("action" if "node" in query else "incoming")
    try:
        validate(kind, data.params, query)
    except BadWebhook as exc:
        return _error(400, str(exc))
    req = request_id(kind, path, query, data.pairs)
    cb = Callback(kind=kind, request_id=req, params=data.params, node=query.get("node", ""),
                  step=int(query.get("step", -1)))
    stream = call_stream(data.params["CallSid"])
    base = services.settings.public_url + f"/webhooks/{tenant_id}"
    for _ in range(MAX_ATTEMPTS):
        stored, version = services.store.load(stream)
        state = fold(decode_all(stored))
        if any(e.correlation_id == req for e in stored):  # a redelivery: answer as before
            return WebhookResponse(200, render_laml([from_json(i) for i in state.responses.get(req, ())], base), XML)
        now = services.clock()
        decision = decide(state, cb, tenant, now)
        if decision.events:
            envelopes = wrap(decision.events, tenant_id=tenant_id, stream_id=stream, expected_version=version,
                             now=now, new_id=services.new_id, correlation_id=req,
                             occurred_at=_occurred(data.params))
            try:
                services.store.append(stream, envelopes, version)
            except ConcurrencyError:
                tenant = services.tenants.get(tenant_id) or tenant
                continue
        return WebhookResponse(200, render_laml(decision.instructions, base), XML)
    return WebhookResponse(503, "busy, try again\n", {"Retry-After": "1", "Content-Type": "text/plain"})


def _occurred(params: Mapping[str, str]):  # type: ignore[no-untyped-def]
    stamp = params.get("Timestamp")
    if not stamp:
        return None
    try:
        return parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        return None
