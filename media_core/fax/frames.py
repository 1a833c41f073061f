"""T.30 HDLC frames as they appear in T.38 octets (first bit on the line = MSB; T.38 §6.2, T.30 §5.3).

Invariant: pure functions of the frame bytes; anything too short or unknown maps to ``None`` /
defaults rather than raising, because a bad control frame must not end a fax the sender will repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from media_core.fax.t4 import Encoding

X_BIT = 0x80  # set by the station that received the DIS (T.30 §5.3.6.1)
ADDRESS = 0xFF
CONTROL_FINAL = 0xC8
CONTROL_NOT_FINAL = 0xC0


class Fcf(IntEnum):
    """Facsimile control fields (T.30 §5.3.6), as T.38 octets with the X bit cleared."""

    DIS = 0x01
    CSI = 0x02
    NSF = 0x04
    DCS = 0x41
    TSI = 0x42
    NSS = 0x44
    SUB = 0x43
    SID = 0x45
    CFR = 0x21
    FTT = 0x22
    EOM = 0x71
    MPS = 0x72
    EOR = 0x73
    EOP = 0x74
    RR = 0x76
    PPS = 0x7D
    MCF = 0x31
    RTN = 0x32
    RTP = 0x33
    PPR = 0x3D
    RNR = 0x37
    ERR = 0x38
    CTC = 0x48
    CTR = 0x23
    CRP = 0x58
    DCN = 0x5F
    FCD = 0x60
    RCP = 0x61


_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_bits(octet: int) -> int:
    """Numbers and characters inside frames are sent LSB first, so they arrive bit-reversed."""
    return _REVERSE[octet & 0xFF]


def fcf_of(frame: bytes) -> int | None:
    """FCF of an HDLC frame ``FF C0|C8 FCF FIF...`` without the X bit, or None if it is not one."""
    if len(frame) < 3 or frame[0] != ADDRESS or frame[1] not in (CONTROL_FINAL, CONTROL_NOT_FINAL):
        return None
    if frame[2] in (Fcf.FCD, Fcf.RCP):  # ECM image frames carry no X bit
        return frame[2]
    return frame[2] & ~X_BIT & 0xFF


def decode_ident(fif: bytes) -> str:
    """TSI/CSI: 20 characters, last character first (T.30 §5.3.6.2.4)."""
    return bytes(reverse_bits(b) for b in reversed(fif[:20])).decode("ascii", "replace").strip()


def encode_ident(ident: str) -> bytes:
    text = ident[:20].rjust(20).encode("ascii", "replace")
    return bytes(reverse_bits(b) for b in reversed(text))


def fif_bit(fif: bytes, n: int) -> bool:
    """DIS/DTC/DCS bit n, numbered from 1 as in T.30 Table 2 (bit 1 = first bit sent = MSB here)."""
    i = (n - 1) // 8
    return i < len(fif) and bool(fif[i] & (0x80 >> ((n - 1) % 8)))


@dataclass(frozen=True)
class Dcs:
    """What the sender chose (T.30 Table 2, DCS column)."""

    encoding: Encoding
    width: int
    fine: bool
    superfine: bool
    ecm: bool
    ecm_frame_size: int

    @property
    def dpi(self) -> tuple[int, int]:
        return (204, 391 if self.superfine else 196 if self.fine else 98)


def parse_dcs(fif: bytes) -> Dcs:
    """Bits 15 (fine), 16 (2D), 17-18 (width), 27 (ECM), 28 (64-octet frames), 31 (T.6), 41 (superfine)."""
    encoding = Encoding.MMR if fif_bit(fif, 31) else Encoding.MR if fif_bit(fif, 16) else Encoding.MH
    width = {(False, False): 1728, (True, False): 2048, (False, True): 2432}.get(
        (fif_bit(fif, 17), fif_bit(fif, 18)), 1728
    )
    return Dcs(
        encoding=encoding,
        width=width,
        fine=fif_bit(fif, 15),
        superfine=fif_bit(fif, 41),
        ecm=fif_bit(fif, 27),
        ecm_frame_size=64 if fif_bit(fif, 28) else 256,
    )


def build_frame(fcf: int, fif: bytes = b"", final: bool = True, x_bit: bool = False) -> bytes:
    """A control frame for the T.38 wire (FCS is not carried: hdlc-fcs-OK stands for it)."""
    return (
        bytes([ADDRESS, CONTROL_FINAL if final else CONTROL_NOT_FINAL, fcf | (X_BIT if x_bit else 0)]) + fif
    )


def build_dis(ecm: bool = True) -> bytes:
    """Our capabilities: V.27ter/V.29/V.17, fine, 2D, 1728-2432 pels, unlimited length, ECM, T.6."""
    bits = {10, 11, 12, 14, 15, 16, 18, 20, 21, 22, 23, 24, 32, 40}  # V.27ter+V.29+V.17, 0 ms scan line
    if ecm:
        bits |= {27, 31}
    fif = bytearray(6)
    for n in bits:
        fif[(n - 1) // 8] |= 0x80 >> ((n - 1) % 8)
    return build_frame(Fcf.DIS, bytes(fif))
