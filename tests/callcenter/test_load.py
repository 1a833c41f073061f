"""Load: 200 callers arriving at once (200 threads) and 20 agents on the embedded SQLite store.
Every caller ends answered, called back or in voicemail; none is lost; no agent is ever double-booked."""

from __future__ import annotations

import pytest

from chalicelib.simulator_queue import Scenario, simulate_queue, virtual_services


@pytest.mark.slow
def test_two_hundred_concurrent_callers_and_twenty_agents_lose_nobody(tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = virtual_services(str(tmp_path / "load.sqlite"))
    scenario = Scenario(callers=200, agents=20, concurrency=200, talk_seconds=60, max_wait=300,
                        callback_share=0.1, abandon_share=0.1, no_answer_share=0.05, seed=4)
    report = simulate_queue(services, scenario)
    print("\n" + report.summary() + "\n" + "\n".join(report.lines))
    assert report.lost == 0, report.summary()
    assert report.double_bookings == []
    assert sum(report.outcomes.values()) == 200
    assert report.outcomes["answered"] > 0 and report.outcomes["called_back"] > 0 and report.outcomes["voicemail"] > 0
    assert report.max_wait <= scenario.max_wait + scenario.poll_seconds
