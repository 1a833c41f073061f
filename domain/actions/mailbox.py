"""Voicemail by phone: a caller opens a box, hears its messages, keeps or deletes each.

Reached by a plan node ``voicemail_access`` (a menu's "press 9 for your voicemail"), or from an
employee's own phone by ``*97`` (their extension's box) and ``*98`` (any box: the number is asked;
see ``device_calls``). The box's PIN (``voicemail_boxes.<box>.pin``, stored hashed) is asked whenever
the box has one; a box without a PIN opens only to its owner's phone (``pin: if_set``, what ``*97``
uses), never to a caller from outside. Three wrong PINs end the call; each is a ``MailboxPinRefused``
event, and a box with ``LOCK_AFTER`` of them within ``LOCK_SECONDS`` is locked (``facts["pin_locked"]``,
counted by the shell across calls and phones): even the right PIN is refused until the oldest of them
is that old, so guessing a 4-digit PIN by calling again and again takes weeks, not hours. The refusal that
locks the box also records ``MailboxLocked``, which e-mails the box's owner (``effects``).

The messages are facts the shell gathers from the log (``facts["mailboxes"]``: per box, its messages
not deleted, each with ``heard``); the PIN is checked by the shell too (``facts["pin_ok"]``: the
digits just entered against the stored hash), so this module stays pure. New messages are played
first, then saved ones, oldest first; after each: 1 replays it, 2 (or nothing) goes to the next,
3 deletes it. Playing a message marks it heard (``VoicemailHeard``); deleting it records
``VoicemailDeleted``: both in the calling call's stream, folded by the shell's mailbox view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.actions.base import Context, Finish, Outcome, SimpleAction, Wait, register
from domain.actions.call_features import extension_of_device
from domain.events import DomainEvent, event
from domain.instructions import Gather, Hangup, Instruction, Play, Redirect, Say
from domain.prompts import say
from domain.routing.plan import Node

MAX_PIN_TRIES = 3
MAX_BOX_TRIES = 3
LOCK_AFTER = 10  # wrong PINs for one box within LOCK_SECONDS lock it
LOCK_SECONDS = 3600


@event
@dataclass(frozen=True, slots=True)
class VoicemailHeard(DomainEvent):
    """A message was played to its box's owner by phone (it is no longer new)."""

    event_type = "VoicemailHeard"
    box: str
    message: str  # the event id of its VoicemailLeft


@event
@dataclass(frozen=True, slots=True)
class MailboxPinRefused(DomainEvent):
    """A wrong PIN was entered for a box (never the digits): counted across calls to lock the box."""

    event_type = "MailboxPinRefused"
    box: str


@event
@dataclass(frozen=True, slots=True)
class MailboxLocked(DomainEvent):
    """This wrong PIN locked the box (the LOCK_AFTER-th within LOCK_SECONDS): its owner is told by e-mail."""

    event_type = "MailboxLocked"
    box: str
    caller: str = ""


@event
@dataclass(frozen=True, slots=True)
class VoicemailDeleted(DomainEvent):
    event_type = "VoicemailDeleted"
    box: str
    message: str


def _language(node: Node, ctx: Context) -> str:
    return str(node.data.get("language") or ctx.language)


def _said(key: str, node: Node, ctx: Context, **values: Any) -> Say:
    prompt = say(key, _language(node, ctx), node.data.get("prompts"))
    text = prompt.text
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return Say(text=text, language=prompt.language)


def _ask(node: Node, ctx: Context, key: str, scratch: Mapping[str, Any], *before: Instruction) -> Wait:
    """Ask for digits ended by ``#`` (no input: the same node again, with no digits)."""
    gather = Gather(action=ctx.action_url, prompts=(*before, _said(key, node, ctx)), num_digits=0,
                    timeout=8, finish_on_key="#")
    return Wait((gather, Redirect(url=ctx.action_url)), inputs={"asked": key, "box": scratch.get("box", "")},
                scratch=dict(scratch))


def _goodbye(node: Node, ctx: Context, key: str, inputs: Mapping[str, Any], events: Sequence[DomainEvent] = (),
             *before: Instruction) -> Finish:
    return Finish((*before, _said(key, node, ctx), Hangup()), inputs=dict(inputs), events=tuple(events))


def _box_config(ctx: Context, box: str) -> Mapping[str, Any] | None:
    cfg = ctx.tenant.section("voicemail_boxes").get(box)
    return cfg if isinstance(cfg, Mapping) else None


