"""Ring extension with per-user features: do not disturb, forwarding (unconditional, busy,
no answer, by time and day), follow-me (desk then mobile) and forward to an external number."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Gateway
from tests.routing.pbx import Call, assert_golden, base_config, make_tenant, sid

MOBILE = "+15557770101"
PLAN = {"root": {"id": "sam", "action": "ring_extension", "data": {"extension": "101", "timeout": 15},
                 "children": {"busy": {"id": "busy", "action": "answer_message", "data": {"text": "Sam is busy."}},
                              "_": {"id": "vm", "action": "voicemail", "data": {"box": "101"}}}}}


def _tenant(services, plan=PLAN, **ext101):  # type: ignore[no-untyped-def]
    config = base_config()
    config["extensions"]["101"].update(ext101)
    return make_tenant(services, "acme", plan, extensions=config["extensions"],
                       schedules={"office": {"weekly": {"tue": [["09:00", "17:00"]]}}})


def test_dnd_extension_is_not_rung_and_takes_its_busy_branch(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, dnd=True), sid(1))
    assert_golden("dnd_busy_branch", call.start())
    step = next(e for e in call.events() if e.event_type == "StepDecided")
    assert step.data["branch"] == "busy" and step.data["inputs"]["dnd"] is True


def test_unconditional_forwarding_dials_the_number_instead(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, forwarding={"unconditional": MOBILE}), sid(1))
    assert_golden("forward_unconditional", call.start())


def test_busy_forwarding_dials_the_number_after_a_busy_desk_phone(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, forwarding={"busy": MOBILE}), sid(1))
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in call.start()
    forwarded = call.dial_ended("busy")
    assert f">{MOBILE}</Number>" in forwarded
    # and when the forward is not answered either, the node's own branches apply
    assert "<Record" in call.dial_ended("no-answer")


def test_no_answer_forwarding_only_applies_to_no_answer(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, forwarding={"no_answer": MOBILE}), sid(1))
    call.start()
    assert "Sam is busy." in call.dial_ended("busy")
    call2 = Call(Gateway(services, tenant="acme"), sid(2))
    call2.start()
    assert f">{MOBILE}</Number>" in call2.dial_ended("no-answer")


def test_forwarding_by_time_and_day_applies_only_outside_office_hours(services, clock) -> None:  # type: ignore[no-untyped-def]
    gateway = _tenant(services, forwarding={"unconditional": {"to": MOBILE, "schedule": "office", "when": "closed"}})
    # Tuesday 10:00 New York: office open, the desk phone rings
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in Call(gateway, sid(1)).start()
    # Tuesday 20:00 New York: closed, forwarded to the mobile
    clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert f">{MOBILE}</Number>" in Call(gateway, sid(2)).start()


def test_follow_me_rings_desk_then_mobile(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "fm", "action": "follow_me", "data": {"extension": "101"},
                     "children": {"_": {"id": "vm", "action": "voicemail", "data": {"box": "101"}}}}}
    call = Call(_tenant(services, plan, follow_me={"mobile": MOBILE, "desk_timeout": 10, "mobile_timeout": 25,
                                                    "caller_id": "called"}), sid(1))
    assert_golden("follow_me_desk", call.start())
    assert_golden("follow_me_mobile", call.dial_ended("no-answer"))
    assert "<Record" in call.dial_ended("no-answer")
    ended = [e.data["targets"] for e in call.events() if e.event_type == "DialEnded"]
    assert ended == [["101"], [MOBILE]]


def test_forward_presents_the_original_caller_by_default(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "out", "action": "forward", "data": {"number": "+442071234567", "timeout": 25}}}
    assert_golden("forward_external", Call(make_tenant(services, "acme", plan), sid(1)).start())


def test_forward_never_presents_a_number_the_tenant_does_not_own(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "out", "action": "forward", "data": {"number": "+442071234567",
                                                                "caller_id": "+15559998888"}}}
    body = Call(make_tenant(services, "acme", plan), sid(1)).start()
    assert 'callerId="+15550001000"' in body


def test_forward_not_answered_takes_no_answer_branch(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "out", "action": "forward", "data": {"number": "+442071234567", "caller_id": "called"},
                     "children": {"no_answer": {"id": "sorry", "action": "answer_message",
                                                "data": {"text": "Nobody answered."}}}}}
    call = Call(make_tenant(services, "acme", plan), sid(1))
    assert 'callerId="+15550001000"' in call.start()
    assert "Nobody answered." in call.dial_ended("no-answer")


def test_unknown_extension_takes_unavailable_branch(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "x", "action": "ring_extension", "data": {"extension": "999"},
                     "children": {"unavailable": {"id": "u", "action": "answer_message", "data": {"text": "No."}}}}}
    assert "No." in Call(make_tenant(services, "acme", plan), sid(1)).start()
