"""Voicemail by phone: *97 opens the caller's own box, *98 any box; the PIN, the messages, keep and delete.
Through the webhook path, as the gateway would call it; each answer read as the caller would hear it."""

from __future__ import annotations

import re

from chalicelib.auth import hash_pin
from chalicelib.mailer import RecordingMailer
from domain.tenant import TenantConfigPatched
from tests.conftest import call_params
from tests.projections.scenario import Calls, actions, sid
from tests.projections.test_device_calls import APP_102, DESK_101, DOMAIN

DESK_103 = "sip:103@demo.sip.vpbx.local"


def set_pin(services, box: str, pin: str) -> None:  # type: ignore[no-untyped-def]
    services.tenants.append("demo", [TenantConfigPatched(path=["voicemail_boxes", box], patch={"pin_hash": hash_pin(pin)},
                                                         actor="test")],
                            expected_version=services.store.stream_version("tenant-demo"))


def leave_message(calls: Calls, call: str, device: str, box_ext: str, seconds: int) -> str:
    """``device`` rings ``box_ext``, nobody answers, a message of ``seconds`` s is left; returns its recording URL."""
    to = f"sip:{box_ext}{DOMAIN}"
    ringing = calls.gw.post("voice", call_params(call, From=device, To=to))
    assert "<Dial" in ringing.body
    calls.clock.advance(20)
    record = calls.gw.follow(actions(ringing.body)[0], call_params(call, From=device, To=to, CallStatus="in-progress",
                                                                  DialCallStatus="no-answer"))
    assert "<Record" in record.body
    url = f"https://gw/rec/RE{call[2:]}"
    calls.clock.advance(seconds)
    calls.gw.follow(actions(record.body)[0], call_params(call, From=device, To=to, CallStatus="in-progress",
                                                        RecordingUrl=url, RecordingDuration=str(seconds),
                                                        RecordingSid=f"RE{call[2:]}"))
    calls.status(call, "completed", 20 + seconds, From=device, To=to)
    return url


def said(laml: str) -> list[str]:
    return re.findall(r"<Say[^>]*>([^<]*)</Say>", laml)


def played(laml: str) -> list[str]:
    return re.findall(r"<Play[^>]*>([^<]*)</Play>", laml)


class Phone:
    """One call to a mailbox code from a device: each press answered as the gateway would post it."""

    def __init__(self, calls: Calls, call: str, device: str, code: str) -> None:
        self.calls, self.call, self.device, self.to = calls, call, device, f"sip:{code}{DOMAIN}"
        self.last = calls.gw.post("voice", call_params(call, From=device, To=self.to)).body

    def press(self, digits: str = "") -> str:
        extra = {"Digits": digits} if digits else {}
        self.calls.clock.advance(4)
        response = self.calls.gw.follow(actions(self.last)[0], call_params(
            self.call, From=self.device, To=self.to, CallStatus="in-progress", **extra))
        assert response.status == 200
        self.last = response.body
        return self.last

    def hang_up(self) -> None:
        self.calls.status(self.call, "completed", 30, From=self.device, To=self.to)


