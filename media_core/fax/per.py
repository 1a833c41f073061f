"""The few ASN.1 aligned-PER pieces T.38 uses (X.691 §10.9 length determinants, open types).

Invariant: every read is bounds-checked against the buffer and raises ``IfpError``/``UdptlError``
instead of slicing short, so a hostile length can never read past the end.
"""

from __future__ import annotations

from media_core.fax.errors import FaxError


def read_length(buf: bytes, pos: int, error: type[FaxError]) -> tuple[int, int]:
    """Length determinant (X.691 §10.9.3.6-8): 1 octet < 128, 2 octets < 16384; fragments refused."""
    if pos >= len(buf):
        raise error(f"length determinant missing at offset {pos}")
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    if first < 0xC0:
        if pos + 1 >= len(buf):
            raise error(f"two-octet length cut off at offset {pos}")
        return ((first & 0x3F) << 8) | buf[pos + 1], pos + 2
    raise error(f"fragmented length 0x{first:02x} at offset {pos} (>16 K) is not used by T.38")


def read_open_type(buf: bytes, pos: int, error: type[FaxError]) -> tuple[bytes, int]:
    """Open type (X.691 §10.2): a length determinant then that many octets."""
    length, pos = read_length(buf, pos, error)
    if pos + length > len(buf):
        raise error(f"open type of {length} octets at offset {pos} runs past the end ({len(buf)})")
    return buf[pos : pos + length], pos + length


def write_length(length: int) -> bytes:
    """Inverse of ``read_length`` for lengths < 16384 (used for the IFPs we send)."""
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return bytes([0x80 | (length >> 8), length & 0xFF])
    raise ValueError(f"length {length} needs fragmentation")
