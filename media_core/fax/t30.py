"""T.30 receiving-terminal phases as a transition table (T.30 §5, Figure 5-2; Annex A for ECM).

Invariant: ``T30Machine.handle`` either moves along one row of ``TRANSITIONS`` and returns the
response that row names, or raises ``IllegalTransition`` and leaves the phase unchanged (the
h11 pattern). The engine decides *which* input happened (e.g. a PPS with or without missing frames);
this table alone decides what is allowed next and what we answer.
"""

from __future__ import annotations

from enum import Enum

from media_core.fax.errors import IllegalTransition
from media_core.fax.frames import Fcf


class Phase(Enum):
    CALL_SETUP = "A: call set-up"
    AWAIT_DCS = "B: DIS sent, waiting for DCS"
    AWAIT_TCF = "B: DCS received, waiting for TCF"
    AWAIT_PAGE = "C: ready for image data"
    RECEIVING = "C: receiving image data"
    POST_PAGE = "D: waiting for the post-message command"
    AWAIT_DCN = "D: EOP confirmed, waiting for DCN"
    DONE = "E: released"


class Input(Enum):
    ANSWER = "answer"
    IDENT = "TSI/NSS/SUB/SID/PWD"
    DCS = "DCS"
    TCF_OK = "TCF good"
    TCF_BAD = "TCF bad"
    IMAGE_DATA = "image data"
    IMAGE_END = "image data ended (sig-end / RCP)"
    MPS = "MPS or PPS-MPS, page complete"
    EOM = "EOM or PPS-EOM, page complete"
    EOP = "EOP or PPS-EOP, page complete"
    MPS_POOR = "MPS after a page with many bad lines"
    EOM_POOR = "EOM after a page with many bad lines"
    EOP_POOR = "EOP after a page with many bad lines"
    PPS_NULL = "PPS-NULL, block complete"
    BLOCK_INCOMPLETE = "PPS with frames missing"
    CTC = "CTC"
    EOR = "EOR"
    RR = "RR"
    DCN = "DCN"


P, I = Phase, Input  # noqa: E741  (table rows stay one line each)
_POST_PAGE_ROWS: dict[tuple[Phase, Input], tuple[Phase, Fcf | None]] = {}
for _src in (P.RECEIVING, P.POST_PAGE):
    _POST_PAGE_ROWS.update(
        {
            (_src, I.MPS): (P.AWAIT_PAGE, Fcf.MCF),
            (_src, I.EOM): (P.AWAIT_DCS, Fcf.MCF),
            (_src, I.EOP): (P.AWAIT_DCN, Fcf.MCF),
            # RTP: page kept, but retrain first (T.30 §5.3.6.1.7). We never send RTN: a page resent
            # after RTN cannot be told from the next page, so a damaged page is kept instead.
            (_src, I.MPS_POOR): (P.AWAIT_DCS, Fcf.RTP),
            (_src, I.EOM_POOR): (P.AWAIT_DCS, Fcf.RTP),
            (_src, I.EOP_POOR): (P.AWAIT_DCN, Fcf.RTP),
            (_src, I.PPS_NULL): (P.AWAIT_PAGE, Fcf.MCF),
            (_src, I.BLOCK_INCOMPLETE): (P.POST_PAGE, Fcf.PPR),
            (_src, I.IMAGE_END): (P.POST_PAGE, None),
        }
    )

TRANSITIONS: dict[tuple[Phase, Input], tuple[Phase, Fcf | None]] = {
    (P.CALL_SETUP, I.ANSWER): (P.AWAIT_DCS, Fcf.DIS),
    (P.AWAIT_DCS, I.IDENT): (P.AWAIT_DCS, None),
    (P.AWAIT_DCS, I.DCS): (P.AWAIT_TCF, None),
    (P.AWAIT_TCF, I.IDENT): (P.AWAIT_TCF, None),
    (P.AWAIT_TCF, I.DCS): (P.AWAIT_TCF, None),  # DCS repeated: the sender did not hear the first one answered
    (P.AWAIT_TCF, I.TCF_OK): (P.AWAIT_PAGE, Fcf.CFR),
    (P.AWAIT_TCF, I.TCF_BAD): (P.AWAIT_DCS, Fcf.FTT),
    (P.AWAIT_PAGE, I.IDENT): (P.AWAIT_PAGE, None),
    (P.AWAIT_PAGE, I.DCS): (P.AWAIT_TCF, None),  # retrain (after RTN/RTP or a lost CFR)
    (P.AWAIT_PAGE, I.IMAGE_DATA): (P.RECEIVING, None),
    (P.AWAIT_PAGE, I.IMAGE_END): (P.POST_PAGE, None),  # an RCP/sig-end whose data we lost entirely
    (P.RECEIVING, I.IMAGE_DATA): (P.RECEIVING, None),
    (P.POST_PAGE, I.IMAGE_DATA): (P.RECEIVING, None),  # ECM frames resent after our PPR
    (P.POST_PAGE, I.CTC): (P.POST_PAGE, Fcf.CTR),
    (P.POST_PAGE, I.EOR): (P.AWAIT_PAGE, Fcf.ERR),
    (P.POST_PAGE, I.RR): (P.POST_PAGE, Fcf.MCF),
    # A post-message command repeated because our answer got lost is answered by the engine
    # repeating that answer; it is not a transition.
    (P.AWAIT_PAGE, I.PPS_NULL): (P.AWAIT_PAGE, Fcf.MCF),  # ECM: repeated PPS of the block just joined
    (P.AWAIT_DCS, I.EOM): (P.AWAIT_DCS, Fcf.MCF),
    (P.AWAIT_DCN, I.EOP): (P.AWAIT_DCN, Fcf.MCF),
    (P.AWAIT_PAGE, I.MPS): (P.AWAIT_PAGE, Fcf.MCF),
    **_POST_PAGE_ROWS,
    **{(s, I.DCN): (P.DONE, None) for s in P if s is not P.DONE},
}


class T30Machine:
    """Current phase plus the table; ``handle`` returns the FCF we answer with, if any."""

    def __init__(self) -> None:
        self.phase = Phase.CALL_SETUP

    def handle(self, event: Input) -> Fcf | None:
        try:
            nxt, response = TRANSITIONS[(self.phase, event)]
        except KeyError:
            raise IllegalTransition(f"{event.value} is not allowed in phase {self.phase.value}") from None
        self.phase = nxt
        return response
