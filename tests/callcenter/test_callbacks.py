"""Never lose a caller: queue callbacks keep the place; missed calls become callback tasks that run in
business hours, retry with back-off, and stop when the customer is reached or calls in."""

from __future__ import annotations

from datetime import timedelta

from tests.callcenter.conftest import CallCenter, cc_config, setup_callcenter

A, B = "+15550002000", "+15550002001"
HOURS = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}  # America/New_York


def with_callbacks(cc: CallCenter, **settings: object) -> None:
    callbacks = {"business_hours": HOURS, "retry_seconds": [300, 900], "max_attempts": 3, **settings}
    setup_callcenter(cc.services, {"support": cc_config()}, extra={"callbacks": callbacks})


def test_the_callback_key_keeps_the_callers_place_and_rings_the_agent_first_then_the_caller(cc: CallCenter) -> None:
    # given two callers waiting and no agent
    cc.call(cc.sid(1), A)
    cc.call(cc.sid(2), B)
    # when the first presses the callback key
    out = cc.poll(cc.sid(1), A, digits="1")
    # then they hang up with a promise, and keep place 1 ahead of the second caller
    assert "you keep your place in line" in out and out.endswith("<Hangup/></Response>")
    assert [e.call_sid for e in cc.line().line()] == [cc.sid(1), cc.sid(2)]
    assert "You are number 2 in line" in cc.poll(cc.sid(2), B)
    # when an agent logs in, the callback entry is offered first: the agent answers, then vpbx calls the caller
    cc.login("201")
    laml = cc.answer("201")
    assert "Calling the customer back now." in laml and f"cc-{cc.sid(1)}" in laml
    customer = cc.customer_leg(A)
    assert customer.params["Url"].split("?")[0].endswith("/callcenter/demo/customer")
    assert f"room=cc-{cc.sid(1)}" in customer.params["Url"] and "agent=201" in customer.params["Url"]
    # when the customer answers and talks, then hangs up: the agent's leg is ended
    cc.customer_ends(A, "completed", 120)
    agent_leg = cc.legs_to("201")[-1].sid
    assert any(r.op == "update" and r.sid == agent_leg and r.params == {"Status": "completed"}
               for r in cc.rest.requests)


def test_no_duplicate_callbacks_to_the_same_number(cc: CallCenter) -> None:
    cc.call(cc.sid(1), A)
    cc.poll(cc.sid(1), A, digits="1")
    # the same number calls again and asks again
    cc.call(cc.sid(2), A)
    out = cc.poll(cc.sid(2), A, digits="1")
    assert "You already have a callback scheduled" in out
    assert [e.call_sid for e in cc.line().line()] == [cc.sid(1)]


def test_a_queue_callback_whose_customer_does_not_answer_becomes_a_retrying_task(cc: CallCenter) -> None:
    with_callbacks(cc)
    cc.call(cc.sid(1), A)
    cc.poll(cc.sid(1), A, digits="1")
    cc.login("201")
    cc.answer("201")
    cc.customer_ends(A, "no-answer")
    task = cc.book().open_for(A)
    assert task is not None and task.reason == "queue" and task.source_call == cc.sid(1)


def test_after_hours_abandon_is_called_back_next_business_morning(cc: CallCenter) -> None:
    with_callbacks(cc)
    # given it is Tuesday 22:00 in New York
    cc.clock.now = cc.clock.now.replace(hour=3) + timedelta(days=1)  # Wed 03:00 UTC = Tue 22:00 NY
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    cc.tick()
    cc.login("201")
    task = cc.book().open_for(A)
    assert task is not None and task.due_at == "2026-11-25T09:00:00-05:00"
    # then nothing happens at night
    cc.clock.advance(3600)
    assert cc.tick().started == 0 and cc.rung() == []
    # when the office opens the task joins the queue and the agent is rung first
    cc.clock.now = cc.clock.now.replace(hour=14, minute=0)  # 09:00 NY
    report = cc.tick()
    assert report.started == 1 and cc.rung() == ["201"]
    assert "Calling the customer back now." in cc.answer("201")
    assert cc.customer_leg(A).params["From"]  # vpbx calls the customer from the tenant's number


def abandoned_then_first_attempt_unanswered(cc: CallCenter, waited: float = 0) -> None:
    """A waits ``waited`` s and hangs up; the task's first attempt rings 201, then A, who does not answer."""
    with_callbacks(cc)
    cc.call(cc.sid(1), A)
    cc.clock.advance(waited)
    cc.hangup(cc.sid(1), A)
    cc.tick()
    cc.login("201")
    cc.answer("201")
    cc.customer_ends(A, "no-answer")
    cc.agent_leg_ends("201", duration=10)


