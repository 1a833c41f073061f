"""Invoices: volume tiers, per-minute rates by longest prefix, free internal calls, re-rating, months."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from chalicelib.cli import main
from domain.billing.rating import billed_seconds, plan_price
from domain.billing.tariff import parse_tariff, parse_versions, version_for
from tests.projections.scenario import Calls, sid

STANDARD = {
    "id": "t", "version": 1, "effective_from": "2026-01",
    "plan": {"tiers": [{"up_to": 200, "price": "29.00"}, {"up_to": 1000, "price": "99.00"},
                       {"up_to": 5000, "price": "299.00"}], "over_last_tier_per_call": "0.05"},
    "rates": [{"prefix": "44", "per_minute": "0.020"}, {"prefix": "447", "per_minute": "0.090"}],
}


def month_of_calls(calls: Calls) -> None:
    """Outbound: 30 s to a UK landline, 61 s to a UK mobile, 125 s to the US; one internal call; one inbound."""
    calls.outbound(sid(1), "client:102", "+442071234567", talk=30)
    calls.outbound(sid(2), "sip:101@demo.sip.vpbx.local", "+447700900123", talk=61)
    calls.outbound(sid(3), "client:102", "+15551234567", talk=125)
    calls.outbound(sid(4), "client:102", "101", talk=40)
    calls.inbound(sid(5), "+15550002001", "2", ring=8, talk=95)


def test_plan_price_is_the_smallest_tier_that_holds_the_volume() -> None:
    t = parse_tariff(STANDARD)
    assert plan_price(0, t)[0] == Decimal("29.00") and plan_price(200, t)[0] == Decimal("29.00")
    assert plan_price(201, t)[0] == Decimal("99.00") and plan_price(5000, t)[0] == Decimal("299.00")
    assert plan_price(5003, t)[0] == Decimal("299.15")


def test_destination_rate_is_the_longest_matching_prefix() -> None:
    t = parse_tariff(STANDARD)
    assert t.rate_for("+447700900123").per_minute == Decimal("0.090")  # type: ignore[union-attr]
    assert t.rate_for("+442071234567").per_minute == Decimal("0.020")  # type: ignore[union-attr]
    assert t.rate_for("+33123456789") is None


def test_billed_seconds_round_up_to_the_increment() -> None:
    t = parse_tariff(STANDARD)
    assert [billed_seconds(s, t) for s in (0, 1, 60, 61, 125)] == [0, 60, 60, 120, 180]


@pytest.mark.parametrize("bad, field", [
    ({**STANDARD, "rates": [{"prefix": "44", "per_minute": 0.02}]}, "rates[0].per_minute"),
    ({**STANDARD, "rates": [{"prefix": "+44", "per_minute": "0.02"}]}, "rates[0].prefix"),
    ({**STANDARD, "plan": {"tiers": [{"up_to": 200, "price": "9"}, {"up_to": 100, "price": "5"}]}},
     "plan.tiers[1].up_to"),
    ({**STANDARD, "plan": {"tiers": []}}, "plan.tiers"),
])
def test_a_bad_tariff_is_refused_naming_the_field(bad: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_tariff(bad)


def test_the_version_in_effect_is_the_latest_that_started_before_the_month() -> None:
    versions = parse_versions({"versions": [{**STANDARD, "version": 2, "effective_from": "2026-12"}, STANDARD]})
    assert version_for(versions, "2026-11").version == 1 and version_for(versions, "2027-01").version == 2


def test_invoice_lines_trace_to_calls_and_events(api, services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    month_of_calls(Calls(gateway, clock))
    resp = api.get("/bills/2026-11?details=1")
    assert resp.status_code == 200
    inv = resp.json_body
    # 4 billable calls (internal one free) -> tier up to 200 = 29.00; +1: 3 min 0.03; +44: 1 min 0.02;
    # +447: 2 min x 0.09 = 0.18; total 29.23
    amounts = {line.get("prefix", line["kind"]): line["amount"] for line in inv["lines"]}
    assert amounts == {"plan": "29.00", "1": "0.03", "44": "0.02", "447": "0.18", "internal": "0.00"}
    assert inv["total"] == "29.23" and inv["lines"][0]["quantity"] == 4
    mobile = next(line for line in inv["lines"] if line.get("prefix") == "447")["items"][0]
    stored, _ = services.store.load(f"call-{sid(2)}")
    assert mobile["call"] == sid(2) and mobile["billed_seconds"] == 120 and mobile["amount"] == "0.1800"
    assert set(mobile["events"]) <= {e.event_id for e in stored} and mobile["events"]


def test_rerating_a_past_month_under_another_tariff_is_one_command(services, gateway, clock, tmp_path,
                                                                   capsys) -> None:  # type: ignore[no-untyped-def]
    month_of_calls(Calls(gateway, clock))
    other = tmp_path / "per-second.json"
    other.write_text(json.dumps({**STANDARD, "id": "per-second", "billing_increment_seconds": 1,
                                 "plan": {"tiers": [{"up_to": 1000, "price": "79.00"}]},
                                 "rates": [{"prefix": "1", "per_minute": "0.012"},
                                           {"prefix": "44", "per_minute": "0.018"},
                                           {"prefix": "447", "per_minute": "0.060"}]}))
    assert main(["bill", "--tenant", "demo", "--month", "2026-11", "--json"]) == 0
    standard = json.loads(capsys.readouterr().out)
    assert main(["bill", "--tenant", "demo", "--month", "2026-11", "--tariff", str(other), "--json"]) == 0
    rerated = json.loads(capsys.readouterr().out)
    # per second: 125 s x 0.012/60 = 0.0250 -> 0.03; 30 s x 0.018/60 = 0.0090 -> 0.01; 61 s x 0.06/60 = 0.0610
    # -> 0.06; plan 79.00; total 79.10
    assert (standard["total"], rerated["total"]) == ("29.23", "79.10")
    assert rerated["tariff"]["id"] == "per-second"


def test_a_call_belongs_to_the_month_it_started_in_the_tenants_timezone(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 22:00 on 30 November in New York
    Calls(gateway, clock).outbound(sid(7), "client:102", "+442071234567", talk=30)
    nov = api.get("/bills/2026-11").json_body
    dec = api.get("/bills/2026-12").json_body
    assert nov["lines"][0]["calls"] == [sid(7)] and nov["total"] == "29.02"
    assert dec["lines"][0]["quantity"] == 0


def test_unknown_month_format_is_a_clear_error(api) -> None:  # type: ignore[no-untyped-def]
    resp = api.get("/bills/November")
    assert resp.status_code == 400 and "month" in resp.json_body["errors"][0]["message"]


def test_a_tariff_given_to_the_api_is_an_id_not_a_path(api) -> None:  # type: ignore[no-untyped-def]
    assert api.get("/bills/2026-11?tariff=../../etc/passwd").status_code == 400
    unknown = api.get("/bills/2026-11?tariff=gold")
    assert unknown.status_code == 400 and "tariff" in unknown.json_body["errors"][0]["message"]
    assert api.get("/bills/2026-11?tariff=per-second").json_body["tariff"]["id"] == "per-second"
