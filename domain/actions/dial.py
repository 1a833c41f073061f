"""Ring an extension or a ring group; branch on how the dial ended.

Branches: ``answered`` (when present; otherwise the call ends), ``busy``, ``no_answer``,
``unavailable`` (failed), then ``_``. Targets come from the extensions' devices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, Wait, register
from domain.calls.events import DialEnded
from domain.instructions import Client, Dial, Hangup, Instruction, Number, Sip
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot

BRANCH_BY_STATUS = {"busy": "busy", "no-answer": "no_answer", "failed": "unavailable"}


def device_targets(device: Mapping[str, Any]) -> Instruction | None:
    kind = device.get("type")
    if kind == "sip":
        return Sip(uri=str(device["uri"]))
    if kind == "client":
        return Client(identity=str(device["identity"]))
    if kind in ("number", "mobile"):
        return Number(number=str(device["number"]))
    return None


def extension_targets(tenant: TenantSnapshot, extension: str, *, mobile: bool = False) -> list[Instruction]:
    ext = tenant.section("extensions").get(extension) or {}
    targets = []
    for device in ext.get("devices", ()):
        if device.get("type") == "mobile" and not mobile:
            continue
        target = device_targets(device)
        if target is not None:
            targets.append(target)
    return targets


def dial_result(node: Node, ctx: Context, targets: list[str]) -> Outcome:
    """Shared resume for every ringing action: record DialEnded and pick the branch."""
    status = ctx.params.get("DialCallStatus", "failed")
    ended = DialEnded(node=node.id, dial_status=status, dial_call_sid=ctx.params.get("DialCallSid", ""),
                      duration=int(ctx.params.get("DialCallDuration", "0") or 0), targets=targets)
    inputs = {"dial_status": status}
    if status in ("completed", "answered"):
        if "answered" in node.children:
            return Continue("answered", inputs=inputs, events=(ended,))
        return Finish((Hangup(),), inputs=inputs, events=(ended,), branch="answered")
    if status == "canceled":
        return Finish((), inputs=inputs, events=(ended,), branch="canceled")
    return Continue(BRANCH_BY_STATUS.get(status, "unavailable"), inputs=inputs, events=(ended,))


def _dial(node: Node, ctx: Context, targets: list[Instruction], labels: list[str], timeout: int) -> Outcome:
    if not targets:
        return Continue("unavailable", inputs={"targets": labels, "reason": "no reachable device"})
    caller_id = str(node.data.get("caller_id") or ctx.call.from_number)
    dial = Dial(targets=tuple(targets), action=ctx.action_url, timeout=timeout, caller_id=caller_id,
                record=str(node.data.get("record", "")))
    return Wait((dial,), inputs={"targets": labels, "timeout": timeout})


def _ring_extension_enter(node: Node, ctx: Context) -> Outcome:
    ext = str(node.data["extension"])
    return _dial(node, ctx, extension_targets(ctx.tenant, ext), [ext], int(node.data.get("timeout", 20)))


def _ring_extension_resume(node: Node, ctx: Context) -> Outcome:
    return dial_result(node, ctx, [str(node.data["extension"])])


def group_members(tenant: TenantSnapshot, group: str) -> list[str]:
    return [str(m) for m in (tenant.section("groups").get(group) or {}).get("members", ())]


def _ring_group_enter(node: Node, ctx: Context) -> Outcome:
    group = str(node.data["group"])
    cfg = ctx.tenant.section("groups").get(group) or {}
    members = group_members(ctx.tenant, group)
    targets = [t for m in members for t in extension_targets(ctx.tenant, m)]
    timeout = int(node.data.get("timeout") or cfg.get("timeout", 20))
    return _dial(node, ctx, targets, members, timeout)


def _ring_group_resume(node: Node, ctx: Context) -> Outcome:
    return dial_result(node, ctx, group_members(ctx.tenant, str(node.data["group"])))


TIMEOUT = {"type": "integer", "minimum": 5, "maximum": 600}
register(SimpleAction("ring_extension", {
    "type": "object", "required": ["extension"],
    "properties": {"extension": {"type": "string"}, "timeout": TIMEOUT, "caller_id": {"type": "string"},
                   "record": {"type": "string"}},
    "additionalProperties": False}, _ring_extension_enter, _ring_extension_resume))
register(SimpleAction("ring_group", {
    "type": "object", "required": ["group"],
    "properties": {"group": {"type": "string"}, "timeout": TIMEOUT, "caller_id": {"type": "string"},
                   "record": {"type": "string"}},
    "additionalProperties": False}, _ring_group_enter, _ring_group_resume))
