"""Per-extension outcomes of calls with several dial legs, worked out by hand (CDR legs built here;
how the legs are folded from events is tested in test_cdr_projection and test_ring_group_answers)."""

from __future__ import annotations

from typing import Any

from domain.projections.stats import device_map, employee_stats

CONFIG = {"extensions": {
    "100": {"devices": [{"type": "sip", "uri": "sip:100@pbx"}], "follow_me": {"mobile": "+15557770100"}},
    "101": {"devices": [{"type": "sip", "uri": "sip:101@pbx"}, {"type": "mobile", "number": "+15557770101"}]},
    "102": {"devices": [{"type": "client", "identity": "102"}]}}}


def leg(targets: list[str], status: str, ring: float, talk: float = 0.0, by: str = "") -> dict[str, Any]:
    return {"targets": targets, "status": status, "ring": ring, "talk": talk, "answered_by": by}


def cdr(sid: str, *legs: dict[str, Any]) -> dict[str, Any]:
    return {"sid": sid, "direction": "inbound", "from": "+15550002000", "answered_at": "", "talk": 0.0,
            "legs": list(legs), "picked_up_by": "", "transfers": [], "holds": []}


def figures(*cdrs: dict[str, Any]) -> dict[str, tuple[int, int, float, float]]:
    e = employee_stats(cdrs, device_map(CONFIG))
    return {ext: (p["incoming_answered"], p["incoming_missed"], p["ring_seconds"], p["talk_seconds"])
            for ext, p in e.items()}


def test_a_follow_me_answered_on_the_mobile_is_the_extensions_answer_not_a_miss() -> None:
    # the desk rang 15 s unanswered, then the follow-me mobile rang 5 s and 100 talked 60 s there
    call = cdr("CA1", leg(["100"], "no-answer", 15), leg(["+15557770100"], "completed", 5, 60, by="+15557770100"))
    assert figures(call) == {"100": (1, 0, 20.0, 60.0)}


def test_a_follow_me_nobody_answered_is_one_miss_for_the_extension() -> None:
    call = cdr("CA2", leg(["100"], "no-answer", 15), leg(["+15557770100"], "no-answer", 20))
    assert figures(call) == {"100": (0, 1, 35.0, 0.0)}


def test_a_sequential_group_charges_the_member_who_let_it_ring_out() -> None:
    # 101 rang 15 s without answering, then 102 answered after 4 s and talked 30 s
    call = cdr("CA3", leg(["101"], "no-answer", 15), leg(["102"], "completed", 4, 30, by="102"))
    assert figures(call) == {"101": (0, 1, 15.0, 0.0), "102": (1, 0, 4.0, 30.0)}


def test_a_simultaneous_group_is_a_miss_for_nobody_once_anyone_answers() -> None:
    answered = cdr("CA4", leg(["101", "102"], "completed", 6, 45, by="101"))
    unknown = cdr("CA5", leg(["101", "102"], "completed", 9, 20))  # the answer URL never came
    missed = cdr("CA6", leg(["101", "102"], "no-answer", 20))
    assert figures(answered, unknown, missed) == {"101": (1, 1, 35.0, 45.0), "102": (0, 1, 35.0, 0.0)}


def test_a_call_forwarded_to_an_extensions_mobile_device_counts_for_it() -> None:
    call = cdr("CA7", leg(["101"], "busy", 1), leg(["+15557770101"], "completed", 3, 12, by="+15557770101"))
    assert figures(call) == {"101": (1, 0, 4.0, 12.0)}
