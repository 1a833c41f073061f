"""Scripted calls through the signed webhook shell, with the clock moved by hand between webhooks."""

from __future__ import annotations

import re

from chalicelib.calls import WebhookResponse
from tests.conftest import FakeClock, Gateway, answer_url, answering_device, call_params


def sid(n: int) -> str:
    return f"CA{n:032x}"


def actions(xml: str) -> list[str]:
    return re.findall(r'action="([^"]+)"', xml)


class Calls:
    def __init__(self, gateway: Gateway, clock: FakeClock) -> None:
        self.gw = gateway
        self.clock = clock
        self.seq = 0

    def status(self, call: str, status: str, duration: int = 0, **extra: str) -> None:
        self.seq += 1
        params = call_params(call, CallStatus=status, SequenceNumber=str(self.seq), **extra)
        if duration:
            params["CallDuration"] = str(duration)
        assert self.gw.post("status", params).status == 200

    def inbound(self, call: str, caller: str, digit: str, *, menu: float = 6, ring: float = 8,
                dial: str = "completed", talk: int = 0, after: float = 2, voicemail: int = 0,
                picked_up_by: str = "", device: str = "") -> None:
        """Caller hears the menu for ``menu`` s, presses ``digit``, the extension(s) ring for ``ring`` s, the
        dial ends with ``dial`` (talking ``talk`` s when answered), then optionally a voicemail, then hang-up.
        ``picked_up_by``: the group member whose device answers (the gateway fetches that member's answer
        URL on the new leg when the ringing stops); ``device``: which of their devices (default: the first)."""
        menu_resp = self.gw.post("voice", call_params(call, From=caller))
        self.clock.advance(menu)
        dial_resp = self.gw.follow(actions(menu_resp.body)[0],
                                   call_params(call, From=caller, CallStatus="in-progress", Digits=digit))
        self.clock.advance(ring)
        if picked_up_by:
            assert self.answer(dial_resp.body, picked_up_by, "CA" + call[2:][::-1], device).body.endswith(
                "<Response></Response>")
        self.clock.advance(talk if dial == "completed" else 0)
        extra = {"DialCallStatus": dial, "DialCallSid": "CA" + call[2:][::-1]}
        if dial == "completed":
            extra["DialCallDuration"] = str(talk)
        after_dial = self.gw.follow(actions(dial_resp.body)[0],
                                    call_params(call, From=caller, CallStatus="in-progress", **extra))
        if voicemail:
            self.clock.advance(voicemail)
            self.gw.follow(actions(after_dial.body)[0], call_params(
                call, From=caller, CallStatus="in-progress", RecordingUrl=f"https://gw/rec/RE{call[2:]}",
                RecordingDuration=str(voicemail), RecordingSid=f"RE{call[2:]}"))
        self.clock.advance(after)
        total = menu + ring + (talk if dial == "completed" else 0) + voicemail + after
        self.status(call, "completed", int(total), From=caller)

    def answer(self, dial_laml: str, member: str, leg: str, device: str = "") -> WebhookResponse:
        """The gateway fetching ``member``'s answer URL on the new leg ``leg`` to ``device`` (default: where
        their first noun goes)."""
        return self.gw.follow(answer_url(dial_laml, member), call_params(
            leg, CallStatus="in-progress", Direction="outbound-dial", To=device or answering_device(dial_laml, member)))

    def outbound(self, call: str, device: str, number: str, *, ring: float = 5, talk: int = 0,
                 status: str = "completed") -> None:
        """An extension's device calls out (click-to-call / device call): answered when talk > 0."""
        params = call_params(call, From=device, To=number, Direction="outbound-api", CallStatus="ringing")
        assert self.gw.post("voice", params).status == 200
        self.clock.advance(ring)
        if talk:
            self.status(call, "in-progress", From=device, To=number, Direction="outbound-api")
            self.clock.advance(talk)
        self.status(call, status if talk or status != "completed" else "no-answer", talk, From=device, To=number,
                    Direction="outbound-api")
