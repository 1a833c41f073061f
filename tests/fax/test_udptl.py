"""UDPTL reassembly: order, repeats, redundancy, FEC, wrap-around, hostile lengths."""

from __future__ import annotations

import time

import pytest

from media_core.fax.errors import UdptlError
from media_core.fax.udptl import UdptlReceiver, UdptlSender, parse_udptl
from tests.fax.spandsp_sessions import Ifp, udptl_stream


def _stream(n: int, start: int = 0, redundancy: int = 0, fec: tuple[int, int] | None = None) -> list[bytes]:
    ifps = [Ifp("S", (start + i) & 0xFFFF, 1, bytes([i & 0xFF]) * (1 + i % 5)) for i in range(n)]
    return [dg for _, dg in udptl_stream(ifps, redundancy=redundancy, fec=fec, repeats=False)]


def _feed(datagrams: list[bytes]) -> tuple[UdptlReceiver, list[bytes | None]]:
    rx = UdptlReceiver()
    out: list[bytes | None] = []
    for dg in datagrams:
        out += [ifp for _, ifp in rx.receive_datagram(dg)]
    out += [ifp for _, ifp in rx.flush()]
    return rx, out


def _payloads(n: int) -> list[bytes]:
    return [bytes([i & 0xFF]) * (1 + i % 5) for i in range(n)]


def test_delivers_in_order_and_drops_repeated_datagrams() -> None:
    dgs = _stream(10)
    rx, out = _feed([d for d in dgs for _ in range(3)])
    assert out == _payloads(10) and rx.duplicates == 20


def test_redundancy_fills_gaps_and_sequence_wraps() -> None:
    dgs = _stream(40, start=65520, redundancy=2)
    kept = [d for i, d in enumerate(dgs) if i % 3 != 1]
    rx, out = _feed(kept)
    assert out == _payloads(40) and rx.lost == 0 and rx.recovered > 0


def test_loss_beyond_redundancy_is_reported_as_none() -> None:
    dgs = _stream(12, redundancy=1)
    rx, out = _feed(dgs[:4] + dgs[7:])
    # 4, 5, 6 lost; the one redundant copy in 7 brings back 6 only
    assert (
        out[:4] == _payloads(4) and out[4:6] == [None, None] and out[6:] == _payloads(12)[6:] and rx.lost == 2
    )


def test_fec_repairs_a_single_loss_per_group() -> None:
    dgs = _stream(30, start=65530, fec=(3, 1))
    rx, out = _feed([d for i, d in enumerate(dgs) if i != 10])
    assert rx.lost == 0
    assert [o.rstrip(b"\x00") if o else o for o in out] == [p.rstrip(b"\x00") for p in _payloads(30)]


def test_roll_from_65535_to_1_is_not_a_loss() -> None:
    sender = UdptlSender(redundancy=1)
    sender.seq = 65534
    dgs = [sender.datagram(b"a"), sender.datagram(b"b")]
    sender.seq = 1  # a stack that never uses number 0
    dgs.append(sender.datagram(b"c"))
    rx, out = _feed(dgs)
    assert out == [b"a", b"b", b"c"] and rx.lost == 0


def test_far_jump_is_one_gap_not_a_flood() -> None:
    dgs = _stream(3) + _stream(3, start=30000)
    rx, out = _feed(dgs)
    assert len(out) < 200 and out[-3:] == _payloads(3)


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"\x00\x01",
        b"\x00\x01\x05ab",
        b"\x00\x01\x01a",
        b"\x00\x01\x01a\x00\x05\x01",
        b"\x00\x01\xc0",
        b"\x00\x01\x01a\x80\x02\x03",
    ],
)
def test_malformed_datagrams_raise_a_clear_error(datagram: bytes) -> None:
    with pytest.raises(UdptlError):
        parse_udptl(datagram)


def test_deep_redundancy_is_capped() -> None:
    dg = b"\x00\x64\x01a\x00" + bytes([100]) + b"\x01b" * 100
    assert len(parse_udptl(dg).secondaries) == 32


def test_hostile_fec_parameters_are_refused_and_cheap() -> None:
    # span 255 with 16 entries of 60 KB parity would make every datagram an expensive repair attempt
    dg = b"\x00\x05\x01a\x80\x01\xff\x10" + b"\x81\x00" + bytes(256)
    with pytest.raises(UdptlError, match="FEC span"):
        parse_udptl(dg + (b"\x81\x00" + bytes(256)) * 15)
    rx = UdptlReceiver()
    start = time.process_time()
    for seq in range(0, 3000, 7):  # gaps everywhere, each datagram with maximal accepted FEC
        body = (
            bytes([seq >> 8 & 0xFF, seq & 0xFF, 1, 0x61, 0x80, 1, 16, 16]) + (b"\x81\x00" + bytes(256)) * 16
        )
        rx.receive_datagram(body)
    assert time.process_time() - start < 5
