"""Small actions: say/play, hangup, reject, go to, black/white list check.

``list_check`` branches: ``allowed`` (white list; ``priority`` when the entry has
``priority: true`` and the plan has that branch), ``blocked`` (black list), ``_`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, register
from domain.instructions import Hangup, Instruction, Play, Reject, Say
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot


def _greeting(node: Node, ctx: Context) -> Outcome:
    items: list[Instruction] = []
    if node.data.get("url"):
        items.append(Play(url=str(node.data["url"]), loop=int(node.data.get("loop", 1))))
    if node.data.get("text"):
        items.append(Say(text=str(node.data["text"]), language=str(node.data.get("language") or ctx.language)))
    return Continue("_", tuple(items))


def _hangup(node: Node, ctx: Context) -> Outcome:
    return Finish((Hangup(),))


def _reject(node: Node, ctx: Context) -> Outcome:
    return Finish((Reject(reason=str(node.data.get("reason", "rejected"))),))


def _goto(node: Node, ctx: Context) -> Outcome:
    return Continue("_")


def list_entry(tenant: TenantSnapshot, name: str, number: str) -> Mapping[str, Any] | None:
    """The entry for ``number`` in a list: entries are numbers or ``{number, priority, note}``."""
    for entry in tenant.section("lists").get(name) or ():
        if isinstance(entry, Mapping) and str(entry.get("number")) == number:
            return entry
        if isinstance(entry, str) and entry == number:
            return {"number": entry}
    return None


def _list_check(node: Node, ctx: Context) -> Outcome:
    caller = ctx.call.from_number
    white = list_entry(ctx.tenant, "whitelist", caller)
    if white is not None:  # white list wins: never blocked
        priority = bool(white.get("priority"))
        branch = "priority" if priority and "priority" in node.children else "allowed"
        return Continue(branch, inputs={"caller": caller, "list": "whitelist", "priority": priority})
    if list_entry(ctx.tenant, "blacklist", caller) is not None:
        return Continue("blocked", inputs={"caller": caller, "list": "blacklist"})
    return Continue("_", inputs={"caller": caller})


GREETING_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "url": {"type": "string"}, "language": {"type": "string"},
                   "loop": {"type": "integer", "minimum": 1}},
    "anyOf": [{"required": ["text"]}, {"required": ["url"]}],
    "additionalProperties": False,
}
EMPTY = {"type": "object", "additionalProperties": False}

register(SimpleAction("say", GREETING_SCHEMA, _greeting))
register(SimpleAction("hangup", EMPTY, _hangup))
register(SimpleAction("reject", {"type": "object", "properties": {
    "reason": {"enum": ["rejected", "busy"]}}, "additionalProperties": False}, _reject))
register(SimpleAction("goto", EMPTY, _goto))
register(SimpleAction("list_check", EMPTY, _list_check))
