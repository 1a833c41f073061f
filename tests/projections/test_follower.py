"""The embedded dispatcher follows the SQLite log while calls are being written."""

from __future__ import annotations

import time

from chalicelib.cli import main
from chalicelib.projections.follower import LogFollower, catch_up
from chalicelib.projections.log import projection_store
from tests.projections.conftest import scripted_day
from tests.projections.scenario import Calls, sid
from tests.projections.test_replay import dump


def test_the_follower_keeps_up_with_calls_written_concurrently(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    # given two followers polling every 5 ms while the scripted day is written through the webhooks
    followers = [LogFollower(services, interval=0.005) for _ in range(2)]
    for f in followers:
        f.start()
    try:
        scripted_day(Calls(gateway, clock))
        out = projection_store(services)
        deadline = time.monotonic() + 10
        while out.state("calls", f"call-{sid(6)}") is None or out.state("calls", f"call-{sid(6)}")["outcome"] != \
                "answered":
            assert time.monotonic() < deadline, "the follower did not catch up within 10 s"
            time.sleep(0.01)
    finally:
        for f in followers:
            f.stop()
            f.join(5)
    catch_up(services)
    followed = dump(out)
    # then what they built is byte for byte what a rebuild from scratch gives
    assert main(["replay", "--quiet"]) == 0
    capsys.readouterr()
    assert dump(out) == followed and followed.count(b"states\tcall-") == 6