def _enter(node: Node, ctx: Context) -> Outcome:
    box = str(node.data.get("box") or "")
    if not box:
        return _ask(node, ctx, "mailbox_number", {"stage": "box", "tries": 0})
    if _box_config(ctx, box) is None:
        return _goodbye(node, ctx, "mailbox_none", {"box": box, "error": f"no voicemail box {box}"})
    return _open(node, ctx, box)


def _open(node: Node, ctx: Context, box: str, *before: Instruction) -> Outcome:
    """The box is known: ask its PIN, or open it (a box without PIN: only for its owner's own phone)."""
    cfg = _box_config(ctx, box) or {}
    if cfg.get("pin_hash"):
        return _ask(node, ctx, "mailbox_pin", {"stage": "pin", "box": box, "tries": 0}, *before)
    if node.data.get("pin", "required") == "if_set":
        return _menu(node, ctx, box, ())
    return _goodbye(node, ctx, "mailbox_no_pin", {"box": box, "error": f"voicemail box {box} has no PIN"},
                    (), *before)


def messages(ctx: Context, box: str) -> list[Mapping[str, Any]]:
    found = (ctx.facts.get("mailboxes") or {}).get(box) or ()
    return [m for m in found if isinstance(m, Mapping)]


def _menu(node: Node, ctx: Context, box: str, gone: Sequence[str]) -> Outcome:
    """Tell what is there, then play the first message (new ones first, then saved, oldest first)."""
    kept = [m for m in messages(ctx, box) if str(m.get("id")) not in gone]
    new = sorted((m for m in kept if not m.get("heard")), key=lambda m: str(m.get("at")))
    saved = sorted((m for m in kept if m.get("heard")), key=lambda m: str(m.get("at")))
    summary = _said("mailbox_summary", node, ctx, new=len(new), saved=len(saved))
    queue = [str(m["id"]) for m in (*new, *saved)]
    if not queue:
        return _goodbye(node, ctx, "mailbox_empty", {"box": box, "new": 0, "saved": 0})
    return _play(node, ctx, {"stage": "play", "box": box, "queue": queue, "i": 0, "gone": list(gone)}, summary)


def _play(node: Node, ctx: Context, scratch: Mapping[str, Any], *before: Instruction) -> Outcome:
    """Play message ``i`` of the queue (skipping any no longer there) and offer what to do with it."""
    box, queue, i = str(scratch["box"]), list(scratch["queue"]), int(scratch["i"])
    by_id = {str(m.get("id")): m for m in messages(ctx, box)}
    while i < len(queue) and queue[i] not in by_id:
        i += 1  # deleted meanwhile (another call, the web app)
    if i >= len(queue):
        return _goodbye(node, ctx, "mailbox_end", {"box": box}, (), *before)
    m = by_id[queue[i]]
    intro = _said("message_intro", node, ctx, n=i + 1, caller=_caller(node, ctx, str(m.get("from") or "")),
                  when=_when(str(m.get("at") or ""), ctx, _language(node, ctx)))
    options = Gather(action=ctx.action_url, prompts=(_said("message_options", node, ctx),), num_digits=1, timeout=5)
    events: tuple[DomainEvent, ...] = () if m.get("heard") else (VoicemailHeard(box=box, message=queue[i]),)
    return Wait((*before, intro, Play(url=str(m.get("url") or "")), options, Redirect(url=ctx.action_url)),
                inputs={"box": box, "message": queue[i], "n": i + 1, "of": len(queue)}, events=events,
                scratch={**scratch, "i": i})


