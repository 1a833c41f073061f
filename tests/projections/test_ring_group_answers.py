"""Who answered a ring-group call: the gateway fetches the answer URL of the member whose device picked
up (on the new leg, before bridging it), and the figures credit that member. Worked out by hand."""

from __future__ import annotations

import csv
import io

from tests.conftest import call_params
from tests.projections.conftest import A, B, C
from tests.projections.scenario import Calls, actions, sid


def ring_group_morning(calls: Calls) -> None:
    """Tuesday 2026-11-24 from 15:00:00 UTC; every caller presses 1 (sales: 101 and 102 ring together).

    11 A: both ring 7 s, 102 picks up, they talk 50 s
    12 B: both ring 20 s, nobody answers, B leaves a 10 s message
    13 C: both ring 9 s, someone answers, talks 30 s: the gateway never fetched an answer URL
    """
    calls.inbound(sid(11), A, "1", menu=5, ring=7, talk=50, after=1, picked_up_by="102")
    calls.inbound(sid(12), B, "1", menu=5, ring=20, dial="no-answer", voicemail=10, after=1)
    calls.inbound(sid(13), C, "1", menu=5, ring=9, talk=30, after=1)


def test_the_member_who_picks_up_is_credited_and_the_other_is_not_charged_a_miss(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    ring_group_morning(Calls(gateway, clock))
    e = api.get("/stats/employees?from=2026-11-24&to=2026-11-24").json_body["employees"]
    figures = ("incoming_answered", "incoming_missed", "ring_seconds", "talk_seconds")
    # 102 answered call 11 (50 s); both missed call 12; both rang 7 + 20 + 9 s
    assert {k: e["102"][k] for k in figures} == {"incoming_answered": 1, "incoming_missed": 1,
                                                 "ring_seconds": 36.0, "talk_seconds": 50.0}
    assert {k: e["101"][k] for k in figures} == {"incoming_answered": 0, "incoming_missed": 1,
                                                 "ring_seconds": 36.0, "talk_seconds": 0.0}
    assert e["102"]["calls"]["incoming_answered"] == [sid(11)]
    # call 13 was answered by someone unknown: a miss for nobody (before, every member was charged one)
    assert e["101"]["calls"]["incoming_missed"] == e["102"]["calls"]["incoming_missed"] == [sid(12)]


def test_the_cdr_names_who_answered_and_their_leg(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    ring_group_morning(Calls(gateway, clock))
    cdrs = {c["sid"]: c for c in api.get("/cdrs?from=2026-11-24&to=2026-11-24").json_body["cdrs"]}
    (leg,) = cdrs[sid(11)]["legs"]
    assert (leg["answered_by"], leg["sid"], leg["ring"], leg["talk"]) == ("102", "CA" + sid(11)[2:][::-1], 7.0, 50.0)
    assert cdrs[sid(11)]["outcome"] == cdrs[sid(13)]["outcome"] == "answered"
    # answered when 102 picked up: 15:00:00 + 5 s of menu + 7 s of ringing
    assert cdrs[sid(11)]["answered_at"] == "2026-11-24T15:00:12.000000+00:00"
    assert cdrs[sid(13)]["legs"][0]["answered_by"] == "" and cdrs[sid(12)]["outcome"] == "voicemail"
    assert [cdrs[sid(n)]["answered_by"] for n in (11, 12, 13)] == [["102"], [], []]
    # and the CSV export says who picked up
    rows = csv.DictReader(io.StringIO(api.get("/cdrs?from=2026-11-24&format=csv").body.decode()))
    assert {r["sid"]: r["answered_by"] for r in rows} == {sid(11): "102", sid(12): "", sid(13): ""}


def test_the_live_view_shows_who_talks_to_whom_once_a_member_picks_up(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    # given A in the sales group's dial: first ringing, then 101 picks up (the dial lasts while they talk)
    menu = gateway.post("voice", call_params(sid(21), From=A))
    clock.advance(5)
    dial = gateway.follow(actions(menu.body)[0], call_params(sid(21), From=A, CallStatus="in-progress", Digits="1"))
    ringing = api.get("/live").json_body
    assert [(c["sid"], c["ringing"]) for c in ringing["calls"]] == [(sid(21), ["101", "102"])]
    assert ringing["talking"] == []
    clock.advance(4)
    calls.answer(dial.body, "101", "CA" + "5" * 32)
    # then the live view says who talks to whom, and nobody is ringing any more
    talking = api.get(f"/live?since={ringing['cursor']}").json_body
    assert [(c["sid"], c["ringing"]) for c in talking["calls"]] == [(sid(21), [])]
    assert talking["talking"] == [{"agent": "101", "call": sid(21), "with": A, "queue": ""}]
    assert talking["calls"][0]["outcome"] == "answered"  # while they talk, not "ringing" until the dial ends
