"""Fax receive: hand the call to the fax pipeline with ``<Receive>``; the gateway (or our T.38
media core) posts the outcome to the action URL, which ends the call.

Emits FaxReceiveRequested so the fax pipeline knows a fax is coming on this call.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.actions.base import Context, Finish, Outcome, SimpleAction, Wait, register
from domain.events import DomainEvent, event
from domain.instructions import Hangup, Receive
from domain.routing.plan import Node


@event
@dataclass(frozen=True, slots=True)
class FaxReceiveRequested(DomainEvent):
    """The plan handed this call to the fax pipeline."""

    event_type = "FaxReceiveRequested"
    node: str
    media_type: str = "application/pdf"
    caller: str = ""
    to_number: str = ""


def _enter(node: Node, ctx: Context) -> Outcome:
    media_type = str(node.data.get("media_type", "application/pdf"))
    requested = FaxReceiveRequested(node=node.id, media_type=media_type, caller=ctx.call.from_number,
                                    to_number=ctx.call.to_number)
    receive = Receive(action=ctx.action_url, media_type=media_type, page_size=str(node.data.get("page_size", "")))
    return Wait((receive,), inputs={"media_type": media_type}, events=(requested,))


def _resume(node: Node, ctx: Context) -> Outcome:
    inputs = {k: ctx.params[k] for k in ("FaxStatus", "NumPages", "MediaUrl", "FaxSid") if ctx.params.get(k)}
    return Finish((Hangup(),), inputs=inputs, branch=ctx.params.get("FaxStatus", ""))


register(SimpleAction("fax_receive", {
    "type": "object",
    "properties": {"media_type": {"enum": ["application/pdf", "image/tiff"]},
                   "page_size": {"enum": ["letter", "legal", "a4"]}},
    "additionalProperties": False}, _enter, _resume))
