"""Queue behaviour through the webhooks: skips, auto-pause, ring-all, priority, overflow, keys, empty rules."""

from __future__ import annotations

from chalicelib.callcenter.streams import agent_stream, load_events
from domain.callcenter.events import AgentPaused
from tests.callcenter.conftest import CallCenter, cc_config, setup_callcenter

A, B, VIP = "+15550002000", "+15550002001", "+15550003333"


def reconfigure(cc: CallCenter, **queue: object) -> None:
    setup_callcenter(cc.services, {"support": cc_config(**queue)}, extra={"lists": {"vip": [VIP]}})


def test_an_agent_who_does_not_answer_is_skipped_and_the_next_one_rings(cc: CallCenter) -> None:
    cc.login("201", "202")
    cc.call(cc.sid(1), A)
    assert cc.rung() == ["201"]
    # when 201's leg reports no-answer
    cc.agent_leg_ends("201", "no-answer")
    # then 202 rings for the same caller and 201 has one miss
    assert cc.rung() == ["201", "202"]
    assert cc.agent_state("201").misses_in_row == 1 and cc.agent_state("201").presence(cc.clock()) == "available"


def test_the_tick_skips_an_agent_ringing_past_the_ring_time_and_pauses_after_m_misses(cc: CallCenter) -> None:
    # given max_misses 2 and only agent 201 logged in
    cc.login("201")
    cc.call(cc.sid(1), A)
    # when 201 never answers: the gateway says nothing, the tick notices after ring time + grace
    cc.clock.advance(14)
    assert cc.tick().skipped == 0
    cc.clock.advance(10)
    report = cc.tick()
    # then the offer is skipped and offered again (same caller, the only agent)
    assert report.skipped == 1 and cc.rung() == ["201", "201"]
    cc.clock.advance(25)
    cc.tick()
    # then after the second miss in a row the agent is paused, with an event saying why
    state = cc.agent_state("201")
    assert state.presence(cc.clock()) == "paused" and state.misses_in_row == 2
    paused = [e for e in load_events(cc.services, agent_stream("demo", "201"))[0] if isinstance(e, AgentPaused)]
    assert len(paused) == 1 and paused[0].auto and paused[0].misses == 2
    assert paused[0].reason == "auto-paused after 2 missed offers in a row (last: no-answer)"
    # and nobody is rung any more until the agent unpauses
    cc.clock.advance(60)
    cc.tick()
    assert cc.rung() == ["201", "201"]
    assert cc.presence("unpause", "201") == "ringing"


def test_ring_all_rings_everyone_and_releases_the_others_when_one_answers(cc: CallCenter) -> None:
    reconfigure(cc, strategy="ring_all")
    cc.login(*("201", "202", "203"))
    cc.call(cc.sid(1), A)
    assert sorted(cc.rung()) == ["201", "202", "203"]
    cc.answer("202")
    hung_up = {r.sid for r in cc.rest.requests if r.op == "update" and r.params.get("Status") == "completed"}
    assert hung_up == {cc.legs_to("201")[-1].sid, cc.legs_to("203")[-1].sid}
    for other in ("201", "203"):
        state = cc.agent_state(other)
        assert state.presence(cc.clock()) == "available" and state.misses_in_row == 0
    assert cc.line().assigned == {cc.sid(1): "202"}
    # a late answer by 201 is told the call is gone
    assert "no longer waiting" in cc.answer("201")


def test_a_vip_caller_jumps_ahead_of_earlier_callers(cc: CallCenter) -> None:
    reconfigure(cc)
    cc.call(cc.sid(1), A)
    cc.clock.advance(5)
    cc.call(cc.sid(2), B)
    cc.clock.advance(5)
    vip_hold = cc.call(cc.sid(3), VIP)
    assert "You are number 1 in line" in vip_hold
    assert "You are number 3 in line" in cc.poll(cc.sid(2), B)
    # when an agent logs in, the VIP is offered first
    cc.login("201")
    assert cc.agent_state("201").offer.call_sid == cc.sid(3)


def test_max_wait_sends_the_caller_down_the_timeout_branch_to_voicemail(cc: CallCenter) -> None:
    reconfigure(cc, max_wait=60)
    cc.call(cc.sid(1), A)
    cc.clock.advance(30)
    assert "<Gather" in cc.poll(cc.sid(1), A)
    cc.clock.advance(31)
    out = cc.poll(cc.sid(1), A)
    assert "<Record" in out and cc.line().outcome[cc.sid(1)] == "timeout"


def test_a_full_queue_refuses_the_next_caller_into_the_full_branch(cc: CallCenter) -> None:
    reconfigure(cc, max_size=1)
    cc.call(cc.sid(1), A)
    assert "<Record" in cc.call(cc.sid(2), B)
    assert list(cc.line().waiting) == [cc.sid(1)]


def test_exit_key_leaves_the_queue(cc: CallCenter) -> None:
    cc.call(cc.sid(1), A)
    out = cc.poll(cc.sid(1), A, digits="*")
    assert "<Record" in out and cc.line().outcome[cc.sid(1)] == "exit"


def test_join_empty_off_refuses_callers_when_no_agent_is_logged_in(cc: CallCenter) -> None:
    reconfigure(cc, join_empty=False)
    assert "Nobody is here." in cc.call(cc.sid(1), A)
    cc.login("201")
    cc.presence("pause", "201", "lunch")  # paused still counts as staffed
    assert "<Gather" in cc.call(cc.sid(2), B)


