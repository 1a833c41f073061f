"""UDPTL (T.38 §9.1 / Annex A ``UDPTLPacket``): parse datagrams, drop repeats, recover losses.

Invariant: ``UdptlReceiver`` hands each sequence number to its caller at most once and in order;
a number it could not recover is reported as lost (``ifp is None``) rather than skipped silently,
so the layers above know a frame or a stretch of T.4 data is damaged. Memory is bounded by
``WINDOW`` packets whatever the peer sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from media_core.fax.errors import UdptlError
from media_core.fax.per import read_length, read_open_type

MAX_SECONDARIES = 32  # deeper redundancy than any stack sends (FreeSWITCH: <= 15); the rest is ignored
WINDOW = 64  # packets kept for FEC repair and waiting for a gap to close
MAX_FEC = 16  # largest FEC span and entry count accepted
FEC_HOLD = 16  # how far past a gap we wait for FEC to repair it before calling it lost
_SKIP = b"\x00skip"  # marks a number the sender never used; identity-compared, never delivered


@dataclass(frozen=True)
class UdptlPacket:
    seq: int
    primary: bytes
    secondaries: tuple[bytes, ...] = ()  # newest first: entry i is seq - 1 - i
    fec_span: int = 0
    fec: tuple[bytes, ...] = ()


def parse_udptl(datagram: bytes) -> UdptlPacket:
    """Decode one UDPTL datagram; raises UdptlError on anything malformed."""
    if len(datagram) < 4:
        raise UdptlError(f"datagram of {len(datagram)} octets is too short for UDPTL")
    seq = (datagram[0] << 8) | datagram[1]
    primary, pos = read_open_type(datagram, 2, UdptlError)
    if pos >= len(datagram):
        raise UdptlError("error-recovery choice missing")
    choice = datagram[pos]
    pos += 1
    if choice & 0x80 == 0:  # secondary-ifp-packets
        count, pos = read_length(datagram, pos, UdptlError)
        secondaries = []
        for i in range(count):
            ifp, pos = read_open_type(datagram, pos, UdptlError)
            if i < MAX_SECONDARIES:
                secondaries.append(ifp)
        return UdptlPacket(seq, primary, tuple(secondaries))
    # fec-info: fec-npackets is an unconstrained INTEGER (length octet + value), then the parity entries
    if pos + 2 > len(datagram) or datagram[pos] != 1:
        raise UdptlError("fec-npackets must be a one-octet integer")
    span = datagram[pos + 1]
    count, pos = read_length(datagram, pos + 2, UdptlError)
    fec = []
    for _ in range(count):
        entry, pos = read_open_type(datagram, pos, UdptlError)
        fec.append(entry)
    if len(fec) > MAX_FEC or span > MAX_FEC:
        # span x entries bounds the repair work per datagram; real senders use 3 x 3 or so
        raise UdptlError(f"FEC span {span} with {len(fec)} entries is more than any sender uses")
    return UdptlPacket(seq, primary, fec_span=span, fec=tuple(fec))


def _xor(parts: list[bytes], length: int) -> bytes:
    """XOR of the parts, each cut or zero-padded to ``length`` (big integers: one C loop per part)."""
    acc = 0
    for p in parts:
        acc ^= int.from_bytes(p[:length].ljust(length, b"\x00"), "big")
    return acc.to_bytes(length, "big")


class UdptlReceiver:
    """Sans-I/O UDPTL reassembly: datagrams in, ``(seq, ifp or None)`` in sequence order out."""

    def __init__(self) -> None:
        self._next: int | None = None  # next sequence number owed to the caller (unwrapped)
        self._last: int | None = None  # highest unwrapped sequence number seen
        self._have: dict[int, bytes] = {}
        self._fec: dict[int, UdptlPacket] = {}
        self._last_primary = b""
        self.duplicates = 0
        self.recovered = 0
        self.lost = 0
        self.malformed = 0

    def _unwrap(self, seq: int) -> int:
        """Map a 16-bit number onto an ever-increasing one (wrap 65535 -> 0, and 65535 -> 1)."""
        last = self._last
        if last is None:
            return seq
        base = last - (last & 0xFFFF)
        return min((base - 65536 + seq, base + seq, base + 65536 + seq), key=lambda u: abs(u - last))

    def receive_datagram(self, datagram: bytes) -> list[tuple[int, bytes | None]]:
        """Feed one datagram; returns what became deliverable (possibly nothing)."""
        try:
            pkt = parse_udptl(datagram)
        except UdptlError:
            self.malformed += 1
            raise
        seq = self._unwrap(pkt.seq)
        if self._next is None:
            self._next = seq - min(len(pkt.secondaries), seq)
        if seq < self._next or seq in self._have:
            self.duplicates += 1
            return []
        if (
            self._last is not None
            and seq == self._last + 2
            and self._last & 0xFFFF == 0xFFFF
            and pkt.secondaries[:1] == (self._last_primary,)
        ):
            # A stack that rolls 65535 -> 1 (see spandsp t38_core_rx_ifp_packet): number 0 never existed.
            self._have[seq - 1] = _SKIP
        self._have[seq] = pkt.primary
        if self._last is None or seq > self._last:
            self._last_primary = pkt.primary
        for i, ifp in enumerate(pkt.secondaries):
            older = seq - 1 - i
            if older >= self._next and older not in self._have:
                self._have[older] = ifp
                self.recovered += 1
        if pkt.fec:
            self._fec[seq] = pkt
            self._repair_with_fec()
        self._last = seq if self._last is None else max(self._last, seq)
        hold = FEC_HOLD if self._fec else 0
        return self._drain(self._last - hold)

    def _repair_with_fec(self) -> None:
        # Entry m of packet s covers s+m - span*entries, stepping by entries, up to s+m (exclusive).
        for s, pkt in list(self._fec.items()):
            entries = len(pkt.fec)
            for m, parity in enumerate(pkt.fec):
                limit = s + m
                covered = range(limit - pkt.fec_span * entries, limit, entries)
                missing = [k for k in covered if k not in self._have]
                if len(missing) == 1 and self._next is not None and missing[0] >= self._next:
                    self._have[missing[0]] = _xor(
                        [parity] + [self._have[k] for k in covered if k != missing[0]], len(parity)
                    )
                    self.recovered += 1

    def _drain(self, lost_before: int) -> list[tuple[int, bytes | None]]:
        assert self._next is not None
        out: list[tuple[int, bytes | None]] = []
        if lost_before - self._next > WINDOW:  # a jump far ahead: one marker for the whole gap
            self.lost += lost_before - WINDOW - self._next
            out.append(((lost_before - WINDOW - 1) & 0xFFFF, None))
            for k in [k for k in self._have if k < lost_before - WINDOW]:
                del self._have[k]
            self._next = lost_before - WINDOW
        while self._next in self._have or (self._next <= lost_before and self._last is not None):
            ifp = self._have.pop(self._next, None)
            if ifp is None:
                self.lost += 1
            if ifp is not _SKIP:
                out.append((self._next & 0xFFFF, ifp))
            self._next += 1
        for old in [k for k in self._fec if k < self._next - WINDOW]:
            del self._fec[old]
        return out

    def flush(self) -> list[tuple[int, bytes | None]]:
        """End of session: whatever is still waiting for FEC is delivered or declared lost."""
        if self._last is None or self._next is None:
            return []
        return self._drain(self._last)


def _open_type(ifp: bytes) -> bytes:
    from media_core.fax.per import write_length

    return write_length(len(ifp)) + ifp


class UdptlSender:
    """Frames our IFPs with ``redundancy`` older IFPs (newest first), as T.38 §9.1 recommends."""

    def __init__(self, redundancy: int = 2) -> None:
        self.seq = 0
        self.redundancy = redundancy
        self._history: list[bytes] = []

    def datagram(self, ifp: bytes) -> bytes:
        older = self._history[: self.redundancy]
        out = bytes([self.seq >> 8, self.seq & 0xFF]) + _open_type(ifp) + b"\x00" + bytes([len(older)])
        out += b"".join(_open_type(o) for o in older)
        self._history.insert(0, ifp)
        del self._history[self.redundancy :]
        self.seq = (self.seq + 1) & 0xFFFF
        return out
