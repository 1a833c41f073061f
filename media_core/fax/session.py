"""The receiving fax terminal as a sans-I/O engine: UDPTL datagrams in, pages and responses out.

Layering follows spandsp's t38_core / t38_terminal / t30 / t4 split: ``UdptlReceiver`` (order,
repeats, recovery) -> ``parse_ifp`` -> HDLC frames and T.4 bursts -> ``T30Machine`` -> T.4/T.6 pages.
Invariant: no input can raise out of ``receive_datagram``/``receive_ifp``; bad input is counted in
``warnings`` and dropped, every buffer is capped, and complete pages are never discarded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from media_core.fax import frames as fr
from media_core.fax.document import FaxDocument, FaxPage, PackedPage
from media_core.fax.ecm import EcmPage, ppr_map
from media_core.fax.errors import FaxError, IllegalTransition
from media_core.fax.frames import Fcf
from media_core.fax.hdlc import HdlcAssembler, HdlcFrame, T4Burst
from media_core.fax.ifp import DataPacket, parse_ifp
from media_core.fax.responses import CED, response_ifps
from media_core.fax.t4 import DEFAULT_MAX_ROWS, Encoding, decode_page
from media_core.fax.t30 import Input, Phase, T30Machine
from media_core.fax.udptl import UdptlReceiver

MAX_NON_ECM_PAGE = 4 << 20  # ~ 20 min of V.17 data: anything longer is an endless page
MAX_PAGES = 200
MAX_TOTAL_ROWS = 250_000  # ~100 A4 fine pages; at one bit per pel at most ~76 MB per session
MAX_WARNINGS = 100
_POST_PAGE = {Fcf.MPS: Input.MPS, Fcf.EOM: Input.EOM, Fcf.EOP: Input.EOP}
_POOR = {Fcf.MPS: Input.MPS_POOR, Fcf.EOM: Input.EOM_POOR, Fcf.EOP: Input.EOP_POOR}  # > 5 % bad lines: RTP


@dataclass(frozen=True)
class PageReceived:
    page: FaxPage


@dataclass(frozen=True)
class FaxEnded:
    document: FaxDocument


FaxEvent = PageReceived | FaxEnded


class FaxReceiver:
    """Feed ``receive_datagram``; read ``next_event`` and ``outgoing`` (IFPs to send, listener only)."""

    def __init__(
        self,
        t38_version: int = 0,
        local_ident: str = "",
        max_rows: int = DEFAULT_MAX_ROWS,
        live: bool = False,
    ) -> None:
        # live: our answers reach the sender (listener). Replaying a capture they do not, so there
        # TCF is always taken as good and every page as acceptable, whatever the real receiver said;
        # a retrain it asked for shows up as a DCS, which the waiting phases accept. (A page the real
        # receiver refused with RTN and got again would then be kept twice.)
        self.live = live
        self.version = t38_version
        self.local_ident = local_ident
        self.max_rows = max_rows
        self.machine = T30Machine()
        self.udptl = UdptlReceiver()
        self.remote_id = ""
        self.dcs: fr.Dcs | None = None
        self._link = HdlcAssembler()
        self._tcf = bytearray()
        self._page = bytearray()
        self._ecm = EcmPage()
        self._pages: list[FaxPage] = []
        self._rows_kept = 0
        self._events: deque[FaxEvent] = deque()
        self._out: deque[bytes] = deque()
        self._last_response: list[bytes] = []
        self._warnings: list[str] = []
        self._ended = False

    # ---- input ---------------------------------------------------------------------------------
    def answer(self) -> None:
        """Start phase B as the called terminal: CED, then CSI + DIS on V.21."""
        self._respond(self.machine.handle(Input.ANSWER))

    def receive_datagram(self, datagram: bytes) -> None:
        try:
            delivered = self.udptl.receive_datagram(datagram)
        except FaxError as exc:
            self._warn(f"dropped datagram: {exc}")
            return
        for _seq, ifp in delivered:
            self.receive_ifp(ifp)

    def receive_ifp(self, ifp: bytes | None) -> None:
        """One IFP in sequence order; None marks a packet lost beyond recovery."""
        if ifp is None:
            self._link.lost()
            return
        try:
            packet = parse_ifp(ifp, self.version)
        except FaxError as exc:
            self._warn(f"dropped IFP: {exc}")
            self._link.unparsable()
            return
        if not isinstance(packet, DataPacket):
            self._link.indicator()
            self._end_tcf()  # the TCF's sig-end was lost: the next signal ends it just as well
            return
        for f in packet.fields:
            item = self._link.field(f)
            if isinstance(item, HdlcFrame):
                self._end_tcf()
                self._hdlc_frame(item.data, item.good)
            elif isinstance(item, T4Burst):
                self._non_ecm(item.data, item.end)

    # ---- non-ECM data: TCF or a page -------------------------------------------------------------
    def _non_ecm(self, data: bytes, end: bool) -> None:
        phase = self.machine.phase
        if phase is Phase.AWAIT_TCF:
            if len(self._tcf) < 65536:
                self._tcf += data
            if end:
                self._end_tcf()
        elif phase in (Phase.AWAIT_PAGE, Phase.RECEIVING):
            if data and phase is Phase.AWAIT_PAGE:
                self._step(Input.IMAGE_DATA)
            if len(self._page) + len(data) <= MAX_NON_ECM_PAGE:
                self._page += data
            if end:
                self._step(Input.IMAGE_END)

    def _end_tcf(self) -> None:
        if self.machine.phase is not Phase.AWAIT_TCF or not self._tcf:
            return
        # TCF is 1.5 s of zeros (T.30 §5.3.6.1.3); allow a little line noise, and a lost packet or two
        ones = sum(1 for b in self._tcf if b)
        ok = not self.live or ones * 10 <= len(self._tcf)
        self._tcf.clear()
        self._step(Input.TCF_OK if ok else Input.TCF_BAD)

    # ---- HDLC control and ECM frames ---------------------------------------------------------
    def _hdlc_frame(self, frame: bytes, good: bool) -> None:
        fcf = fr.fcf_of(frame)
        if fcf is None or not good:
            return  # a damaged control frame is repeated by the sender; a damaged FCD is asked for by PPR
        fif = frame[3:]
        if fcf == Fcf.FCD:
            if fif:
                self._ecm.add_frame(fr.reverse_bits(fif[0]), fif[1:])
                if self.machine.phase is not Phase.RECEIVING:
                    self._step(Input.IMAGE_DATA)
        elif fcf == Fcf.RCP:
            if self.machine.phase is Phase.RECEIVING:
                self._step(Input.IMAGE_END)
        elif fcf == Fcf.TSI:
            self.remote_id = fr.decode_ident(fif)
            self._step(Input.IDENT)
        elif fcf in (Fcf.NSS, Fcf.SUB, Fcf.SID):
            self._step(Input.IDENT)
        elif fcf == Fcf.DCS:
            self.dcs = fr.parse_dcs(fif)
            self._step(Input.DCS)
        elif fcf in _POST_PAGE:
            if self.machine.phase not in (Phase.RECEIVING, Phase.POST_PAGE):
                self._out.extend(self._last_response)  # a repeat: our answer was lost
                return
            poor = False
            if self._page:
                page = self._finish_page(bytes(self._page))
                self._page.clear()
                poor = self.live and page is not None and page.decoded.bad_rows * 20 > page.decoded.rows
            self._step((_POOR if poor else _POST_PAGE)[Fcf(fcf)])
        elif fcf == Fcf.PPS and len(fif) >= 4:
            self._pps(fif)
        elif fcf == Fcf.CTC:
            self._step(Input.CTC)
        elif fcf == Fcf.EOR:
            if self._ecm.give_up() in _POST_PAGE:  # the block the sender gave up on ended its page
                self._finish_page(self._ecm.take_page())
            self._step(Input.EOR)
        elif fcf == Fcf.RR:
            self._step(Input.RR)
        elif fcf == Fcf.CRP:
            self._out.extend(self._last_response)
        elif fcf == Fcf.DCN:
            self._step(Input.DCN)
            self._end(completed=True)

    def _pps(self, fif: bytes) -> None:
        post = fif[0] & 0x7F
        page, block, count = fr.reverse_bits(fif[1]), fr.reverse_bits(fif[2]), fr.reverse_bits(fif[3]) + 1
        if self._ecm.settle_pending(page, block) in _POST_PAGE:
            self._finish_page(self._ecm.take_page())  # the damaged block ended its page
        size = self.dcs.ecm_frame_size if self.dcs else 0
        missing = self._ecm.end_block(page, block, count, post, frame_size=size)
        if missing:
            self._step(Input.BLOCK_INCOMPLETE, fif=ppr_map(missing))
            return
        if post in _POST_PAGE:
            if self._ecm.has_data:
                self._finish_page(self._ecm.take_page())
            self._step(_POST_PAGE[Fcf(post)])
        else:
            self._step(Input.PPS_NULL)

    def _finish_page(self, data: bytes) -> FaxPage | None:
        if len(self._pages) >= MAX_PAGES or self.dcs is None:
            self._warn("page dropped: " + ("too many pages" if self.dcs else "no DCS seen"))
            return None
        decoded = decode_page(data, self.dcs.width, self.dcs.encoding, self.max_rows)
        if decoded.rows == 0:
            self._warn("page without any decodable row dropped")
            return None
        if self._rows_kept + decoded.rows > MAX_TOTAL_ROWS:
            self._warn(f"page dropped: the session already holds {self._rows_kept} rows")
            return None
        self._rows_kept += decoded.rows
        packed = PackedPage.pack(decoded)
        page = FaxPage(len(self._pages) + 1, packed, self.dcs.dpi, self.dcs.encoding, self.dcs.ecm)
        self._pages.append(page)
        self._events.append(PageReceived(page))
        return page

    # ---- T.30 steps and responses --------------------------------------------------------------
    def _step(self, event: Input, fif: bytes = b"") -> None:
        try:
            response = self.machine.handle(event)
        except IllegalTransition as exc:
            self._warn(str(exc))
            return
        self._respond(response, fif)

    def _respond(self, fcf: Fcf | None, fif: bytes = b"") -> None:
        if fcf is None:
            return
        packets = response_ifps(fcf, fif, self.local_ident, self.version)
        self._last_response = [p for p in packets if p != CED]  # a repeat never replays CED
        self._out.extend(packets)

    def _warn(self, text: str) -> None:
        if len(self._warnings) < MAX_WARNINGS:
            self._warnings.append(text)

    def _end(self, completed: bool) -> None:
        if not self._ended:
            self._ended = True
            self._events.append(FaxEnded(self.document(completed)))

    # ---- output --------------------------------------------------------------------------------
    def next_event(self) -> FaxEvent | None:
        return self._events.popleft() if self._events else None

    def last_response(self) -> list[bytes]:
        """The IFPs of our last answer (to repeat on CRP or when a timer runs out)."""
        return list(self._last_response)

    def outgoing(self) -> list[bytes]:
        out = list(self._out)
        self._out.clear()
        return out

    def document(self, completed: bool | None = None) -> FaxDocument:
        done = self.machine.phase is Phase.DONE if completed is None else completed
        return FaxDocument(tuple(self._pages), self.remote_id, done, tuple(self._warnings))

    def close(self) -> FaxDocument:
        """End of input (socket closed / capture ended): flush UDPTL, keep a page whose data had ended."""
        for _seq, ifp in self.udptl.flush():
            self.receive_ifp(ifp)
        if self._page and self.machine.phase is Phase.POST_PAGE:
            self._finish_page(bytes(self._page))
            self._page.clear()
        if self._ecm.give_up() in _POST_PAGE:  # the last block was still waiting for resends
            self._finish_page(self._ecm.take_page())
        self._end(completed=self.machine.phase is Phase.DONE)
        return self.document()

    @property
    def pages(self) -> list[FaxPage]:
        return list(self._pages)


__all__ = ["FaxEnded", "FaxReceiver", "PageReceived", "Encoding"]
