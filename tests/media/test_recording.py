"""Recordings decode back to their input; crashes lose at most a second; deleting a tenant key shreds."""

from __future__ import annotations

import wave
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag

from media_core.blobstore import LocalBlobStore
from media_core.envelope import TenantKeyMissing, TenantKeyring
from media_core.recording import RecordingWriter, decrypt_recording
from media_core.wav import WavWriter, read_wav, repair_wav
from tests.media.signals import goertzel_amplitude, sweep, tone

FRAME = 160


def _record(path: Path, keyring: TenantKeyring, signal: np.ndarray, channels: int = 1) -> RecordingWriter:
    writer = RecordingWriter(path, keyring, "tenant-a", channels=channels)
    for start in range(0, len(signal), FRAME):
        writer.write(signal[start : start + FRAME])
    return writer


def test_mono_recording_decrypts_to_the_exact_input_as_a_valid_wav(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    signal = sweep(200, 3400, 8000 * 3)
    info = _record(tmp_path / "call.vrec", keyring, signal).close()
    assert info.duration_s == pytest.approx(3.0)
    out = decrypt_recording((tmp_path / "call.vrec").read_bytes(), keyring)
    assert out.complete
    with wave.open(BytesIO(out.wav)) as w:  # the stdlib parser accepts the header
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 24000)
    rate, channels, samples = read_wav(out.wav)
    np.testing.assert_array_equal(samples[:, 0], signal)


def test_stereo_keeps_caller_left_and_agent_right(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    caller, agent = tone(440, 8000), tone(1000, 8000)
    writer = RecordingWriter(tmp_path / "s.vrec", keyring, "tenant-a", channels=2)
    for k in range(0, 8000, FRAME):
        writer.write_stereo(caller[k : k + FRAME], agent[k : k + FRAME])
    info = writer.close()
    assert info.channels == 2
    _, channels, samples = read_wav(decrypt_recording((tmp_path / "s.vrec").read_bytes(), keyring).wav)
    assert channels == 2
    assert goertzel_amplitude(samples[:, 0], 440) == pytest.approx(8000, rel=0.01)
    assert goertzel_amplitude(samples[:, 0], 1000) < 10
    np.testing.assert_array_equal(samples[:, 1], agent)


def test_a_crash_loses_at_most_the_last_second(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    signal = tone(700, int(8000 * 3.5))
    writer = _record(tmp_path / "crash.vrec", keyring, signal)  # never closed: the process "dies" here
    on_disk = (tmp_path / "crash.vrec").read_bytes()
    torn = on_disk + b"\x00\x00\x01\x00partial"  # plus a torn write of the chunk that was in flight
    out = decrypt_recording(torn, keyring)
    assert not out.complete
    _, _, samples = read_wav(out.wav)
    assert len(signal) - len(samples) <= 8000
    np.testing.assert_array_equal(samples[:, 0], signal[: len(samples)])
    writer.close()


def test_deleting_the_tenant_key_makes_its_recordings_unreadable(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    _record(tmp_path / "a.vrec", keyring, tone(300, 1600)).close()
    blob = (tmp_path / "a.vrec").read_bytes()
    assert decrypt_recording(blob, keyring).complete
    keyring.delete("tenant-a")
    with pytest.raises(TenantKeyMissing):
        decrypt_recording(blob, keyring)
    keyring.key_for("tenant-a", create=True)  # a new key for the same tenant does not bring it back
    with pytest.raises(InvalidTag):
        decrypt_recording(blob, keyring)


def test_ciphertext_does_not_contain_the_audio_and_tampering_is_detected(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    signal = tone(500, 8000)
    _record(tmp_path / "t.vrec", keyring, signal).close()
    blob = bytearray((tmp_path / "t.vrec").read_bytes())
    assert signal[100:140].tobytes() not in blob
    blob[-40] ^= 0x01
    with pytest.raises(InvalidTag):
        decrypt_recording(bytes(blob), keyring)


def test_another_tenant_key_cannot_open_a_recording(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    _record(tmp_path / "x.vrec", keyring, tone(500, 800)).close()
    blob = bytearray((tmp_path / "x.vrec").read_bytes())
    forged = bytes(blob).replace(b'"tenant_id": "tenant-a"', b'"tenant_id": "tenant-b"')
    keyring.key_for("tenant-b", create=True)
    with pytest.raises(InvalidTag):
        decrypt_recording(forged, keyring)


def test_recording_round_trips_through_the_blob_store(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    store = LocalBlobStore(tmp_path / "blobs")
    signal = tone(900, 4000)
    info = _record(tmp_path / "b.vrec", keyring, signal).close()
    store.put("tenant-a/recordings/b.vrec", info.path)
    _, _, samples = read_wav(decrypt_recording(store.get("tenant-a/recordings/b.vrec"), keyring).wav)
    np.testing.assert_array_equal(samples[:, 0], signal)


def test_plain_wav_writer_header_is_valid_after_every_flush_and_repairable(tmp_path: Path) -> None:
    path = tmp_path / "plain.wav"
    writer = WavWriter(path, channels=1)
    writer.write(tone(440, 8000).tobytes())
    writer.flush()
    with wave.open(str(path)) as w:
        assert w.getnframes() == 8000
    writer.write(tone(440, 4000).tobytes())
    writer.flush()
    writer._fh.write(b"\x01\x02\x03")  # a torn sample after the last header update
    writer._fh.flush()
    assert repair_wav(path) == 24000
    with wave.open(str(path)) as w:
        assert w.getnframes() == 12000
    writer._fh.close()


@pytest.mark.parametrize("kwargs", [{"channels": 3}, {"flush_s": 2.0}])
def test_rejects_bad_settings_naming_them(tmp_path: Path, kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=str(next(iter(kwargs.values())))):
        RecordingWriter(tmp_path / "bad.vrec", TenantKeyring(tmp_path / "k"), "tenant-a", **kwargs)  # type: ignore[arg-type]


def test_command_line_reader_writes_the_wav_and_refuses_without_the_key(tmp_path: Path) -> None:
    from media_core.recording_cli import main

    keyring = TenantKeyring(tmp_path / "keys")
    signal = tone(440, 2400)
    _record(tmp_path / "c.vrec", keyring, signal).close()
    out = tmp_path / "c.wav"
    assert main([str(tmp_path / "c.vrec"), "--keys", str(tmp_path / "keys"), "-o", str(out)]) == 0
    with wave.open(str(out)) as w:
        assert np.array_equal(np.frombuffer(w.readframes(w.getnframes()), "<i2"), signal)
    keyring.delete("tenant-a")
    out.unlink()
    assert main([str(tmp_path / "c.vrec"), "--keys", str(tmp_path / "keys"), "-o", str(out)]) == 2
    assert not out.exists()


def test_write_rejects_the_wrong_dtype_or_channel_layout_naming_it(tmp_path: Path) -> None:
    keyring = TenantKeyring(tmp_path / "keys")
    stereo = RecordingWriter(tmp_path / "s.vrec", keyring, "tenant-a", channels=2)
    with pytest.raises(ValueError, match=r"\(160,\)"):
        stereo.write(np.zeros(160, np.int16))
    with pytest.raises(TypeError, match="float32"):
        stereo.write(np.zeros((160, 2), np.float32))  # type: ignore[arg-type]
    mono = RecordingWriter(tmp_path / "m.vrec", keyring, "tenant-a", channels=1)
    with pytest.raises(ValueError, match=r"\(160, 2\)"):
        mono.write(np.zeros((160, 2), np.int16))
    stereo.close()
    mono.close()
