"""Decode a fax from a packet capture: choose the sending direction, then replay it through FaxReceiver.

Invariant: only the direction carrying the most UDPTL payload is replayed (the image data flows from
the sender); our own engine stands in for the real receiver's answers, so the capture's other
direction is never needed.
"""

from __future__ import annotations

from collections import defaultdict

from media_core.fax.document import FaxDocument
from media_core.fax.errors import FaxError
from media_core.fax.pcap import Endpoint, UdpDatagram, read_udp
from media_core.fax.session import FaxReceiver
from media_core.fax.udptl import parse_udptl


def sending_direction(datagrams: list[UdpDatagram]) -> list[bytes]:
    """Payloads of the (src, dst) flow with the most octets of well-formed UDPTL."""
    volume: dict[tuple[Endpoint, Endpoint], int] = defaultdict(int)
    flows: dict[tuple[Endpoint, Endpoint], list[bytes]] = defaultdict(list)
    for d in datagrams:
        try:
            parse_udptl(d.payload)
        except FaxError:
            continue
        volume[(d.src, d.dst)] += len(d.payload)
        flows[(d.src, d.dst)].append(d.payload)
    if not volume:
        raise ValueError("no UDPTL datagrams in the capture")
    best = max(volume, key=lambda k: volume[k])
    return flows[best]


def decode_datagrams(payloads: list[bytes], version: int | None = None) -> FaxDocument:
    """Replay one direction. ``version=None`` tries the 1998 and 2002 IFP encodings and keeps the better."""
    best: FaxDocument | None = None
    for v in (0, 1) if version is None else (version,):
        rx = FaxReceiver(t38_version=v)
        rx.answer()
        for p in payloads:
            rx.receive_datagram(p)
        doc = rx.close()
        key = (len(doc.pages), doc.completed, -len(doc.warnings))
        if best is None or key > (len(best.pages), best.completed, -len(best.warnings)):
            best = doc
    assert best is not None
    return best


def decode_capture(data: bytes, version: int | None = None) -> FaxDocument:
    """pcap/pcapng bytes -> the fax document sent in it."""
    return decode_datagrams(sending_direction(read_udp(data)), version)
