"""Offer the call to one known person first, then route it normally (the ``_`` branch).

``sticky``: the extension that last answered this caller, from the call history the shell
gathers (fact ``last_agent``). ``crm_lookup``: the owner a CRM names for this caller; the shell
asks the CRM (short timeout) and passes ``crm: {node id: {owner} | {error}}``; any failure
means normal routing. A person on do-not-disturb or without devices is not offered the call.
Branches: ``answered`` (when present; else the call ends), ``_`` for everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, register
from domain.actions.dial import (
    ANSWERED,
    TIMEOUT,
    dial_ended,
    extension_config,
    extension_targets,
    is_dnd,
    ring,
)
from domain.instructions import Hangup
from domain.routing.plan import Node


def _offer(node: Node, ctx: Context, ext: str, inputs: Mapping[str, Any]) -> Outcome:
    if not ext:
        return Continue("_", inputs=inputs, scratch={"done": True})
    if not extension_config(ctx.tenant, ext):
        return Continue("_", inputs={**inputs, "skipped": "unknown extension"}, scratch={"done": True})
    if is_dnd(ctx.tenant, ext):
        return Continue("_", inputs={**inputs, "skipped": "dnd"}, scratch={"done": True})
    targets = extension_targets(ctx.tenant, ext)
    if not targets:
        return Continue("_", inputs={**inputs, "skipped": "no reachable device"}, scratch={"done": True})
    return ring(node, ctx, targets, [ext], int(node.data.get("timeout", 15)),
                scratch={"offered": ext, "done": True}, inputs=inputs)


def _resume(node: Node, ctx: Context) -> Outcome:
    ext = str(ctx.scratch.get("offered", ""))
    ended = dial_ended(node, ctx, [ext])
    inputs = {"offered": ext, "dial_status": ended.dial_status}
    if ended.dial_status in ANSWERED:
        if "answered" in node.children:
            return Continue("answered", inputs=inputs, events=(ended,))
        return Finish((Hangup(),), inputs=inputs, events=(ended,), branch="answered")
    if ended.dial_status == "canceled":
        return Finish((), inputs=inputs, events=(ended,), branch="canceled")
    return Continue("_", inputs=inputs, events=(ended,))


def _sticky(node: Node, ctx: Context) -> Outcome:
    ext = str(ctx.facts.get("last_agent") or "")
    return _offer(node, ctx, ext, {"caller": ctx.call.from_number, "last_agent": ext or None})


def _crm(node: Node, ctx: Context) -> Outcome:
    result = (ctx.facts.get("crm") or {}).get(node.id) or {"error": "not looked up"}
    owner = str(result.get("owner") or "")
    return _offer(node, ctx, owner, {"caller": ctx.call.from_number, "crm": dict(result)})


register(SimpleAction("sticky", {
    "type": "object", "properties": {"timeout": TIMEOUT}, "additionalProperties": False}, _sticky, _resume))
register(SimpleAction("crm_lookup", {
    "type": "object", "required": ["url"],
    "properties": {"url": {"type": "string", "pattern": "^https?://"}, "timeout": TIMEOUT,
                   "lookup_timeout_ms": {"type": "integer", "minimum": 100, "maximum": 3000}},
    "additionalProperties": False}, _crm, _resume))
