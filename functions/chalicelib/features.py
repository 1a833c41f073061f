"""Shell side of call features: the facts routing needs from outside the call (call history,
CRM owner), gathered before ``decide`` so the domain stays pure.

Invariant: facts come only from the event log and the tenant's own CRM hook; gathering never
fails a call (a broken CRM or an unreadable log means no fact, so normal routing).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from chalice import Blueprint, Response

from chalicelib import crm
from chalicelib.bootstrap import Services, get_services
from domain.calls.state import TERMINAL, CallState
from domain.events import StoredEvent
from domain.routing.engine import Callback
from domain.routing.plan import Plan
from domain.tenant import TenantSnapshot

ANSWERED = ("completed", "answered")


@dataclass
class CallHistory:
    """A tenant-level projection of the call log: who answered whom, who last answered, what rings."""

    cursor: str = ""
    caller_by_stream: dict[str, str] = field(default_factory=dict)
    last_agent_by_caller: dict[str, str] = field(default_factory=dict)
    last_answered: dict[str, str] = field(default_factory=dict)
    ringing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, e: StoredEvent) -> None:
        self.cursor = e.position or self.cursor
        if not e.stream_id.startswith("call-"):
            return
        d = e.data
        if e.event_type == "CallStarted":
            self.caller_by_stream[e.stream_id] = str(d.get("from_number", ""))
        elif e.event_type == "StepDecided":
            dials = [i for i in d.get("instructions", ()) if i.get("verb") == "Dial"
                     and any(t.get("verb") in ("Sip", "Client", "Number") for t in i.get("targets", ()))]
            if d.get("awaiting") and dials:
                self.ringing[e.stream_id] = {"call_sid": e.stream_id[5:], "node": d.get("node"),
                                             "step": d.get("step"), "targets": list(d.get("inputs", {}).get("targets", ())),
                                             "since": e.recorded_at, "timeout": int(dials[0].get("timeout") or 30),
                                             "caller": self.caller_by_stream.get(e.stream_id, "")}
            else:
                self.ringing.pop(e.stream_id, None)
        elif e.event_type == "DialEnded":
            self.ringing.pop(e.stream_id, None)
            targets = list(d.get("targets", ()))
            if d.get("dial_status") in ANSWERED and len(targets) == 1 and str(targets[0]).isdigit():
                caller = self.caller_by_stream.get(e.stream_id, "")
                if caller:
                    self.last_agent_by_caller[caller] = str(targets[0])
                self.last_answered[str(targets[0])] = e.recorded_at
        elif e.event_type == "CallStatusChanged" and d.get("status") in TERMINAL:
            self.ringing.pop(e.stream_id, None)
        elif e.event_type in ("CallPickedUp", "CallTransferred"):
            self.ringing.pop(e.stream_id, None)


_histories: WeakKeyDictionary[object, dict[str, CallHistory]] = WeakKeyDictionary()
_lock = threading.Lock()


OVERLAP_SECONDS = 10.0


@dataclass
class _Tail:
    """Reads a tenant log incrementally but re-reads the last seconds: a store ordered by recorded
    time (DynamoDB) may show an event after a later one was read; each event is applied once."""

    safe: str = ""  # nothing new can appear at or before this position
    recent: list[tuple[str, str, tuple[str, int]]] = field(default_factory=list)  # (recorded, position, key)
    seen: set[tuple[str, int]] = field(default_factory=set)

    def new_events(self, services: Services, tenant_id: str) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        after = self.safe
        while True:
            batch = services.store.read_log(tenant_id, after=after, limit=1000)
            for e in batch:
                key = (e.stream_id, e.version)
                if key not in self.seen:
                    self.seen.add(key)
                    self.recent.append((e.recorded_at, e.position, key))
                    out.append(e)
            if len(batch) < 1000:
                break
            after = batch[-1].position
        self._advance()
        return out

    def _advance(self) -> None:
        if not self.recent:
            return
        self.recent.sort()
        newest = _seconds(self.recent[-1][0])
        keep = 0
        for recorded, position, key in self.recent:
            if newest - _seconds(recorded) <= OVERLAP_SECONDS:
                break
            self.safe = max(self.safe, position)
            self.seen.discard(key)
            keep += 1
        del self.recent[:keep]


def _seconds(stamp: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return 0.0


_tails: WeakKeyDictionary[object, dict[str, _Tail]] = WeakKeyDictionary()


def call_history(services: Services, tenant_id: str) -> CallHistory:
    """The tenant's history projection, caught up with the log (kept per process, read incrementally)."""
    with _lock:
        history = _histories.setdefault(services.store, {}).setdefault(tenant_id, CallHistory())
        tail = _tails.setdefault(services.store, {}).setdefault(tenant_id, _Tail())
        for e in sorted(tail.new_events(services, tenant_id), key=lambda e: (e.recorded_at, e.stream_id, e.version)):
            history.apply(e)
        return history


