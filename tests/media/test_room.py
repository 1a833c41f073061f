"""A room without I/O: legs are in-memory tone sources and sinks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media_core.envelope import TenantKeyring
from media_core.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from media_core.recording import RecordingWriter, decrypt_recording
from media_core.room import Member, Room
from media_core.wav import read_wav
from tests.media.signals import goertzel_amplitude, tone

TICKS = 40
AMP = 5000.0


class ToneLeg:
    def __init__(self, freq: float, alaw: bool = False) -> None:
        self.alaw = alaw
        self.signal = tone(freq, 160 * TICKS, AMP)
        self.k = 0
        self.sent: list[bytes] = []

    def next_frame(self) -> bytes:
        frame = self.signal[self.k * 160 : (self.k + 1) * 160]
        self.k += 1
        return (alaw_encode(frame) if self.alaw else ulaw_encode(frame)).tobytes()

    def send_frame(self, payload: bytes) -> None:
        self.sent.append(payload)

    def heard(self, freq: float) -> float:
        codes = np.frombuffer(b"".join(self.sent), np.uint8)
        pcm = alaw_decode(codes) if self.alaw else ulaw_decode(codes)
        return goertzel_amplitude(pcm, freq) / AMP


def _run(room: Room) -> None:
    for _ in range(TICKS):
        room.tick()


def test_alaw_and_ulaw_legs_mix_in_one_room() -> None:
    room = Room("r", "t")
    a, u = ToneLeg(500, alaw=True), ToneLeg(900, alaw=False)
    room.add(Member("a", a))
    room.add(Member("u", u))
    _run(room)
    assert a.heard(900) == pytest.approx(1.0, abs=0.03) and a.heard(500) < 0.02
    assert u.heard(500) == pytest.approx(1.0, abs=0.03) and u.heard(900) < 0.02


def test_mono_room_recording_hears_the_room_but_not_a_listening_supervisor(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "k")
    room = Room("r", "t")
    legs = {"caller": ToneLeg(500), "agent": ToneLeg(700), "sup": ToneLeg(1100)}
    for pid, leg in legs.items():
        room.add(Member(pid, leg))
    room.set_mode("sup", "whisper", target="agent")
    room.start_recording(RecordingWriter(tmp_path / "r.vrec", keyring, "t", channels=1))
    _run(room)
    info = room.stop_recording()
    assert info is not None and info.duration_s == pytest.approx(TICKS * 0.02)
    _, _, samples = read_wav(decrypt_recording((tmp_path / "r.vrec").read_bytes(), keyring).wav)
    rec = samples[:, 0]
    assert goertzel_amplitude(rec, 500) / AMP == pytest.approx(1.0, abs=0.02)
    assert goertzel_amplitude(rec, 700) / AMP == pytest.approx(1.0, abs=0.02)
    assert goertzel_amplitude(rec, 1100) / AMP < 0.01
    assert legs["agent"].heard(1100) == pytest.approx(1.0, abs=0.03)


def test_when_the_whisper_target_leaves_the_supervisor_falls_back_to_listening() -> None:
    room = Room("r", "t")
    legs = [ToneLeg(500), ToneLeg(700), ToneLeg(1100)]
    for k, leg in enumerate(legs):
        room.add(Member(f"p{k}", leg))
    room.set_mode("p2", "whisper", target="p1")
    room.remove("p1")
    assert room.members["p2"].mode == "listen"
    _run(room)
    assert legs[0].heard(1100) < 0.02 and legs[2].heard(500) == pytest.approx(1.0, abs=0.03)


def test_modes_are_validated_and_name_the_bad_value() -> None:
    room = Room("r", "t")
    room.add(Member("a", ToneLeg(500)))
    with pytest.raises(ValueError, match="shout"):
        room.set_mode("a", "shout")
    with pytest.raises(ValueError, match="target"):
        room.set_mode("a", "whisper")
    with pytest.raises(KeyError, match="ghost"):
        room.set_mode("a", "whisper", target="ghost")
    with pytest.raises(ValueError, match="gain"):
        room.set_mode("a", "normal", gain=100.0)
    with pytest.raises(ValueError, match="already"):
        room.add(Member("a", ToneLeg(500)))


def test_batched_rooms_do_not_leak_into_each_other_and_follow_joins() -> None:
    from media_core.batch import BatchMixer

    rooms = [Room("a", "t"), Room("b", "t")]
    legs = {"a0": ToneLeg(500), "a1": ToneLeg(700, alaw=True), "b0": ToneLeg(1100), "b1": ToneLeg(1300)}
    for pid, leg in legs.items():
        rooms[0 if pid.startswith("a") else 1].add(Member(pid, leg))
    batch = BatchMixer()
    for _ in range(TICKS // 2):
        batch.tick(rooms)
    late = ToneLeg(900)
    rooms[1].add(Member("b2", late))  # joins mid-call: the next tick already includes it
    for _ in range(TICKS // 2):
        batch.tick(rooms)
    assert legs["a0"].heard(700) == pytest.approx(1.0, abs=0.03)
    assert legs["a1"].heard(500) == pytest.approx(1.0, abs=0.03)
    for pid in ("a0", "a1"):
        assert legs[pid].heard(1100) < 0.01 and legs[pid].heard(1300) < 0.01 and legs[pid].heard(900) < 0.01
    # (0.02: the join mid-window spreads a little of the 900 Hz onset across the spectrum)
    assert legs["b0"].heard(1300) == pytest.approx(1.0, abs=0.03) and legs["b0"].heard(500) < 0.02
    assert legs["b0"].heard(900) == pytest.approx(0.5, abs=0.03)  # present for the second half only
    assert late.heard(1100) == pytest.approx(1.0, abs=0.03) and late.heard(900) < 0.01
    assert rooms[0].is_plain and rooms[1].is_plain
    rooms[1].set_mode("b2", "listen")
    assert not rooms[1].is_plain
