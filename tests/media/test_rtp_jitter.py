"""RTP parsing and the jitter buffer: reordering, duplicates, loss concealment, sequence wrap."""

from __future__ import annotations

import base64
import json
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_core.g711 import ulaw_decode, ulaw_encode
from media_core.jitter import JitterBuffer
from media_core.rtp import PT_PCMA, PT_PCMU, RtpError, RtpSession, build_rtp, parse_rtp
from media_core.twilio_stream import StreamProtocolError, TwilioStreamSession
from tests.media.signals import goertzel_amplitude, tone


def _frames(n: int) -> list[bytes]:
    return [bytes([k % 256]) * 160 for k in range(n)]


def test_parse_round_trips_build() -> None:
    pkt = parse_rtp(build_rtp(PT_PCMA, 65535, 2**32 - 1, 0xDEADBEEF, b"\xd5" * 160, marker=True))
    assert (pkt.payload_type, pkt.sequence, pkt.timestamp, pkt.ssrc, pkt.marker) == (
        8,
        65535,
        2**32 - 1,
        0xDEADBEEF,
        True,
    )
    assert pkt.payload == b"\xd5" * 160


def test_parse_skips_csrcs_extension_and_padding() -> None:
    header = struct.pack(">BBHII", 0x80 | 0x20 | 0x10 | 2, 0, 7, 160, 1)
    csrcs = struct.pack(">II", 11, 22)
    extension = struct.pack(">HH", 0xBEDE, 1) + b"\x10\xaa\x00\x00"
    payload = b"\x01\x02\x03"
    pkt = parse_rtp(header + csrcs + extension + payload + b"\x00\x00\x03")
    assert pkt.csrcs == (11, 22)
    assert pkt.payload == payload


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00", "too short"),
        (b"\x40" + b"\x00" * 11, "version must be 2"),
        (b"\x8f" + b"\x00" * 11, "CSRC count 15"),
        (b"\xa0" + b"\x00" * 11, "padding"),
        (b"\x90" + b"\x00" * 11 + b"\x00\x00\x00\x09", "extension of 9 words"),
    ],
)
def test_parse_rejects_malformed_packets_naming_the_defect(data: bytes, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        parse_rtp(data)


def test_in_order_stream_plays_after_the_prefetch_depth() -> None:
    jb = JitterBuffer(160, 0xFF, depth=2)
    out = []
    for seq, payload in enumerate(_frames(10)):
        jb.push(seq, payload)
        out.append(jb.pop())
    played = [f.payload for f in out if not f.concealed]
    assert played == _frames(10)[: len(played)] and len(played) == 8
    assert all(f.concealed for f in out[:2])  # 40 ms of initial delay


def test_reordered_and_duplicated_packets_come_out_in_order_once() -> None:
    frames = _frames(40)
    arrivals = [(s, frames[s]) for s in range(40)]
    rng = random.Random(5)
    for k in range(0, 40, 4):  # shuffle inside windows of 4 packets (60 ms of jitter)
        window = arrivals[k : k + 4]
        rng.shuffle(window)
        arrivals[k : k + 4] = window
    arrivals.insert(21, arrivals[20])  # a duplicate right behind the original: still buffered
    arrivals.append(arrivals[3])  # a duplicate arriving after its slot was played
    jb = JitterBuffer(160, 0xFF, depth=4)
    played = []
    for k, (seq, payload) in enumerate(arrivals):
        jb.push(seq, payload)
        if k >= 4:
            frame = jb.pop()
            if not frame.concealed:
                played.append(frame.payload)
    while len(jb):
        played.append(jb.pop().payload)
    assert played == frames
    assert (jb.duplicates, jb.late) == (1, 1)
    assert jb.reordered > 0


def test_loss_is_concealed_by_repeating_then_silence_and_playout_resumes() -> None:
    jb = JitterBuffer(160, 0xFF, depth=1, max_conceal=2)
    frames = _frames(20)
    lost = set(range(5, 10))
    out = []
    for seq in range(20):
        if seq not in lost:
            jb.push(seq, frames[seq])
        out.append(jb.pop())
    payloads = [f.payload for f in out[1:]]  # the first pop is prefetch silence
    assert payloads[:5] == frames[:5]
    assert payloads[5:7] == [frames[4], frames[4]]  # repeat the last good frame
    assert payloads[7:10] == [b"\xff" * 160] * 3  # then silence
    assert payloads[10:19] == frames[10:19]
    assert jb.concealed == 5


def test_sequence_numbers_wrap_around_65535() -> None:
    jb = JitterBuffer(160, 0xFF, depth=2)
    frames = _frames(12)
    seqs = [(65530 + k) & 0xFFFF for k in range(12)]
    order = [0, 1, 2, 3, 4, 6, 5, 7, 8, 9, 11, 10]  # reordered right across the wrap
    played = []
    for k in order:
        jb.push(seqs[k], frames[k])
        frame = jb.pop()
        if not frame.concealed:
            played.append(frame.payload)
    while len(jb):
        played.append(jb.pop().payload)
    assert played == frames
    assert jb.late == 0 and jb.concealed == 0


def test_a_sender_that_restarts_its_sequence_is_followed_after_a_short_run() -> None:
    jb = JitterBuffer(160, 0xFF, depth=1, max_depth=4)
    frames = _frames(60)
    for seq in range(30):
        jb.push(1000 + seq, frames[seq])
        jb.pop()
    played = []
    for seq in range(30, 60):  # restarts at 0: the first packets look late, then the buffer resyncs
        jb.push(seq - 30, frames[seq])
        frame = jb.pop()
        if not frame.concealed:
            played.append(frame.payload)
    assert jb.resyncs == 1
    assert played[0] == frames[29]  # the last frame of the old sequence, still buffered
    first = frames.index(played[1])
    assert first == 30 + jb.resync_after - 1  # only the run that looked late is lost
    assert played[1:] == frames[first:59]


def test_buffer_delay_is_bounded_when_the_sender_runs_ahead() -> None:
    jb = JitterBuffer(160, 0xFF, depth=2, max_depth=6)
    for seq in range(50):
        jb.push(seq, _frames(50)[seq])
    jb.pop()
    assert len(jb) <= 6


def test_rtp_session_carries_a_tone_through_packet_loss_and_reordering() -> None:
    sender, receiver = RtpSession(PT_PCMU, depth=3), RtpSession(PT_PCMU, depth=3)
    signal = tone(1000, 160 * 50)
    packets = [
        sender.packetize(ulaw_encode(signal[k : k + 160]).tobytes()) for k in range(0, signal.size, 160)
    ]
    packets[10], packets[11] = packets[11], packets[10]
    del packets[30]  # one lost packet
    received = []
    for datagram in packets:
        receiver.receive_datagram(datagram)
        received.append(receiver.next_frame())
    audio = ulaw_decode(np.frombuffer(b"".join(f.payload for f in received[3:]), np.uint8))
    assert goertzel_amplitude(audio, 1000) == pytest.approx(8000, rel=0.05)
    assert receiver.jitter.reordered == 1
    assert sum(f.concealed for f in received[3:]) == 1


def test_rtp_session_ignores_other_payload_types_and_garbage() -> None:
    session = RtpSession(PT_PCMU)
    session.receive_datagram(build_rtp(101, 1, 0, 5, b"\x00\x00\x00\x00"))  # RFC 4733 telephone-event
    session.receive_datagram(b"garbage")
    assert session.rejected == 2 and len(session.jitter) == 0


def _twilio(event: str, **body: object) -> str:
    return json.dumps({"event": event, **body})


def test_twilio_session_reframes_inbound_chunks_into_20ms_frames() -> None:
    s = TwilioStreamSession(prefetch_frames=1)
    s.receive_text(_twilio("connected", protocol="Call", version="1.0.0"))
    start = {
        "streamSid": "MZ1",
        "callSid": "CA1",
        "accountSid": "AC1",
        "mediaFormat": {"encoding": "audio/x-mulaw"},
    }
    s.receive_text(_twilio("start", streamSid="MZ1", start=start))
    audio = bytes(range(256)) * 2
    for k in range(0, 512, 100):  # 100-byte chunks, not 160
        payload = base64.b64encode(audio[k : k + 100]).decode()
        s.receive_text(_twilio("media", streamSid="MZ1", media={"track": "inbound", "payload": payload}))
    assert s.next_frame() == audio[:160]
    assert s.next_frame() == audio[160:320]
    assert s.next_frame() == audio[320:480]
    assert s.next_frame() is None
    reply = json.loads(s.media_message(b"\xff" * 160))
    assert reply["streamSid"] == "MZ1" and base64.b64decode(reply["media"]["payload"]) == b"\xff" * 160
    s.receive_text(_twilio("mark", streamSid="MZ1", mark={"name": "greeting"}))
    assert s.receive_text(_twilio("stop", streamSid="MZ1", stop={})) == "stop"
    assert s.marks_received == ["greeting"] and s.state == "stopped"


def test_twilio_session_rejects_media_before_start_and_other_encodings() -> None:
    s = TwilioStreamSession()
    with pytest.raises(StreamProtocolError, match="before start"):
        s.receive_text(_twilio("media", media={"payload": ""}))
    with pytest.raises(StreamProtocolError, match="audio/l16"):
        s.receive_text(_twilio("start", start={"mediaFormat": {"encoding": "audio/l16"}}))


def test_after_an_outage_the_late_tail_is_dropped_and_playout_resumes_without_growing() -> None:
    jb = JitterBuffer(160, 0xFF, depth=1, max_conceal=1)
    frames = _frames(40)
    for seq in range(10):
        jb.push(seq, frames[seq])
        jb.pop()
    for _ in range(6):  # 120 ms with no packets: playout runs ahead of the sender
        jb.pop()
    for seq in range(10, 40):  # the delayed packets then arrive in order
        jb.push(seq, frames[seq])
        jb.pop()
    assert jb.late > 0
    assert len(jb) <= 2  # nothing stranded behind the playout point


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, 65535),
    count=st.integers(1, 120),
    data=st.data(),
)
def test_any_mix_of_jitter_loss_and_duplicates_plays_frames_in_order_at_most_once(
    start: int, count: int, data: st.DataObject
) -> None:
    frames = [k.to_bytes(2, "big") * 80 for k in range(count)]
    delays = data.draw(st.lists(st.floats(0, 2.5), min_size=count, max_size=count))  # up to 2.5 frames late
    lost = data.draw(st.sets(st.integers(0, count - 1)))
    dups = data.draw(st.sets(st.integers(0, count - 1)))
    arrivals = sorted(
        [(k + delays[k], k) for k in range(count) if k not in lost]
        + [(k + delays[k] + 0.5, k) for k in dups - lost]
    )
    jb = JitterBuffer(160, 0xFF, depth=3, max_depth=8)
    played: list[int] = []
    i = 0
    for tick in range(count + 12):
        while i < len(arrivals) and arrivals[i][0] <= tick:
            k = arrivals[i][1]
            jb.push((start + k) & 0xFFFF, frames[k])
            i += 1
        frame = jb.pop()
        if not frame.concealed:
            played.append(int.from_bytes(frame.payload[:2], "big"))
        assert len(jb) <= 9
    assert played == sorted(set(played))  # in order, never twice
    assert set(played) == set(range(count)) - lost  # 3 frames of prefetch absorb 2.5 frames of jitter
    assert jb.received == count - len(lost)
