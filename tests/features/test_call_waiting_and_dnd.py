"""Call waiting (a second line), do not disturb across ring actions, and how long a call counts
as ringing for pickup."""

from __future__ import annotations

from tests.conftest import Gateway
from tests.routing.pbx import Call, assert_golden, base_config, make_tenant, sid

PLAN = {"root": {"id": "sam", "action": "ring_extension", "data": {"extension": "101"},
                 "children": {"busy": {"id": "busy", "action": "answer_message", "data": {"text": "Sam is on the phone."}},
                              "_": {"id": "vm", "action": "voicemail", "data": {"box": "101"}}}}}


def _tenant(services, **ext101):  # type: ignore[no-untyped-def]
    config = base_config()
    config["extensions"]["101"].update(ext101)
    return make_tenant(services, "acme", PLAN, extensions=config["extensions"])


def test_second_call_rings_through_when_call_waiting_is_on(services) -> None:  # type: ignore[no-untyped-def]
    gateway = _tenant(services)
    Call(gateway, sid(1), From="+15550003001").start()
    second = Call(gateway, sid(2), From="+15550003002").start()
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in second


def test_second_call_gets_busy_branch_when_call_waiting_is_off(services) -> None:  # type: ignore[no-untyped-def]
    gateway = _tenant(services, call_waiting=False)
    first = Call(gateway, sid(1), From="+15550003001")
    first.start()
    second = Call(gateway, sid(2), From="+15550003002")
    assert_golden("call_waiting_off_busy", second.start())
    step = next(e for e in second.events() if e.event_type == "StepDecided")
    assert step.data["inputs"] == {"extension": "101", "line_busy": True, "call_waiting": False}
    # once the first call's dial is over, the line is free again
    first.dial_ended("completed")
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in Call(gateway, sid(3), From="+15550003003").start()


def test_dnd_member_is_skipped_by_follow_me_and_groups(services) -> None:  # type: ignore[no-untyped-def]
    config = base_config()
    config["extensions"]["101"]["dnd"] = True
    plan = {"root": {"id": "fm", "action": "follow_me", "data": {"extension": "101"},
                     "children": {"busy": {"id": "g", "action": "ring_group", "data": {"group": "sales"}}}}}
    gateway = make_tenant(services, "acme", plan, extensions=config["extensions"])
    body = Call(gateway, sid(1)).start()
    assert ">102</Client>" in body and "sip:101" not in body


def test_a_call_counts_as_ringing_only_within_its_dial_timeout(services, clock) -> None:  # type: ignore[no-untyped-def]
    caller = Call(Gateway(services), sid(0xC0))
    caller.start()
    caller.press("1")  # the sales group rings for 20 s
    clock.advance(21)  # longer than that: it was answered (or is ending), not ringing
    body = Call(Gateway(services), sid(1), From="client:102", To="*8").start()
    assert "no ringing call" in body


def test_two_colleagues_dialling_pickup_at_once_only_one_gets_the_call(services) -> None:  # type: ignore[no-untyped-def]
    import threading

    caller = Call(Gateway(services), sid(0xC0))
    caller.start()
    caller.press("1")  # 101 and 102 ring
    bodies: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def dial(n: int, device: str) -> None:
        barrier.wait()
        bodies[device] = Call(Gateway(services), sid(n), From=device, To="*8").start()

    threads = [threading.Thread(target=dial, args=(1, "client:102")),
               threading.Thread(target=dial, args=(2, "sip:101@demo.sip.vpbx.local"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bridged = [d for d, body in bodies.items() if "<Conference" in body]
    assert len(bridged) == 1, bodies
    assert sum("no ringing call" in body for body in bodies.values()) == 1
    picked = [e for e in caller.events() if e.event_type == "CallPickedUp"]
    assert len(picked) == 1
    updates = [r for r in services.gateway.requests if r.op == "update"]
    assert len(updates) == 1 and updates[0].sid == sid(0xC0)
