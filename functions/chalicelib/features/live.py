"""Features on live calls: transfer (blind, attended), hold/resume, pickup (API and feature codes).

Each is "divert the call to a detached node" (pure: ``engine.divert``), appended to the call's
stream under its expected version, then the gateway is told to run the new LaML on that leg
(``gateway_api.update_call(twiml=...)``). Hold and resume of a call-center call talking with its agent
in a conference room are the exception: the event is appended the same way, then the caller's
participant is held or released in the room (``gateway_api.hold_participant``), keeping the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib.bootstrap import Services
from chalicelib.features.history import call_history
from domain.calls.state import CallState
from domain.routing.engine import Callback
from domain.tenant import TenantSnapshot


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


def _append_to_live_call(services: Services, tenant_id: str, call_sid: str, *, request_id: str,
                         build: Any) -> Any:
    """Append what ``build(stored, state) -> (events, result)`` decides to a live call of ``tenant_id`` at the
    version it read (read again on a race); returns ``result``. A call of another tenant is a 404; an ended
    call, or a request already applied, a 409."""
    from chalicelib.envelopes import decode_all, wrap
    from domain.calls.state import fold
    from domain.ports import ConcurrencyError

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
        events, result = build(stored, state)
        envelopes = wrap(events, tenant_id=tenant_id, stream_id=stream, expected_version=version,
                         now=services.clock(), new_id=services.new_id, correlation_id=request_id)
        try:
            services.store.append(stream, envelopes, version)
        except ConcurrencyError:
            continue
        return result
    raise FeatureError(503, "the call is changing too fast; try again")


def divert_call(services: Services, tenant_id: str, call_sid: str, make: Any, *, request_id: str,
                reason: Mapping[str, Any]) -> Diverted:
    """Divert a live call of ``tenant_id``: ``make(tenant, state) -> (node doc, extra events)``."""
    from chalicelib.laml import render_laml
    from domain.routing.engine import divert

    def build(stored: Any, state: CallState) -> tuple[tuple[Any, ...], Any]:
        tenant = services.tenants.get(tenant_id)
        assert tenant is not None
        doc, extra = make(tenant, state)
        decision = divert(state, tenant, services.clock(), doc, request_id=request_id, reason=reason)
        events = (*extra, *decision.events)
        return events, (events, decision)

    events, decision = _append_to_live_call(services, tenant_id, call_sid, request_id=request_id, build=build)
    laml = render_laml(decision.instructions, _base(services, tenant_id))
    services.gateway.update_call(call_sid, twiml=laml)
    return Diverted(call_sid, laml, tuple(e.event_type for e in events))


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


def _agent_room(services: Services, tenant: TenantSnapshot, call_sid: str) -> tuple[str, str]:
    """(agent, conference room) when a call-center agent is talking with this call in a room, else ("", "")."""
    from chalicelib.callcenter.streams import load_agent

    for ext in tenant.section("extensions"):
        state, _ = load_agent(services, tenant.tenant_id, ext)
        if state.call_sid == call_sid and state.room:
            return ext, state.room
    return "", ""


def _record_in_room(services: Services, tenant_id: str, call_sid: str, event: Any, *, request_id: str,
                    held: bool) -> None:
    """Append a hold or resume of a call kept in its conference room; ``held``: what it must be now."""

    def build(stored: Any, state: CallState) -> tuple[tuple[Any, ...], None]:
        marks = [e.event_type for e in stored if e.event_type in ("CallHeld", "CallResumed")]
        if (bool(marks) and marks[-1] == "CallHeld") != held:
            raise FeatureError(409, f"call {call_sid} is {'not ' if held else 'already '}on hold", "/sid")
        return (event,), None

    _append_to_live_call(services, tenant_id, call_sid, request_id=request_id, build=build)


def hold(services: Services, tenant_id: str, call_sid: str, *, by: str = "", request_id: str) -> Diverted:
    """Hold: the caller hears the tenant's hold music (or the hold prompt) until resumed or transferred.

    A call-center call talking with its agent in a conference room stays in the room: the caller is put
    on hold there (the gateway's Participants resource), so the agent's leg stays up and resume takes
    the caller back. Any other call is diverted to the hold music, which ends its dial (the person it
    talked with is released) and resume rings an extension again."""
    from domain.actions.call_features import CallHeld, hold_doc, hold_music

    tenant = services.tenants.get(tenant_id)
    agent, room = _agent_room(services, tenant, call_sid) if tenant is not None else ("", "")
    if room and tenant is not None:
        music = hold_music(tenant)
        _record_in_room(services, tenant_id, call_sid, CallHeld(by=by or agent, music=music), request_id=request_id,
                        held=False)
        services.gateway.hold_participant(room, call_sid, hold=True, hold_url=music)
        return Diverted(call_sid, "", ("CallHeld",))

    def make(tenant: TenantSnapshot, state: CallState) -> tuple[dict[str, Any], tuple[Any, ...]]:
        doc = hold_doc(tenant, state.step + 1)
        return doc, (CallHeld(by=by, music=str(doc["data"]["music"])),)

    return divert_call(services, tenant_id, call_sid, make, request_id=request_id, reason={"feature": "hold", "by": by})


def resume(services: Services, tenant_id: str, call_sid: str, to: str, *, request_id: str) -> Diverted:
    """Take a held call back: ring extension ``to`` again (its busy/no-answer rules apply); a call held in its
    call-center room is taken off hold there, back with its agent (``to`` may only name that agent)."""
    from domain.actions.call_features import CallResumed

    tenant = services.tenants.get(tenant_id)
    agent, room = _agent_room(services, tenant, call_sid) if tenant is not None else ("", "")
    if room:
        if to and to != agent:
            raise FeatureError(409, f"to: the caller is on hold with agent {agent}, who takes it back; "
                                    "transfer the call to send it elsewhere", "/to")
        _record_in_room(services, tenant_id, call_sid, CallResumed(to=agent, by=agent), request_id=request_id,
                        held=True)
        services.gateway.hold_participant(room, call_sid, hold=False)
        return Diverted(call_sid, "", ("CallResumed",))

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
