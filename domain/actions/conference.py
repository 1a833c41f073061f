"""Conference room: ask for the PIN when the room has one, then join ``<Dial><Conference>``.

Room config ``conferences.<room>: {pin, moderator_pin, wait_for_moderator, max_tries}``. The
moderator PIN joins with ``startConferenceOnEnter`` and ``endConferenceOnExit``; a participant
waits for the moderator when ``wait_for_moderator`` is set. A wrong PIN is asked again up to
``max_tries`` (3) times, then the ``denied`` branch (or goodbye and hang up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, Wait, register
from domain.instructions import Conference, Dial, Gather, Hangup, Instruction, Redirect
from domain.prompts import say
from domain.routing.plan import Node


def _room(node: Node, ctx: Context) -> Mapping[str, Any]:
    room = ctx.tenant.section("conferences").get(str(node.data["room"]))
    return room if isinstance(room, Mapping) else {}


def _join(node: Node, ctx: Context, role: str) -> Outcome:
    room = _room(node, ctx)
    moderator = role == "moderator"
    conf = Conference(name=f"{ctx.tenant.tenant_id}-{node.data['room']}",
                      start_conference_on_enter=moderator or not room.get("wait_for_moderator"),
                      end_conference_on_exit=moderator, wait_url=str(room.get("wait_url", "")),
                      record=str(room.get("record", "")))
    return Finish((Dial(targets=(conf,)),), inputs={"room": str(node.data["room"]), "role": role},
                  branch=role)


def _ask(ctx: Context, wrong: bool) -> tuple[Instruction, ...]:
    prompts = (say("conference_wrong_pin", ctx.language),) if wrong else ()
    gather = Gather(action=ctx.action_url, prompts=(*prompts, say("conference_pin", ctx.language)), timeout=10)
    return (gather, Redirect(url=ctx.action_url))


def _enter(node: Node, ctx: Context) -> Outcome:
    room = _room(node, ctx)
    if str(node.data["room"]) not in ctx.tenant.section("conferences"):
        return Continue("unavailable", inputs={"room": str(node.data["room"]), "reason": "no such room"})
    if not room.get("pin") and not room.get("moderator_pin"):
        return _join(node, ctx, "participant")
    return Wait(_ask(ctx, wrong=False), inputs={"room": str(node.data["room"])}, scratch={"tries": 0})


def _resume(node: Node, ctx: Context) -> Outcome:
    room = _room(node, ctx)
    digits = ctx.params.get("Digits", "")
    if digits and digits == str(room.get("moderator_pin") or ""):
        return _join(node, ctx, "moderator")
    if digits and digits == str(room.get("pin") or ""):
        return _join(node, ctx, "participant")
    tries = int(ctx.scratch.get("tries", 0)) + 1
    inputs = {"room": str(node.data["room"]), "pin_ok": False, "try": tries}  # never record the digits of a PIN
    if tries < int(room.get("max_tries", 3)):
        return Wait(_ask(ctx, wrong=True), inputs=inputs, scratch={"tries": tries})
    if "denied" in node.children:
        return Continue("denied", inputs=inputs, scratch={"tries": 0})
    return Finish((say("conference_wrong_pin", ctx.language), say("goodbye", ctx.language), Hangup()),
                  inputs=inputs, branch="denied")


register(SimpleAction("conference", {
    "type": "object", "required": ["room"],
    "properties": {"room": {"type": "string", "minLength": 1}},
    "additionalProperties": False}, _enter, _resume))
