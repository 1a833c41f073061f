"""The media server on loopback: real UDP RTP, a real Twilio-style WebSocket, HTTP control, events."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import ClientSession, web

from media_core.envelope import TenantKeyring
from media_core.g711 import ulaw_decode
from media_core.recording import decrypt_recording
from media_core.server import create_app, main
from media_core.wav import read_wav
from tests.media.harness import (
    TOKEN,
    fake_backend,
    media_server,
    paced,
    rtp_client,
    rtp_frame,
    twilio_media,
)
from tests.media.signals import goertzel_amplitude, tone

AMP = 6000.0  # tones below are whole cycles per 20 ms frame, so a repeated or skipped frame keeps phase
SECONDS = 1.0
FRAMES = int(SECONDS * 50)


def _level(audio: np.ndarray, freq: float) -> float:
    tail = audio[-30 * 160 :]  # steady state: after jitter prefetch and address latching
    assert tail.size == 30 * 160, f"only {audio.size} samples received"
    return goertzel_amplitude(tail, freq) / AMP


async def _rtp_room(
    run: Any, room: str, freqs: list[float], modes: list[str] | None = None, codecs: list[str] | None = None
) -> list[Any]:
    await run.call("POST", "/rooms", {"name": room, "tenant_id": "tenant-a"}, status=201)
    clients = []
    for k, _ in enumerate(freqs):
        mode = modes[k] if modes else "normal"
        codec = codecs[k] if codecs else "PCMU"
        body = {
            "participant_id": f"p{k}",
            "transport": "rtp",
            "codec": codec,
            "call_sid": f"CA{k}",
            "mode": mode,
        }
        answer = await run.call("POST", f"/rooms/{room}/participants", body, status=201)
        clients.append(await rtp_client(answer["rtp_port"], alaw=codec == "PCMA"))
    return clients


async def _talk(clients: list[Any], freqs: list[float], frames: int = FRAMES, first_seq: int = 0) -> None:
    signals = [tone(f, 160 * frames, AMP) for f in freqs]

    async def send(k: int) -> None:
        for i, client in enumerate(clients):
            client.transport.sendto(rtp_frame(signals[i], k, 1000 + i, first_seq, alaw=client.alaw))

    await paced(frames, send)
    for client in clients:
        client.talk_end = len(client.received)


def test_rtp_conference_of_pcmu_and_pcma_phones_everyone_hears_the_others_but_not_themselves(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with fake_backend() as backend, media_server(tmp_path, backend.url) as run:
            freqs = [500.0, 700.0, 900.0]
            clients = await _rtp_room(run, "sales", freqs, codecs=["PCMU", "PCMA", "PCMU"])
            await _talk(clients, freqs)
            for i, client in enumerate(clients):
                audio = client.audio()
                for j, f in enumerate(freqs):
                    if i == j:
                        assert _level(audio, f) < 0.05, (i, j)
                    else:
                        assert _level(audio, f) == pytest.approx(1.0, abs=0.1), (i, j)
            health = await run.call("GET", "/health", status=200)
            assert health["participants"] == 3 and health["ticks"] > FRAMES * 0.9
            await run.call("DELETE", "/rooms/sales/participants/p2", status=200)
            for _ in range(100):
                if len(backend.of_type("ConferenceParticipantLeft")) == 1:
                    break
                await asyncio.sleep(0.01)
            joined = backend.of_type("ConferenceParticipantJoined")
            assert [e["call_sid"] for e in joined] == ["CA0", "CA1", "CA2"]
            left = backend.of_type("ConferenceParticipantLeft")[0]
            assert left["conference"] == "sales" and left["data"]["participant_id"] == "p2"
            assert set(backend.auth_headers) == {f"Bearer {TOKEN}"}

    asyncio.run(scenario())


def test_supervisor_listen_then_whisper_then_barge_over_rtp(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            freqs = [500.0, 700.0, 1100.0]  # caller, agent, supervisor
            clients = await _rtp_room(run, "support", freqs, ["normal", "normal", "listen"])
            await _talk(clients, freqs)
            caller, agent, supervisor = (c.audio() for c in clients)
            assert _level(supervisor, 500) == pytest.approx(1.0, abs=0.1)
            assert _level(supervisor, 700) == pytest.approx(1.0, abs=0.1)
            assert _level(caller, 1100) < 0.05 and _level(agent, 1100) < 0.05

            await run.call(
                "POST", "/rooms/support/participants/p2/mode", {"mode": "whisper", "target": "p1"}, status=200
            )
            for c in clients:
                c.received.clear()
                c.talk_end = None
            await _talk(clients, freqs, first_seq=FRAMES)
            caller, agent = clients[0].audio(), clients[1].audio()
            assert _level(agent, 1100) == pytest.approx(1.0, abs=0.1)
            assert _level(caller, 1100) < 0.05
            muted = await run.call(
                "POST", "/rooms/support/participants/p2/mode", {"muted": False}, status=200
            )
            assert (muted["mode"], muted["target"]) == (
                "whisper",
                "p1",
            )  # changing the mute keeps the whisper

            await run.call("POST", "/rooms/support/participants/p2/mode", {"mode": "barge"}, status=200)
            await run.call("POST", "/rooms/support/participants/p1/mode", {"muted": True}, status=200)
            for c in clients:
                c.received.clear()
                c.talk_end = None
            await _talk(clients, freqs, first_seq=2 * FRAMES)
            caller = clients[0].audio()
            assert _level(caller, 1100) == pytest.approx(1.0, abs=0.1)
            assert _level(caller, 700) < 0.05  # the agent is muted

    asyncio.run(scenario())


def test_twilio_media_stream_is_bidirectional_and_mixed_with_rtp(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_backend() as backend, media_server(tmp_path, backend.url) as run:
            await run.call("POST", "/rooms", {"name": "bridge", "tenant_id": "tenant-a"}, status=201)
            body = {"participant_id": "ws1", "transport": "ws", "call_sid": "CAws"}
            ws_url = (await run.call("POST", "/rooms/bridge/participants", body, status=201))["ws_url"]
            rtp_port = (
                await run.call("POST", "/rooms/bridge/participants", {"participant_id": "r1"}, status=201)
            )["rtp_port"]
            phone = await rtp_client(rtp_port)
            ws_tone, rtp_tone = tone(450, 160 * FRAMES, AMP), tone(1000, 160 * FRAMES, AMP)
            heard: list[dict[str, Any]] = []
            async with ClientSession() as http, http.ws_connect(ws_url) as ws:
                await ws.send_str(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
                start = {
                    "streamSid": "MZ123",
                    "accountSid": "AC1",
                    "callSid": "CAws",
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                }
                await ws.send_str(
                    json.dumps(
                        {"event": "start", "sequenceNumber": "1", "start": start, "streamSid": "MZ123"}
                    )
                )

                async def reader() -> None:
                    async for msg in ws:
                        heard.append(json.loads(msg.data))

                task = asyncio.create_task(reader())

                async def send(k: int) -> None:
                    await ws.send_str(twilio_media("MZ123", ws_tone, k))
                    phone.transport.sendto(rtp_frame(rtp_tone, k, 77))

                await paced(FRAMES, send)
                phone.talk_end, ws_heard_while_talking = len(phone.received), len(heard)
                await ws.send_str(
                    json.dumps({"event": "stop", "sequenceNumber": "99", "streamSid": "MZ123", "stop": {}})
                )
                await asyncio.wait_for(task, 2)
            media = [m for m in heard[:ws_heard_while_talking] if m["event"] == "media"]
            assert media and all(m["streamSid"] == "MZ123" for m in media)
            ws_audio = ulaw_decode(
                np.frombuffer(b"".join(base64.b64decode(m["media"]["payload"]) for m in media), np.uint8)
            )
            assert _level(ws_audio, 1000) == pytest.approx(1.0, abs=0.1)
            assert _level(ws_audio, 450) < 0.05
            assert _level(phone.audio(), 450) == pytest.approx(1.0, abs=0.1)
            for _ in range(200):
                if backend.of_type("ConferenceParticipantLeft"):
                    break
                await asyncio.sleep(0.01)
            assert backend.of_type("ConferenceParticipantLeft")[0]["call_sid"] == "CAws"
            assert "ws1" not in run.service.rooms["bridge"].members

    asyncio.run(scenario())


def test_room_recording_is_encrypted_uploaded_and_reported(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_backend(fail_first=2) as backend, media_server(tmp_path, backend.url) as run:
            freqs = [600.0, 800.0]
            clients = await _rtp_room(run, "rec", freqs)
            rec = await run.call("POST", "/rooms/rec/recording", {"channels": 2, "caller": "p1"}, status=201)
            await _talk(clients, freqs)
            done = await run.call("DELETE", "/rooms/rec/recording", status=200)
            assert done["recording_id"] == rec["recording_id"] and done["channels"] == 2
            # about the talk time; less if a loaded machine made the clock skip ticks
            assert 0.5 <= done["duration_s"] <= SECONDS + 0.3
            blob = run.service.blob_store.get(done["blob_key"])
            assert len(blob) == done["bytes"] and b"RIFF" not in blob
            _, channels, samples = read_wav(decrypt_recording(blob, TenantKeyring(tmp_path / "keys")).wav)
            assert channels == 2 and samples.shape[0] / 8000 == pytest.approx(done["duration_s"], abs=0.001)
            caller, hears = samples[-30 * 160 :, 0], samples[-30 * 160 :, 1]
            assert goertzel_amplitude(caller, 800) / AMP == pytest.approx(1.0, abs=0.1)  # p1 talks at 800 Hz
            assert goertzel_amplitude(hears, 600) / AMP == pytest.approx(1.0, abs=0.1)
            assert goertzel_amplitude(hears, 800) / AMP < 0.05
            for _ in range(300):  # the backend failed twice: delivery retries with back-off
                if backend.of_type("RecordingCompleted"):
                    break
                await asyncio.sleep(0.02)
            event = backend.of_type("RecordingCompleted")[0]
            assert event["data"]["blob_key"] == done["blob_key"] and event["tenant_id"] == "tenant-a"
            assert set(event) == {
                "event_id",
                "tenant_id",
                "call_sid",
                "conference",
                "event_type",
                "occurred_at",
                "data",
            }
            assert event["occurred_at"].endswith("Z")
            assert len({e["event_id"] for e in backend.received}) == len(backend.received)
            assert not list((tmp_path / "spool").iterdir())

    asyncio.run(scenario())


def test_control_api_errors_name_the_problem(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            assert (
                "no room 'nope'"
                in (await run.call("POST", "/rooms/nope/participants", {}, status=404))["error"]
            )
            await run.call("POST", "/rooms", {"name": "r", "tenant_id": "t"}, status=201)
            assert (
                "already exists"
                in (await run.call("POST", "/rooms", {"name": "r", "tenant_id": "t"}, status=400))["error"]
            )
            err = await run.call("POST", "/rooms/r/participants", {"codec": "G729"}, status=400)
            assert "G729" in err["error"]
            err = await run.call("POST", "/rooms/r/participants/ghost/mode", {"mode": "listen"}, status=404)
            assert "ghost" in err["error"]
            await run.call("POST", "/rooms/r/participants", {"participant_id": "a"}, status=201)
            err = await run.call("POST", "/rooms/r/participants/a/mode", {"mode": "yell"}, status=400)
            assert "yell" in err["error"]
            err = await run.call("POST", "/rooms/r/recording", {"channels": 2, "caller": "ghost"}, status=400)
            assert "ghost" in err["error"]
            err = await run.call("POST", "/rooms/r/recording", {"channels": 3}, status=400)
            assert "3" in err["error"]
            async with run.http.post(run.base + "/rooms", json={"name": "x", "tenant_id": "t"}) as resp:
                assert resp.status == 401
            async with run.http.get(run.base + "/ws/r/a?token=wrong") as resp:
                assert resp.status == 404

    asyncio.run(scenario())


def test_app_factory_hands_the_fax_routes_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    fake = types.ModuleType("media_core.fax.routes")

    def add_fax_routes(app: web.Application, config: Any) -> None:
        seen.append(config)

        async def ping(request: web.Request) -> web.Response:
            return web.json_response({"pong": True})

        app.router.add_get("/fax/ping", ping)

    fake.add_fax_routes = add_fax_routes  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "media_core.fax.routes", fake)
    from media_core.config import MediaConfig

    app = create_app(MediaConfig(tenant_keys_dir=tmp_path / "k", backend_url=None))
    assert seen and seen[0].backend_client is not None and seen[0].tenant_keys_dir == tmp_path / "k"
    assert any(r.resource is not None and r.resource.canonical == "/fax/ping" for r in app.router.routes())


def test_main_parses_the_documented_arguments() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0


def test_recordings_left_by_a_crash_are_uploaded_and_reported_at_start(tmp_path: Path) -> None:
    from media_core.recording import RecordingWriter

    keyring = TenantKeyring(tmp_path / "keys")
    (tmp_path / "spool").mkdir()
    writer = RecordingWriter(
        tmp_path / "spool" / "REcrashed.vrec", keyring, "tenant-a", meta={"room": "sales"}
    )
    signal = tone(700, int(8000 * 2.5))
    for k in range(0, signal.size, 160):
        writer.write(signal[k : k + 160])  # the process "dies" here: 2 s flushed, 0.5 s lost
    (tmp_path / "spool" / "junk.vrec").write_bytes(b"not a recording")

    async def scenario() -> None:
        async with fake_backend() as backend, media_server(tmp_path, backend.url) as run:
            for _ in range(200):
                if backend.of_type("RecordingCompleted"):
                    break
                await asyncio.sleep(0.01)
            event = backend.of_type("RecordingCompleted")[0]
            assert event["conference"] == "sales" and event["tenant_id"] == "tenant-a"
            assert event["data"]["complete"] is False and event["data"]["duration_s"] == pytest.approx(2.0)
            blob = run.service.blob_store.get(event["data"]["blob_key"])
            _, _, samples = read_wav(decrypt_recording(blob, keyring).wav)
            np.testing.assert_array_equal(samples[:, 0], signal[: samples.shape[0]])

    asyncio.run(scenario())
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == ["junk.bad"]


def test_an_rtp_leg_latches_on_its_first_source_and_ignores_other_senders(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            await run.call("POST", "/rooms", {"name": "latch", "tenant_id": "tenant-a"}, status=201)
            port = (await run.call("POST", "/rooms/latch/participants", {"participant_id": "a"}, status=201))[
                "rtp_port"
            ]
            phone, intruder = await rtp_client(port), await rtp_client(port)
            signal = tone(500, 160 * 10, AMP)
            phone.transport.sendto(rtp_frame(signal, 0, 1))
            await asyncio.sleep(0.1)
            leg = run.service.rooms["latch"].members["a"].leg
            assert leg.packets_in == 1  # type: ignore[attr-defined]
            for k in range(1, 6):
                intruder.transport.sendto(rtp_frame(signal, k, 666))
            await asyncio.sleep(0.1)
            assert leg.packets_in == 1  # type: ignore[attr-defined]
            assert phone.received and not intruder.received

    asyncio.run(scenario())


def test_removing_a_websocket_participant_hangs_up_its_socket(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            await run.call("POST", "/rooms", {"name": "hang", "tenant_id": "tenant-a"}, status=201)
            body = {"participant_id": "w", "transport": "ws"}
            ws_url = (await run.call("POST", "/rooms/hang/participants", body, status=201))["ws_url"]
            async with ClientSession() as http, http.ws_connect(ws_url) as ws:
                await ws.send_str(json.dumps({"event": "connected"}))
                await asyncio.sleep(0.05)
                await run.call("DELETE", "/rooms/hang/participants/w", status=200)
                msg = await asyncio.wait_for(ws.receive(), 2)
                assert msg.type.name in ("CLOSE", "CLOSING", "CLOSED")

    asyncio.run(scenario())


def test_without_the_rtp_engine_asyncio_legs_carry_the_same_conference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a platform where the kernel-side RTP engine is unavailable
    monkeypatch.setattr("media_core.service.engine_available", lambda: False)

    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            assert run.service.engine is None
            freqs = [500.0, 700.0]
            # when two phones talk
            clients = await _rtp_room(run, "fallback", freqs, codecs=["PCMU", "PCMA"])
            await _talk(clients, freqs)
            # then each hears the other and not itself, and the counters still add up
            for i, client in enumerate(clients):
                assert _level(client.audio(), freqs[1 - i]) == pytest.approx(1.0, abs=0.1)
                assert _level(client.audio(), freqs[i]) < 0.05
            health = await run.call("GET", "/health", status=200)
            assert health["rtp_packets_in"] >= 2 * FRAMES * 0.95 and health["rtp_packets_out"] > 0

    asyncio.run(scenario())


def test_health_counts_rtp_packets_and_time_spent_in_ticks(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            assert run.service.engine is not None  # Linux: legs are rows of the RTP engine
            freqs = [500.0, 700.0, 900.0]
            clients = await _rtp_room(run, "counted", freqs)
            await _talk(clients, freqs, frames=20)
            await asyncio.sleep(0.1)
            heard_before = sum(len(c.received) for c in clients)
            health = await run.call("GET", "/health", status=200)
            await asyncio.sleep(0.05)  # what was sent before the answer has arrived by now
            heard_after = sum(len(c.received) for c in clients)
            assert health["rtp_packets_in"] == 3 * 20
            assert heard_before <= health["rtp_packets_out"] <= heard_after
            assert health["rtp_send_errors"] == 0
            assert set(health["tick_busy_s"]) == {"receive", "batched", "other_rooms"}
            assert health["tick_busy_s"]["receive"] > 0 and health["tick_busy_s"]["batched"] > 0

    asyncio.run(scenario())


def test_a_join_that_fails_names_the_problem_and_gives_its_port_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with media_server(tmp_path) as run:
            await run.call("POST", "/rooms", {"name": "r", "tenant_id": "t"}, status=201)
            body = {"participant_id": "a", "remote": {"host": "no-such-host.invalid", "port": 4000}}
            err = await run.call("POST", "/rooms/r/participants", body, status=400)
            assert "no-such-host.invalid" in err["error"]
            err = await run.call(
                "POST", "/rooms/r/participants", {"participant_id": "a", "mode": "yell"}, status=400
            )
            assert "yell" in err["error"]
            engine = run.service.engine
            assert engine is not None and engine.open_legs == 0  # both sockets closed, rows free
            assert run.service.rooms["r"].members == {}

    asyncio.run(scenario())
