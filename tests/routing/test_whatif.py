"""What-if: the recorded calls of a period replayed through a draft plan, per call and in total."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from chalicelib.cli import main
from chalicelib.commands.whatif import recorded_calls, run_whatif
from chalicelib.demo import demo_plan
from tests.conftest import Gateway
from tests.routing.pbx import Call, sid

TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _record_tuesday(services, clock) -> None:  # type: ignore[no-untyped-def]
    """Four demo calls on Tuesday, one on Wednesday."""
    gateway = Gateway(services)
    clock.now = TUESDAY
    sales = Call(gateway, sid(1), From="+15550002001")
    sales.start()
    sales.press("1")
    sales.dial_ended("no-answer")
    sales.reply(RecordingUrl="https://gw/rec/RE1", RecordingDuration="9")
    clock.advance(600)
    support = Call(gateway, sid(2), From="+15550002002")
    support.start()
    support.press("2")
    support.dial_ended("completed", DialCallDuration="120")
    clock.advance(600)
    Call(gateway, sid(3), From="+15550009999").start()  # black-listed
    clock.advance(600)
    lost = Call(gateway, sid(4), From="+15550002004")
    lost.start()
    lost.reply()
    lost.press("9")  # nothing, then a wrong key: the operator
    lost.dial_ended("completed")
    clock.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    Call(gateway, sid(5), From="+15550002005").start()


def _draft() -> dict:  # type: ignore[type-arg]
    """Sales goes to Sam alone, support straight to voicemail."""
    plan = copy.deepcopy(demo_plan())
    menu = plan["root"]["children"]["_"]["children"]
    menu["1"] = {"id": "sam", "action": "ring_extension", "data": {"extension": "101"},
                 "children": {"_": {"id": "sam-vm", "action": "voicemail", "data": {"box": "101"}}}}
    menu["2"] = {"id": "support-vm", "action": "voicemail", "data": {"box": "103"}}
    return plan


def test_recorded_calls_carry_the_callers_inputs_in_order(services, clock) -> None:  # type: ignore[no-untyped-def]
    _record_tuesday(services, clock)
    calls = recorded_calls(services, "demo", "main", TUESDAY, datetime(2026, 11, 25, 5, 0, tzinfo=UTC))
    assert [c.call_sid for c in calls] == [sid(1), sid(2), sid(3), sid(4)]
    assert calls[0].digits == ("1",) and calls[0].dials[0]["DialCallStatus"] == "no-answer"
    assert calls[3].digits == ("", "9")


def test_draft_changes_exactly_the_calls_it_routes_differently(services, clock) -> None:  # type: ignore[no-untyped-def]
    _record_tuesday(services, clock)
    tenant = services.tenants.get("demo")
    report = run_whatif(services, tenant, _draft(), "main", TUESDAY, datetime(2026, 11, 25, 5, 0, tzinfo=UTC))
    by_sid = {c.call_sid: c for c in report.calls}
    assert report.total == 4 and report.changed == 2
    assert (by_sid[sid(1)].before, by_sid[sid(1)].after) == ("voicemail sales", "voicemail 101")
    assert by_sid[sid(1)].after_path == ("screen", "menu", "menu", "sam", "sam", "sam-vm", "sam-vm")
    assert (by_sid[sid(2)].before, by_sid[sid(2)].after) == ("answered by 103", "voicemail 103")
    assert not by_sid[sid(3)].changed and by_sid[sid(3)].after == "rejected"
    assert not by_sid[sid(4)].changed and by_sid[sid(4)].after == "answered by 100"
    assert report.moves() == {("voicemail sales", "voicemail 101"): 1, ("answered by 103", "voicemail 103"): 1}


def test_the_published_plan_itself_changes_nothing(services, clock) -> None:  # type: ignore[no-untyped-def]
    _record_tuesday(services, clock)
    tenant = services.tenants.get("demo")
    report = run_whatif(services, tenant, demo_plan(), "main", TUESDAY, datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
    assert report.total == 5 and report.changed == 0
    assert all(c.before_path == c.after_path for c in report.calls)


def test_draft_asking_for_input_the_caller_never_gave_says_what_it_assumed(services, clock) -> None:  # type: ignore[no-untyped-def]
    _record_tuesday(services, clock)
    draft = _draft()
    draft["root"]["children"]["_"]["children"]["2"] = {"id": "sub", "action": "ivr_menu", "data": {"text": "Press 1."},
                                                       "children": {"1": "operator"}}
    tenant = services.tenants.get("demo")
    report = run_whatif(services, tenant, draft, "main", TUESDAY, datetime(2026, 11, 25, 5, 0, tzinfo=UTC))
    support = next(c for c in report.calls if c.call_sid == sid(2))
    assert support.after == "waiting at sub (ivr_menu)"
    assert support.assumptions == ("sub: the caller's input is not in the recording; assumed they hung up",)


def test_cli_whatif_reports_per_call_and_total(services, clock, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _record_tuesday(services, clock)
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps(_draft()))
    assert main(["whatif", "--plan", str(draft), "--from", "2026-11-24", "--to", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("4 calls replayed, 2 would have gone differently")
    assert f"* 2026-11-24T15:00:00  {sid(1)}  +15550002001   voicemail sales  ->  voicemail 101" in out
    assert "      1  answered by 103  ->  voicemail 103" in out
    assert main(["whatif", "--plan", str(draft), "--from", "2026-11-24", "--to", "2026-11-25", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"] == 5 and doc["changed"] == 2


def test_cli_whatif_refuses_a_broken_draft_naming_the_node(services, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({"root": {"id": "x", "action": "ring_extension", "data": {}}}))
    assert main(["whatif", "--plan", str(draft), "--from", "2026-11-24", "--to", "2026-11-24"]) == 2
    assert "node 'x'" in capsys.readouterr().out


def test_replay_uses_the_time_each_call_arrived(services, clock) -> None:  # type: ignore[no-untyped-def]
    _record_tuesday(services, clock)  # calls at 10:00, 10:10, 10:20, 10:30 New York
    from domain.tenant import TenantConfigPatched
    services.tenants.append("demo", [TenantConfigPatched(path=["schedules", "late"], patch={
        "weekly": {"tue": [["10:15", "18:00"]]}}, actor="test")], services.store.stream_version("tenant-demo"))
    draft = {"root": {"id": "hours", "action": "schedule", "data": {"schedule": "late"}, "children": {
        "open": {"id": "op", "action": "ring_extension", "data": {"extension": "100"}},
        "closed": {"id": "closed", "action": "answer_message", "data": {"text": "We open at 10:15."}}}}}
    tenant = services.tenants.get("demo")
    report = run_whatif(services, tenant, draft, "main", TUESDAY, datetime(2026, 11, 25, 5, 0, tzinfo=UTC))
    after = {c.call_sid: c for c in report.calls}
    assert after[sid(1)].after == "message played" and after[sid(2)].after == "message played"
    assert after[sid(4)].after == "answered by 100"  # 10:30: open, and the recorded dial was answered
    # 10:20: open, but that caller was rejected before any dial: the replay says what it assumed
    assert after[sid(3)].after == "ended at op (ring_extension, no_answer)"
    assert after[sid(3)].assumptions == ("op: more dials than recorded; assumed no-answer",)
