"""Call features on a live call: transfer, hold, pickup. Pure: events, the detached nodes a call is
diverted to (``engine.divert``), and the answer for a leg that dialled a feature code.

Feature codes dialled from an extension's device: ``*8`` picks up a call ringing in one of the
caller's groups, ``**<ext>`` a call ringing at that extension.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.actions.base import Context, Finish, Outcome, SimpleAction, register
from domain.actions.dial import extension_config
from domain.calls.events import CallStarted, StepDecided
from domain.events import DomainEvent, event
from domain.instructions import Conference, Dial, Hangup, Instruction, Play, Say, to_json
from domain.prompts import say
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot

GROUP_PICKUP = "*8"
DIRECTED_PICKUP = re.compile(r"^\*\*(\d{2,6})$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@event
@dataclass(frozen=True, slots=True)
class CallTransferred(DomainEvent):
    event_type = "CallTransferred"
    to: str
    kind: str = "blind"  # blind | attended
    by: str = ""
    state: str = "done"  # attended: consulting | done | declined


@event
@dataclass(frozen=True, slots=True)
class CallHeld(DomainEvent):
    event_type = "CallHeld"
    by: str = ""
    music: str = ""


@event
@dataclass(frozen=True, slots=True)
class CallResumed(DomainEvent):
    event_type = "CallResumed"
    to: str
    by: str = ""


@event
@dataclass(frozen=True, slots=True)
class CallPickedUp(DomainEvent):
    event_type = "CallPickedUp"
    by: str  # the extension that picked it up
    mode: str  # group | directed | api
    picker_call_sid: str = ""


def feature_code(dialled: str) -> tuple[str, str] | None:
    """``("group", "")`` for ``*8``, ``("directed", ext)`` for ``**ext``, else None."""
    user = dialled.removeprefix("sip:").split("@")[0]
    if user == GROUP_PICKUP:
        return ("group", "")
    match = DIRECTED_PICKUP.match(user)
    return ("directed", match.group(1)) if match else None


def extension_of_device(tenant: TenantSnapshot, address: str) -> str:
    """The extension a SIP URI / client identity belongs to, or ``""``."""
    bare = address.split(";")[0]
    for ext, cfg in tenant.section("extensions").items():
        for device in cfg.get("devices", ()):
            if bare in (device.get("uri"), f"client:{device.get('identity')}"):
                return str(ext)
    return ""


def groups_of(tenant: TenantSnapshot, extension: str) -> set[str]:
    """Every member of every group the extension belongs to (its pickup group)."""
    out: set[str] = set()
    for group in tenant.section("groups").values():
        members = [str(m) for m in group.get("members", ())]
        if extension in members:
            out.update(members)
    return out


def still_ringing(entry: Mapping[str, Any], now: datetime) -> bool:
    """A dial rings at most its timeout: older than that it was answered (or is ending)."""
    try:
        since = datetime.fromisoformat(str(entry.get("since")))
    except ValueError:
        return False
    return (now - since).total_seconds() <= int(entry.get("timeout") or 30)


def pickup_candidates(tenant: TenantSnapshot, picker: str, mode: str, target: str,
                      ringing: Mapping[str, Mapping[str, Any]], now: datetime) -> list[str]:
    """Ringing call sids the picker may take, oldest first."""
    wanted = {target} if mode == "directed" else groups_of(tenant, picker) - {picker}
    calls = [(str(r.get("since", "")), str(r["call_sid"])) for r in ringing.values()
             if wanted & {str(t) for t in r.get("targets", ())} and still_ringing(r, now)]
    return [sid for _, sid in sorted(calls)]


def transfer_doc(tenant: TenantSnapshot, to: str, n: int) -> dict[str, Any]:
    """The detached node that rings a transfer target (an extension, then its voicemail; or a number)."""
    if E164.match(to):
        return {"id": f"@transfer-{n}", "action": "forward", "data": {"number": to}}
    cfg = extension_config(tenant, to)
    if not cfg:
        raise ValueError(f"to: {to!r} is neither an extension of this tenant nor an E.164 number")
    doc: dict[str, Any] = {"id": f"@transfer-{n}", "action": "ring_extension", "data": {"extension": to}}
    if cfg.get("voicemail"):
        doc["children"] = {"_": {"id": f"@transfer-{n}-vm", "action": "voicemail", "data": {"box": str(cfg["voicemail"])}}}
    return doc


def hold_music(tenant: TenantSnapshot) -> str:
    """``hold_music_url``, else the playback URL of the uploaded ``hold_music`` audio, else ``""``."""
    if tenant.config.get("hold_music_url"):
        return str(tenant.config["hold_music_url"])
    audio = tenant.section("audio").get(str(tenant.config.get("hold_music") or ""))
    return str(audio.get("url") or "") if isinstance(audio, Mapping) else ""


def hold_doc(tenant: TenantSnapshot, n: int) -> dict[str, Any]:
    return {"id": f"@hold-{n}", "action": "hold", "data": {"music": hold_music(tenant)}}


def bridge_doc(room: str, n: int, label: str = "bridge") -> dict[str, Any]:
    return {"id": f"@{label}-{n}", "action": "bridge", "data": {"room": room}}


def room_dial(room: str) -> Dial:
    return Dial(targets=(Conference(name=room, beep=False, end_conference_on_exit=True),))


def _hold(node: Node, ctx: Context) -> Outcome:
    music = str(node.data.get("music") or "")
    # loop=0: until the call is redirected again (resume, transfer, pickup).
    held: Instruction = Play(url=music, loop=0) if music else Say(text=say("hold", ctx.language).text,
                                                                   language=say("hold", ctx.language).language, loop=0)
    return Finish((held,), inputs={"music": music or "prompt"})


def _bridge(node: Node, ctx: Context) -> Outcome:
    return Finish((room_dial(str(node.data["room"])),), inputs={"room": str(node.data["room"])})


def pickup_leg(params: Mapping[str, str], tenant: TenantSnapshot, now: datetime, *, request_id: str,
               picker: str, mode: str, target_call: str, room: str) -> tuple[tuple[DomainEvent, ...], tuple[Instruction, ...]]:
    """Events and instructions for the leg that dialled a pickup code (``room`` empty: nothing to pick up)."""
    started = CallStarted(call_sid=params.get("CallSid", ""), from_number=params.get("From", ""),
                          to_number=params.get("To", ""), direction=params.get("Direction", "inbound"),
                          account_sid=params.get("AccountSid", ""), status=params.get("CallStatus", "ringing"),
                          params=dict(params))
    out: tuple[Instruction, ...] = (room_dial(room),) if room else (say("pickup_nothing", tenant.language), Hangup())
    step = StepDecided(step=1, node="@feature", action="pickup", branch="picked_up" if room else "nothing",
                       inputs={"picker": picker, "mode": mode, "call": target_call},
                       instructions=[to_json(i) for i in out], request_id=request_id, at=now.isoformat())
    return (started, step), out


register(SimpleAction("hold", {"type": "object", "properties": {"music": {"type": "string"}},
                               "additionalProperties": False}, _hold))
register(SimpleAction("bridge", {"type": "object", "required": ["room"], "properties": {"room": {"type": "string"}},
                                 "additionalProperties": False}, _bridge))
