"""IFP data fields -> whole HDLC frames and T.4 bursts (the receive half of a T.38 terminal, T.38 §7.4).

Invariant: a frame is reported good only if the sender said hdlc-fcs-OK *and* no packet of it was
lost or unparsable; the FCS itself is not carried over T.38 (hdlc-fcs-OK/BAD stand for it), so these
two facts are all a T.38 receiver can verify. Frames are capped at MAX_FRAME octets.
"""

from __future__ import annotations

from dataclasses import dataclass

from media_core.fax.ifp import DataField, FieldType

MAX_FRAME = 2048  # longest HDLC frame we keep (ECM frames are 260 octets)
_FRAME_ENDS = {
    FieldType.HDLC_FCS_OK: True,
    FieldType.HDLC_FCS_OK_SIG_END: True,
    FieldType.HDLC_FCS_BAD: False,
    FieldType.HDLC_FCS_BAD_SIG_END: False,
}


@dataclass(frozen=True)
class HdlcFrame:
    data: bytes
    good: bool


@dataclass(frozen=True)
class T4Burst:
    data: bytes
    end: bool  # t4-non-ecm-sig-end: the carrier dropped after this data


class HdlcAssembler:
    """Joins hdlc-data chunks into frames and passes non-ECM data through."""

    def __init__(self) -> None:
        self._frame = bytearray()
        self._damaged = False
        self._loss_pending = False

    def lost(self) -> None:
        """A packet is gone. It damages the frame in progress, or the next one if nothing else came
        first; a loss inside T.4 data must not condemn the post-page command that follows it."""
        self._damaged |= bool(self._frame)
        self._loss_pending = True

    def unparsable(self) -> None:
        self._damaged = True

    def indicator(self) -> None:
        self._loss_pending = False

    def field(self, f: DataField) -> HdlcFrame | T4Burst | None:
        t = f.field_type
        pending, self._loss_pending = self._loss_pending, False
        if t == FieldType.HDLC_DATA:
            self._damaged |= pending and not self._frame
            if len(self._frame) + len(f.data) > MAX_FRAME:
                self._damaged = True
            else:
                self._frame += f.data
        elif t in _FRAME_ENDS:
            self._frame += f.data[: max(0, MAX_FRAME - len(self._frame))]
            frame = HdlcFrame(bytes(self._frame), _FRAME_ENDS[FieldType(t)] and not self._damaged)
            self._frame.clear()
            self._damaged = False
            return frame
        elif t == FieldType.HDLC_SIG_END:  # carrier off mid-frame: the partial frame is void
            self._frame.clear()
            self._damaged = False
        elif t in (FieldType.T4_NON_ECM_DATA, FieldType.T4_NON_ECM_SIG_END):
            return T4Burst(f.data, end=t == FieldType.T4_NON_ECM_SIG_END)
        return None
