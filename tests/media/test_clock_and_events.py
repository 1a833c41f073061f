"""The 20 ms clock does not drift; the backend client never blocks the caller and retries."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from media_core.backend_client import BackendClient
from media_core.clock import FrameClock
from tests.media.harness import fake_backend


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_deadlines_are_absolute_so_per_tick_work_does_not_accumulate() -> None:
    now = FakeTime()
    clock = FrameClock(0.02, now=now)
    for k in range(1000):
        now.t += 0.003  # 3 ms of mixing work
        delay = clock.advance()
        # the wait shrinks by the lateness, it does not add to it
        assert delay == pytest.approx(0.017 if k == 0 else 0.0163, abs=1e-6)
        now.t += delay + 0.0007  # the scheduler wakes us 0.7 ms late every time
    # sleep(0.02) after the work would be 1000 * 3.7 ms = 3.7 s late by now; absolute deadlines are not
    assert now.t - clock.deadline(clock.tick_index) == pytest.approx(0.0007, abs=1e-6)
    assert clock.skipped == 0


def test_a_long_stall_skips_ticks_instead_of_bursting() -> None:
    now = FakeTime()
    clock = FrameClock(0.02, max_late=5, now=now)
    now.t += 0.5  # 25 ticks lost to a stall
    assert clock.advance() >= 0.0
    assert clock.skipped >= 20
    assert clock.deadline(clock.tick_index) >= now.t - 0.02


def test_real_clock_ticks_on_schedule() -> None:
    stamps: list[float] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        clock = FrameClock(0.02)

        def on_tick(k: int) -> None:
            stamps.append(time.monotonic() - clock.deadline(k))
            if k == 25:
                stop.set()
            time.sleep(0.008)  # work inside the tick

        await clock.run(on_tick, stop)

    asyncio.run(scenario())
    assert len(stamps) == 26
    assert min(stamps) >= -1e-4  # never early
    # sleeping 20 ms after 8 ms of work would leave tick 25 about 200 ms late; deadlines keep it near 0
    # (bounds leave room for a loaded CI machine)
    assert sorted(stamps)[len(stamps) // 2] < 0.02
    assert stamps[-1] < 0.1


def test_without_a_backend_url_events_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    client = BackendClient(None, None)
    with caplog.at_level(logging.INFO, logger="media_core.events"):
        event = client.emit("ConferenceParticipantJoined", "t1", {"participant_id": "p"}, conference="c")
    assert client.pending() == 0
    assert event["event_id"] in caplog.text


def test_unknown_event_types_are_refused() -> None:
    with pytest.raises(ValueError, match="CallExploded"):
        BackendClient(None, None).emit("CallExploded", "t1", {})


def test_emit_returns_at_once_and_delivery_retries_with_the_same_event_id() -> None:
    async def scenario() -> None:
        async with fake_backend(fail_first=2) as backend:
            client = BackendClient(backend.url, "tok", backoff_s=0.01)
            await client.start()
            t0 = time.perf_counter()
            sent = [client.emit("RecordingCompleted", "t1", {"n": k}) for k in range(20)]
            assert time.perf_counter() - t0 < 0.05  # the audio loop never waits on the network
            for _ in range(300):
                if len(backend.received) == 20:
                    break
                await asyncio.sleep(0.01)
            await client.close()
            assert [e["event_id"] for e in backend.received] == [e["event_id"] for e in sent]
            assert backend.attempts == 22 and client.delivered == 20
            assert set(backend.auth_headers) == {"Bearer tok"}

    asyncio.run(scenario())


def test_an_unreachable_backend_times_out_and_gives_up_without_blocking() -> None:
    async def scenario() -> None:
        client = BackendClient("http://127.0.0.1:9", None, timeout_s=0.2, max_attempts=2, backoff_s=0.01)
        await client.start()
        client.emit("ConferenceParticipantLeft", "t1", {})
        for _ in range(200):
            if client.failed:
                break
            await asyncio.sleep(0.01)
        await client.close(drain_s=0)
        assert client.failed == 1 and client.delivered == 0

    asyncio.run(scenario())


def test_a_full_queue_drops_the_oldest_event() -> None:
    client = BackendClient("http://127.0.0.1:9", None, max_queue=3)
    for k in range(5):
        client.emit("RecordingCompleted", "t1", {"k": k})
    assert client.pending() == 3 and client.dropped == 2
