"""Ring a group: ``simultaneous`` (all at once), ``sequential`` (in member order),
``weighted`` (a weighted random order, seeded by the call so a replay picks the same order) or
``least_recent`` (the member whose last answered call is oldest first, from the history facts
``last_answered: {ext: iso time}`` the shell gathers). Members on do-not-disturb, or on a call with call waiting off, are skipped.

Branches as every ringing action; after a sequential pass: ``busy`` if every member was busy,
``unavailable`` if every dial failed, else ``no_answer``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from domain.actions.base import Context, Continue, Outcome, SimpleAction, register
from domain.actions.dial import (
    ANSWERED,
    CALLER_ID,
    TIMEOUT,
    dial_ended,
    dial_result,
    extension_targets,
    is_dnd,
    line_busy,
    ring,
    with_answer_urls,
)
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot

STRATEGIES = ("simultaneous", "sequential", "weighted", "least_recent")


def group_members(tenant: TenantSnapshot, group: str) -> list[str]:
    return [str(m) for m in (tenant.section("groups").get(group) or {}).get("members", ())]


def _unit(seed: str) -> float:
    """A number in (0, 1) from a seed: deterministic, so decide stays pure and replayable."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    return (digest + 1) / (2**64 + 2)


def weighted_order(members: Sequence[str], weights: Mapping[str, Any], seed: str) -> list[str]:
    """Efraimidis-Spirakis: sort by -ln(u)/w; a member of weight 3 is first three times as often."""
    def key(m: str) -> float:
        w = float(weights.get(m, 1) or 0)
        return math.inf if w <= 0 else -math.log(_unit(f"{seed}:{m}")) / w
    return sorted(members, key=key)


def least_recent_order(members: Sequence[str], last_answered: Mapping[str, Any]) -> list[str]:
    return sorted(members, key=lambda m: str(last_answered.get(m) or ""))  # never answered sorts first


def _order(strategy: str, members: list[str], cfg: Mapping[str, Any], ctx: Context) -> list[str]:
    if strategy == "weighted":
        return weighted_order(members, cfg.get("weights") or {}, ctx.call.call_sid)
    if strategy == "least_recent":
        return least_recent_order(members, ctx.facts.get("last_answered") or {})
    return list(members)


def _enter(node: Node, ctx: Context) -> Outcome:
    group = str(node.data["group"])
    cfg = ctx.tenant.section("groups").get(group) or {}
    members = group_members(ctx.tenant, group)
    strategy = str(node.data.get("strategy") or cfg.get("strategy") or "simultaneous")
    dnd = [m for m in members if is_dnd(ctx.tenant, m)]
    on_call = [m for m in members if m not in dnd and line_busy(ctx, m)]
    ready = [m for m in members if m not in dnd and m not in on_call and extension_targets(ctx.tenant, m)]
    inputs: dict[str, Any] = {"group": group, "strategy": strategy, "dnd": dnd}
    if on_call:
        inputs["line_busy"] = on_call
    if not ready:
        branch = "busy" if members and len(dnd) + len(on_call) == len(members) else "unavailable"
        return Continue(branch, inputs={**inputs, "members": members, "reason": "nobody to ring"})
    timeout = int(node.data.get("timeout") or cfg.get("timeout", 20))
    if strategy == "simultaneous":  # several members ring at once: each one's nouns say who picked up
        targets = [t for m in ready for t in with_answer_urls(ctx, m, extension_targets(ctx.tenant, m))]
        return ring(node, ctx, targets, ready, timeout, scratch={"order": ready, "i": -1}, inputs=inputs)
    order = _order(strategy, ready, cfg, ctx)
    if strategy == "least_recent":
        inputs["last_answered"] = {m: (ctx.facts.get("last_answered") or {}).get(m) for m in order}
    return _ring_member(node, ctx, order, 0, [], inputs)


def _ring_member(node: Node, ctx: Context, order: list[str], i: int, statuses: list[str],
                 inputs: Mapping[str, Any], events: tuple[Any, ...] = ()) -> Outcome:
    cfg = ctx.tenant.section("groups").get(str(node.data["group"])) or {}
    per_member = int(node.data.get("ring_time") or cfg.get("ring_time", 15))
    return ring(node, ctx, extension_targets(ctx.tenant, order[i]), [order[i]], per_member,
                scratch={"order": order, "i": i, "statuses": statuses},
                inputs={**inputs, "order": order, "member": order[i]}, events=events)


def _resume(node: Node, ctx: Context) -> Outcome:
    order = [str(m) for m in ctx.scratch.get("order", ())]
    i = int(ctx.scratch.get("i", -1))
    if i < 0:  # simultaneous
        return dial_result(node, ctx, order or group_members(ctx.tenant, str(node.data["group"])))
    status = ctx.params.get("DialCallStatus", "failed")
    if status in ANSWERED or status == "canceled":
        return dial_result(node, ctx, [order[i]])
    statuses = [*ctx.scratch.get("statuses", ()), status]
    ended = dial_ended(node, ctx, [order[i]])
    if i + 1 < len(order):
        return _ring_member(node, ctx, order, i + 1, statuses, {"previous": {order[i]: status}}, events=(ended,))
    branch = "busy" if set(statuses) == {"busy"} else "unavailable" if set(statuses) == {"failed"} else "no_answer"
    return Continue(branch, inputs={"dial_status": status, "statuses": dict(zip(order, statuses, strict=False))},
                    events=(ended,))


register(SimpleAction("ring_group", {
    "type": "object", "required": ["group"],
    "properties": {"group": {"type": "string"}, "timeout": TIMEOUT, "ring_time": TIMEOUT,
                   "strategy": {"enum": list(STRATEGIES)}, "caller_id": CALLER_ID, "record": {"type": "string"}},
    "additionalProperties": False}, _enter, _resume))
