"""CallState snapshots: a snapshot of the fold of any prefix, folded with the rest, is the fold of all."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields, make_dataclass

import orjson
import pytest

from chalicelib.envelopes import decode_all
from domain.calls.state import SNAPSHOT_SCHEMA, CallState, fold, from_snapshot, snapshot_schema, to_snapshot
from tests.conftest import Gateway, call_params

SID = "CA" + "5" * 32


def actions(xml: str) -> list[str]:
    return re.findall(r'action="([^"]+)"', xml)


def sales_voicemail_with_status_out_of_order(gw: Gateway) -> None:
    menu = gw.post("voice", call_params(SID))
    gw.post("status", call_params(SID, CallStatus="in-progress", SequenceNumber="2"))
    gw.post("status", call_params(SID, CallStatus="ringing", SequenceNumber="1"))  # late: ignored by the machine
    dial = gw.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress", Digits="1"))
    vm = gw.follow(actions(dial.body)[0], call_params(SID, CallStatus="in-progress", DialCallStatus="no-answer"))
    gw.follow(actions(vm.body)[0], call_params(SID, CallStatus="in-progress", RecordingUrl="https://gw/rec/RE1",
                                               RecordingDuration="9", RecordingSid="RE1"))
    gw.post("status", call_params(SID, CallStatus="completed", CallDuration="40", SequenceNumber="4"))
    gw.post("status", call_params(SID, CallStatus="in-progress", SequenceNumber="3"))  # after the end


def no_input_twice_then_operator_with_a_redelivery(gw: Gateway) -> None:
    menu = gw.post("voice", call_params(SID))
    again = gw.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress"))
    gw.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress"))  # the gateway retried
    gw.follow(actions(again.body)[0], call_params(SID, CallStatus="in-progress"))
    gw.post("status", call_params(SID, CallStatus="no-answer", SequenceNumber="5"))


def support_dial_then_voicemail(gw: Gateway) -> None:
    menu = gw.post("voice", call_params(SID))
    dial = gw.follow(actions(menu.body)[0], call_params(SID, CallStatus="in-progress", Digits="2"))
    vm = gw.follow(actions(dial.body)[0], call_params(SID, CallStatus="in-progress", DialCallStatus="busy"))
    gw.follow(actions(vm.body)[0], call_params(SID, CallStatus="in-progress", RecordingUrl="https://gw/rec/RE2",
                                               RecordingDuration="3", RecordingSid="RE2"))


@pytest.mark.parametrize("scenario", [sales_voicemail_with_status_out_of_order,
                                      no_input_twice_then_operator_with_a_redelivery,
                                      support_dial_then_voicemail])
def test_a_snapshot_at_every_split_point_folds_on_to_the_same_state(
        gateway: Gateway, scenario: Callable[[Gateway], None]) -> None:
    # given a real call's events, as the store gives them back
    scenario(gateway)
    stored, _ = gateway.services.store.load(f"call-{SID}")
    events = decode_all(stored)
    everything = fold(events)
    assert len(events) >= 6 and everything.step > 0
    for split in range(len(events) + 1):
        # when the fold of the first `split` events goes through a snapshot (and JSON text)
        text = orjson.dumps(to_snapshot(fold(events[:split])))
        restored = from_snapshot(orjson.loads(text))
        # then folding the rest on top of it gives the fold of every event
        assert fold(events[split:], restored) == everything, split


def every_field_set() -> CallState:
    return CallState(call_sid="CA1", tenant_id="demo", from_number="+1555", to_number="+1666", direction="inbound",
                     status="in-progress", status_seq=4, plan_id="main", plan_version=3, step=7, awaiting="menu",
                     scratch={"menu": {"tries": 2, "said": ["a", "b"]}},
                     responses={"r1": ({"verb": "Say", "text": "hi"},), "r2": ()},
                     last_request="r1", last_instructions=({"verb": "Hangup"},), digits=("1", "2"), voicemails=1)


def test_every_field_round_trips_with_its_type() -> None:
    # given a state where no field has its default (a new field must be added here too)
    state = every_field_set()
    assert all(getattr(state, f.name) != getattr(CallState(), f.name) for f in fields(CallState))
    # when it goes to JSON text and back
    back = from_snapshot(orjson.loads(orjson.dumps(to_snapshot(state))))
    # then it is equal, tuples are tuples again, and the snapshot itself was plain JSON data
    assert back == state
    assert isinstance(back.digits, tuple) and isinstance(back.responses["r1"], tuple)
    assert to_snapshot(state)["digits"] == ["1", "2"] and to_snapshot(state)["responses"]["r1"] == [
        {"verb": "Say", "text": "hi"}]


def test_nested_tuples_of_a_freshly_decided_state_become_lists() -> None:
    state = CallState(last_instructions=({"verb": "Dial", "targets": ("101", "102")},))
    assert to_snapshot(state)["last_instructions"] == [{"verb": "Dial", "targets": ["101", "102"]}]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("digits"), r"missing \['digits'\]"),
    (lambda d: d.update(colour="red"), r"unknown \['colour'\]"),
    (lambda d: d.update(step="7"), "'step' is str, expected int"),
    (lambda d: d.update(status_seq=True), "'status_seq' is bool, expected int"),
    (lambda d: d.update(responses={"r1": "Say"}), "'responses.r1' is str, expected list"),
    (lambda d: d.update(scratch=[]), "'scratch' is list, expected dict"),
])
def test_a_snapshot_of_another_shape_is_refused_naming_the_field(
        change: Callable[[dict[str, object]], object], message: str) -> None:
    doc = to_snapshot(every_field_set())
    change(doc)
    with pytest.raises(ValueError, match=message):
        from_snapshot(doc)


def test_the_schema_changes_with_a_field_its_type_or_the_manual_version() -> None:
    # given dataclasses shaped like CallState, one with an extra field, one with a field retyped
    shape = [(f.name, f.type) for f in fields(CallState)]
    same = make_dataclass("Same", shape)
    extra = make_dataclass("Extra", [*shape, ("holds", "int")])
    retyped = make_dataclass("Retyped", [(name, "str" if name == "step" else kind) for name, kind in shape])
    # then only the same shape at the same manual version has CallState's schema
    assert snapshot_schema(same) == SNAPSHOT_SCHEMA and SNAPSHOT_SCHEMA.startswith("callstate-1-")
    schemas = {SNAPSHOT_SCHEMA, snapshot_schema(extra), snapshot_schema(retyped), snapshot_schema(CallState, version=2)}
    assert len(schemas) == 4
