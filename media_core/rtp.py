"""RTP (RFC 3550) packets and a sans-I/O session for one G.711 leg (20 ms = 160 samples).

Invariant: ``parse_rtp`` either returns a packet whose payload excludes CSRCs, the header
extension and padding, or raises ``RtpError`` naming the defect; it never guesses.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from media_core.jitter import Frame, JitterBuffer

PT_PCMU = 0
PT_PCMA = 8
SAMPLES_PER_FRAME = 160
_HEADER = struct.Struct(">BBHII")
_FAST = struct.Struct(">xBH4xI")  # marker|PT, sequence, SSRC of a plain V=2 header


class RtpError(ValueError):
    """A datagram that is not a valid RTP packet."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: tuple[int, ...] = ()


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP datagram (RFC 3550 section 5.1; extension 5.3.1; padding bit P)."""
    if len(data) < 12:
        raise RtpError(f"RTP packet too short: {len(data)} bytes, need at least 12")
    b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
    if b0 >> 6 != 2:
        raise RtpError(f"RTP version must be 2, got {b0 >> 6}")
    cc = b0 & 0x0F
    pos = 12 + 4 * cc
    end = len(data)
    if pos > end:
        raise RtpError(f"CSRC count {cc} runs past the end of a {end}-byte packet")
    csrcs = struct.unpack_from(f">{cc}I", data, 12) if cc else ()
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if pos + 4 > end:
            raise RtpError("header extension flag set but no extension header")
        words = struct.unpack_from(">H", data, pos + 2)[0]
        pos += 4 + 4 * words
        if pos > end:
            raise RtpError(f"header extension of {words} words runs past the end of the packet")
    if b0 & 0x20:
        pad = data[-1]
        if pad == 0 or pos + pad > end:
            raise RtpError(f"invalid padding count {pad}")
        end -= pad
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bytes(data[pos:end]), bool(b1 & 0x80), tuple(csrcs))


def build_rtp(
    payload_type: int, sequence: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False
) -> bytes:
    """Serialise a minimal RTP packet (no CSRC, no extension, no padding)."""
    if not 0 <= payload_type < 128:
        raise RtpError(f"payload type must be 0..127, got {payload_type}")
    b1 = payload_type | (0x80 if marker else 0)
    return _HEADER.pack(0x80, b1, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


class RtpSession:
    """One participant's RTP leg without I/O: datagrams in, 20 ms payloads out at each tick."""

    def __init__(self, payload_type: int = PT_PCMU, ssrc: int | None = None, depth: int = 2) -> None:
        if payload_type not in (PT_PCMU, PT_PCMA):
            raise RtpError(f"only PCMU (0) and PCMA (8) are supported, got payload type {payload_type}")
        self.payload_type = payload_type
        silence = 0xFF if payload_type == PT_PCMU else 0xD5
        self.jitter = JitterBuffer(SAMPLES_PER_FRAME, silence, depth=depth)
        self.ssrc = int.from_bytes(os.urandom(4), "big") if ssrc is None else ssrc
        self._seq = int.from_bytes(os.urandom(2), "big")
        self._ts = int.from_bytes(os.urandom(4), "big")
        self._first = True
        self.rejected = 0
        self.remote_ssrc: int | None = None

    def receive_datagram(self, data: bytes) -> None:
        if len(data) > 12 and data[0] == 0x80:  # hot path: V=2, no padding, extension or CSRCs
            b1, seq, ssrc = _FAST.unpack_from(data)
            pt, payload = b1 & 0x7F, data[12:]
        else:
            try:
                pkt = parse_rtp(data)
            except RtpError:
                self.rejected += 1
                return
            pt, seq, ssrc, payload = pkt.payload_type, pkt.sequence, pkt.ssrc, pkt.payload
        if pt != self.payload_type:
            self.rejected += 1  # comfort noise, DTMF events, ... are not mixed
            return
        if self.remote_ssrc != ssrc:
            if self.remote_ssrc is not None:
                self.jitter.reset()  # new source (e.g. re-INVITE): start a fresh sequence space
            self.remote_ssrc = ssrc
        self.jitter.push(seq, payload)

    def next_frame(self) -> Frame:
        return self.jitter.pop()

    def packetize(self, payload: bytes) -> bytes:
        """The next outgoing datagram for one 20 ms payload (marker on the first, RFC 3551 section 4.1)."""
        b1 = self.payload_type | (0x80 if self._first else 0)
        out = _HEADER.pack(0x80, b1, self._seq, self._ts, self.ssrc) + payload
        self._first = False
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + len(payload)) & 0xFFFFFFFF
        return out