def test_the_owner_dials_97_enters_the_pin_hears_new_messages_and_deletes_one(api, services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    set_pin(services, "101", "2468")
    # given two messages left in 101's box (from 102's app, then from 103's desk phone)
    first = leave_message(calls, sid(61), APP_102, "101", 12)
    clock.advance(60)
    second = leave_message(calls, sid(62), DESK_103, "101", 7)
    # when 101's desk phone dials *97, it is asked the box's PIN (the box has one)
    phone = Phone(calls, sid(63), DESK_101, "*97")
    assert said(phone.last) == ["Please enter your PIN, then press pound."] and '<Gather' in phone.last
    # a wrong PIN is refused and asked again
    assert said(phone.press("1111#")) == ["That PIN is not correct.", "Please enter your PIN, then press pound."]
    # the right one opens the box: two new messages, the oldest first, with who left it and when (New York time)
    heard = phone.press("2468#")
    assert said(heard)[:2] == ["You have 2 new and 0 saved messages.",
                               "Message 1, from extension 102, November 24 at 10:00 AM."]
    assert played(heard) == [first]
    # 3 deletes it and plays the next; no key after it ends the call
    after_delete = phone.press("3")
    assert said(after_delete)[0] == "Message deleted." and played(after_delete) == [second]
    assert said(after_delete)[1].startswith("Message 2, from extension 103,")
    assert said(phone.press()) == ["There are no more messages. Goodbye."] and "<Hangup/>" in phone.last
    phone.hang_up()
    # when 101 calls again, the deleted message is gone and the one played is saved, not new
    again = Phone(calls, sid(64), DESK_101, "*97")
    opened = again.press("2468#")
    assert said(opened)[0] == "You have 0 new and 1 saved messages." and played(opened) == [second]
    # 1 plays it again
    assert played(again.press("1")) == [second]
    # and the marks are events of the call that made them
    events = [e.event_type for e in services.store.load(f"call-{sid(63)}")[0]]
    assert events.count("VoicemailHeard") == 2 and events.count("VoicemailDeleted") == 1
    # the web inbox (the mailboxes projection) agrees: the deleted message is gone, the other one is heard
    listed = api.client.http.get("/api/v1/voicemail?from=2026-11-24", headers=api.headers).json_body["items"]
    assert [(c["sid"], c["voicemail"]["heard"]) for c in listed] == [(sid(62), True)]


def test_98_asks_which_box_and_ends_the_call_after_three_wrong_pins(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    set_pin(services, "101", "2468")
    phone = Phone(calls, sid(65), APP_102, "*98")
    assert said(phone.last) == ["Please enter your mailbox number, then press pound."]
    assert said(phone.press("999#")) == ["There is no such mailbox.", "Please enter your mailbox number, then press pound."]
    assert said(phone.press()) == ["Please enter your mailbox number, then press pound."]  # nothing: asked again
    assert said(phone.press("101#")) == ["Please enter your PIN, then press pound."]
    phone.press("0000#")
    phone.press("1234#")
    assert said(phone.press("2467#")) == ["That PIN is not correct.", "Goodbye."] and "<Hangup/>" in phone.last
    # a try with nothing entered (or the gateway's "hangup") uses a try but is not a wrong PIN for the lock
    other = Phone(calls, sid(68), APP_102, "*98")
    other.press("101#")
    assert said(other.press("hangup")) == ["Please enter your PIN, then press pound."]
    refused = [e.event_type for n in (65, 68) for e in services.store.load(f"call-{sid(n)}")[0]
               if e.event_type == "MailboxPinRefused"]
    assert len(refused) == 3
    # a box without a PIN is never opened by *98 (anyone at any phone could listen), only by its owner's *97
    other = Phone(calls, sid(66), DESK_101, "*98")
    assert said(other.press("102#")) == ["This mailbox has no PIN and cannot be opened from this phone. Goodbye."]
    own = Phone(calls, sid(67), APP_102, "*97")
    assert said(own.last) == ["You have no messages. Goodbye."]


def test_a_desk_phone_call_to_a_colleague_without_call_waiting_on_a_call_goes_to_voicemail(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    """Call waiting applies to colleagues' calls too: the shell now gathers a device call's routing facts."""
    calls = Calls(gateway, clock)
    services.tenants.append("demo", [TenantConfigPatched(path=["extensions", "102"], patch={"call_waiting": False},
                                                         actor="test")],
                            expected_version=services.store.stream_version("tenant-demo"))
    # given 102's app on a call with 103 (103 dialled it, 102 answered, nobody hung up yet)
    busy = calls.gw.post("voice", call_params(sid(68), From=DESK_103, To=f"sip:102{DOMAIN}"))
    assert ">102</Client>" in busy.body
    # when 101's desk phone dials 102, 102 is not rung: the call goes straight to 102's voicemail
    second = calls.gw.post("voice", call_params(sid(69), From=DESK_101, To=f"sip:102{DOMAIN}"))
    assert "<Dial" not in second.body and "<Record" in second.body


def test_ten_wrong_pins_within_an_hour_lock_the_box_even_for_the_right_pin_until_the_hour_is_over(
        services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    set_pin(services, "101", "2468")
    services.mailer = RecordingMailer()
    # given someone guessing 101's PIN from 103's phone: three calls of three tries, then one more guess
    guesses = iter(f"{n:04d}#" for n in range(1000, 1010))
    for k, tries in enumerate((3, 3, 3, 1)):
        phone = Phone(calls, sid(80 + k), DESK_103, "*98")
        phone.press("101#")
        for _ in range(tries):
            phone.press(next(guesses))
        phone.hang_up()
    # then the tenth wrong PIN locked the box, and its owner was told once, by e-mail, without the digits
    [mail] = services.mailer.sent
    assert (mail["To"], mail["Subject"]) == ("sam@demo.test", "Voicemail box 101 locked after wrong PINs")
    assert DESK_103 in mail.get_content() and "1009" not in mail.get_content()
    # when the owner then dials *97 and enters the right PIN, the box stays shut
    owner = Phone(calls, sid(90), DESK_101, "*97")
    assert said(owner.press("2468#")) == [
        "This mailbox is locked after too many wrong PINs. Please try again later. Goodbye."]
    # an hour after the first wrong guess it opens again
    clock.advance(3600)
    later = Phone(calls, sid(91), DESK_101, "*97")
    assert said(later.press("2468#")) == ["You have no messages. Goodbye."]
    assert len(services.mailer.sent) == 1
    # the guesses are in the log as refusals of box 101, never as the digits entered
    refused = [e for k in range(4) for e in services.store.load(f"call-{sid(80 + k)}")[0]
               if e.event_type == "MailboxPinRefused"]
    assert len(refused) == 10 and {e.data["box"] for e in refused} == {"101"}
    values = {repr(e.data) for k in range(4) for e in services.store.load(f"call-{sid(80 + k)}")[0]}
    assert not [g for g in (f"{n:04d}" for n in range(1000, 1010)) for v in values if f"'{g}" in v]