def _plan_of(state: CallState, cb: Callback, tenant: TenantSnapshot) -> Plan | None:
    if state.started:
        return tenant.plan_versions.get((state.plan_id, state.plan_version))
    return tenant.plan_for_number(cb.params.get("To", ""))


def facts_needed(plan: Plan, tenant: TenantSnapshot) -> set[str]:
    """Which history facts this plan can use at all (most plans need none: no log read then)."""
    needed: set[str] = set()
    groups = tenant.section("groups")
    for n in plan.nodes.values():
        if n.action == "sticky":
            needed.add("last_agent")
        elif n.action == "ring_group":
            strategy = n.data.get("strategy") or (groups.get(str(n.data.get("group"))) or {}).get("strategy")
            if strategy == "least_recent":
                needed.add("last_answered")
    if any(isinstance(e, Mapping) and e.get("call_waiting") is False for e in tenant.section("extensions").values()):
        needed.add("active_extensions")  # a user without a second line: who is on a call now
    return needed


def gather_facts(services: Services, tenant: TenantSnapshot, state: CallState, cb: Callback) -> Mapping[str, Any]:
    """The facts this call's plan may need; only what its actions use is gathered."""
    if cb.kind == "status" or state.ended:
        return {}
    plan = _plan_of(state, cb, tenant)
    if plan is None:
        return {}
    caller = state.from_number or cb.params.get("From", "")
    facts: dict[str, Any] = {}
    needed = facts_needed(plan, tenant)
    if needed:
        history = call_history(services, tenant.tenant_id)
        if "last_agent" in needed:
            facts["last_agent"] = history.last_agent_by_caller.get(caller)
        if "last_answered" in needed:
            facts["last_answered"] = dict(history.last_answered)
        if "active_extensions" in needed:
            own = f"call-{state.call_sid or cb.params.get('CallSid', '')}"
            facts["active_extensions"] = sorted({str(t) for stream, r in history.ringing.items() if stream != own
                                                 for t in r.get("targets", ())})
    crm_nodes = [n for n in plan.nodes.values() if n.action == "crm_lookup" and n.id not in state.scratch]
    if crm_nodes:
        facts["crm"] = {n.id: crm.lookup_owner(str(n.data.get("url", "")), caller,
                                               int(n.data.get("lookup_timeout_ms", 1500)) / 1000)
                        for n in crm_nodes}
    return facts


# ---------------------------------------------------------------------------------------------
# Features on live calls: transfer, hold/resume, pickup (API and feature codes). Each is
# "divert the call to a detached node" (pure, engine.divert), appended to the call's stream, then
# the gateway is told to run the new LaML on that leg (gateway_api.update_call(twiml=...)).
# ---------------------------------------------------------------------------------------------


