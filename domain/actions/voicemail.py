"""Voicemail: the box's greeting, beep, record; kept as a VoicemailLeft event. Leaving a message
needs no PIN (the PIN guards listening). ``box`` names the box, or ``extension`` uses that
user's box (``extensions.<ext>.voicemail``)."""

from __future__ import annotations

from domain.actions.base import Context, Finish, Outcome, SimpleAction, Wait, register
from domain.actions.dial import extension_config
from domain.calls.events import VoicemailLeft
from domain.instructions import Hangup, Instruction, Play, Record, Say
from domain.prompts import say
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot


def box_of(tenant: TenantSnapshot, extension: str) -> str:
    """An extension's voicemail box: its ``voicemail``, else the box named like the extension."""
    return str(extension_config(tenant, extension).get("voicemail") or extension)


def _box(node: Node, ctx: Context) -> str:
    if node.data.get("box"):
        return str(node.data["box"])
    return box_of(ctx.tenant, str(node.data.get("extension", "")))


def _enter(node: Node, ctx: Context) -> Outcome:
    box = _box(node, ctx)
    cfg = ctx.tenant.section("voicemail_boxes").get(box) or {}
    greeting: Instruction
    if cfg.get("greeting_url"):
        greeting = Play(url=str(cfg["greeting_url"]))
    elif cfg.get("greeting"):
        greeting = Say(text=str(cfg["greeting"]), language=ctx.language)
    else:
        greeting = say("voicemail", ctx.language)
    record = Record(action=ctx.action_url, max_length=int(node.data.get("max_length", 120)),
                    finish_on_key="#", play_beep=True)
    return Wait((greeting, record), inputs={"box": box})


def _resume(node: Node, ctx: Context) -> Outcome:
    box = _box(node, ctx)
    url = ctx.params.get("RecordingUrl", "")
    duration = int(ctx.params.get("RecordingDuration", "0") or 0)
    if not url or duration <= 0:
        return Finish((Hangup(),), inputs={"box": box, "recorded": False})
    left = VoicemailLeft(box=box, recording_url=url, recording_sid=ctx.params.get("RecordingSid", ""),
                         duration=duration, caller=ctx.call.from_number)
    return Finish((say("voicemail_thanks", ctx.language), Hangup()),
                  inputs={"box": box, "recorded": True, "duration": duration}, events=(left,))


register(SimpleAction("voicemail", {
    "type": "object", "oneOf": [{"required": ["box"]}, {"required": ["extension"]}],
    "properties": {"box": {"type": "string"}, "extension": {"type": "string"},
                   "max_length": {"type": "integer", "minimum": 5, "maximum": 3600}},
    "additionalProperties": False}, _enter, _resume))
