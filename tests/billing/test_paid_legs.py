"""Calls that leave the tenant through a dial leg (a forwarding rule's number, a device that is a phone
number) are paid legs: rated per minute like an outbound call to that number, and counted, in the
figures, as the extension's whose rule or device it was. Worked out by hand, through the webhook path."""

from __future__ import annotations

import json

from domain.billing.rating import paid_legs
from domain.tenant import TenantConfigured
from tests.conftest import TOKEN
from tests.projections.conftest import HERE, A, B, C
from tests.projections.scenario import Calls, sid

UK_MOBILE, UK_LANDLINE = "+447700900123", "+442071234567"


def configure(services) -> None:  # type: ignore[no-untyped-def]
    """103 forwards every call to a UK mobile; 101's desk rings with a UK landline (a 'number' device)."""
    config = json.loads((HERE / "tenant.json").read_text())
    config["gateway"]["auth_token"] = TOKEN
    config["extensions"]["103"]["forwarding"] = {"unconditional": UK_MOBILE}
    config["extensions"]["101"]["devices"].append({"type": "number", "number": UK_LANDLINE})
    services.tenants.append("demo", [TenantConfigured(config=config, actor="test")],
                            expected_version=services.store.stream_version("tenant-demo"))


def morning(calls: Calls) -> None:
    """Tuesday 2026-11-24 from 15:00 UTC.

    21 A presses 2: 103's rule forwards to the UK mobile, answered there, 61 s of talk
    22 B presses 2: forwarded to the UK mobile, nobody answers (voicemail)
    23 C presses 1: sales rings 101 (SIP, landline) and 102; the landline answers, 30 s of talk
    24 A presses 1: 102's app answers, 40 s of talk
    """
    calls.inbound(sid(21), A, "2", ring=6, talk=61, picked_up_by=UK_MOBILE)
    calls.inbound(sid(22), B, "2", ring=20, dial="no-answer", voicemail=8)
    calls.inbound(sid(23), C, "1", ring=4, talk=30, picked_up_by="101", device=UK_LANDLINE)
    calls.inbound(sid(24), A, "1", ring=5, talk=40, picked_up_by="102")


def test_a_leg_answered_at_a_phone_number_is_rated_and_one_answered_at_a_device_is_free(
        api, services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    configure(services)
    morning(Calls(gateway, clock))
    inv = api.get("/bills/2026-11?details=1").json_body
    lines = {(line["kind"], line.get("prefix")): line for line in inv["lines"]}
    # 4 inbound calls, none outbound: the plan's tier up to 200 calls, 29.00
    assert lines[("plan", None)]["quantity"] == 4 and lines[("plan", None)]["amount"] == "29.00"
    # call 21: 61 s to +447 -> 120 s billed x 0.090/min = 0.18; call 23: 30 s to +44 -> 60 s x 0.020 = 0.02;
    # call 22 (not answered) and call 24 (an app) cost nothing
    mobile, landline = lines[("forwarded_minutes", "447")], lines[("forwarded_minutes", "44")]
    assert (mobile["amount"], mobile["quantity"], landline["amount"], landline["quantity"]) == \
        ("0.18", "2.00", "0.02", "1.00")
    assert [(i["call"], i["to"], i["seconds"], i["billed_seconds"]) for i in mobile["items"]] == \
        [(sid(21), UK_MOBILE, 61, 120)]
    assert [(i["call"], i["to"], i["seconds"]) for i in landline["items"]] == [(sid(23), UK_LANDLINE, 30)]
    assert mobile["description"].startswith("Calls forwarded to") and inv["total"] == "29.20"
    assert not any(line["kind"] == "minutes" for line in inv["lines"]) and inv["unrated_calls"] == []
    # each item names the call's leg it charges, and that leg is the answered one
    cdr = api.get(f"/cdrs?from=2026-11-24&to=2026-11-24&calls={sid(21)}").json_body["cdrs"][0]
    leg = cdr["legs"][mobile["items"][0]["leg"]]
    assert (leg["status"], leg["talk"], leg["device"], leg["forwarded_for"]) == ("completed", 61.0, UK_MOBILE, "103")


def test_a_forwarded_call_counts_for_the_extension_whose_rule_forwarded_it(api, services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    configure(services)
    morning(Calls(gateway, clock))
    e = api.get("/stats/employees?from=2026-11-24&to=2026-11-24").json_body["employees"]
    # 103 answered call 21 on the mobile (61 s) and missed call 22 there (rang 6 + 20 s); before, both
    # counted under the mobile's number and 103 had nothing
    assert (e["103"]["incoming_answered"], e["103"]["incoming_missed"], e["103"]["talk_seconds"],
            e["103"]["ring_seconds"]) == (1, 1, 61.0, 26.0)
    assert e["103"]["calls"]["incoming_answered"] == [sid(21)] and UK_MOBILE not in e
    # the landline is 101's device: 101 answered call 23
    assert e["101"]["calls"]["incoming_answered"] == [sid(23)] and e["102"]["calls"]["incoming_answered"] == [sid(24)]
    # and the call log finds the forwarded calls under 103, with 103 as who answered call 21
    cdrs = api.get("/cdrs?from=2026-11-24&to=2026-11-24&extension=103").json_body["cdrs"]
    assert sorted(c["sid"] for c in cdrs) == [sid(21), sid(22)]
    assert next(c for c in cdrs if c["sid"] == sid(21))["answered_by"] == ["103"]


def test_which_legs_are_paid() -> None:
    def leg(targets: list[str], status: str = "completed", talk: float = 10, by: str = "", device: str = "") -> dict:  # type: ignore[type-arg]
        return {"targets": targets, "status": status, "talk": talk, "answered_by": by, "device": device}

    cdr = {"legs": [
        leg(["101"], by="101", device="sip:101@pbx"),  # a SIP phone: free
        leg(["101"], by="101", device=UK_LANDLINE),  # a device that is a number: paid
        leg([UK_MOBILE], by=UK_MOBILE),  # a forward reported by its answer URL: paid
        leg([UK_MOBILE]),  # a forward, no answer URL came: the only target, paid
        leg(["101", UK_MOBILE]),  # answered, nobody knows where: never charged on a guess
        leg([UK_MOBILE], status="no-answer", talk=0),  # not answered: free
        leg([UK_MOBILE], talk=0),  # answered, hung up at once: nothing to rate
        leg(["102"], by="102", device="client:102"),  # the app: free
    ]}
    assert [(i, number) for i, _, number in paid_legs(cdr)] == [(1, UK_LANDLINE), (2, UK_MOBILE), (3, UK_MOBILE)]
