"""ECM partial pages (T.30 Annex A): FCD frames collected per block, checked at PPS, joined per page.

Invariant: a block joins the page only once (a repeated PPS for a block already joined is answered,
not added again), and memory is bounded by MAX_PAGE_BYTES however many frames arrive.
"""

from __future__ import annotations

MAX_FRAMES = 256  # frame numbers are one octet (T.30 A.3.3)
MAX_PAGE_BYTES = 4 << 20  # > any real page at 256 blocks x 256 x 256 is absurd; stops endless pages


class EcmPage:
    """Frames of the current block and the blocks of the current page already confirmed."""

    def __init__(self) -> None:
        self._frames: dict[int, bytes] = {}
        self._pending: tuple[int, int, int] | None = None  # (page, block, frame count) awaiting resends
        self._joined: set[tuple[int, int]] = set()
        self._page = bytearray()
        self.damaged = False  # a block was joined with frames missing (passive decoding only)
        self.truncated = False

    def add_frame(self, number: int, data: bytes) -> None:
        self._frames[number & 0xFF] = data

    def missing(self, count: int, frame_size: int = 0) -> list[int]:
        """Frames absent, or shorter than the DCS frame size though not last (a chunk went missing)."""
        last = min(count, MAX_FRAMES) - 1
        return [
            n
            for n in range(last + 1)
            if n not in self._frames or (frame_size and n < last and len(self._frames[n]) != frame_size)
        ]

    def end_block(
        self, page: int, block: int, count: int, force: bool = False, frame_size: int = 0
    ) -> list[int]:
        """PPS for (page, block) with ``count`` frames: join it and return [], or return missing numbers."""
        if (page, block) in self._joined:
            self._frames.clear()
            return []
        # After a PPR the PPS counts only the frames resent (spandsp does this); the block keeps the
        # count its first PPS announced.
        if self._pending is not None and self._pending[:2] == (page, block):
            count = max(count, self._pending[2])
        missing = self.missing(count, frame_size)
        if missing and not force:
            self._pending = (page, block, count)
            return missing
        self._pending = None
        self.damaged |= bool(missing)
        for n in range(min(count, MAX_FRAMES)):
            chunk = self._frames.get(n, b"")
            if len(self._page) + len(chunk) > MAX_PAGE_BYTES:
                self.truncated = True
                break
            self._page += chunk
        self._joined.add((page, block))
        self._frames.clear()
        return []

    def take_page(self) -> bytes:
        data = bytes(self._page)
        self._page.clear()
        return data

    @property
    def has_data(self) -> bool:
        return bool(self._page) or bool(self._frames)


def ppr_map(missing: list[int]) -> bytes:
    """32-octet map, bit set = frame to resend; frame 0 is the first bit sent (T.30 A.4.1)."""
    out = bytearray(32)
    for n in missing:
        out[n // 8] |= 0x80 >> (n % 8)
    return bytes(out)
