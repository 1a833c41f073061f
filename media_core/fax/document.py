"""What a fax session produces: pages and the facts the FaxReceived event reports.

Invariant: plain frozen data; rendering and delivery read it, never mutate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media_core.fax.t4 import DecodedPage, Encoding, PageEnd


@dataclass(frozen=True)
class PackedPage:
    """A decoded page kept at one bit per pel (an A4 fine page: 0.5 MB instead of 4 MB)."""

    bits: npt.NDArray[np.uint8]  # rows x ceil(width / 8), first pel in the MSB, 1 = black
    width: int
    bad_rows: int
    end: PageEnd

    @classmethod
    def pack(cls, page: DecodedPage) -> PackedPage:
        return cls(np.packbits(page.pixels, axis=1), page.width, page.bad_rows, page.end)

    @property
    def rows(self) -> int:
        return int(self.bits.shape[0])

    @property
    def pixels(self) -> npt.NDArray[np.uint8]:
        """One octet per pel, 1 = black (unpacked on demand)."""
        return np.unpackbits(self.bits, axis=1, count=self.width)


@dataclass(frozen=True)
class FaxPage:
    number: int
    decoded: PackedPage
    dpi: tuple[int, int]
    encoding: Encoding
    ecm: bool


@dataclass(frozen=True)
class FaxDocument:
    pages: tuple[FaxPage, ...]
    remote_id: str
    completed: bool  # DCN seen after the last confirmed page
    warnings: tuple[str, ...] = field(default=())

    @property
    def bad_lines(self) -> int:
        return sum(p.decoded.bad_rows for p in self.pages)

    @property
    def resolution(self) -> str:
        if not self.pages:
            return "unknown"
        dpi = self.pages[0].dpi
        return {98: "standard", 196: "fine", 391: "superfine"}.get(dpi[1], f"{dpi[0]}x{dpi[1]}")

    @property
    def encoding(self) -> str:
        return self.pages[0].encoding.value if self.pages else "unknown"

    @property
    def ecm(self) -> bool:
        return bool(self.pages) and self.pages[0].ecm

    def summary(self) -> str:
        return (
            f"pages={len(self.pages)} resolution={self.resolution} encoding={self.encoding} "
            f"ecm={'yes' if self.ecm else 'no'} remote_id={self.remote_id or '-'} bad_lines={self.bad_lines} "
            f"completed={'yes' if self.completed else 'no'}"
        )
