"""A caller through a queue end to end: hold loop, offer, answer, bridge, wrap-up."""

from __future__ import annotations

from tests.callcenter.conftest import CallCenter

CALLER = "+15550002000"


def test_a_caller_waits_with_music_and_position_then_the_agent_is_rung_and_bridged(cc: CallCenter) -> None:
    # given agent 201 logged in
    cc.login("201")
    # when a caller dials the queue number
    sid = cc.sid(1)
    hold = cc.call(sid, CALLER)
    # then the agent was rung with the caller's number, and the caller is in the hold loop
    leg = cc.legs_to("201")[-1]
    assert leg.params["From"] == CALLER and leg.params["Timeout"] == "15"
    assert "You are number 1 in line" in hold and "<Play>" in hold and "<Gather" in hold
    assert cc.agent_state("201").presence(cc.clock()) == "ringing"
    # when the agent answers
    agent_laml = cc.answer("201")
    # then the agent joins the caller's room and the caller is redirected into it
    assert f"<Conference beep=\"false\" endConferenceOnExit=\"true\">cc-{sid}</Conference>" in agent_laml
    redirect = [r for r in cc.rest.requests if r.op == "update"][-1]
    assert redirect.sid == sid and redirect.params["Url"].endswith(f"/callcenter/demo/bridge?room=cc-{sid}")
    assert cc.line().assigned == {sid: "201"}
    assert cc.agent_state("201").presence(cc.clock()) == "on_call"
    # when the agent hangs up after 95 seconds, they are in wrap-up for 30 seconds, then available
    cc.agent_leg_ends("201", duration=95)
    assert cc.agent_state("201").presence(cc.clock()) == "wrap_up"
    cc.clock.advance(31)
    state = cc.agent_state("201")
    assert state.presence(cc.clock()) == "available" and state.talk_by_day == {"2026-11-24": 95}


def test_a_redelivered_answer_webhook_gets_the_same_document_and_writes_nothing(cc: CallCenter) -> None:
    cc.login("201")
    cc.call(cc.sid(1), CALLER)
    first = cc.answer("201")
    from chalicelib.callcenter.streams import agent_stream
    version = cc.services.store.stream_version(agent_stream("demo", "201"))
    assert cc.answer("201") == first
    assert cc.services.store.stream_version(agent_stream("demo", "201")) == version
