"""Public T.4/T.6 page decoding: validates, allocates, then calls the numba kernels.

Invariant: memory is bounded by ``max_rows * width`` octets and time is linear in the input length,
whatever the bytes are; complete rows decoded before an error are always returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from media_core.fax import kernels
from media_core.fax.codes import BLACK_TABLE, MODE_TABLE, WHITE_TABLE

MAX_WIDTH = 4864  # T.4 §2.2: widest standard line, 303 mm at R16
DEFAULT_MAX_ROWS = 8192  # > A4 length at superfine (4.6 k rows) and B4 fine; stops "endless pages"


class Encoding(Enum):
    """Page coding scheme (T.30 DCS bits 16/31, T.4 §4.1, §4.2, T.6)."""

    MH = "MH"
    MR = "MR"
    MMR = "MMR"


class PageEnd(Enum):
    """Why the decoder stopped."""

    END_OF_PAGE = kernels.END_OF_PAGE
    END_OF_DATA = kernels.END_OF_DATA
    ROW_LIMIT = kernels.ROW_LIMIT
    MMR_BROKEN = kernels.MMR_BROKEN
    NO_EOL = kernels.NO_EOL


@dataclass(frozen=True)
class DecodedPage:
    """A decoded bilevel page: ``pixels[row, col]`` is 1 for black."""

    pixels: npt.NDArray[np.uint8]
    bad_rows: int
    end: PageEnd

    @property
    def rows(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def decode_page(data: bytes, width: int, encoding: Encoding, max_rows: int = DEFAULT_MAX_ROWS) -> DecodedPage:
    """Decode one T.4/T.6 coded page.

    Parameters
    ----------
    data : bytes
        Coded page, first bit on the line in the MSB of each octet (T.38 / TIFF FillOrder 1).
    width : int
        Pels per line, 1..4864 (1728 for A4 at R8).
    encoding : Encoding
        MH, MR or MMR.
    max_rows : int
        Row budget; decoding stops there (``PageEnd.ROW_LIMIT``) so endless pages stay bounded.

    Returns
    -------
    DecodedPage
        Rows decoded, number of corrupt rows replaced by their predecessor, and why decoding stopped.
    """
    if not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"width must be 1..{MAX_WIDTH} pels, got {width}")
    if not 1 <= max_rows <= 65536:
        raise ValueError(f"max_rows must be 1..65536, got {max_rows}")
    buf = np.zeros(len(data) + 4, dtype=np.uint8)  # 4 octets of slack for the kernels' 32-bit window
    buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    out = np.zeros((max_rows, width), dtype=np.uint8)
    nbits = len(data) * 8
    if encoding is Encoding.MMR:
        rows, bad, status, _ = kernels._decode_t6_kernel(
            buf, nbits, width, WHITE_TABLE, BLACK_TABLE, MODE_TABLE, out
        )
    else:
        two_d = encoding is Encoding.MR
        rows, bad, status, _ = kernels._decode_t4_kernel(
            buf, nbits, width, two_d, WHITE_TABLE, BLACK_TABLE, MODE_TABLE, out
        )
    return DecodedPage(
        pixels=out[:rows].copy() if rows < max_rows // 2 else out[:rows],
        bad_rows=int(bad),
        end=PageEnd(int(status)),
    )


def warm_up() -> None:
    """Compile (or load from numba's cache) both kernels now, not inside the first live session.

    The first call otherwise stalls the event loop for 0.3 s (cached) to several seconds (cold), long
    enough for a sender to hit T.30 timer T4 and repeat its post-message command.
    """
    blank = bytes([0x00, 0x10, 0x01, 0x00, 0x10, 0x01])  # EOL EOL: an empty page
    decode_page(blank, 8, Encoding.MH, max_rows=1)
    decode_page(blank, 8, Encoding.MR, max_rows=1)
    decode_page(blank, 8, Encoding.MMR, max_rows=1)
