"""IVR menu: play a prompt, gather one key, branch on it; retries on no or invalid input.

Branches: the digit pressed (or the digits, with ``digits`` > 1); once the ``retries`` are used
up: ``timeout`` (nothing pressed) or ``invalid`` (a key with no branch) when the plan has them,
else ``fallback``, else ``_``. Multi-level menus are menus in the children; ``*`` may go back
by naming the parent menu's id. ``invalid_text`` replaces the "not a valid choice" prompt.
"""

from __future__ import annotations

from domain.actions.base import Context, Continue, Outcome, SimpleAction, Wait, register
from domain.calls.events import DigitsGathered
from domain.instructions import Gather, Instruction, Play, Redirect, Say
from domain.prompts import say
from domain.routing.plan import Node


def _language(node: Node, ctx: Context) -> str:
    return str(node.data.get("language") or ctx.language)


def _prompt(node: Node, ctx: Context, retry: bool) -> Outcome:
    prompts: list[Instruction] = []
    if retry:
        if node.data.get("invalid_text"):
            prompts.append(Say(text=str(node.data["invalid_text"]), language=_language(node, ctx)))
        else:
            prompts.append(say("invalid", _language(node, ctx), node.data.get("prompts")))
    if node.data.get("url"):
        prompts.append(Play(url=str(node.data["url"])))
    if node.data.get("text"):
        prompts.append(Say(text=str(node.data["text"]), language=_language(node, ctx)))
    gather = Gather(action=ctx.action_url, prompts=tuple(prompts),
                    num_digits=int(node.data.get("digits", 1)), timeout=int(node.data.get("timeout", 5)))
    # Without input the gateway runs the next verb: come back to the same node with no digits.
    return Wait((gather, Redirect(url=ctx.action_url)), scratch={"tries": int(ctx.scratch.get("tries", 0))})


def _enter(node: Node, ctx: Context) -> Outcome:
    return _prompt(node, ctx, retry=False)


def _resume(node: Node, ctx: Context) -> Outcome:
    digits = ctx.params.get("Digits", "")
    events = (DigitsGathered(node=node.id, digits=digits),) if digits else ()
    if digits and digits in node.children:
        return Continue(digits, inputs={"digits": digits}, events=events, scratch={"tries": 0})
    tries = int(ctx.scratch.get("tries", 0)) + 1
    reason = "invalid" if digits else "timeout"
    if tries <= int(node.data.get("retries", 1)):
        out = _prompt(node, ctx, retry=bool(digits))
        assert isinstance(out, Wait)
        return Wait(out.instructions, inputs={"digits": digits, "reason": reason, "try": tries},
                    events=events, scratch={"tries": tries})
    branch = reason if reason in node.children else "fallback" if "fallback" in node.children else "_"
    return Continue(branch,
                    inputs={"digits": digits, "reason": reason, "try": tries}, events=events,
                    scratch={"tries": 0})


SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"}, "url": {"type": "string"}, "language": {"type": "string"},
        "timeout": {"type": "integer", "minimum": 1, "maximum": 60},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "digits": {"type": "integer", "minimum": 1, "maximum": 20},
        "prompts": {"type": "object"}, "invalid_text": {"type": "string"},
    },
    "anyOf": [{"required": ["text"]}, {"required": ["url"]}],
    "additionalProperties": False,
}

register(SimpleAction("ivr_menu", SCHEMA, _enter, _resume))
