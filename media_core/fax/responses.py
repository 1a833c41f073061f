"""What the receiving terminal sends: T.30 answers as IFP packets on the V.21 channel (T.38 §7.4).

Invariant: every answer starts with a v21-preamble indicator and ends its last frame with
hdlc-fcs-OK-sig-end, so a gateway knows when to turn its V.21 carrier off; only the first DIS is
preceded by CED.
"""

from __future__ import annotations

from media_core.fax import frames as fr
from media_core.fax.frames import Fcf
from media_core.fax.ifp import DataField, DataType, FieldType, Indicator, encode_data, encode_indicator

CED = encode_indicator(Indicator.CED)
PREAMBLE = encode_indicator(Indicator.V21_PREAMBLE)


def _frame_ifp(frame: bytes, end: FieldType, version: int) -> bytes:
    fields = [DataField(FieldType.HDLC_DATA, frame), DataField(end, b"")]
    return encode_data(DataType.V21, fields, version)


def response_ifps(fcf: Fcf, fif: bytes, local_ident: str, version: int) -> list[bytes]:
    """IFPs for one answer; DIS goes out as CED, preamble, CSI (non-final), DIS (final)."""
    packets = [PREAMBLE]
    if fcf == Fcf.DIS:
        packets.insert(0, CED)
        csi = fr.build_frame(Fcf.CSI, fr.encode_ident(local_ident), final=False)
        packets.append(_frame_ifp(csi, FieldType.HDLC_FCS_OK, version))
        frame = fr.build_dis()
    else:
        frame = fr.build_frame(fcf, fif)
    packets.append(_frame_ifp(frame, FieldType.HDLC_FCS_OK_SIG_END, version))
    return packets
