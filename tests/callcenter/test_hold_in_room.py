"""Hold on a call-center call keeps the agent: the caller is put on hold inside their conference room
(the gateway's Participants resource), and resume takes them back there. Hold time lands on the CDR."""

from __future__ import annotations

import pytest

from chalicelib.features.live import FeatureError, hold, resume
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import projection_store
from domain.tenant import TenantConfigPatched
from tests.callcenter.conftest import CallCenter

MUSIC = "https://cdn.example.com/hold.mp3"


def test_the_agent_holds_the_caller_in_the_room_and_takes_them_back(cc: CallCenter) -> None:
    cc.services.tenants.append("demo", [TenantConfigPatched(path=[], patch={"hold_music_url": MUSIC}, actor="t")],
                               cc.services.store.stream_version("tenant-demo"))
    # given 201 talks with a queued caller in the call's conference room
    cc.login("201")
    sid = cc.sid(1)
    cc.call(sid, "+15550002000")
    cc.answer("201")
    room = cc.agent_state("201").room
    assert room and cc.agent_state("201").call_sid == sid
    before = len(cc.rest.requests)
    # when 201 puts the caller on hold for 45 s
    assert hold(cc.services, "demo", sid, by="201", request_id="h1").events == ("CallHeld",)
    cc.clock.advance(45)
    # then the gateway holds the caller's participant in that room, with the tenant's music, and nothing
    # redirects the caller's call (that would end the room and drop the agent)
    assert [(r.op, r.sid, dict(r.params)) for r in cc.rest.requests[before:]] == [
        ("hold", sid, {"Room": room, "Hold": "true", "HoldUrl": MUSIC, "HoldMethod": "GET"})]
    assert cc.agent_state("201").call_sid == sid  # still talking as far as the call center knows
    # a second hold, or a resume by someone else, is refused with the reason
    with pytest.raises(FeatureError, match="already on hold"):
        hold(cc.services, "demo", sid, by="201", request_id="h2")
    with pytest.raises(FeatureError, match="on hold with agent 201"):
        resume(cc.services, "demo", sid, "202", request_id="r0")
    # when 201 takes the caller back, talks 30 s more, and the call ends
    assert resume(cc.services, "demo", sid, "201", request_id="r1").events == ("CallResumed",)
    assert [(r.op, dict(r.params)) for r in cc.rest.requests][-1] == ("hold", {"Room": room, "Hold": "false"})
    with pytest.raises(FeatureError, match="not on hold"):
        resume(cc.services, "demo", sid, "201", request_id="r2")
    cc.clock.advance(30)
    cc.agent_leg_ends("201", duration=80)
    cc.hangup(sid)
    # then the call's record holds the 45 s of hold, by 201
    catch_up(cc.services)
    [cdr] = [c for c in projection_store(cc.services).states("calls", "demo") if c["sid"] == sid]
    assert cdr["hold"] == 45.0 and [(h["by"], h["seconds"]) for h in cdr["holds"]] == [("201", 45.0)]
