"""Hold time and transfers in CDRs and per-employee figures (events of the routing features)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from chalicelib.envelopes import wrap
from domain.actions.call_features import CallHeld, CallPickedUp, CallResumed, CallTransferred
from domain.calls.events import CallStarted, CallStatusChanged, DialEnded, StepDecided
from domain.projections import calls
from domain.projections.base import fold_stream
from domain.projections.stats import employee_stats

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DEVICES = {"sip:103@demo.sip.vpbx.local": "103", "103": "103", "101": "101", "100": "100"}


def stream(sid: str, timeline: list[tuple[int, object]]) -> list:  # type: ignore[type-arg]
    ids = itertools.count(1)
    out = []
    for seconds, e in timeline:
        out += wrap([e], tenant_id="demo", stream_id=f"call-{sid}", expected_version=len(out),  # type: ignore[list-item]
                    now=T0 + timedelta(seconds=seconds), new_id=lambda: f"{sid}-{next(ids)}", correlation_id="r")
    return out


def test_hold_time_and_a_blind_transfer_are_counted_for_the_agent_who_did_them() -> None:
    # given 103 answers after 8 s, holds the caller 15 s (t=40..55), resumes, holds 10 s more (t=70..80),
    # then transfers the caller to 101 (t=90); the call's first leg ends there
    events = stream("CA1", [
        (0, CallStarted(call_sid="CA1", from_number="+15550002001", to_number="+15550001000")),
        (5, StepDecided(step=1, node="support", action="ring_extension", awaiting=True, inputs={"targets": ["103"]},
                        instructions=[{"verb": "Dial", "targets": []}])),
        (40, CallHeld(by="sip:103@demo.sip.vpbx.local")),
        (55, CallResumed(to="103", by="sip:103@demo.sip.vpbx.local")),
        (70, CallHeld(by="103")),
        (80, CallResumed(to="103", by="103")),
        (90, CallTransferred(to="101", kind="attended", by="103", state="consulting")),
        (95, CallTransferred(to="101", kind="blind", by="103")),
        (95, DialEnded(node="support", dial_status="completed", duration=82, targets=["103"])),
        (200, CallStatusChanged(status="completed", duration=200)),
    ])
    cdr = fold_stream(calls.projection(), events)
    assert cdr is not None
    assert cdr["hold"] == 25.0 and [h["seconds"] for h in cdr["holds"]] == [15.0, 10.0]
    assert [(t["by"], t["to"]) for t in cdr["transfers"]] == [("103", "101")]  # the consulting step is not one
    figures = employee_stats([cdr], DEVICES)["103"]
    assert (figures["hold_seconds"], figures["transfers"], figures["calls"]["transfers"]) == (25.0, 1, ["CA1"])
    assert (figures["incoming_answered"], figures["ring_seconds"], figures["talk_seconds"]) == (1, 8.0, 82.0)


def test_a_call_hung_up_on_hold_ends_its_hold_with_the_call() -> None:
    events = stream("CA2", [
        (0, CallStarted(call_sid="CA2", from_number="+15550002002", to_number="+15550001000")),
        (30, CallHeld(by="100")),
        (42, CallStatusChanged(status="completed", duration=42)),
    ])
    cdr = fold_stream(calls.projection(), events)
    assert cdr is not None and cdr["hold"] == 12.0 and cdr["holding"] is None


def test_a_picked_up_call_counts_as_answered_by_the_one_who_picked_it_up() -> None:
    events = stream("CA3", [
        (0, CallStarted(call_sid="CA3", from_number="+15550002003", to_number="+15550001000")),
        (5, StepDecided(step=1, node="sales", action="ring_group", awaiting=True,
                        inputs={"targets": ["101", "102"]}, instructions=[{"verb": "Dial", "targets": []}])),
        (9, CallPickedUp(by="100", mode="group")),
        (60, CallStatusChanged(status="completed", duration=60)),
    ])
    cdr = fold_stream(calls.projection(), events)
    assert cdr is not None and cdr["outcome"] == "answered" and cdr["picked_up_by"] == "100"
    assert employee_stats([cdr], DEVICES)["100"]["incoming_answered"] == 1
