"""The queue simulator runs a scenario with several agents and accounts for every caller."""

from __future__ import annotations

from chalicelib.cli import main
from chalicelib.simulator_queue import Scenario, simulate_queue, virtual_services


def test_a_small_scenario_accounts_for_every_caller(tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = virtual_services(str(tmp_path / "sim.sqlite"))
    report = simulate_queue(services, Scenario(callers=12, agents=3, strategy="round_robin", seed=3))
    assert sum(report.outcomes.values()) == 12 and report.lost == 0 and report.double_bookings == []
    assert report.offers >= 12


def test_the_command_prints_the_numbers(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["simulate-queue", "--callers", "8", "--agents", "2", "--strategy", "fewest_calls",
                 "--sqlite", str(tmp_path / "cmd.sqlite")])
    out = capsys.readouterr().out
    assert code == 0 and "callers=8 agents=2" in out and "lost=0" in out and "double_booked=0" in out


def test_every_simulated_call_ends_as_the_gateway_ends_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Callers who ask for a call-back or leave a message hang up too: the gateway reports each call
    completed, and a voicemail caller's recording reaches the <Record>'s action first."""
    services = virtual_services(str(tmp_path / "sim.sqlite"))
    report = simulate_queue(services, Scenario(callers=40, agents=4, seed=5))
    assert report.outcomes["called_back"] and report.outcomes["voicemail"]  # this seed has both
    conn = services.store._conn()

    def streams(where: str) -> set[str]:
        return {s for (s,) in conn.execute(f"SELECT stream_id FROM events WHERE stream_id LIKE 'call-%' AND {where}")}

    calls = streams("1")  # the 40 callers, and the customers the call center called back (calls of their own)
    placed = streams("""event_type = 'CallStarted' AND instr(data, '"placed_by":""') = 0""")
    assert len(calls - placed) == 40 and len(placed) == report.outcomes["called_back"]
    assert streams("""event_type = 'CallStatusChanged' AND instr(data, '"status":"completed"')""") == calls
    assert len(streams("event_type = 'VoicemailLeft'")) == report.outcomes["voicemail"]
