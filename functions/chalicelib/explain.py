"""Explain a call from its events: for each routing step the plan version, the node, the inputs
(digits, time, dial results, facts), the branch taken and the instructions emitted.

``explain_call`` is a pure function of the stored events; the blueprint serves it at
``GET /api/v1/calls/{sid}/explain`` for the caller's own tenant (another tenant's call is a 404,
so its existence does not leak), and ``vpbx explain CALL_SID`` prints ``render_text``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response

from chalicelib import auth
from chalicelib.bootstrap import Services, get_services
from domain.events import StoredEvent
from domain.routing.whatif import outcome_of

bp = Blueprint(__name__)
EXPLAIN_PATH = "/api/v1/calls/{sid}/explain"
PERMISSION = "calls.read"
# Call events worth showing between the steps (what happened on the line).
HAPPENINGS = {"DigitsGathered", "DialEnded", "VoicemailLeft", "CallStatusChanged", "FaxReceiveRequested",
              "CallTransferred", "CallHeld", "CallResumed", "CallPickedUp", "MediaEventRecorded",
              "FaxSessionAllocated", "VoicemailMailed", "EffectFailed"}
# Where a recording can be fetched from: shown only to whoever may hear recordings.
RECORDING_FIELDS = {"recording_url", "recording_sid", "blob_key", "url"}


def redact_recordings(doc: dict[str, Any]) -> dict[str, Any]:
    """The explanation without recording locations (the routing story stays whole)."""
    events = []
    for e in doc.get("events", ()):
        hidden = {k: "(hidden)" for k in e if k in RECORDING_FIELDS}
        data = e.get("data")
        if isinstance(data, dict) and RECORDING_FIELDS & data.keys():
            hidden["data"] = {k: "(hidden)" if k in RECORDING_FIELDS else v for k, v in data.items()}
        events.append({**e, **hidden})
    return {**doc, "events": events}


def summarize(instructions: Sequence[Mapping[str, Any]]) -> str:
    """``Dial(sip:101@..., 102) Record`` — one short phrase for what the caller was given."""
    parts = []
    for i in instructions:
        verb = str(i.get("verb"))
        if verb == "Dial":
            inner = [str(t.get("uri") or t.get("identity") or t.get("number") or t.get("name") or t.get("verb"))
                     for t in i.get("targets", ())]
            parts.append(f"Dial({', '.join(inner)})")
        elif verb in ("Say", "Gather"):
            texts = [i.get("text")] if verb == "Say" else [p.get("text") or p.get("url") for p in i.get("prompts", ())]
            text = " ".join(str(t) for t in texts if t)
            parts.append(f'{verb}("{text[:40]}{"…" if len(text) > 40 else ""}")')
        elif verb == "Reject":
            parts.append(f"Reject({i.get('reason', 'rejected')})")
        elif verb != "Redirect":
            parts.append(verb)
    return " ".join(parts)


def explain_call(stored: Iterable[StoredEvent]) -> dict[str, Any]:
    """The explanation document of one call's events (pure)."""
    events = list(stored)
    started = next((e for e in events if e.event_type == "CallStarted"), None)
    steps: list[dict[str, Any]] = []
    happened: list[dict[str, Any]] = []
    status = "unknown"
    for e in events:
        d = dict(e.data)
        if e.event_type == "StepDecided":
            steps.append({"step": d.get("step"), "at": d.get("at") or e.recorded_at, "plan_version": d.get("plan_version"),
                          "node": d.get("node"), "action": d.get("action"), "inputs": d.get("inputs") or {},
                          "branch": d.get("branch", ""), "awaiting": bool(d.get("awaiting")),
                          "instructions": d.get("instructions") or [], "emitted": summarize(d.get("instructions") or [])})
        elif e.event_type in HAPPENINGS:
            detail = {k: v for k, v in d.items() if k not in ("params",) and v not in ("", [], {}, None)}
            happened.append({"at": e.occurred_at, "event": e.event_type, **detail})
            if e.event_type == "CallStatusChanged":
                status = str(d.get("status"))
    doc: dict[str, Any] = {"call_sid": "", "tenant": events[0].tenant_id if events else "", "steps": steps,
                           "events": happened, "outcome": outcome_of(steps), "status": status}
    if started is not None:
        s = started.data
        doc.update(call_sid=s.get("call_sid", ""), started_at=started.occurred_at, from_number=s.get("from_number"),
                   to_number=s.get("to_number"), direction=s.get("direction"),
                   plan={"id": s.get("plan_id"), "version": s.get("plan_version")})
    return doc