def _resume(node: Node, ctx: Context) -> Outcome:
    scratch = dict(ctx.scratch)
    digits = ctx.params.get("Digits", "").rstrip("#")
    digits = digits if digits.isdigit() else ""  # "hangup", "*": nothing entered (never a wrong PIN)
    stage = scratch.get("stage")
    if stage == "box":
        tries = int(scratch.get("tries", 0)) + 1
        if digits and _box_config(ctx, digits) is not None:
            return _open(node, ctx, digits)
        unknown: dict[str, Any] = {"box": digits, "error": f"no voicemail box {digits}" if digits else "nothing entered"}
        if tries >= MAX_BOX_TRIES:
            return _goodbye(node, ctx, "goodbye", unknown)
        told = (_said("mailbox_unknown", node, ctx),) if digits else ()
        return _retry(_ask(node, ctx, "mailbox_number", {"stage": "box", "tries": tries}, *told), unknown)
    if stage == "pin":
        box, tries = str(scratch["box"]), int(scratch.get("tries", 0)) + 1
        if ctx.facts.get("pin_locked"):  # too many wrong PINs lately, from any phone: even the right one waits
            return _goodbye(node, ctx, "mailbox_locked", {"box": box, "error": "box locked after wrong PINs"})
        if digits and ctx.facts.get("pin_ok") is True:
            return _menu(node, ctx, box, ())
        refused: dict[str, Any] = {"box": box, "error": "wrong PIN" if digits else "nothing entered", "try": tries}
        wrong: tuple[DomainEvent, ...] = (MailboxPinRefused(box=box),) if digits else ()
        if digits and int(ctx.facts.get("pin_refusals") or 0) + 1 == LOCK_AFTER:  # this one locks the box
            wrong = (*wrong, MailboxLocked(box=box, caller=ctx.call.from_number))
        said = (_said("mailbox_wrong_pin", node, ctx),) if digits else ()  # nothing entered: just asked again
        if tries >= MAX_PIN_TRIES:
            return _goodbye(node, ctx, "goodbye", refused, wrong, *said)
        asked = _ask(node, ctx, "mailbox_pin", {**scratch, "tries": tries}, *said)
        return Wait(asked.instructions, inputs={**asked.inputs, **refused}, events=wrong, scratch=asked.scratch)
    if stage == "play":
        queue, i, gone = list(scratch["queue"]), int(scratch["i"]), list(scratch.get("gone") or ())
        box = str(scratch["box"])
        if digits == "1":
            return _play(node, ctx, scratch)
        if digits == "3":
            deleted = VoicemailDeleted(box=box, message=queue[i])
            out = _play(node, ctx, {**scratch, "i": i + 1, "gone": [*gone, queue[i]]}, _said("message_deleted", node, ctx))
            return _with_event(out, deleted)
        return _play(node, ctx, {**scratch, "i": i + 1})
    return Finish((Hangup(),), inputs={"error": f"unknown stage {stage!r}"})


def _retry(out: Wait, inputs: Mapping[str, Any]) -> Wait:
    return Wait(out.instructions, inputs={**out.inputs, **inputs}, events=out.events, scratch=out.scratch)


def _with_event(out: Outcome, first: DomainEvent) -> Outcome:
    if isinstance(out, Wait):
        return Wait(out.instructions, inputs=out.inputs, events=(first, *out.events), scratch=out.scratch)
    assert isinstance(out, Finish)
    return Finish(out.instructions, inputs=out.inputs, events=(first, *out.events), branch=out.branch)


def _caller(node: Node, ctx: Context, caller: str) -> str:
    """Who left a message, as spoken: a colleague's extension (from their phone), else the number digit by
    digit (``+1 5 5 5…``), else what the gateway gave."""
    ext = extension_of_device(ctx.tenant, caller)
    if ext:
        return _said("extension_caller", node, ctx, ext=ext).text
    if caller.startswith("+") and caller[1:].isdigit():
        return " ".join(caller[1:])
    return caller or "?"


MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
}


def _when(stamp: str, ctx: Context, language: str) -> str:
    """When a message was left, in the tenant's time zone and the caller's language."""
    try:
        t = datetime.fromisoformat(stamp).astimezone(ZoneInfo(ctx.tenant.timezone))
    except ValueError:
        return ""
    if language.split("-")[0].lower() == "ru":
        return f"{t.day} {MONTHS['ru'][t.month - 1]} в {t.hour:02d}:{t.minute:02d}"
    hour = t.hour % 12 or 12
    return f"{MONTHS['en'][t.month - 1]} {t.day} at {hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


SCHEMA = {
    "type": "object",
    "properties": {
        "box": {"type": "string", "description": "the box to open; without it the caller is asked its number"},
        "pin": {"enum": ["required", "if_set"],
                "description": "required (default): a box without PIN cannot be opened; if_set: it opens (the "
                               "owner's own phone, as *97)"},
        "language": {"type": "string"}, "prompts": {"type": "object"},
    },
    "additionalProperties": False,
}

register(SimpleAction("voicemail_access", SCHEMA, _enter, _resume))
