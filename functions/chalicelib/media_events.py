"""Events the media core reports (conference joins, recordings, faxes) appended to the call."""

from __future__ import annotations

import hmac
from typing import Any

from chalice import Blueprint, Response

from chalicelib.bootstrap import Services, get_services
from chalicelib.calls import call_stream
from chalicelib.envelopes import wrap
from domain.calls.events import MediaEventRecorded
from domain.ports import ConcurrencyError

bp = Blueprint(__name__)
KINDS = {"ConferenceParticipantJoined", "ConferenceParticipantLeft", "RecordingCompleted", "FaxReceived"}


def record_media_event(services: Services, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    for name in ("event_id", "tenant_id", "event_type"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            return 422, {"error": f"{name} is required (a non-empty string)"}
    if doc["event_type"] not in KINDS:
        return 422, {"error": f"event_type must be one of {sorted(KINDS)}"}
    if services.tenants.get(doc["tenant_id"]) is None:
        return 404, {"error": f"unknown tenant {doc['tenant_id']!r}"}
    stream = call_stream(doc["call_sid"]) if doc.get("call_sid") else f"conference-{doc.get('conference') or 'none'}"
    event = MediaEventRecorded(kind=doc["event_type"], data=dict(doc.get("data") or {}))
    for _ in range(8):
        stored, version = services.store.load(stream)
        if any(e.correlation_id == doc["event_id"] for e in stored):
            return 200, {"stream": stream, "duplicate": True}
        envelopes = wrap([event], tenant_id=doc["tenant_id"], stream_id=stream, expected_version=version,
                         now=services.clock(), new_id=services.new_id, correlation_id=doc["event_id"])
        try:
            services.store.append(stream, envelopes, version)
            return 201, {"stream": stream, "version": version + 1}
        except ConcurrencyError:
            continue
    return 503, {"error": "stream busy, retry"}


@bp.route("/media/events", methods=["POST"])
def media_events() -> Response:
    services = get_services()
    auth = bp.current_request.headers.get("authorization", "")
    if not hmac.compare_digest(auth.encode(), f"Bearer {services.settings.media_token}".encode()):
        return Response(body={"error": "bad media token"}, status_code=403)
    doc = bp.current_request.json_body
    if not isinstance(doc, dict):
        return Response(body={"error": "a JSON object is required"}, status_code=400)
    status, body = record_media_event(services, doc)
    return Response(body=body, status_code=status)
