"""Ring an extension; plus the helpers every ringing action shares (devices, DND, forwarding).

Branches of every ringing action: ``answered`` (when present; otherwise the call ends),
``busy``, ``no_answer``, ``unavailable`` (failed / nothing to ring), then ``_``.
A do-not-disturb extension is not rung: its ``busy`` branch is taken at once; so is an extension
already on a call whose ``call_waiting`` is false (by default a second call rings: call waiting).
Per-user forwarding (``extensions.<ext>.forwarding``): ``unconditional``, ``busy``,
``no_answer``, ``unavailable`` (falls back to ``no_answer``); each a number or
``{to, schedule, when}`` = forward only while that schedule is ``open``/``closed``/``holiday``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, Wait, register
from domain.actions.schedule import schedule_state
from domain.calls.events import DialEnded
from domain.instructions import Client, Dial, Hangup, Instruction, Number, Sip
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot

BRANCH_BY_STATUS = {"busy": "busy", "no-answer": "no_answer", "failed": "unavailable"}
ANSWERED = ("completed", "answered")
FORWARD_BY_STATUS = {"busy": "busy", "no-answer": "no_answer", "failed": "unavailable"}


def device_targets(device: Mapping[str, Any]) -> Instruction | None:
    kind = device.get("type")
    if kind == "sip":
        return Sip(uri=str(device["uri"]))
    if kind == "client":
        return Client(identity=str(device["identity"]))
    if kind in ("number", "mobile"):
        return Number(number=str(device["number"]))
    return None


def extension_config(tenant: TenantSnapshot, extension: str) -> Mapping[str, Any]:
    cfg = tenant.section("extensions").get(extension)
    return cfg if isinstance(cfg, Mapping) else {}


def is_dnd(tenant: TenantSnapshot, extension: str) -> bool:
    return bool(extension_config(tenant, extension).get("dnd"))


def line_busy(ctx: Context, extension: str) -> bool:
    """On a call already and call waiting (a second line) switched off: ring no further."""
    if extension_config(ctx.tenant, extension).get("call_waiting", True):
        return False
    return extension in (ctx.facts.get("active_extensions") or ())


def extension_targets(tenant: TenantSnapshot, extension: str, *, mobile: bool = False) -> list[Instruction]:
    targets = []
    for device in extension_config(tenant, extension).get("devices", ()):
        if device.get("type") == "mobile" and not mobile:
            continue
        target = device_targets(device)
        if target is not None:
            targets.append(target)
    return targets


def caller_id_for(rule: str, ctx: Context) -> str:
    """``caller`` (default): the original caller; ``called``: our number; anything else: literal."""
    if rule in ("", "caller"):
        return ctx.call.from_number
    if rule == "called":
        return ctx.call.to_number
    return rule


def active_forward(ctx: Context, extension: str, kind: str) -> str:
    """The number an extension forwards to for ``kind`` right now, or ``""``."""
    forwarding = extension_config(ctx.tenant, extension).get("forwarding") or {}
    rule = forwarding.get(kind) or (forwarding.get("no_answer") if kind == "unavailable" else None)
    if isinstance(rule, str):
        return rule
    if not isinstance(rule, Mapping) or not rule.get("to"):
        return ""
    if rule.get("schedule"):
        schedule = ctx.tenant.section("schedules").get(str(rule["schedule"])) or {}
        if schedule_state(schedule, ctx.now) != rule.get("when", "open"):
            return ""
    return str(rule["to"])


def dial_ended(node: Node, ctx: Context, targets: list[str]) -> DialEnded:
    return DialEnded(node=node.id, dial_status=ctx.params.get("DialCallStatus", "failed"),
                     dial_call_sid=ctx.params.get("DialCallSid", ""),
                     duration=int(ctx.params.get("DialCallDuration", "0") or 0), targets=targets)


def dial_result(node: Node, ctx: Context, targets: list[str]) -> Outcome:
    """Shared resume for every ringing action: record DialEnded and pick the branch."""
    ended = dial_ended(node, ctx, targets)
    status = ended.dial_status
    inputs = {"dial_status": status, "targets": targets}
    if status in ANSWERED:
        if "answered" in node.children:
            return Continue("answered", inputs=inputs, events=(ended,))
        return Finish((Hangup(),), inputs=inputs, events=(ended,), branch="answered")
    if status == "canceled":
        return Finish((), inputs=inputs, events=(ended,), branch="canceled")
    return Continue(BRANCH_BY_STATUS.get(status, "unavailable"), inputs=inputs, events=(ended,))


def answer_url(ctx: Context, member: str) -> str:
    """The answer URL of ``member``'s nouns in this dial: the gateway fetches it on the new leg when one of
    them picks up, so vpbx learns who answered (the Dial's own callback does not say). The caller's call
    rides in the signed query (the request's CallSid is the new leg's), with the dial's node and step."""
    query = ctx.action_url.split("?", 1)[1]
    return f"answered?call={quote(ctx.call.call_sid, safe='')}&member={quote(member, safe='')}&{query}"


def with_answer_urls(ctx: Context, member: str, targets: list[Instruction]) -> list[Instruction]:
    """``member``'s nouns, each reporting its answer (see ``answer_url``); a noun's own url is kept."""
    url = answer_url(ctx, member)
    return [replace(t, url=url) if isinstance(t, Sip | Client | Number) and not t.url else t for t in targets]


def ring(node: Node, ctx: Context, targets: list[Instruction], labels: list[str], timeout: int, *,
         scratch: Mapping[str, Any] | None = None, caller_id: str = "",
         inputs: Mapping[str, Any] | None = None, events: tuple[Any, ...] = ()) -> Outcome:
    """Wait on a ``<Dial>`` of ``targets``; with nothing to ring, take ``unavailable`` now. The nouns of a
    dial of one label (an extension, a number) report their answer as that label's (``answer_url``); a
    dial of several members labels its nouns itself (``with_answer_urls``)."""
    if not targets:
        return Continue("unavailable", inputs={**(inputs or {}), "targets": labels, "reason": "no reachable device"},
                        events=events)
    if len(labels) == 1:
        targets = with_answer_urls(ctx, labels[0], targets)
    dial = Dial(targets=tuple(targets), action=ctx.action_url, timeout=timeout,
                caller_id=caller_id or caller_id_for(str(node.data.get("caller_id", "")), ctx),
                record=str(node.data.get("record", "")))
    return Wait((dial,), inputs={**(inputs or {}), "targets": labels, "timeout": timeout}, scratch=scratch,
                events=events)


def forward_to(node: Node, ctx: Context, ext: str, number: str, why: str, events: tuple[Any, ...] = ()) -> Outcome:
    """Ring the number ``ext``'s forwarding rule ``why`` names; the step says whose rule it was
    (``forwarded_for``), so the call still counts as that extension's in the figures."""
    timeout = int(node.data.get("forward_timeout", 30))
    return ring(node, ctx, [Number(number=number)], [number], timeout, scratch={"stage": "forward", "to": number},
                inputs={"forwarded": why, "forwarded_for": ext}, events=events)


def not_ringable(ctx: Context, ext: str) -> Outcome | None:
    """The branch for an extension that must not ring now (unknown, do not disturb, line busy)."""
    if not extension_config(ctx.tenant, ext):
        return Continue("unavailable", inputs={"extension": ext, "reason": "unknown extension"})
    if is_dnd(ctx.tenant, ext):
        return Continue("busy", inputs={"extension": ext, "dnd": True})
    if line_busy(ctx, ext):
        return Continue("busy", inputs={"extension": ext, "line_busy": True, "call_waiting": False})
    return None


def _ring_extension_enter(node: Node, ctx: Context) -> Outcome:
    ext = str(node.data["extension"])
    refused = not_ringable(ctx, ext)
    if refused is not None:
        return refused
    number = active_forward(ctx, ext, "unconditional")
    if number:
        return forward_to(node, ctx, ext, number, "unconditional")
    return ring(node, ctx, extension_targets(ctx.tenant, ext), [ext], int(node.data.get("timeout", 20)),
                scratch={"stage": "ring"})


def _ring_extension_resume(node: Node, ctx: Context) -> Outcome:
    ext = str(node.data["extension"])
    status = ctx.params.get("DialCallStatus", "failed")
    if ctx.scratch.get("stage") == "forward":
        return dial_result(node, ctx, [str(ctx.scratch.get("to", ext))])
    kind = FORWARD_BY_STATUS.get(status, "")
    number = active_forward(ctx, ext, kind) if kind else ""
    if number:
        return forward_to(node, ctx, ext, number, kind, events=(dial_ended(node, ctx, [ext]),))
    return dial_result(node, ctx, [ext])


TIMEOUT = {"type": "integer", "minimum": 5, "maximum": 600}
CALLER_ID = {"type": "string", "pattern": r"^(caller|called|\+[1-9]\d{6,14})$"}
register(SimpleAction("ring_extension", {
    "type": "object", "required": ["extension"],
    "properties": {"extension": {"type": "string"}, "timeout": TIMEOUT, "forward_timeout": TIMEOUT,
                   "caller_id": CALLER_ID, "record": {"type": "string"}},
    "additionalProperties": False}, _ring_extension_enter, _ring_extension_resume))
