"""CDRs folded from scripted calls: outcome, ring and talk time, legs, and the events behind them."""

from __future__ import annotations

from chalicelib.projections.log import run_log
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from domain.projections import calls
from tests.projections.scenario import Calls, sid


def cdrs(services, tmp_path) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    out = SQLiteProjectionStore(tmp_path / "p.sqlite")
    run_log(Runner(out, [calls.projection()]), services.store)  # SQLite: the raw-row fast path
    return {c["sid"]: c for c in out.states("calls", "demo")}


def test_answered_call_has_ring_and_talk_time_from_the_webhooks(services, gateway, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # given a caller who presses 2 after 6 s; extension 103 rings 8 s, then they talk 95 s
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", menu=6, ring=8, talk=95, after=1)
    # when the log is folded
    c = cdrs(services, tmp_path)[sid(1)]
    # then
    assert c["outcome"] == "answered" and c["status"] == "completed"
    assert c["ring"] == 8.0 and c["talk"] == 95.0 and c["duration"] == 110
    assert c["legs"][0]["targets"] == ["103"] and c["legs"][0]["answered_by"] == "103"
    assert c["answered_at"] == "2026-11-24T15:00:14.000000+00:00"
    stored, _ = services.store.load(f"call-{sid(1)}")
    # the events that shaped the record: the start, the step that dialled, the dial's end, the statuses
    shaped = [e for e in stored if e.event_type in calls.HANDLERS and (
        e.event_type != "StepDecided" or any(i["verb"] == "Dial" for i in e.data["instructions"]))]
    assert c["events"] == [e.event_id for e in shaped]
    assert [e.event_type for e in shaped] == ["CallStarted", "StepDecided", "DialEnded", "CallStatusChanged"]


def test_unanswered_call_that_leaves_a_voicemail_is_missed_with_its_recording(services, gateway, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    Calls(gateway, clock).inbound(sid(2), "+15550002002", "1", ring=20, dial="no-answer", voicemail=12)
    c = cdrs(services, tmp_path)[sid(2)]
    assert c["outcome"] == "voicemail" and c["ring"] == 20.0 and c["talk"] == 0.0
    assert c["legs"][0]["targets"] == ["101", "102"] and c["legs"][0]["answered_by"] == ""
    assert c["voicemail"]["box"] == "sales" and c["recordings"] == [f"https://gw/rec/RE{sid(2)[2:]}"]


def test_a_late_status_callback_does_not_reopen_a_finished_call(services, gateway, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = Calls(gateway, clock)
    script.outbound(sid(3), "client:102", "+442071234567", ring=4, talk=30)
    script.seq = 0  # a ringing callback delivered after completed, with an old sequence number
    script.status(sid(3), "ringing", From="client:102", To="+442071234567", Direction="outbound-api")
    c = cdrs(services, tmp_path)[sid(3)]
    assert c["status"] == "completed" and c["outcome"] == "answered" and c["talk"] == 30.0


def test_an_old_schema_version_is_upcast_before_the_fold(services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # given a CallStarted stored at schema v1 (it named the parties "from"/"to")
    from domain.events import StoredEvent

    old = StoredEvent(tenant_id="demo", stream_id="call-CAOLD", version=1, event_id="old-1", event_type="CallStarted",
                      schema_version=1, occurred_at="2026-11-24T15:00:00.000000+00:00",
                      recorded_at="2026-11-24T15:00:00.000000+00:00", correlation_id="r", causation_id="r",
                      data={"call_sid": "CAOLD", "from": "+15550002001", "to": "+15550001000"})
    services.store.append("call-CAOLD", [old], 0)
    # when the log is replayed through the SQLite fast path
    c = cdrs(services, tmp_path)["CAOLD"]
    # then the fold saw the current shape
    assert (c["from"], c["to"]) == ("+15550002001", "+15550001000")


def test_a_dial_whose_start_was_not_seen_rings_zero_seconds_and_answers_at_its_end() -> None:
    # given a DialEnded with no StepDecided that dialled before it, and a second dial whose reported talk
    # time is longer than the dial lasted (the gateway's clock and ours disagree)
    from domain.events import StoredEvent
    from domain.projections.base import fold_stream

    def ev(v: int, etype: str, at: str, data: dict) -> StoredEvent:  # type: ignore[type-arg]
        return StoredEvent(tenant_id="demo", stream_id="call-CAX", version=v, event_id=f"x-{v}", event_type=etype,
                           schema_version=2 if etype == "CallStarted" else 1, occurred_at=f"2026-11-24T15:{at}+00:00",
                           recorded_at="", correlation_id="", causation_id="", data=data)

    events = [ev(1, "CallStarted", "00:00.000000", {"from_number": "+1555", "to_number": "+1556"}),
              ev(2, "DialEnded", "00:30.000000", {"node": "a", "dial_status": "completed", "duration": 12,
                                                  "targets": ["101"]}),
              ev(3, "StepDecided", "00:40.000000", {"awaiting": True, "node": "b", "inputs": {"targets": [102]},
                                                    "instructions": [{"verb": "Dial"}]}),
              ev(4, "DialEnded", "00:45.000000", {"node": "b", "dial_status": "completed", "duration": 9})]
    # when they are folded
    c = fold_stream(calls.projection(), events)
    assert c is not None
    # then the first leg has no ring time and was answered when it ended; the second rang max(0, 5 - 9) = 0 s
    first, second = c["legs"]
    assert (first["start"], first["ring"], first["answered_by"]) == (first["end"], 0.0, "101")
    assert c["answered_at"] == "2026-11-24T15:00:30.000000+00:00"
    assert (second["start"], second["ring"], second["talk"], second["targets"]) == (
        "2026-11-24T15:00:40.000000+00:00", 0.0, 9.0, ["102"])
    assert (c["ring"], c["talk"], c["events"]) == (0.0, 21.0, ["x-1", "x-2", "x-3", "x-4"])
