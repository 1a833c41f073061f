"""The tenant's dial plan: an outside-line prefix and speed dials for employees' phones, set in the settings."""

from __future__ import annotations

from tests.api.conftest import Api, body, errors
from tests.conftest import call_params

DESK_101 = "sip:101@demo.sip.vpbx.local"


def dial(gateway, n: int, to: str) -> str:  # type: ignore[no-untyped-def]
    """101's desk phone dials ``to`` (a SIP URI on the tenant's domain); vpbx's answer."""
    return str(gateway.post("voice", call_params(f"CA{n:032x}", From=DESK_101, To=f"sip:{to}@demo.sip.vpbx.local")).body)


def test_an_outside_prefix_and_speed_dials_route_desk_phone_calls_and_911_stays_911(api: Api, gateway) -> None:
    # given the company dials 9 for an outside line and has two speed dials
    plan = {"outside_prefix": "9", "speed_dials": {"11": "+12025550143", "12": "+442071234567"}}
    assert body(api.patch("/settings", {"dial_plan": plan}))["dial_plan"] == plan
    # when 101's phone dials 9 then a national number, the number without the 9, or a speed dial
    for n, to in enumerate(("92025550188", "2025550188")):
        assert ">+12025550188</Number>" in dial(gateway, 70 + n, to)
    assert ">+12025550143</Number>" in dial(gateway, 72, "11")
    # then a speed dial abroad is still within 101's dial_out (national by default): barred, with the reason
    assert "not allowed to call this number" in dial(gateway, 73, "12")
    # and the emergency number is dialled as dialled, with or without the prefix
    assert ">911</Number>" in dial(gateway, 74, "911") and ">911</Number>" in dial(gateway, 75, "9911")
    # and an extension is still an extension
    assert ">102</Client>" in dial(gateway, 76, "102")


def test_a_speed_dial_that_is_an_extension_or_an_emergency_number_is_refused_by_name(api: Api) -> None:
    found = errors(api.patch("/settings", {"dial_plan": {"speed_dials": {"101": "+12025550143",
                                                                          "911": "+12025550143"}}}))
    assert "is an extension" in found["/dial_plan/speed_dials/101"]
    assert "emergency number" in found["/dial_plan/speed_dials/911"]
    assert errors(api.patch("/settings", {"dial_plan": {"outside_prefix": "99"}}))
    assert errors(api.patch("/settings", {"dial_plan": {"speed_dials": {"13": "not a number"}}}))
    # nothing was stored
    assert "dial_plan" not in body(api.get("/settings"))
