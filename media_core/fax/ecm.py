"""ECM partial pages (T.30 Annex A): FCD frames collected per block, checked at PPS, joined per page.

Invariant: a block joins the page only once (a repeated PPS for the block just joined is answered,
not added again), frames resent after a PPR merge into the block they belong to, and memory is
bounded by MAX_PAGE_BYTES however many frames arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_FRAMES = 256  # frame numbers are one octet (T.30 A.3.3)
MAX_PAGE_BYTES = 4 << 20  # far beyond any real page; stops endless pages


@dataclass
class _Pending:
    """A block answered with PPR, waiting for the frames to be resent."""

    key: tuple[int, int]
    count: int
    post: int
    frames: dict[int, bytes] = field(default_factory=dict)


class EcmPage:
    """Frames of the current block and the blocks of the current page already confirmed."""

    def __init__(self) -> None:
        self._frames: dict[int, bytes] = {}
        self._pending: _Pending | None = None
        self._last_joined: tuple[int, int] | None = None  # a repeated PPS (our MCF lost) names it
        self._page = bytearray()
        self.damaged = False  # a block was joined with frames missing (passive decoding only)
        self.truncated = False

    def add_frame(self, number: int, data: bytes) -> None:
        self._frames[number & 0xFF] = data

    @staticmethod
    def _missing(frames: dict[int, bytes], count: int, frame_size: int) -> list[int]:
        """Frames absent, or shorter than the DCS frame size though not last (a chunk went missing)."""
        last = min(count, MAX_FRAMES) - 1
        return [
            n
            for n in range(last + 1)
            if n not in frames or (frame_size and n < last and len(frames[n]) != frame_size)
        ]

    def settle_pending(self, page: int, block: int) -> int | None:
        """A PPS for another block while one waits for resends: the sender moved on.

        That happens when decoding a capture whose real receiver had frames we lack. The waiting
        block is joined with its gaps (the page is damaged, not lost); returns its post-page FCF.
        """
        p = self._pending
        if p is None or p.key == (page, block):
            return None
        self._pending = None
        self._join(p.key, p.count, p.frames)
        self.damaged = True
        return p.post

    def end_block(self, page: int, block: int, count: int, post: int = 0, frame_size: int = 0) -> list[int]:
        """PPS for (page, block) with ``count`` frames: join it and return [], or return missing numbers."""
        key = (page, block)
        if self._pending is not None and self._pending.key == key:
            # After a PPR the PPS counts only the frames resent (spandsp does this); the block keeps
            # the count its first PPS announced.
            self._pending.frames.update(self._frames)
            self._frames, count = self._pending.frames, max(count, self._pending.count)
            self._pending = None
        if key == self._last_joined:
            self._frames = {}
            return []
        missing = self._missing(self._frames, count, frame_size)
        if missing:
            self._pending = _Pending(key, count, post, self._frames)
            self._frames = {}
            return missing
        self._join(key, count, self._frames)
        self._frames = {}
        return []

    def give_up(self) -> int | None:
        """EOR, or the end of input: nothing more will be resent; join what we have.

        Returns the post-page FCF of the block that was waiting, if one was.
        """
        if self._pending is None:
            return None
        p, self._pending = self._pending, None
        self._join(p.key, p.count, {**p.frames, **self._frames})
        self._frames = {}
        self.damaged = True
        return p.post

    def _join(self, key: tuple[int, int], count: int, frames: dict[int, bytes]) -> None:
        for n in range(min(count, MAX_FRAMES)):
            chunk = frames.get(n, b"")
            if len(self._page) + len(chunk) > MAX_PAGE_BYTES:
                self.truncated = True
                break
            self._page += chunk
        self._last_joined = key

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
