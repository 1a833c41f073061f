"""Follow-me: ring a user's desk devices, then their mobile; per-user config
``extensions.<ext>.follow_me: {mobile, desk_timeout, mobile_timeout, caller_id}``
(``mobile`` defaults to the user's ``mobile`` device). Branches as every ringing action.
"""

from __future__ import annotations

from typing import Any

from domain.actions.base import Context, Outcome, SimpleAction, register
from domain.actions.dial import (
    ANSWERED,
    dial_ended,
    dial_result,
    extension_config,
    extension_targets,
    not_ringable,
    ring,
)
from domain.instructions import Number
from domain.routing.plan import Node


def _settings(ctx: Context, ext: str) -> dict[str, Any]:
    cfg = extension_config(ctx.tenant, ext)
    follow = dict(cfg.get("follow_me") or {})
    if not follow.get("mobile"):
        mobiles = [d.get("number") for d in cfg.get("devices", ()) if d.get("type") == "mobile"]
        follow["mobile"] = mobiles[0] if mobiles else ""
    return follow


def _mobile(node: Node, ctx: Context, ext: str, events: tuple[Any, ...] = ()) -> Outcome:
    follow = _settings(ctx, ext)
    number = str(follow["mobile"])
    caller_id = str(follow.get("caller_id") or "")
    if caller_id == "called":
        caller_id = ctx.call.to_number
    return ring(node, ctx, [Number(number=number)] if number else [], [number or "mobile"],
                int(follow.get("mobile_timeout", 20)), scratch={"stage": "mobile", "to": number},
                caller_id=caller_id, inputs={"extension": ext, "stage": "mobile"}, events=events)


def _enter(node: Node, ctx: Context) -> Outcome:
    ext = str(node.data["extension"])
    refused = not_ringable(ctx, ext)
    if refused is not None:
        return refused
    desk = extension_targets(ctx.tenant, ext)
    if not desk:
        return _mobile(node, ctx, ext)
    return ring(node, ctx, desk, [ext], int(_settings(ctx, ext).get("desk_timeout", 15)),
                scratch={"stage": "desk"}, inputs={"extension": ext, "stage": "desk"})


def _resume(node: Node, ctx: Context) -> Outcome:
    ext = str(node.data["extension"])
    if ctx.scratch.get("stage") == "mobile":
        return dial_result(node, ctx, [str(ctx.scratch.get("to", "mobile"))])
    if ctx.params.get("DialCallStatus", "failed") in (*ANSWERED, "canceled") or not _settings(ctx, ext)["mobile"]:
        return dial_result(node, ctx, [ext])
    return _mobile(node, ctx, ext, events=(dial_ended(node, ctx, [ext]),))


register(SimpleAction("follow_me", {
    "type": "object", "required": ["extension"],
    "properties": {"extension": {"type": "string"}},
    "additionalProperties": False}, _enter, _resume))