def test_leave_empty_sends_waiting_callers_out_when_the_last_agent_logs_out(cc: CallCenter) -> None:
    reconfigure(cc, leave_empty=True)
    cc.login("201")
    cc.presence("pause", "201", "meeting")
    cc.call(cc.sid(1), A)
    assert "<Gather" in cc.poll(cc.sid(1), A)
    cc.presence("logout", "201")
    assert "Nobody is here." in cc.poll(cc.sid(1), A)
    assert cc.line().outcome[cc.sid(1)] == "empty"


def test_overflow_to_callback_turns_a_timeout_into_a_callback_task(cc: CallCenter) -> None:
    reconfigure(cc, max_wait=30, overflow="callback")
    cc.call(cc.sid(1), A)
    cc.clock.advance(31)
    out = cc.poll(cc.sid(1), A)
    assert "We will call you back" in out and "<Hangup/>" in out
    task = cc.book().open_for(A)
    assert task is not None and task.reason == "timeout" and task.queue == "support"


def test_a_caller_who_hangs_up_while_waiting_is_dropped_and_gets_a_callback_task(cc: CallCenter) -> None:
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    report = cc.tick()
    assert report.abandoned == 1 and cc.line().outcome[cc.sid(1)] == "abandoned"
    assert cc.book().open_for(A).reason == "abandoned"  # type: ignore[union-attr]
    # and an agent logging in later is not offered the gone caller, but the callback task instead
    cc.login("201")
    cc.tick()
    offer = cc.agent_state("201").offer
    assert offer is not None and offer.kind == "callback"


def test_an_agent_answering_after_the_caller_hung_up_is_released(cc: CallCenter) -> None:
    cc.login("201")
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    assert "no longer waiting" in cc.answer("201")
    state = cc.agent_state("201")
    assert state.presence(cc.clock()) == "available" and state.misses_in_row == 0


def test_presence_states_follow_the_agent(cc: CallCenter) -> None:
    assert cc.agent_state("201").presence(cc.clock()) == "logged_out"
    cc.login("201")
    assert cc.presence("dnd_on", "201") == "dnd"
    assert cc.presence("dnd_off", "201") == "available"
    assert cc.presence("pause", "201", "coffee") == "paused" and cc.agent_state("201").pause_reason == "coffee"
    assert cc.presence("unpause", "201") == "available"
    assert cc.presence("logout", "201") == "logged_out"


def test_an_agent_in_two_queues_is_never_offered_twice(cc: CallCenter) -> None:
    setup_callcenter(cc.services, {"support": cc_config(), "sales": cc_config(members=["201"])})
    cc.login("201")
    cc.call(cc.sid(1), A)
    from chalicelib.callcenter.dispatcher import dispatch
    dispatch(cc.services, "demo", "sales")
    assert cc.rung() == ["201"] and cc.audit() == []


def test_overflow_can_send_the_caller_on_to_another_queue(cc: CallCenter) -> None:
    # given a plan whose support queue overflows after 60 s into the backup queue
    setup_callcenter(cc.services, {"support": cc_config(max_wait=60), "backup": cc_config(members=["203"])})
    from domain.tenant import PlanPublished

    plan = {"root": {"id": "q", "action": "queue", "data": {"queue": "support"},
                     "children": {"timeout": {"id": "q2", "action": "queue", "data": {"queue": "backup"}}}}}
    version = cc.services.store.stream_version("tenant-demo")
    cc.services.tenants.append("demo", [PlanPublished(plan_id="cc", version=2, document=plan, actor="test")], version)
    cc.login("203")
    cc.presence("pause", "203", "admin")
    cc.call(cc.sid(1), A)
    cc.clock.advance(61)
    # when the caller times out of support
    out = cc.poll(cc.sid(1), A)
    # then the plan redirects them into the backup queue's hold loop, where 203 gets them once free
    assert "/callcenter/demo/queue?node=q2&amp;priority=0&amp;queue=backup&amp;step=3" in out
    cc.hold_url[cc.sid(1)] = "https://pbx.example.com/callcenter/demo/queue?node=q2&priority=0&queue=backup&step=3"
    assert "You are number 1 in line" in cc.poll(cc.sid(1), A)
    cc.presence("unpause", "203")
    assert cc.agent_state("203").offer.queue == "backup"
    assert cc.line("support").outcome[cc.sid(1)] == "timeout"


def test_after_wrap_up_the_next_hold_loop_fetch_offers_the_waiting_caller(cc: CallCenter) -> None:
    cc.login("201")
    cc.call(cc.sid(1), A)
    cc.answer("201")
    cc.call(cc.sid(2), B)
    cc.agent_leg_ends("201", duration=40)
    assert "You are number 1 in line" in cc.poll(cc.sid(2), B)
    assert cc.rung() == ["201"]  # still in wrap-up (30 s)
    cc.clock.advance(31)
    cc.poll(cc.sid(2), B)  # no scheduler tick needed
    assert cc.rung() == ["201", "201"] and cc.agent_state("201").offer.call_sid == cc.sid(2)


def test_an_agent_on_a_mobile_number_sees_the_tenants_number_not_the_callers(cc: CallCenter) -> None:
    setup_callcenter(cc.services, {"support": cc_config(members=["204"])}, agents=("204",))
    from domain.tenant import TenantConfigPatched

    version = cc.services.store.stream_version("tenant-demo")
    cc.services.tenants.append("demo", [TenantConfigPatched(
        path=["extensions", "204"], patch={"devices": [{"type": "mobile", "number": "+15557654321"}]},
        actor="test")], version)
    cc.login("204")
    cc.call(cc.sid(1), A)
    leg = [r for r in cc.rest.created() if r.params["To"] == "+15557654321"][-1]
    assert leg.params["From"] in ("+15550001000", "+15550001001")
