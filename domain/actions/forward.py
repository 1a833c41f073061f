"""Forward the call to an external number (``<Dial><Number>``).

Caller id rule (``caller_id``): ``caller`` (default) presents the original caller, ``called``
presents the tenant number that was called, or an explicit E.164 number that must be one of
the tenant's numbers (otherwise the called number is presented: never spoof a stranger).
Branches as every ringing action.
"""

from __future__ import annotations

from domain.actions.base import Context, Outcome, SimpleAction, register
from domain.actions.dial import TIMEOUT, dial_result, ring
from domain.instructions import Number
from domain.routing.plan import Node

E164 = {"type": "string", "pattern": r"^\+[1-9]\d{6,14}$"}


def _caller_id(node: Node, ctx: Context) -> str:
    rule = str(node.data.get("caller_id") or "caller")
    if rule == "caller":
        return ctx.call.from_number
    if rule == "called" or rule not in ctx.tenant.section("numbers"):
        return ctx.call.to_number
    return rule


def _enter(node: Node, ctx: Context) -> Outcome:
    number = str(node.data["number"])
    caller_id = _caller_id(node, ctx)
    return ring(node, ctx, [Number(number=number)], [number], int(node.data.get("timeout", 30)),
                caller_id=caller_id, inputs={"caller_id": caller_id})


def _resume(node: Node, ctx: Context) -> Outcome:
    return dial_result(node, ctx, [str(node.data["number"])])


register(SimpleAction("forward", {
    "type": "object", "required": ["number"],
    "properties": {"number": E164, "timeout": TIMEOUT,
                   "caller_id": {"type": "string", "pattern": r"^(caller|called|\+[1-9]\d{6,14})$"}},
    "additionalProperties": False}, _enter, _resume))
