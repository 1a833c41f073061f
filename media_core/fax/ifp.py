"""IFP packets (T.38 §7, Annex A ASN.1): decode and encode, versions 0-3.

Version 0 uses the 1998 ("pre-corrigendum") Data-Field encoding, where a field header is a nibble and
a field without data lets the next header share its octet; versions >= 1 use the 2002 encoding with an
extension bit (T.38 Annex A, the T38FaxVersion SDP attribute decides).
Invariant: parse_ifp either returns a complete packet or raises IfpError; it never reads past the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from media_core.fax.errors import IfpError
from media_core.fax.per import read_length, write_length


class Indicator(IntEnum):
    """T30-indicator values (T.38 Annex A)."""

    NO_SIGNAL = 0
    CNG = 1
    CED = 2
    V21_PREAMBLE = 3
    V27_2400_TRAINING = 4
    V27_4800_TRAINING = 5
    V29_7200_TRAINING = 6
    V29_9600_TRAINING = 7
    V17_7200_SHORT = 8
    V17_7200_LONG = 9
    V17_9600_SHORT = 10
    V17_9600_LONG = 11
    V17_12000_SHORT = 12
    V17_12000_LONG = 13
    V17_14400_SHORT = 14
    V17_14400_LONG = 15


class DataType(IntEnum):
    """T30-data values: the modem the data would use on an analogue line."""

    V21 = 0
    V27_2400 = 1
    V27_4800 = 2
    V29_7200 = 3
    V29_9600 = 4
    V17_7200 = 5
    V17_9600 = 6
    V17_12000 = 7
    V17_14400 = 8


class FieldType(IntEnum):
    """Data-Field field-type values (T.38 Annex A)."""

    HDLC_DATA = 0
    HDLC_SIG_END = 1
    HDLC_FCS_OK = 2
    HDLC_FCS_BAD = 3
    HDLC_FCS_OK_SIG_END = 4
    HDLC_FCS_BAD_SIG_END = 5
    T4_NON_ECM_DATA = 6
    T4_NON_ECM_SIG_END = 7


@dataclass(frozen=True)
class IndicatorPacket:
    indicator: int  # an Indicator, or an extended value (V.8/V.34/V.33, >= 16)


@dataclass(frozen=True)
class DataField:
    field_type: int  # a FieldType, or an extended value >= 8
    data: bytes


@dataclass(frozen=True)
class DataPacket:
    data_type: int  # a DataType, or an extended value >= 9
    fields: tuple[DataField, ...]


IfpPacket = IndicatorPacket | DataPacket


def parse_ifp(buf: bytes, version: int = 0) -> IfpPacket:
    """Decode one IFP packet; raises IfpError naming the offset of the first bad octet."""
    if not buf:
        raise IfpError("empty IFP packet")
    first = buf[0]
    if first & 0x20:  # extension bit: 2-octet type-of-msg (T.38 v1+ values >= 16 / >= 9)
        if len(buf) < 2:
            raise IfpError("extended type-of-msg cut off")
        value = 16 + ((((first << 8) | buf[1]) >> 6) & 0x7F)
        pos = 2
    else:
        value = (first >> 1) & 0x0F
        pos = 1
    if not first & 0x40:
        return IndicatorPacket(value)
    if not first & 0x80:
        return DataPacket(value, ())
    count, pos = read_length(buf, pos, IfpError)
    fields: list[DataField] = []
    half = False  # version 0: the next field header sits in the low nibble of the current octet
    for _ in range(count):
        if pos >= len(buf):
            raise IfpError(f"field header {len(fields)} missing at offset {pos}")
        if version == 0:
            nibble = buf[pos] & 0x0F if half else buf[pos] >> 4
            has_data, ftype = nibble & 0x08, nibble & 0x07
            if has_data or half:
                pos += 1
            half = not has_data and not half
        else:
            octet = buf[pos]
            has_data = octet & 0x80
            if octet & 0x40:
                if pos + 1 >= len(buf):
                    raise IfpError("extended field type cut off")
                ftype = 8 + ((((octet << 8) | buf[pos + 1]) >> 6) & 0x0F)
                pos += 2
            else:
                ftype = (octet >> 3) & 0x07
                pos += 1
        data = b""
        if has_data:
            if pos + 2 > len(buf):
                raise IfpError(f"field-data length cut off at offset {pos}")
            length = ((buf[pos] << 8) | buf[pos + 1]) + 1
            pos += 2
            if pos + length > len(buf):
                raise IfpError(
                    f"field-data of {length} octets at offset {pos} runs past the end ({len(buf)})"
                )
            data = buf[pos : pos + length]
            pos += length
        fields.append(DataField(ftype, data))
    return DataPacket(value, tuple(fields))


def encode_indicator(indicator: int) -> bytes:
    """IFP for an indicator < 16 (what a receiving terminal ever needs to send)."""
    return bytes([(indicator & 0x0F) << 1])


def encode_data(data_type: int, fields: list[DataField], version: int = 0) -> bytes:
    """IFP for a data packet with types < 16 / < 8 (V.21 HDLC responses)."""
    out = bytearray([0xC0 | ((data_type & 0x0F) << 1)])
    out += write_length(len(fields))
    half = False
    for f in fields:
        has = 0x08 if f.data else 0
        if version == 0:
            nibble = has | (f.field_type & 0x07)
            if half:
                out[-1] |= nibble
                half = False
            else:
                out.append(nibble << 4)
                half = not f.data
        else:
            out.append((has << 4) | ((f.field_type & 0x07) << 3))
        if f.data:
            out += (len(f.data) - 1).to_bytes(2, "big") + f.data
    return bytes(out)
