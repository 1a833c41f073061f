"""Minimal pcap / pcapng reader for UDP datagrams (IPv4/IPv6 over Ethernet, VLAN, Linux SLL/SLL2, raw IP).

Invariant: truncated or unknown records are skipped, never read past; a file that is neither format
raises ValueError naming its first four octets.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

Endpoint = tuple[str, int]


@dataclass(frozen=True)
class UdpDatagram:
    src: Endpoint
    dst: Endpoint
    payload: bytes


def _ip_udp(pkt: bytes, off: int) -> UdpDatagram | None:
    if off >= len(pkt):
        return None
    version = pkt[off] >> 4
    if version == 4:
        ihl = (pkt[off] & 0x0F) * 4
        if (
            len(pkt) < off + ihl + 8
            or pkt[off + 9] != 17
            or struct.unpack_from("!H", pkt, off + 6)[0] & 0x1FFF
        ):
            return None  # not UDP, or a non-first fragment
        src_ip, dst_ip = (
            ".".join(map(str, pkt[off + 12 : off + 16])),
            ".".join(map(str, pkt[off + 16 : off + 20])),
        )
        udp = off + ihl
    elif version == 6:
        if len(pkt) < off + 48 or pkt[off + 6] != 17:
            return None
        src_ip, dst_ip = pkt[off + 8 : off + 24].hex(":"), pkt[off + 24 : off + 40].hex(":")
        udp = off + 40
    else:
        return None
    sport, dport, length = struct.unpack_from("!HHH", pkt, udp)
    payload = pkt[udp + 8 : udp + max(length, 8)]
    return UdpDatagram((src_ip, sport), (dst_ip, dport), payload)


def _link(pkt: bytes, linktype: int) -> UdpDatagram | None:
    if linktype == 1:  # Ethernet, possibly VLAN tagged
        off, ethertype = 14, pkt[12:14]
        while ethertype in (b"\x81\x00", b"\x88\xa8") and len(pkt) >= off + 4:
            ethertype, off = pkt[off + 2 : off + 4], off + 4
        return _ip_udp(pkt, off) if ethertype in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == 113:
        return _ip_udp(pkt, 16)
    if linktype == 276:
        return _ip_udp(pkt, 20)
    if linktype in (101, 12, 228, 229):
        return _ip_udp(pkt, 0)
    if linktype == 0:  # BSD loopback: 4-octet family
        return _ip_udp(pkt, 4)
    return None


def _pcap(data: bytes) -> Iterator[tuple[bytes, int]]:
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0xFFFF
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, pos + 8)[0]
        pkt = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        yield pkt, linktype


def _pcapng(data: bytes) -> Iterator[tuple[bytes, int]]:
    endian = "<"
    links: list[int] = []
    pos = 0
    while pos + 12 <= len(data):
        btype = struct.unpack_from(endian + "I", data, pos)[0]
        if btype == 0x0A0D0D0A:  # section header: byte order may change, interfaces restart
            endian = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack_from(endian + "I", data, pos + 4)[0]
        if blen < 12 or pos + blen > len(data):
            return
        body = data[pos + 8 : pos + blen - 4]
        if btype == 1 and len(body) >= 2:
            links.append(struct.unpack_from(endian + "H", body, 0)[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, caplen = struct.unpack_from(endian + "IIII", body, 0)
            if iface < len(links):
                yield body[20 : 20 + caplen], links[iface]
        elif btype == 3 and links and len(body) >= 4:
            yield body[4:], links[0]
        pos += blen


def read_udp(data: bytes) -> list[UdpDatagram]:
    """All UDP datagrams of a pcap or pcapng capture, in file order."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        records = _pcap(data)
    elif magic == b"\x0a\x0d\x0d\x0a":
        records = _pcapng(data)
    else:
        raise ValueError(f"not a pcap or pcapng file (starts with {magic.hex()})")
    if magic != b"\x0a\x0d\x0d\x0a" and len(data) < 24:
        raise ValueError(f"pcap file header cut off ({len(data)} octets)")
    out = []
    try:
        for pkt, linktype in records:
            try:
                d = _link(pkt, linktype)
            except (struct.error, IndexError):
                continue  # a truncated frame: skip it, keep the rest
            if d is not None:
                out.append(d)
    except struct.error:
        pass  # the file itself is cut off: keep what was read
    return out