class FeatureError(Exception):
    """A feature request that cannot be done: ``status`` is the HTTP status, ``field`` what is wrong."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Diverted:
    call_sid: str
    laml: str
    events: tuple[str, ...]


def _base(services: Services, tenant_id: str) -> str:
    return services.settings.public_url + f"/webhooks/{tenant_id}"


def divert_call(services: Services, tenant_id: str, call_sid: str, make: Any, *, request_id: str,
                reason: Mapping[str, Any]) -> Diverted:
    """Divert a live call of ``tenant_id``: ``make(tenant, state) -> (node doc, extra events)``."""
    from chalicelib.envelopes import decode_all, wrap
    from chalicelib.laml import render_laml
    from domain.calls.state import fold
    from domain.ports import ConcurrencyError
    from domain.routing.engine import divert

    stream = f"call-{call_sid}"
    for _ in range(8):
        stored, version = services.store.load(stream)
        if not stored or stored[0].tenant_id != tenant_id:
            raise FeatureError(404, f"no call {call_sid!r} in this tenant", "/sid")
        state = fold(decode_all(stored))
        if any(e.correlation_id == request_id for e in stored):
            raise FeatureError(409, "this request was already applied", "")
        if state.ended:
            raise FeatureError(409, f"call {call_sid} has ended ({state.status})", "/sid")
        tenant = services.tenants.get(tenant_id)
        assert tenant is not None
        doc, extra = make(tenant, state)
        now = services.clock()
        decision = divert(state, tenant, now, doc, request_id=request_id, reason=reason)
        events = (*extra, *decision.events)
        envelopes = wrap(events, tenant_id=tenant_id, stream_id=stream, expected_version=version, now=now,
                         new_id=services.new_id, correlation_id=request_id)
        try:
            services.store.append(stream, envelopes, version)
        except ConcurrencyError:
            continue
        laml = render_laml(decision.instructions, _base(services, tenant_id))
        services.gateway.update_call(call_sid, twiml=laml)
        return Diverted(call_sid, laml, tuple(e.event_type for e in events))
    raise FeatureError(503, "the call is changing too fast; try again")


def transfer(services: Services, tenant_id: str, call_sid: str, to: str, *, by: str = "",
             request_id: str) -> Diverted:
    """Blind transfer: the caller leaves whoever they talk to and rings ``to`` (extension or E.164)."""
    from domain.actions.call_features import CallTransferred, transfer_doc

    def make(tenant: TenantSnapshot, state: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        try:
            doc = transfer_doc(tenant, to, state.step + 1)
        except ValueError as exc:
            raise FeatureError(422, str(exc), "/to") from None
        return doc, (CallTransferred(to=to, kind="blind", by=by),)

    return divert_call(services, tenant_id, call_sid, make, request_id=request_id,
                       reason={"feature": "transfer", "to": to, "by": by})


def hold(services: Services, tenant_id: str, call_sid: str, *, by: str = "", request_id: str) -> Diverted:
    """Hold: the caller hears the tenant's hold music (or the hold prompt) until resumed or transferred."""
    from domain.actions.call_features import CallHeld, hold_doc

    def make(tenant: TenantSnapshot, state: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        doc = hold_doc(tenant, state.step + 1)
        return doc, (CallHeld(by=by, music=str(doc["data"]["music"])),)

    return divert_call(services, tenant_id, call_sid, make, request_id=request_id, reason={"feature": "hold", "by": by})


def resume(services: Services, tenant_id: str, call_sid: str, to: str, *, request_id: str) -> Diverted:
    """Take a held call back: ring extension ``to`` again (its busy/no-answer rules apply)."""
    from domain.actions.call_features import CallResumed

    def make(tenant: TenantSnapshot, state: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        if not tenant.section("extensions").get(to):
            raise FeatureError(422, f"to: no extension {to!r}", "/to")
        doc = {"id": f"@resume-{state.step + 1}", "action": "ring_extension", "data": {"extension": to}}
        return doc, (CallResumed(to=to),)

    return divert_call(services, tenant_id, call_sid, make, request_id=request_id, reason={"feature": "resume", "to": to})


def pickup_to_extension(services: Services, tenant_id: str, call_sid: str, extension: str, *,
                        request_id: str) -> Diverted:
    """Pickup by API: a ringing call stops ringing elsewhere and rings only ``extension``'s devices."""
    from domain.actions.call_features import CallPickedUp, still_ringing

    entry = call_history(services, tenant_id).ringing.get(f"call-{call_sid}")
    if entry is None or not still_ringing(entry, services.clock()):
        raise FeatureError(409, f"call {call_sid} is not ringing anyone", "/sid")

    def make(tenant: TenantSnapshot, state: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        if not tenant.section("extensions").get(extension):
            raise FeatureError(422, f"extension: no extension {extension!r}", "/extension")
        if not state.awaiting:
            raise FeatureError(409, f"call {call_sid} is not ringing anyone", "/sid")
        doc = {"id": f"@pickup-{state.step + 1}", "action": "ring_extension", "data": {"extension": extension}}
        return doc, (CallPickedUp(by=extension, mode="api"),)

    return divert_call(services, tenant_id, call_sid, make, request_id=request_id,
                       reason={"feature": "pickup", "by": extension, "mode": "api"})


def handle_feature_call(services: Services, tenant: TenantSnapshot, cb: Callback, base: str,
                        query: Mapping[str, str] | None = None) -> str | None:
    """A device dialled a feature code (``*8``, ``**<ext>``), or a consult leg we placed answered:
    the LaML for that leg, or None when this webhook is neither (normal routing)."""
    if (query or {}).get("feature") == "consult":
        return consult_leg(services, tenant, cb, base, dict(query or {}))
    from chalicelib.envelopes import decode_all, wrap
    from chalicelib.laml import render_laml
    from domain.actions.call_features import (
        CallPickedUp,
        bridge_doc,
        extension_of_device,
        feature_code,
        pickup_candidates,
        pickup_leg,
    )
    from domain.calls.state import fold
    from domain.instructions import from_json

    code = feature_code(cb.params.get("To", ""))
    picker = extension_of_device(tenant, cb.params.get("From", "")) if code else ""
    if code is None or not picker:
        return None
    stream = f"call-{cb.params['CallSid']}"
    stored, version = services.store.load(stream)
    if stored:  # a redelivery or a later fetch: answer from the events
        state = fold(decode_all(stored))
        return render_laml([from_json(i) for i in state.responses.get(cb.request_id, state.last_instructions)], base)
    mode, target = code
    room, picked = "", ""
    ringing = call_history(services, tenant.tenant_id).ringing
    for candidate in pickup_candidates(tenant, picker, mode, target, ringing, services.clock()):
        name = f"pickup-{candidate}"
        try:
            def make(t: TenantSnapshot, s: CallState, n: str = name) -> tuple[dict[str, Any], tuple[Any, ...]]:
                if not s.awaiting:  # another pickup (or the end of the dial) got there first
                    raise FeatureError(409, "no longer ringing")
                return bridge_doc(n, s.step + 1, "pickup"), (
                    CallPickedUp(by=picker, mode=mode, picker_call_sid=cb.params["CallSid"]),)

            divert_call(services, tenant.tenant_id, candidate, make, request_id=cb.request_id,
                        reason={"feature": "pickup", "by": picker, "mode": mode})
        except FeatureError:
            continue  # answered or ended meanwhile: try the next one
        room, picked = name, candidate
        break
    events, out = pickup_leg(cb.params, tenant, services.clock(), request_id=cb.request_id, picker=picker,
                             mode=mode, target_call=picked, room=room)
    now = services.clock()
    services.store.append(stream, wrap(events, tenant_id=tenant.tenant_id, stream_id=stream, expected_version=version,
                                       now=now, new_id=services.new_id, correlation_id=cb.request_id), version)
    return render_laml(out, base)


def device_address(tenant: TenantSnapshot, extension: str) -> str:
    """Where to place a call to an extension: its first desk device (SIP URI, client), else its mobile."""
    devices = list(tenant.section("extensions").get(extension, {}).get("devices", ()))
    for device in sorted(devices, key=lambda d: d.get("type") in ("mobile", "number")):
        if device.get("type") == "sip":
            return str(device["uri"])
        if device.get("type") == "client":
            return f"client:{device['identity']}"
        if device.get("number"):
            return str(device["number"])
    return ""


def _consult_url(base: str, params: Mapping[str, str]) -> str:
    # Keys sorted: the shell rebuilds the signed URL from the parsed query parameters.
    return f"{base}/voice?{urlencode(sorted(params.items()))}"


def attended_transfer(services: Services, tenant_id: str, call_sid: str, to: str, *, by: str = "",
                      request_id: str) -> Diverted:
    """Attended (announced) transfer: the caller holds with music while ``to`` is called and asked
    to accept; on 1 both are bridged, otherwise the caller goes back to ``by`` (or ``to``'s voicemail)."""
    from domain.actions.call_features import CallHeld, CallTransferred, hold_doc

    tenant = services.tenants.get(tenant_id)
    address = device_address(tenant, to) if tenant else ""
    if not address:
        raise FeatureError(422, f"to: no extension {to!r} with a device to call", "/to")

    def make(tenant: TenantSnapshot, state: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        doc = hold_doc(tenant, state.step + 1)
        return doc, (CallTransferred(to=to, kind="attended", by=by, state="consulting"),
                     CallHeld(by=by, music=str(doc["data"]["music"])))

    done = divert_call(services, tenant_id, call_sid, make, request_id=request_id,
                       reason={"feature": "transfer", "mode": "attended", "to": to, "by": by})
    stored, _ = services.store.load(f"call-{call_sid}")
    our_number = str(stored[0].data.get("to_number", "")) if stored else ""
    services.gateway.create_call(to=address, from_=our_number or "anonymous", timeout=30,
                                 url=_consult_url(_base(services, tenant_id),
                                                  {"feature": "consult", "call": call_sid, "to": to, "by": by}))
    return done


def consult_leg(services: Services, tenant: TenantSnapshot, cb: Callback, base: str, query: dict[str, str]) -> str:
    """The transfer target's leg: offer the call, then bridge (1) or send the caller back (anything else)."""
    from chalicelib.laml import render_laml
    from domain.actions.call_features import CallTransferred, bridge_doc, room_dial, transfer_doc
    from domain.instructions import Gather, Hangup, Redirect, Say
    from domain.prompts import say

    call, to, by = query.get("call", ""), query.get("to", ""), query.get("by", "")
    stored, _ = services.store.load(f"call-{call}")
    if not stored or stored[0].tenant_id != tenant.tenant_id:
        return render_laml([say("transfer_gone", tenant.language), Hangup()], base)
    if "answer" not in query:
        offer = say("transfer_offer", tenant.language)
        text = offer.text.format(caller=stored[0].data.get("from_number") or "?")
        url = _consult_url(base, {**query, "answer": "1"})
        return render_laml([Gather(action=url, num_digits=1, timeout=8, prompts=(Say(text, offer.language),)),
                            Redirect(url)], base)
    accepted = cb.params.get("Digits") == "1"
    room = f"transfer-{call}"

    def make(t: TenantSnapshot, s: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        if accepted:
            return bridge_doc(room, s.step + 1, "transfer"), (CallTransferred(to=to, kind="attended", by=by),)
        back = ({"id": f"@back-{s.step + 1}", "action": "ring_extension", "data": {"extension": by}}
                if by and t.section("extensions").get(by) else transfer_doc(t, to, s.step + 1))
        if not by:
            back = dict(back.get("children", {}).get("_") or back)  # straight to the target's voicemail
        return back, (CallTransferred(to=to, kind="attended", by=by, state="declined"),)

    try:
        divert_call(services, tenant.tenant_id, call, make, request_id=cb.request_id,
                    reason={"feature": "transfer", "mode": "attended", "to": to, "accepted": accepted})
    except FeatureError as e:
        if e.status != 409 or "already applied" not in e.message:
            return render_laml([say("transfer_gone", tenant.language), Hangup()], base)
    return render_laml([room_dial(room)] if accepted else [say("goodbye", tenant.language), Hangup()], base)


# ---------------------------------------------------------------------------------------------
# API: POST /api/v1/calls/{sid}/{transfer,hold,resume,pickup} for the caller's own tenant.
# ---------------------------------------------------------------------------------------------

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