def test_retries_back_off_and_stop_when_the_customer_is_reached(cc: CallCenter) -> None:
    # attempt 1: no answer -> next try 300 s later
    abandoned_then_first_attempt_unanswered(cc)
    task = cc.book().open_for(A)
    assert task.attempts == 1 and not task.running  # type: ignore[union-attr]
    cc.clock.advance(299)  # past the 30 s wrap-up, not yet due
    assert cc.tick().started == 0
    cc.clock.advance(2)
    assert cc.tick().started == 1
    cc.answer("201")
    # attempt 2: busy -> next try 900 s later
    cc.customer_ends(A, "busy")
    cc.agent_leg_ends("201", duration=5)
    cc.clock.advance(899)
    assert cc.tick().started == 0
    cc.clock.advance(2)
    assert cc.tick().started == 1
    cc.answer("201")
    # attempt 3: reached
    cc.customer_ends(A, "completed", 45)
    done = cc.book().tasks[task.task_id]  # type: ignore[union-attr]
    assert done.done == "reached" and done.attempts == 3


def test_attempts_run_out(cc: CallCenter) -> None:
    with_callbacks(cc, max_attempts=1)
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    cc.tick()
    cc.login("201")
    cc.answer("201")
    cc.customer_ends(A, "no-answer")
    assert cc.book().open_for(A) is None
    assert [t.done for t in cc.book().tasks.values()] == ["attempts_exhausted"]


def test_a_task_stops_when_the_customer_calls_in(cc: CallCenter) -> None:
    with_callbacks(cc)
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    cc.tick()
    assert cc.book().open_for(A) is not None
    cc.clock.advance(60)
    cc.call(cc.sid(2), A)
    report = cc.tick()
    assert report.called_in == 1 and cc.book().open_for(A) is None
    assert [t.done for t in cc.book().tasks.values()] == ["customer_called_in"]


def test_missed_calls_outside_queues_open_tasks_when_enabled(cc: CallCenter) -> None:
    with_callbacks(cc, missed_calls=True)
    # a call to the demo main line that rang out: no answer, caller hung up in the menu
    cc.gw.post("voice", {"CallSid": cc.sid(7), "AccountSid": "AC" + "0" * 32, "From": B, "To": "+15550001000",
                         "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"})
    cc.gw.post("status", {"CallSid": cc.sid(7), "AccountSid": "AC" + "0" * 32, "From": B, "To": "+15550001000",
                          "CallStatus": "completed", "Direction": "inbound", "ApiVersion": "2010-04-01"})
    report = cc.tick()
    assert report.missed_tasks == 1 and cc.book().open_for(B).reason == "no_answer"  # type: ignore[union-attr]
    assert cc.tick().missed_tasks == 0  # the same call never opens a second task


def test_a_redelivered_callback_key_press_keeps_the_one_callback(cc: CallCenter) -> None:
    cc.call(cc.sid(1), A)
    first = cc.poll(cc.sid(1), A, digits="1")
    again = cc.poll(cc.sid(1), A, digits="1")
    assert first == again and "you keep your place in line" in again
    assert [(e.call_sid, e.kind) for e in cc.line().line()] == [(cc.sid(1), "callback")]


def test_a_caller_reached_by_a_callback_counts_as_recovered(cc: CallCenter) -> None:
    # given A hangs up while waiting (10:00 New York), and the callback task reaches A on its second try,
    # whose status callback reports only the end of the call (60 s, completed)
    import json

    from chalice.test import Client

    from chalicelib.auth import create_api_key
    from chalicelib.server import load_app_module

    abandoned_then_first_attempt_unanswered(cc, waited=30)
    cc.clock.advance(301)
    assert cc.tick().started == 1
    cc.answer("201")
    cc.clock.advance(60)
    cc.customer_ends(A, "completed", 60)
    reached = cc.customer_leg(A).sid
    # then the missed-call recovery KPI counts A as reached by that call, 301 + 60 - 60 s after the missed call
    key, _ = create_api_key(cc.services, "demo", scopes=["*"], label="kpi")
    with Client(load_app_module().app) as client:
        body = json.loads(client.http.get("/api/v1/tenants/demo/stats/kpis?from=2026-11-24&to=2026-11-24",
                                          headers={"Authorization": f"Bearer {key}"}).body)
    kpi = body["missed_call_recovery"]
    assert (kpi["missed_callers"], kpi["reached"], kpi["rate"]) == (1, 1, 1.0)
    assert kpi["callers"] == [{"caller": A, "missed_call": cc.sid(1), "reached_by": reached, "seconds": 301.0}]
