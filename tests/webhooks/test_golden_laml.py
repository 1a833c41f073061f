"""Golden LaML: each demo step's document, byte for byte (VPBX_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from chalicelib.laml import render_laml
from domain.instructions import (
    Client,
    Conference,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Number,
    Pause,
    Play,
    Queue,
    Record,
    Redirect,
    Reject,
    Say,
    Sip,
)
from tests.conftest import Gateway, call_params

GOLDEN = Path(__file__).parent / "golden"
SID = "CA" + "b" * 32


def check(name: str, xml: str) -> None:
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("VPBX_UPDATE_GOLDEN"):
        path.write_text(xml + "\n")
    assert xml + "\n" == path.read_text(), f"LaML for {name} changed"


def action(xml: str) -> str:
    return re.findall(r'action="([^"]+)"', xml)[0]


def test_demo_menu_then_sales_then_voicemail(gateway: Gateway) -> None:
    menu = gateway.post("voice", call_params(SID))
    check("demo-menu", menu.body)
    sales = gateway.follow(action(menu.body), call_params(SID, CallStatus="in-progress", Digits="1"))
    check("demo-sales-dial", sales.body)
    vm = gateway.follow(action(sales.body), call_params(SID, CallStatus="in-progress", DialCallStatus="busy"))
    check("demo-sales-voicemail", vm.body)
    bye = gateway.follow(action(vm.body), call_params(SID, CallStatus="in-progress", RecordingUrl="https://gw/r/RE9",
                                                      RecordingDuration="4", RecordingSid="RE9"))
    check("demo-voicemail-thanks", bye.body)


def test_demo_invalid_choice_reprompts(gateway: Gateway) -> None:
    menu = gateway.post("voice", call_params(SID))
    check("demo-invalid-choice", gateway.follow(action(menu.body), call_params(SID, Digits="9")).body)


def test_demo_blacklisted_caller(gateway: Gateway) -> None:
    check("demo-blacklisted", gateway.post("voice", call_params(SID, From="+15550009999")).body)


def test_number_without_a_plan_is_not_in_service(gateway: Gateway) -> None:
    check("not-in-service", gateway.post("voice", call_params(SID, To="+15550001999")).body)


@pytest.mark.parametrize("verb", ["all-verbs"])
def test_every_verb_renders_deterministically(verb: str) -> None:
    doc = [
        Say("Hello <& \"friends\">", language="ru-RU", voice="alice", loop=2),
        Play("https://cdn.example.com/music.mp3", loop=0),
        Pause(length=3),
        Gather(action="voice?node=n&step=1", prompts=(Say("Press 1"), Play("/media/menu.wav")), num_digits=1,
               timeout=7, finish_on_key="", input="dtmf speech"),
        Dial(targets=(Number("+15550003000", send_digits="ww12"), Client("102"), Sip("sip:101@x"), Queue("support")),
             action="voice?node=d&step=2", timeout=25, caller_id="+15550001000", record="record-from-answer",
             hangup_on_star=True),
        Dial(targets=(Conference("room-1", muted=True, start_conference_on_enter=False, end_conference_on_exit=True,
                                 beep=False, coach="CA" + "c" * 32),)),
        Record(action="voice?node=v&step=3", max_length=60, play_beep=False),
        Enqueue("support", action="voice?node=q&step=4", wait_url="/hold-music"),
        Redirect("voice?node=x&step=5"),
        Reject(reason="busy"),
        Hangup(),
    ]
    xml = render_laml(doc, "https://pbx.example.com/webhooks/demo")
    check(verb, xml)
    assert render_laml(doc, "https://pbx.example.com/webhooks/demo") == xml
