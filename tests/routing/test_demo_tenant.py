"""The extended demo tenant: a schedule open every day all day except the demo holiday
(31 December) in front of the operator, a white-listed VIP, and follow-me for Olivia Operator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import Gateway
from tests.routing.pbx import Call, assert_golden, sid


@pytest.mark.parametrize("when", [datetime(2026, 11, 29, 8, 0, tzinfo=UTC),    # Sunday 03:00 New York
                                  datetime(2026, 11, 25, 4, 59, tzinfo=UTC),   # Tuesday 23:59
                                  datetime(2026, 12, 30, 17, 0, tzinfo=UTC)])  # the day before the holiday
def test_operator_answers_at_any_hour(services, clock, when) -> None:  # type: ignore[no-untyped-def]
    clock.now = when
    call = Call(Gateway(services), sid(1))
    call.start()
    assert_golden("demo_operator_desk", call.press("0"))


def test_operator_is_followed_to_the_mobile_then_voicemail(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(Gateway(services), sid(1))
    call.start()
    call.press("0")
    assert_golden("demo_operator_mobile", call.dial_ended("no-answer"))
    vm = call.dial_ended("no-answer")
    assert "node=operator-voicemail" in vm and "<Record" in vm


def test_demo_holiday_on_31_december(services, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    call = Call(Gateway(services), sid(1))
    call.start()
    assert_golden("demo_operator_holiday", call.press("0"))


def test_support_and_sales_are_as_before(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(Gateway(services), sid(1))
    call.start()
    support = call.press("2")
    assert "node=support&amp;step=4" in support and ">sip:103@demo.sip.vpbx.local</Sip>" in support
    assert "node=support-voicemail" in call.dial_ended("no-answer")


def test_white_listed_vip_goes_to_the_operator_first_then_the_menu(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(Gateway(services), sid(1), From="+15550002222")
    assert_golden("demo_vip_operator", call.start())
    assert "For sales, press 1" in call.dial_ended("no-answer")


def test_black_listed_caller_is_still_rejected(services) -> None:  # type: ignore[no-untyped-def]
    assert "<Reject" in Call(Gateway(services), sid(1), From="+15550009999").start()
