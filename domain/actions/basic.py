"""Small actions: say/play, hangup, reject, go to, black/white list check."""

from __future__ import annotations

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, register
from domain.instructions import Hangup, Instruction, Play, Reject, Say
from domain.routing.plan import Node


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


def _list_check(node: Node, ctx: Context) -> Outcome:
    caller = ctx.call.from_number
    if ctx.tenant.in_list("whitelist", caller):
        return Continue("allowed", inputs={"caller": caller, "list": "whitelist"})
    if ctx.tenant.in_list("blacklist", caller):
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