def _local(stamp: str, tz: ZoneInfo) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone(tz).strftime("%H:%M:%S")
    except (TypeError, ValueError):
        return stamp[11:19]


def _inputs_text(inputs: Mapping[str, Any]) -> str:
    skip = {"instructions"}
    return " ".join(f"{k}={json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
                    for k, v in inputs.items() if k not in skip) or "-"


def render_text(doc: Mapping[str, Any], timezone: str = "UTC") -> str:
    """The explanation as lines a person reads in a terminal (times in the tenant's zone)."""
    tz = ZoneInfo(timezone)
    plan = doc.get("plan") or {}
    lines = [f"call {doc.get('call_sid')} from {doc.get('from_number')} to {doc.get('to_number')}, "
             f"started {_local(str(doc.get('started_at', '')), tz)} {timezone}, plan {plan.get('id')} "
             f"v{plan.get('version')}",
             f"outcome: {doc.get('outcome')} (status {doc.get('status')})", ""]
    for s in doc.get("steps", ()):
        then = "waits for the gateway" if s["awaiting"] else f"branch {s['branch'] or '-'}"
        lines.append(f"{s['step']:>3}  {_local(str(s['at']), tz)}  v{s['plan_version']}  {s['node']} ({s['action']})")
        lines.append(f"       inputs: {_inputs_text(s['inputs'])}")
        lines.append(f"       -> {then}{'; emits ' + s['emitted'] if s['emitted'] else ''}")
    if doc.get("events"):
        lines.append("")
        lines.append("on the line:")
        for h in doc["events"]:
            rest = {k: v for k, v in h.items() if k not in ("at", "event")}
            lines.append(f"     {_local(str(h['at']), tz)}  {h['event']} {_inputs_text(rest)}")
    return "\n".join(lines)


def load_explanation(services: Services, call_sid: str, tenant_id: str | None = None) -> dict[str, Any] | None:
    """The explanation of a call, or None if there is none (for ``tenant_id``, when given)."""
    stored, _ = services.store.load(f"call-{call_sid}")
    if not stored or (tenant_id is not None and stored[0].tenant_id != tenant_id):
        return None
    return explain_call(stored)


def _json(body: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, sort_keys=True), status_code=status,
                    headers={"Content-Type": "application/json"})


def authorized_principal(request: Any, permission: str) -> auth.Principal:
    """The caller, allowed ``permission`` on their own tenant (the call must then be theirs)."""
    principal = auth.authenticate(request)
    auth.require(principal, principal.tenant_id, permission)
    return principal


def _register_route_doc() -> None:
    # Join the API's route table so the permission matrix and OpenAPI see this route.
    try:
        from chalicelib.api.http import ROUTES, RouteDoc
    except ImportError:  # the configuration API is not there yet
        return

    if not any(r.path == EXPLAIN_PATH for r in ROUTES):
        ROUTES.append(RouteDoc("GET", EXPLAIN_PATH, "Why did this call go where it went: its routing steps",
                               PERMISSION, "calls"))


_register_route_doc()


@bp.route(EXPLAIN_PATH, methods=["GET"])
def explain(sid: str) -> Response:
    try:
        principal = authorized_principal(bp.current_request, PERMISSION)
    except auth.AuthError as e:
        return _json({"errors": [{"pointer": "", "message": e.message}]}, e.status)
    services = get_services()
    doc = load_explanation(services, sid, principal.tenant_id)
    if doc is None:
        return _json({"errors": [{"pointer": "/sid", "message": f"no call {sid!r} in this tenant"}]}, 404)
    tenant = services.tenants.get(principal.tenant_id)
    doc["timezone"] = tenant.timezone if tenant else "UTC"
    if not principal.can("recordings.read"):
        doc = redact_recordings(doc)
    return _json(doc)
