"""Answering machine message: play or say a message, then hang up. Nothing is recorded."""

from __future__ import annotations

from domain.actions.base import Context, Finish, Outcome, SimpleAction, register
from domain.instructions import Hangup, Instruction, Play, Say
from domain.routing.plan import Node


def _enter(node: Node, ctx: Context) -> Outcome:
    items: list[Instruction] = []
    if node.data.get("url"):
        items.append(Play(url=str(node.data["url"])))
    if node.data.get("text"):
        items.append(Say(text=str(node.data["text"]), language=str(node.data.get("language") or ctx.language)))
    return Finish((*items, Hangup()), inputs={"recorded": False})


register(SimpleAction("answer_message", {
    "type": "object",
    "properties": {"text": {"type": "string"}, "url": {"type": "string"}, "language": {"type": "string"}},
    "anyOf": [{"required": ["text"]}, {"required": ["url"]}],
    "additionalProperties": False}, _enter))
