"""Faxes sent by spandsp's T.38 terminal decode to exactly the pages it was given."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from media_core.fax.capture import decode_datagrams
from media_core.fax.document import FaxDocument
from tests.fax import spandsp_sessions as ss


def _assert_identical(doc: FaxDocument, tx: Path) -> None:
    expected = ss.black_pixels(tx)
    assert len(doc.pages) == len(expected)
    for page, want in zip(doc.pages, expected, strict=True):
        assert page.decoded.pixels.shape == want.shape
        assert np.array_equal(page.decoded.pixels, want), f"page {page.number} differs"
        assert page.decoded.bad_rows == 0


@pytest.mark.parametrize(
    ("ecm", "compressions", "encoding", "version"),
    [
        (False, ss.T4_1D, "MH", 0),
        (False, ss.T4_1D | ss.T4_2D, "MR", 1),
        (True, ss.T4_1D | ss.T4_2D | ss.T6, "MMR", 2),
        (True, ss.T4_1D | ss.T4_2D | ss.T6, "MMR", 3),
        (True, ss.T4_1D, "MH", 0),
    ],
)
def test_decodes_spandsp_fax_pixel_identical(
    source_tiffs, tmp_path, ecm, compressions, encoding, version
) -> None:
    # given a fax sent by spandsp with the chosen coding, ECM mode and T.38 version
    ifps, stats = ss.run_session(source_tiffs["fine"], tmp_path, ecm, compressions, version)
    assert "receiver=0" in stats
    # when its sender->receiver UDPTL stream (with repeats) is decoded
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)], version=min(version, 1))
    # then every page matches the source TIFF pel for pel
    _assert_identical(doc, source_tiffs["fine"])
    assert doc.encoding == encoding and doc.ecm == ecm
    assert doc.resolution == "fine" and doc.remote_id == "+1 555 0100" and doc.completed


def test_standard_resolution_pages_report_98_dpi(source_tiffs, tmp_path) -> None:
    ifps, _ = ss.run_session(source_tiffs["standard"], tmp_path, False, ss.T4_1D | ss.T4_2D)
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)])
    _assert_identical(doc, source_tiffs["standard"])
    assert doc.resolution == "standard" and doc.pages[0].dpi == (204, 98)


@pytest.mark.parametrize("ecm", [False, True])
def test_redundancy_recovers_random_packet_loss(source_tiffs, tmp_path, ecm) -> None:
    # given a session with 3 redundant IFPs per datagram and 10 % of datagrams lost (never 4 in a row)
    comp = ss.T4_1D | ss.T4_2D | (ss.T6 if ecm else 0)
    ifps, _ = ss.run_session(source_tiffs["fine"], tmp_path, ecm, comp, start_seq=65400)
    stream = ss.udptl_stream(ifps, redundancy=3, repeats=False)
    rng = random.Random(7)
    kept, run = [], 0
    for _, dg in stream:
        if run < 3 and rng.random() < 0.10:
            run += 1
            continue
        run = 0
        kept.append(dg)
    assert len(kept) < len(stream)
    # when decoded (the sequence numbers also wrap 65535 -> 0 on the way)
    doc = decode_datagrams(kept, version=0)
    # then nothing is missing
    _assert_identical(doc, source_tiffs["fine"])


def test_fec_recovers_single_losses(source_tiffs, tmp_path) -> None:
    ifps, _ = ss.run_session(source_tiffs["fine"], tmp_path, True, ss.T6 | ss.T4_1D, start_seq=65500)
    stream = ss.udptl_stream(ifps, fec=(3, 2), repeats=False)
    kept = [dg for i, (_, dg) in enumerate(stream) if i % 9 != 4]
    doc = decode_datagrams(kept, version=0)
    _assert_identical(doc, source_tiffs["fine"])


def test_ecm_partial_page_requests_fill_frames_lost_without_redundancy(source_tiffs, tmp_path) -> None:
    # given spandsp losing every 5th image packet in the loopback: its receiver sends PPR, the sender resends
    ifps, stats = ss.run_session(
        source_tiffs["fine"], tmp_path, True, ss.T6 | ss.T4_1D, version=0, drop_every=7
    )
    assert sum(1 for i in ifps if i.direction == "X") > 20 and "receiver=0" in stats
    # when we decode exactly what spandsp's receiver got (gaps in sequence numbers included)
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)], version=0)
    # then our own block bookkeeping ends with the same, complete pages
    _assert_identical(doc, source_tiffs["fine"])


def test_non_ecm_loss_costs_lines_not_pages(source_tiffs, tmp_path) -> None:
    # given a non-ECM MH session where a few image packets are lost without redundancy
    ifps, _ = ss.run_session(source_tiffs["fine"], tmp_path, False, ss.T4_1D)
    stream = ss.udptl_stream(ifps, repeats=False)
    big = [i for i, (_, dg) in enumerate(stream) if len(dg) > 40]
    lost = set(big[10:400:60])
    doc = decode_datagrams([dg for i, (_, dg) in enumerate(stream) if i not in lost], version=0)
    # then every page is still delivered, full height, with the damage counted as bad lines
    expected = ss.black_pixels(source_tiffs["fine"])
    assert len(doc.pages) == len(expected)
    assert doc.bad_lines > 0
    for page, want in zip(doc.pages, expected, strict=True):
        # a lost packet takes the lines it carried: rows shift, but every decoded row is a source row
        assert want.shape[0] - 60 <= page.decoded.rows <= want.shape[0]
        source_rows = {r.tobytes() for r in want}
        genuine = sum(r.tobytes() in source_rows for r in page.decoded.pixels)
        assert genuine >= page.decoded.rows - page.decoded.bad_rows


@pytest.mark.parametrize(("width", "ecm"), [(2048, False), (2432, True)])
def test_wider_pages_follow_the_dcs_width(tmp_path, width, ecm) -> None:
    # given B4 (255 mm) and A3 (303 mm) pages sent by spandsp
    tx = tmp_path / "wide.tif"
    ss.write_tiff(ss.make_pages(1, 500, seed=width, width=width), tx)
    ifps, _ = ss.run_session(tx, tmp_path, ecm, ss.T4_1D | ss.T4_2D | ss.T6)
    # when decoded, then the page has the negotiated width and the same pels
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)], version=0)
    _assert_identical(doc, tx)


@pytest.mark.parametrize("where", [0.3, 0.97])
def test_frame_only_we_lost_damages_one_page_and_decoding_moves_on(source_tiffs, tmp_path, where) -> None:
    # given a clean ECM session, where our capture alone misses one image datagram: the real receiver
    # confirmed the block, so the sender goes on although our engine asked for the frame again
    ifps, _ = ss.run_session(source_tiffs["fine"], tmp_path, True, ss.T6 | ss.T4_1D)
    stream = [dg for _, dg in ss.udptl_stream(ifps, repeats=False)]
    big = [i for i, dg in enumerate(stream) if len(dg) > 40]
    gone = big[int(len(big) * where)]
    # when decoded
    doc = decode_datagrams([dg for i, dg in enumerate(stream) if i != gone], version=0)
    # then no page is lost and every page but the damaged one is exact
    want = ss.black_pixels(source_tiffs["fine"])
    assert len(doc.pages) == 3 and doc.completed
    exact = [np.array_equal(p.decoded.pixels, w) for p, w in zip(doc.pages, want, strict=True)]
    assert exact.count(False) == 1


def test_session_row_budget_drops_pages_beyond_it_with_a_warning(source_tiffs, tmp_path, monkeypatch) -> None:
    # given a budget that fits two 1100-row pages but not three
    from media_core.fax import session

    monkeypatch.setattr(session, "MAX_TOTAL_ROWS", 2500)
    ifps, _ = ss.run_session(source_tiffs["fine"], tmp_path, True, ss.T6)
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)], version=0)
    # then the first two pages are kept intact and the third is reported, not silently lost
    assert len(doc.pages) == 2 and any("already holds 2200 rows" in w for w in doc.warnings)
    want = ss.black_pixels(source_tiffs["fine"])
    assert all(np.array_equal(p.decoded.pixels, w) for p, w in zip(doc.pages, want[:2], strict=True))
