"""Time of day: the schedule action branches open / closed / holiday in the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import FakeClock
from tests.routing.pbx import Call, assert_golden, make_tenant, sid

OFFICE = {"weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-12-31"]}
PLAN = {"root": {"id": "hours", "action": "schedule", "data": {"schedule": "office"}, "children": {
    "open": {"id": "welcome", "action": "say", "data": {"text": "Welcome, we are open."}},
    "closed": {"id": "closed", "action": "answer_message", "data": {"text": "We are closed."}},
    "holiday": {"id": "holiday", "action": "answer_message", "data": {"text": "Happy holidays."}}}}}


def _call(services, clock: FakeClock, when: datetime) -> str:  # type: ignore[no-untyped-def]
    clock.now = when
    gateway = make_tenant(services, "acme", PLAN, schedules={"office": OFFICE})
    return Call(gateway, sid(1)).start()


def test_open_during_office_hours_in_the_tenant_time_zone(services, clock) -> None:  # type: ignore[no-untyped-def]
    # given Tuesday 09:30 in New York (14:30 UTC)
    body = _call(services, clock, datetime(2026, 11, 24, 14, 30, tzinfo=UTC))
    # then the open branch runs
    assert_golden("schedule_open", body)


def test_closed_at_night_even_though_it_is_daytime_in_utc(services, clock) -> None:  # type: ignore[no-untyped-def]
    # given Tuesday 18:30 in New York = 23:30 UTC (a weekday, but after hours)
    body = _call(services, clock, datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    assert_golden("schedule_closed", body)


def test_closed_on_saturday(services, clock) -> None:  # type: ignore[no-untyped-def]
    body = _call(services, clock, datetime(2026, 11, 28, 15, 0, tzinfo=UTC))
    assert "We are closed." in body


def test_holiday_branch_on_a_listed_date_during_office_hours(services, clock) -> None:  # type: ignore[no-untyped-def]
    # given Thursday 31 December 10:00 New York
    body = _call(services, clock, datetime(2026, 12, 31, 15, 0, tzinfo=UTC))
    assert_golden("schedule_holiday", body)


def test_step_records_the_local_time_and_state_for_explain(services, clock) -> None:  # type: ignore[no-untyped-def]
    _call(services, clock, datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    stored, _ = services.store.load(f"call-{sid(1)}")
    step = next(e for e in stored if e.event_type == "StepDecided" and e.data["node"] == "hours")
    assert step.data["branch"] == "closed"
    assert step.data["inputs"]["local_time"].startswith("2026-11-24T18:30:00-05:00")
    assert step.data["inputs"]["state"] == "closed"


def test_holiday_without_a_holiday_branch_takes_closed(services, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    plan = {"root": {**PLAN["root"], "children": {k: v for k, v in PLAN["root"]["children"].items()
                                                   if k != "holiday"}}}
    gateway = make_tenant(services, "acme", plan, schedules={"office": OFFICE})
    assert "We are closed." in Call(gateway, sid(2)).start()
