"""Ring group strategies: simultaneous, sequential, weighted and least recently called."""

from __future__ import annotations

from collections import Counter

from domain.actions.ring_group import least_recent_order, weighted_order
from tests.routing.pbx import Call, assert_golden, base_config, make_tenant, sid

MEMBERS = ["101", "102", "103"]


def _plan(strategy: str) -> dict:  # type: ignore[type-arg]
    return {"root": {"id": "team", "action": "ring_group", "data": {"group": "team", "strategy": strategy},
                     "children": {"no_answer": {"id": "vm", "action": "voicemail", "data": {"box": "sales"}},
                                  "busy": {"id": "busy", "action": "answer_message", "data": {"text": "All busy."}}}}}


def _tenant(services, strategy: str, **group):  # type: ignore[no-untyped-def]
    groups = {"team": {"members": MEMBERS, "ring_time": 10, **group}}
    return make_tenant(services, "acme", _plan(strategy), groups=groups)


def test_simultaneous_rings_every_member_in_one_dial(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, "simultaneous"), sid(1))
    assert_golden("group_simultaneous", call.start())


def test_sequential_rings_members_one_after_another_then_voicemail(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, "sequential"), sid(1))
    first = call.start()
    assert_golden("group_sequential_first", first)
    second = call.dial_ended("no-answer")
    assert_golden("group_sequential_second", second)
    third = call.dial_ended("busy")
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in third
    vm = call.dial_ended("no-answer")
    assert "<Record" in vm
    ended = [e.data for e in call.events() if e.event_type == "DialEnded"]
    assert [(d["targets"], d["dial_status"]) for d in ended] == [
        (["101"], "no-answer"), (["102"], "busy"), (["103"], "no-answer")]


def test_sequential_takes_busy_branch_when_every_member_is_busy(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, "sequential"), sid(1))
    call.start()
    call.dial_ended("busy")
    call.dial_ended("busy")
    assert "All busy." in call.dial_ended("busy")


def test_sequential_stops_when_a_member_answers(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_tenant(services, "sequential"), sid(1))
    call.start()
    body = call.dial_ended("completed", DialCallSid="CA" + "e" * 32, DialCallDuration="42")
    assert body.endswith("<Response><Hangup/></Response>")


def test_dnd_members_are_skipped(services) -> None:  # type: ignore[no-untyped-def]
    config = base_config()
    extensions = config["extensions"]
    extensions["101"]["dnd"] = True
    groups = {"team": {"members": MEMBERS, "ring_time": 10}}
    gateway = make_tenant(services, "acme", _plan("sequential"), groups=groups, extensions=extensions)
    assert ">102</Client>" in Call(gateway, sid(1)).start()


def test_weighted_order_follows_the_weights_over_many_calls() -> None:
    # given weights 3:1:0 (0 = only when nobody else), over 4000 calls
    firsts = Counter(weighted_order(MEMBERS, {"101": 3, "102": 1, "103": 0}, sid(n))[0] for n in range(4000))
    # then 101 is first about 75% of the time, 102 about 25%, 103 never
    assert 0.72 < firsts["101"] / 4000 < 0.78
    assert firsts["103"] == 0


def test_weighted_order_is_the_same_when_the_call_is_replayed() -> None:
    assert weighted_order(MEMBERS, {"101": 1, "102": 5}, sid(7)) == weighted_order(MEMBERS, {"101": 1, "102": 5}, sid(7))


def test_weighted_group_rings_the_member_the_weights_pick(services) -> None:  # type: ignore[no-untyped-def]
    gateway = _tenant(services, "weighted", weights={"101": 0, "102": 0, "103": 5})
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in Call(gateway, sid(1)).start()


def test_least_recent_order_puts_never_answered_first() -> None:
    assert least_recent_order(MEMBERS, {"101": "2026-11-24T10:00", "103": "2026-11-23T10:00"}) == ["102", "103", "101"]


def test_least_recently_called_rings_the_member_idle_longest_first(services, clock) -> None:  # type: ignore[no-untyped-def]
    gateway = _tenant(services, "least_recent")
    # given 101 answered a call at 10:00, then 102 answered one at 10:05 (103 was busy before them)
    first = Call(gateway, sid(1), From="+15550003001")
    first.start()
    first.dial_ended("completed")
    clock.advance(300)
    second = Call(gateway, sid(2), From="+15550003002")
    assert ">102</Client>" in second.start()
    second.dial_ended("completed")
    # when the next call comes: 103 never answered, then 101 (older than 102)
    third = Call(gateway, sid(3), From="+15550003003")
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in third.start()
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in third.dial_ended("no-answer")
    step = next(e for e in third.events() if e.event_type == "StepDecided")
    assert step.data["inputs"]["order"] == ["103", "101", "102"]
