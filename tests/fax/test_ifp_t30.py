"""IFP encodings (T.38 v0 and v1+) and the T.30 transition table."""

from __future__ import annotations

import pytest

from media_core.fax.errors import IfpError, IllegalTransition
from media_core.fax.frames import Fcf, build_dis, decode_ident, encode_ident, fif_bit, parse_dcs
from media_core.fax.ifp import DataField, DataPacket, FieldType, IndicatorPacket, encode_data, parse_ifp
from media_core.fax.t4 import Encoding
from media_core.fax.t30 import Input, Phase, T30Machine


def test_parses_spandsp_octets_in_both_asn1_versions() -> None:
    # octets captured from spandsp 0.0.6 (tests/fax/spandsp_loopback.c)
    assert parse_ifp(bytes.fromhex("1c")) == IndicatorPacket(14)
    assert parse_ifp(bytes.fromhex("c00120"), 0) == DataPacket(0, (DataField(FieldType.HDLC_FCS_OK, b""),))
    assert parse_ifp(bytes.fromhex("d00110"), 1) == DataPacket(8, (DataField(FieldType.HDLC_FCS_OK, b""),))
    assert parse_ifp(bytes.fromhex("d001e0000100ff"), 0).fields[0] == DataField(
        FieldType.T4_NON_ECM_DATA, b"\x00\xff"
    )
    assert parse_ifp(bytes.fromhex("d001b0000100ff"), 1).fields[0] == DataField(
        FieldType.T4_NON_ECM_DATA, b"\x00\xff"
    )


@pytest.mark.parametrize("version", [0, 1])
def test_encode_then_parse_round_trips(version: int) -> None:
    fields = [
        DataField(FieldType.HDLC_DATA, b"\xff\xc8\x21"),
        DataField(FieldType.HDLC_FCS_OK, b""),
        DataField(FieldType.HDLC_SIG_END, b""),
        DataField(FieldType.HDLC_DATA, b"x"),
    ]
    assert parse_ifp(encode_data(0, fields, version), version) == DataPacket(0, tuple(fields))


@pytest.mark.parametrize("octets", ["", "c0", "c002", "c00180", "c0018000", "c00180000501", "e0"])
def test_truncated_ifp_raises(octets: str) -> None:
    with pytest.raises(IfpError):
        parse_ifp(bytes.fromhex(octets))


def test_idents_are_sent_last_character_first_and_bit_reversed() -> None:
    assert decode_ident(encode_ident("+1 555 0100")) == "+1 555 0100"
    assert encode_ident("1")[0] == 0x8C  # last character first; '1' = 0x31 bit-reversed


def test_dcs_bits() -> None:
    dcs = parse_dcs(bytes.fromhex("00461f22"))  # spandsp, ECM + T.6 + fine
    assert (
        dcs.encoding is Encoding.MMR and dcs.ecm and dcs.fine and dcs.width == 1728 and dcs.dpi == (204, 196)
    )
    dis = build_dis()[3:]
    assert fif_bit(dis, 10) and fif_bit(dis, 27) and fif_bit(dis, 31) and not fif_bit(dis, 9)


def test_happy_path_answers_per_table() -> None:
    m = T30Machine()
    answers = [
        m.handle(e)
        for e in (
            Input.ANSWER,
            Input.IDENT,
            Input.DCS,
            Input.TCF_OK,
            Input.IMAGE_DATA,
            Input.IMAGE_END,
            Input.MPS,
            Input.IMAGE_DATA,
            Input.EOP,
            Input.DCN,
        )
    ]
    assert answers == [Fcf.DIS, None, None, Fcf.CFR, None, None, Fcf.MCF, None, Fcf.MCF, None]
    assert m.phase is Phase.DONE


def test_ecm_block_with_missing_frames_asks_for_them() -> None:
    m = T30Machine()
    for e in (Input.ANSWER, Input.DCS, Input.TCF_OK, Input.IMAGE_DATA, Input.IMAGE_END):
        m.handle(e)
    assert m.handle(Input.BLOCK_INCOMPLETE) == Fcf.PPR
    assert m.handle(Input.CTC) == Fcf.CTR
    assert m.handle(Input.IMAGE_DATA) is None and m.handle(Input.IMAGE_END) is None
    assert m.handle(Input.PPS_NULL) == Fcf.MCF and m.phase is Phase.AWAIT_PAGE


def test_bad_training_gets_ftt_and_a_new_dcs() -> None:
    m = T30Machine()
    for e in (Input.ANSWER, Input.DCS):
        m.handle(e)
    assert m.handle(Input.TCF_BAD) == Fcf.FTT and m.phase is Phase.AWAIT_DCS


@pytest.mark.parametrize(
    ("setup", "illegal"),
    [
        ((), Input.DCS),
        ((Input.ANSWER,), Input.IMAGE_DATA),
        ((Input.ANSWER, Input.DCS), Input.MPS),
        ((Input.ANSWER, Input.DCN), Input.ANSWER),
    ],
)
def test_illegal_transition_raises_and_leaves_phase(setup, illegal) -> None:
    m = T30Machine()
    for e in setup:
        m.handle(e)
    before = m.phase
    with pytest.raises(IllegalTransition, match="not allowed"):
        m.handle(illegal)
    assert m.phase is before
