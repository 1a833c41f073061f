"""Hostile input never crashes or hangs the decoder (bounded hypothesis runs so the suite stays fast)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from media_core.fax.capture import decode_datagrams
from media_core.fax.errors import FaxError
from media_core.fax.ifp import parse_ifp
from media_core.fax.pcap import read_udp
from media_core.fax.session import FaxReceiver
from media_core.fax.t4 import Encoding, decode_page
from tests.fax import spandsp_sessions as ss

# derandomize: the same examples in CI as here, so a pass is reproducible and a failure is not a fluke
FAST = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(st.binary(max_size=3000), st.sampled_from(list(Encoding)), st.integers(1, 2432))
def test_page_decoder_survives_any_bytes(data: bytes, enc: Encoding, width: int) -> None:
    page = decode_page(data, width, enc, max_rows=500)
    assert page.rows <= 500 and page.pixels.shape[1] == width and page.bad_rows <= page.rows


@FAST
@given(st.binary(max_size=200), st.integers(0, 1))
def test_ifp_parser_raises_only_fax_errors(data: bytes, version: int) -> None:
    try:
        parse_ifp(data, version)
    except FaxError:
        pass


@FAST
@given(st.lists(st.binary(max_size=300), max_size=60))
def test_receiver_swallows_random_datagrams(datagrams: list[bytes]) -> None:
    rx = FaxReceiver()
    rx.answer()
    for dg in datagrams:
        rx.receive_datagram(dg)
    rx.close()


@FAST
@given(st.lists(st.tuples(st.integers(0, 65535), st.binary(max_size=120)), max_size=80))
def test_structured_udptl_with_random_ifps(packets: list[tuple[int, bytes]]) -> None:
    datagrams = []
    for seq, ifp in packets:
        n = len(ifp)
        datagrams.append(bytes([seq >> 8, seq & 0xFF, n]) + ifp + b"\x00\x00")
    doc = decode_datagrams(datagrams, version=0)
    assert len(doc.pages) <= 200


@FAST
@given(st.binary(max_size=500))
def test_capture_reader_survives_garbage(data: bytes) -> None:
    for prefix in (b"", b"\xd4\xc3\xb2\xa1" + bytes(20), b"\x0a\x0d\x0d\x0a"):
        try:
            read_udp(prefix + data)
        except ValueError:
            pass


def test_endless_non_ecm_page_is_bounded_in_time_and_memory() -> None:
    # given a sender that goes to phase C and then streams white lines without RTC, for far too long
    from media_core.fax.frames import Fcf, build_frame
    from media_core.fax.ifp import DataField, FieldType, encode_data
    from media_core.fax.udptl import UdptlSender

    tx = UdptlSender(redundancy=0)
    rx = FaxReceiver()
    rx.answer()

    def frame(f: bytes) -> None:
        rx.receive_datagram(
            tx.datagram(
                encode_data(
                    0, [DataField(FieldType.HDLC_DATA, f), DataField(FieldType.HDLC_FCS_OK_SIG_END, b"")]
                )
            )
        )

    def t4(data: bytes, end: bool = False) -> None:
        kind = FieldType.T4_NON_ECM_SIG_END if end else FieldType.T4_NON_ECM_DATA
        rx.receive_datagram(tx.datagram(encode_data(8, [DataField(kind, data)])))

    frame(build_frame(Fcf.DCS, bytes.fromhex("00461f00"), x_bit=True)[:3] + bytes.fromhex("0040"))
    t4(bytes(1000), end=True)  # TCF
    start = time.process_time()
    line = b"\x00\x10\x04\xd9\xa8"
    for _ in range(1200):  # 6 MB of page data: more than MAX_NON_ECM_PAGE
        t4(line * 1000)
    t4(b"", end=True)
    frame(build_frame(Fcf.EOP, x_bit=True))
    doc = rx.close()
    assert time.process_time() - start < 20
    assert len(doc.pages) == 1 and doc.pages[0].decoded.rows == 8192


@pytest.fixture(scope="module")
def real_sessions(source_tiffs, tmp_path_factory) -> list[list[bytes]]:
    """One non-ECM MR and one ECM MMR session from spandsp, as sender-side datagrams."""
    out = []
    for ecm, comp in ((False, ss.T4_1D | ss.T4_2D), (True, ss.T6 | ss.T4_1D)):
        ifps, _ = ss.run_session(source_tiffs["standard"], tmp_path_factory.mktemp("fuzz"), ecm, comp)
        out.append([dg for _, dg in ss.udptl_stream(ifps, redundancy=1, repeats=False)])
    return out


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.integers(0, 1),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=30),
    st.integers(0, 10**6),
)
def test_mutated_real_sessions_keep_complete_pages(real_sessions, which, flips, cut) -> None:
    # given a real session with random octets overwritten and a random tail cut off
    dgs = [bytearray(d) for d in real_sessions[which]]
    for pos, value in flips:
        d = dgs[pos % len(dgs)]
        d[pos % len(d)] = value
    dgs = dgs[: max(1, cut % (len(dgs) + 1))]
    # when decoded, then nothing escapes, and every page has the negotiated width
    doc = decode_datagrams([bytes(d) for d in dgs], version=0)
    assert all(p.decoded.width == 1728 for p in doc.pages) and len(doc.pages) <= 2
