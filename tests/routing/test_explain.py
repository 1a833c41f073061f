"""Explain: "why did this call go to voicemail at 18:02?" answered from the call's events, over
the API (own tenant only) and on the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from chalicelib import auth
from chalicelib.cli import main
from chalicelib.server import load_app_module
from tests.conftest import Gateway
from tests.routing.pbx import Call, make_tenant, sid

SID = sid(0x1802)


@pytest.fixture
def voicemail_call(services, clock):  # type: ignore[no-untyped-def]
    """A demo call at 18:02 New York: menu, 1 for sales, nobody answers, voicemail left."""
    clock.now = datetime(2026, 11, 24, 23, 2, tzinfo=UTC)
    call = Call(Gateway(services), SID)
    call.start()
    clock.advance(4)
    call.press("1")
    clock.advance(20)
    call.dial_ended("no-answer")
    clock.advance(15)
    call.reply(RecordingUrl="https://gw/rec/RE1", RecordingDuration="11", RecordingSid="RE1")
    return call


def _get(services, path: str, key: str | None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with Client(load_app_module().app) as client:
        return client.http.get(path, headers=headers)


def test_explain_lists_every_step_with_inputs_branch_and_instructions(services, voicemail_call) -> None:  # type: ignore[no-untyped-def]
    key, _ = auth.create_api_key(services, "demo", scopes=["calls.read"], actor="test")
    resp = _get(services, f"/api/v1/calls/{SID}/explain", key)
    assert resp.status_code == 200
    doc = json.loads(resp.body)
    assert doc["outcome"] == "voicemail sales"
    assert doc["plan"] == {"id": "main", "version": 1}
    rows = [(s["node"], s["action"], s["branch"], s["awaiting"]) for s in doc["steps"]]
    assert rows == [("screen", "list_check", "_", False), ("menu", "ivr_menu", "", True),
                    ("menu", "ivr_menu", "1", False), ("sales", "ring_group", "", True),
                    ("sales", "ring_group", "no_answer", False), ("sales-voicemail", "voicemail", "", True),
                    ("sales-voicemail", "voicemail", "", False)]
    pressed = doc["steps"][2]
    assert pressed["inputs"]["digits"] == "1" and pressed["at"].startswith("2026-11-24T23:02:04")
    ring = doc["steps"][3]
    assert ring["inputs"]["targets"] == ["101", "102"] and ring["emitted"].startswith("Dial(sip:101@")
    assert all(s["plan_version"] == 1 for s in doc["steps"])
    assert [e["event"] for e in doc["events"]] == ["DigitsGathered", "DialEnded", "VoicemailLeft"]


def test_explain_needs_credentials_and_the_calls_read_permission(services, voicemail_call) -> None:  # type: ignore[no-untyped-def]
    assert _get(services, f"/api/v1/calls/{SID}/explain", None).status_code == 401
    key, _ = auth.create_api_key(services, "demo", scopes=["config.read"], actor="test")
    assert _get(services, f"/api/v1/calls/{SID}/explain", key).status_code == 403


def test_another_tenant_cannot_see_the_call_not_even_that_it_exists(services, voicemail_call) -> None:  # type: ignore[no-untyped-def]
    make_tenant(services, "other", {"root": {"action": "hangup"}})
    key, _ = auth.create_api_key(services, "other", scopes=["calls.read"], actor="test")
    resp = _get(services, f"/api/v1/calls/{SID}/explain", key)
    assert resp.status_code == 404
    unknown = _get(services, f"/api/v1/calls/{sid(999)}/explain", key)
    assert unknown.status_code == 404 and json.loads(unknown.body) == {
        "errors": [{"message": f"no call {sid(999)!r} in this tenant", "pointer": "/sid"}]}


def test_cli_explain_answers_why_it_went_to_voicemail_at_18_02(services, voicemail_call, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", SID]) == 0
    out = capsys.readouterr().out
    assert "outcome: voicemail sales" in out
    assert "started 18:02:00 America/New_York, plan main v1" in out
    assert "18:02:24  v1  sales (ring_group)" in out
    assert 'inputs: dial_status="no-answer" targets=["101","102"]' in out
    assert "-> branch no_answer" in out


def test_cli_explain_unknown_call_says_so(services, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", sid(12345)]) == 1
    assert "no events" in capsys.readouterr().out


def test_explain_shows_the_time_a_schedule_saw(services, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 11, 24, 23, 2, tzinfo=UTC)
    plan = {"root": {"id": "hours", "action": "schedule", "data": {"schedule": "office"},
                     "children": {"open": {"id": "op", "action": "ring_extension", "data": {"extension": "100"}},
                                  "closed": {"id": "vm", "action": "voicemail", "data": {"box": "100"}}}}}
    gateway = make_tenant(services, "acme", plan, schedules={"office": {"weekly": {"tue": [["09:00", "18:00"]]}}})
    Call(gateway, sid(5)).start()
    from chalicelib.explain import load_explanation
    doc = load_explanation(services, sid(5))
    assert doc is not None
    first = doc["steps"][0]
    assert first["branch"] == "closed" and first["inputs"]["local_time"].startswith("2026-11-24T18:02")
