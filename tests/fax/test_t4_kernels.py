"""T.4/T.6 kernels agree with libtiff (through Pillow) and degrade line by line, never by page."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from media_core.fax.t4 import Encoding, PageEnd, decode_page
from tests.fax import spandsp_sessions as ss


def _libtiff_strips(
    img: Image.Image, compression: str, two_d: bool = False
) -> tuple[list[bytes], int, np.ndarray]:
    """Encode with libtiff; return raw strips, rows per strip and libtiff's own decode (1 = black)."""
    buf = io.BytesIO()
    img.save(buf, format="TIFF", compression=compression, tiffinfo={292: 1} if two_d else {})
    data = buf.getvalue()
    tif = Image.open(io.BytesIO(data))
    strips = [data[o : o + c] for o, c in zip(tif.tag_v2[273], tif.tag_v2[279], strict=True)]
    # Pillow stores mode-1 TIFFs as min-is-black, so libtiff codes "white" runs for 0-valued pels
    return strips, int(tif.tag_v2[278]), np.array(tif.convert("1")).astype(np.uint8)


def _decode_strips(strips: list[bytes], rps: int, height: int, width: int, enc: Encoding) -> np.ndarray:
    rows = []
    for i, strip in enumerate(strips):
        page = decode_page(strip, width, enc, max_rows=min(rps, height - i * rps))
        assert page.bad_rows == 0
        rows.append(page.pixels)
    return np.vstack(rows)


@pytest.mark.parametrize("width", [1728, 2048, 2432, 37])
@pytest.mark.parametrize(
    ("compression", "two_d", "enc"),
    [("group3", False, Encoding.MH), ("group3", True, Encoding.MR), ("group4", False, Encoding.MMR)],
)
def test_kernels_match_libtiff(width, compression, two_d, enc) -> None:
    # given a page of text, boxes and a diagonal, coded by libtiff
    img = ss.make_pages(1, 700, seed=width, width=max(width, 300))[0].crop((0, 0, width, 700))
    strips, rps, want = _libtiff_strips(img, compression, two_d)
    # when our kernels decode the raw strips
    got = _decode_strips(strips, rps, 700, width, enc)
    # then every pel matches libtiff's decode
    assert np.array_equal(got, want)


def test_random_noise_pages_match_libtiff() -> None:
    rng = np.random.default_rng(3)
    pels = rng.random((200, 1728)) < 0.3  # worst case for run-length coding: short runs everywhere
    img = Image.fromarray(pels)
    for compression, two_d, enc in [
        ("group3", False, Encoding.MH),
        ("group3", True, Encoding.MR),
        ("group4", False, Encoding.MMR),
    ]:
        strips, rps, want = _libtiff_strips(img, compression, two_d)
        assert np.array_equal(_decode_strips(strips, rps, 200, 1728, enc), want)


def _mh_page(pels: np.ndarray) -> bytes:
    """A T.4 MH page with one strip and RTC, as libtiff writes it (EOL before each line)."""
    strips, _, _ = _libtiff_strips(Image.fromarray(pels.astype(bool)), "group3")
    assert len(strips) == 1
    return strips[0] + b"\x00\x10\x01\x00\x10\x01"  # EOL EOL ... (RTC)


def test_corrupt_mh_line_costs_one_line() -> None:
    # given a 60-line MH page with distinct lines
    rng = np.random.default_rng(5)
    pels = (rng.random((60, 1728)) < 0.2).astype(np.uint8)
    page = bytearray(_mh_page(pels))
    clean = decode_page(bytes(page), 1728, Encoding.MH)
    assert clean.rows == 60 and clean.end is PageEnd.END_OF_PAGE
    # when bits inside line 30 are flipped (find its EOL by decoding prefixes)
    cut = next(
        n for n in range(len(page)) if decode_page(bytes(page[:n]), 1728, Encoding.MH, max_rows=64).rows >= 31
    )
    page[cut - 20] ^= 0xFF
    damaged = decode_page(bytes(page), 1728, Encoding.MH)
    # then the page keeps all its lines; the damaged ones repeat the line above and are counted
    assert damaged.rows == 60 and 1 <= damaged.bad_rows <= 2
    differs = [r for r in range(60) if not np.array_equal(damaged.pixels[r], pels[r])]
    assert len(differs) == damaged.bad_rows
    for r in differs:
        assert np.array_equal(damaged.pixels[r], damaged.pixels[r - 1])


def test_endless_page_stops_at_row_budget() -> None:
    # given a stream of EOL + all-white lines that never sends RTC
    white_line = b"\x00\x10\x04\xd9\xa8"  # EOL then 1728 white (make-up 010011011) + 0 (00110101) + padding
    page = decode_page(white_line * 5000, 1728, Encoding.MH, max_rows=1000)
    assert page.rows == 1000 and page.end is PageEnd.ROW_LIMIT


def test_mmr_error_keeps_rows_decoded_before_it() -> None:
    strips, _, want = _libtiff_strips(ss.make_pages(1, 300, seed=9)[0], "group4")
    data = bytearray(b"".join(strips[:1]))
    data[len(data) // 2 :] = b"\x02" * (len(data) - len(data) // 2)  # 0000001: T.6 extension code
    page = decode_page(bytes(data), 1728, Encoding.MMR)
    assert page.end is PageEnd.MMR_BROKEN and 0 < page.rows
    assert np.array_equal(page.pixels[: page.rows - 1], want[: page.rows - 1])


def test_rejects_impossible_widths() -> None:
    with pytest.raises(ValueError, match="width must be"):
        decode_page(b"", 0, Encoding.MH)
    with pytest.raises(ValueError, match="width must be"):
        decode_page(b"", 100_000, Encoding.MMR)
