"""Vendor-neutral call instructions, named after the LaML verbs; rendered to XML at the edge.

Invariant: instructions are plain frozen data. ``action`` fields hold a path relative to the
tenant's webhook base (``voice?node=menu&step=3``); the renderer makes them absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


class Instruction:
    verb: ClassVar[str]


@dataclass(frozen=True, slots=True)
class Say(Instruction):
    verb: ClassVar[str] = "Say"
    text: str
    language: str = "en-US"
    voice: str = ""
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Play(Instruction):
    verb: ClassVar[str] = "Play"
    url: str = ""
    loop: int = 1
    digits: str = ""


@dataclass(frozen=True, slots=True)
class Pause(Instruction):
    verb: ClassVar[str] = "Pause"
    length: int = 1


@dataclass(frozen=True, slots=True)
class Gather(Instruction):
    verb: ClassVar[str] = "Gather"
    action: str
    prompts: tuple[Instruction, ...] = ()
    num_digits: int = 0
    timeout: int = 5
    finish_on_key: str = "#"
    input: str = "dtmf"
    language: str = ""


@dataclass(frozen=True, slots=True)
class Number(Instruction):
    verb: ClassVar[str] = "Number"
    number: str
    url: str = ""
    send_digits: str = ""


@dataclass(frozen=True, slots=True)
class Client(Instruction):
    verb: ClassVar[str] = "Client"
    identity: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Sip(Instruction):
    verb: ClassVar[str] = "Sip"
    uri: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Queue(Instruction):
    verb: ClassVar[str] = "Queue"
    name: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Conference(Instruction):
    verb: ClassVar[str] = "Conference"
    name: str
    muted: bool = False
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    wait_url: str = ""
    coach: str = ""
    beep: bool = True
    record: str = ""
    status_callback: str = ""


@dataclass(frozen=True, slots=True)
class Dial(Instruction):
    verb: ClassVar[str] = "Dial"
    targets: tuple[Instruction, ...]
    action: str = ""
    timeout: int = 20
    caller_id: str = ""
    record: str = ""
    hangup_on_star: bool = False


@dataclass(frozen=True, slots=True)
class Record(Instruction):
    verb: ClassVar[str] = "Record"
    action: str
    max_length: int = 120
    timeout: int = 5
    finish_on_key: str = "#"
    play_beep: bool = True
    recording_status_callback: str = ""


@dataclass(frozen=True, slots=True)
class Enqueue(Instruction):
    verb: ClassVar[str] = "Enqueue"
    name: str
    action: str = ""
    wait_url: str = ""


@dataclass(frozen=True, slots=True)
class Leave(Instruction):
    verb: ClassVar[str] = "Leave"


@dataclass(frozen=True, slots=True)
class Redirect(Instruction):
    verb: ClassVar[str] = "Redirect"
    url: str


@dataclass(frozen=True, slots=True)
class Hangup(Instruction):
    verb: ClassVar[str] = "Hangup"


@dataclass(frozen=True, slots=True)
class Reject(Instruction):
    verb: ClassVar[str] = "Reject"
    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class Receive(Instruction):
    """Receive a fax on this call (TwiML ``<Receive>``); the gateway posts the result to ``action``."""

    verb: ClassVar[str] = "Receive"
    action: str = ""
    media_type: str = "application/pdf"
    page_size: str = ""
    store_media: bool = True


VERBS: dict[str, type[Instruction]] = {
    cls.verb: cls
    for cls in (Say, Play, Pause, Gather, Number, Client, Sip, Queue, Conference, Dial, Record,
                Enqueue, Leave, Redirect, Hangup, Reject, Receive)
}
NESTED = {"prompts", "targets"}


def to_json(instruction: Instruction) -> dict[str, Any]:
    """Plain data for an instruction (kept in StepDecided events, so replays re-emit it exactly)."""
    out: dict[str, Any] = {"verb": instruction.verb}
    for f in fields(instruction):  # type: ignore[arg-type]
        value = getattr(instruction, f.name)
        out[f.name] = [to_json(v) for v in value] if f.name in NESTED else value
    return out


def from_json(data: dict[str, Any]) -> Instruction:
    cls = VERBS[data["verb"]]
    kwargs = {k: v for k, v in data.items() if k != "verb"}
    for name in NESTED & kwargs.keys():
        kwargs[name] = tuple(from_json(v) for v in kwargs[name])
    return cls(**kwargs)
