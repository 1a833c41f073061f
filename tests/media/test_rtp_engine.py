"""The RTP engine: kernel-side jitter buffers play exactly what the Python reference plays; real sockets on loopback."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_core.rtp import PT_PCMA, PT_PCMU, RtpSession, build_rtp, parse_rtp
from media_core.rtp_engine import EngineRtpLeg, RtpEngine, sockaddr_bytes, sockaddr_tuple

COUNTERS = ("received", "duplicates", "late", "concealed", "reordered", "resyncs")


def _payload(k: int) -> bytes:
    return k.to_bytes(2, "big") * 80


def _udp(bind: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind((bind, 0))
    return sock


def _drain(sock: socket.socket, wait_s: float = 0.5) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(2048))
        except BlockingIOError:
            if got:
                break
            time.sleep(0.005)
    return got


def _receive_until(engine: RtpEngine, slot: int, packets: int) -> None:
    """Loopback delivery is asynchronous only in theory; give it a bounded moment."""
    for _ in range(200):
        engine.receive()
        if engine.counters(slot)["packets_in"] >= packets:
            return
        time.sleep(0.005)


# --- the kernel jitter buffer against the Python reference -----------------------------------------


def play_both(start: int, count: int, depth: int, delays: list[float], lost: set[int], dups: set[int], jump_at: int,
              jump: int, new_ssrc_at: int, garbage: set[int]) -> None:
    """The stream through the kernel engine and the Python reference: the same audio, flags and counters."""
    arrivals = sorted(
        [(k + delays[k], k, 0) for k in range(count) if k not in lost]
        + [(k + delays[k] + 0.5, k, 0) for k in dups - lost]
        + [(float(k), k, 1) for k in garbage]
    )
    reference = RtpSession(PT_PCMU, depth=depth)
    engine = RtpEngine(capacity=1)
    slot = engine.open(PT_PCMU, depth=depth)
    played_ref, played_engine = [], []
    i = 0
    # when each arrives, both get the same datagram, and both are popped once per tick
    for tick in range(count + 16):
        while i < len(arrivals) and arrivals[i][0] <= tick:
            _, k, bad = arrivals[i]
            seq = (start + k + (jump if k >= jump_at else 0)) & 0xFFFF
            ssrc = 7 if k < new_ssrc_at else 8
            datagram = build_rtp(PT_PCMU, seq, k * 160, ssrc, _payload(k))
            if bad:
                datagram = b"\x40" + datagram[1:] if k % 2 else build_rtp(13, seq, 0, ssrc, b"\x00")
            reference.receive_datagram(datagram)
            engine.ingest(slot, datagram)
            i += 1
        played_ref.append((reference.jitter.pop_payload(), reference.jitter.last_concealed))
        played_engine.append((engine.pop(slot), engine.last_concealed(slot)))
    # then the audio, the concealment flags and the counters are the same
    assert played_engine == played_ref
    counters = engine.counters(slot)
    assert {c: counters[c] for c in COUNTERS} == {c: getattr(reference.jitter, c) for c in COUNTERS}
    assert counters["rejected"] == reference.rejected


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 65535),
    count=st.integers(1, 80),
    depth=st.integers(0, 4),
    data=st.data(),
)
def test_the_engine_plays_exactly_what_the_reference_session_plays(
    start: int, count: int, depth: int, data: st.DataObject
) -> None:
    # given a stream with jitter, loss, duplicates, the odd jump, garbage and a change of source
    play_both(start, count, depth,
              delays=data.draw(st.lists(st.floats(0, 4.0), min_size=count, max_size=count)),
              lost=data.draw(st.sets(st.integers(0, count - 1))),
              dups=data.draw(st.sets(st.integers(0, count - 1))),
              jump_at=data.draw(st.integers(0, count)),  # from here on the sequence jumps ahead
              jump=data.draw(st.sampled_from([0, 3, 9, 15, 16, 40, 30000])),
              new_ssrc_at=data.draw(st.integers(0, 2 * count)),
              garbage=data.draw(st.sets(st.integers(0, count - 1), max_size=3)))


def test_a_duplicate_of_a_frame_the_ring_gave_up_is_a_duplicate_as_in_the_reference() -> None:
    # Found by the property above (2026-11-26): frame 56 waits unplayed while frame 57 arrives numbered
    # 72, 16 ahead: the ring slot they share goes to 72. The duplicate of 56 that follows is a duplicate
    # for the reference (it holds 56 until its next pop drops it as too old), not a new reordered frame.
    delays = [0.0, 3.0, 2.0, 1.0] + [0.0] * 52 + [2.0, 1.25]
    play_both(0, 58, 0, delays, lost={0}, dups={56}, jump_at=57, jump=15, new_ssrc_at=0, garbage=set())


def test_a_duplicate_of_an_old_frame_kept_out_by_a_newer_one_is_a_duplicate_too() -> None:
    # frames up to 39 in time; then, before the next tick, 60, then 44 (60 holds their ring slot; the
    # reference keeps 44 until its next pop), then 44 again: both count one duplicate
    delays = [0.0] * 61
    delays[60], delays[44] = 40.1 - 60, 40.2 - 44
    play_both(0, 61, 2, delays, lost=set(range(40, 60)) - {44}, dups={44}, jump_at=61, jump=0,
              new_ssrc_at=0, garbage=set())


@pytest.mark.parametrize("late_seq", [4, 36])  # same ring slot as 20, older and newer
def test_frames_a_ring_apart_resolve_like_the_reference(late_seq: int) -> None:
    reference = RtpSession(PT_PCMU, depth=2)
    engine = RtpEngine(capacity=1)
    slot = engine.open(PT_PCMU, depth=2)
    script = [[0], [1], [2], [3], [20, late_seq], [], [], [21], [22], [], [], [], []]
    played_ref, played_engine = [], []
    for arrivals in script:
        for seq in arrivals:
            datagram = build_rtp(PT_PCMU, seq, seq * 160, 5, _payload(seq))
            reference.receive_datagram(datagram)
            engine.ingest(slot, datagram)
        played_ref.append(reference.jitter.pop_payload())
        played_engine.append(engine.pop(slot))
    assert played_engine == played_ref
    assert (_payload(20) in played_engine) == (late_seq < 20)  # the newer frame of the two is kept


def test_engine_pads_short_payloads_and_parses_csrcs_extensions_and_padding() -> None:
    engine = RtpEngine(capacity=1)
    slot = engine.open(PT_PCMA, depth=0)
    header = bytes([0x80 | 0x20 | 0x10 | 1, PT_PCMA, 0, 5, 0, 0, 0, 0, 0, 0, 0, 9])
    csrc, extension = bytes(4), bytes([0xBE, 0xDE, 0, 1]) + bytes(4)
    engine.ingest(slot, header + csrc + extension + b"\x01\x02\x03" + b"\x00\x00\x03")
    assert engine.pop(slot) == b"\x01\x02\x03" + b"\xd5" * 157  # A-law silence fills the frame
    engine.ingest(slot, header[:2] + b"\x00\x06" + header[4:])  # padding flag but no padding count
    assert engine.counters(slot)["rejected"] == 1


def test_engine_refuses_codecs_and_depths_it_cannot_serve() -> None:
    engine = RtpEngine(capacity=1)
    with pytest.raises(ValueError, match="payload type 18"):
        engine.open(18)
    with pytest.raises(ValueError, match="depth=10 max_depth=10"):
        engine.open(PT_PCMU, depth=10, max_depth=10)


def test_engine_grows_past_its_capacity_and_reuses_closed_rows_with_fresh_state() -> None:
    engine = RtpEngine(capacity=2)
    slots = [engine.open(PT_PCMU, depth=0) for _ in range(5)]
    for k, slot in enumerate(slots):
        engine.ingest(slot, build_rtp(PT_PCMU, k, 0, k, _payload(k)))
    assert [engine.pop(slot) for slot in slots] == [_payload(k) for k in range(5)]
    engine.close(slots[1])
    again = engine.open(PT_PCMA)
    assert again == slots[1]
    assert engine.counters(again)["packets_in"] == 0 and engine.pop(again) == b"\xd5" * 160


@pytest.mark.parametrize(
    ("family", "host"), [(socket.AF_INET, "192.0.2.7"), (socket.AF_INET6, "2001:db8::7")]
)
def test_socket_addresses_round_trip_through_the_linux_layout(family: int, host: str) -> None:
    assert sockaddr_tuple(sockaddr_bytes(family, host, 40002)) == (host, 40002)


# --- real sockets on loopback ------------------------------------------------------------------------


def test_a_leg_latches_on_its_first_source_and_answers_there_with_well_formed_rtp() -> None:
    # given a PCMA leg with no configured remote, and a phone that sends to it
    engine = RtpEngine(capacity=4)
    slot = engine.open(PT_PCMA, depth=0, ssrc=0xCAFE)
    sock = _udp()
    engine.attach(slot, sock)
    leg = EngineRtpLeg(engine, slot, sock, alaw=True)
    phone, intruder = _udp(), _udp()
    try:
        assert leg.remote is None
        leg.send_frame(b"\xd5" * 160)  # nowhere to send yet: nothing goes out
        assert leg.packets_out == 0
        # when the phone's first packet arrives
        phone.sendto(build_rtp(PT_PCMA, 100, 0, 1, b"\x11" * 160), ("127.0.0.1", leg.port))
        _receive_until(engine, slot, 1)
        # then the leg answers the phone's address, and three frames go out as one RTP stream
        assert leg.remote == phone.getsockname()
        rows = np.arange(3, dtype=np.int64)
        frames = np.array([[k] * 160 for k in range(3)], np.uint8)
        for k in range(3):
            engine.send_rows(np.array([slot], np.int64), rows[k : k + 1], frames)
        packets = [parse_rtp(d) for d in _drain(phone)]
        assert [p.payload[0] for p in packets] == [0, 1, 2]
        assert {(p.payload_type, p.ssrc) for p in packets} == {(PT_PCMA, 0xCAFE)}
        assert [p.marker for p in packets] == [True, False, False]  # RFC 3551 4.1: first packet only
        assert [(p.sequence - packets[0].sequence) & 0xFFFF for p in packets] == [0, 1, 2]
        assert [(p.timestamp - packets[0].timestamp) & 0xFFFFFFFF for p in packets] == [0, 160, 320]
        assert leg.packets_out == 3
        # and another sender is refused by the kernel (the socket is connected to the phone)
        intruder.sendto(build_rtp(PT_PCMA, 101, 160, 2, b"\x22" * 160), ("127.0.0.1", leg.port))
        time.sleep(0.05)
        engine.receive()
        assert leg.packets_in == 1 and leg.next_frame() == b"\x11" * 160
    finally:
        leg.close()
        phone.close()
        intruder.close()
    assert leg.packets_in == 1 and leg.remote is None  # counters frozen at close; the row is free


def test_a_configured_remote_gets_media_at_once_and_any_source_is_accepted() -> None:
    engine = RtpEngine(capacity=2)
    phone, other = _udp(), _udp()
    slot = engine.open(PT_PCMU, depth=0)
    sock = _udp()
    engine.attach(slot, sock, ("localhost", phone.getsockname()[1]))
    leg = EngineRtpLeg(engine, slot, sock, alaw=False)
    try:
        leg.send_frame(b"\x01" * 160)
        assert [parse_rtp(d).payload for d in _drain(phone)] == [b"\x01" * 160]
        other.sendto(build_rtp(PT_PCMU, 1, 0, 3, b"\x33" * 160), ("127.0.0.1", leg.port))
        _receive_until(engine, slot, 1)
        assert leg.next_frame() == b"\x33" * 160
        assert leg.remote == ("127.0.0.1", phone.getsockname()[1])  # not re-latched
    finally:
        leg.close()
        phone.close()
        other.close()


def test_a_burst_queued_in_the_kernel_is_drained_within_a_few_ticks() -> None:
    # given a leg whose sender delivered six packets at once (e.g. after a network stall)
    engine = RtpEngine(capacity=1, max_rounds=3, drain_every=4)
    slot = engine.open(PT_PCMU, depth=0)
    sock = _udp()
    engine.attach(slot, sock)
    phone = _udp()
    try:
        for k in range(6):
            phone.sendto(build_rtp(PT_PCMU, k, k * 160, 1, _payload(k)), sock.getsockname())
        time.sleep(0.05)
        # when ticks go by: one read per tick until a drain tick finds the queue
        reads = []
        for _ in range(5):
            engine.receive()
            reads.append(engine.counters(slot)["packets_in"])
        # then the queue is gone after the first drain, in order, with nothing lost
        assert reads == [1, 2, 3, 6, 6]
        assert engine.counters(slot)["received"] == 6 and engine.held(slot) == 6
    finally:
        engine.close(slot)
        phone.close()


def test_a_sender_that_keeps_a_queue_is_read_several_packets_per_tick_until_it_is_empty() -> None:
    engine = RtpEngine(capacity=1, max_rounds=2, drain_every=1000)
    slot = engine.open(PT_PCMU, depth=0)
    sock = _udp()
    engine.attach(slot, sock)
    phone = _udp()
    try:
        engine.ticks = 999  # the next tick drains
        for k in range(5):
            phone.sendto(build_rtp(PT_PCMU, k, k * 160, 1, _payload(k)), sock.getsockname())
        time.sleep(0.05)
        reads = []
        for _ in range(4):
            engine.receive()
            reads.append(engine.counters(slot)["packets_in"])
        assert reads == [2, 4, 5, 5]  # backlogged after the drain: two a tick until empty
    finally:
        engine.close(slot)
        phone.close()


def test_a_phone_that_went_away_costs_lost_packets_not_a_broken_leg() -> None:
    # given a leg latched on a phone
    engine = RtpEngine(capacity=1)
    slot = engine.open(PT_PCMU, depth=0)
    sock = _udp()
    engine.attach(slot, sock)
    leg = EngineRtpLeg(engine, slot, sock, alaw=False)
    phone = _udp()
    phone.sendto(build_rtp(PT_PCMU, 1, 0, 1, _payload(1)), ("127.0.0.1", leg.port))
    _receive_until(engine, slot, 1)
    # when the phone's port closes (loopback answers with ICMP port unreachable)
    phone.close()
    try:
        for _ in range(4):
            leg.send_frame(b"\xff" * 160)
            time.sleep(0.01)
        # then the refused sends are counted as lost, and the leg still serves its frames
        counters = engine.counters(slot)
        assert counters["send_errors"] >= 1
        assert counters["send_errors"] + counters["packets_out"] == 4
        engine.receive()  # a read after the error is harmless too
        assert leg.packets_in == 1 and leg.next_frame() == _payload(1)
    finally:
        leg.close()


def test_an_ipv6_leg_latches_and_answers_too() -> None:
    try:
        phone = _udp("::1")
    except OSError:
        pytest.fail("this test needs IPv6 loopback (::1)")
    engine = RtpEngine(capacity=1)
    slot = engine.open(PT_PCMU, depth=0)
    sock = _udp("::1")
    engine.attach(slot, sock)
    leg = EngineRtpLeg(engine, slot, sock, alaw=False)
    try:
        phone.sendto(build_rtp(PT_PCMU, 7, 0, 1, _payload(7)), ("::1", leg.port))
        _receive_until(engine, slot, 1)
        assert leg.remote == ("::1", phone.getsockname()[1])
        leg.send_frame(leg.next_frame())
        assert [parse_rtp(d).payload for d in _drain(phone)] == [_payload(7)]
    finally:
        leg.close()
        phone.close()


def test_a_leg_below_its_jitter_level_reads_again_at_once_instead_of_concealing_later() -> None:
    # given a leg that is still filling its 2-frame prefetch, with three packets waiting
    engine = RtpEngine(capacity=1, max_rounds=3, drain_every=1000)
    slot = engine.open(PT_PCMU, depth=2)
    sock = _udp()
    engine.attach(slot, sock)
    phone = _udp()
    try:
        for k in range(3):
            phone.sendto(build_rtp(PT_PCMU, k, k * 160, 1, _payload(k)), sock.getsockname())
        time.sleep(0.05)
        # when one tick reads: the buffer is low, so it does not stop at one packet
        engine.receive()
        # then all three are in (a leg at its level reads one a tick: see the burst test above)
        assert engine.counters(slot)["packets_in"] == 3
        assert engine.pop(slot) == _payload(0)  # and playout starts at once, not a tick late
    finally:
        engine.close(slot)
        phone.close()
