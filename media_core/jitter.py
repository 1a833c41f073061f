"""Jitter buffer for fixed 20 ms frames, ordered by RTP sequence number.

Invariant: ``pop`` is called once per 20 ms tick and always returns exactly one frame: the
next in sequence, or a concealment frame (the last good payload repeated, then silence) when
it is missing. Sequence numbers are extended across 16-bit wrap (RFC 3550 appendix A.1);
duplicates and packets older than the playout point are dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes
    concealed: bool


class JitterBuffer:
    """Reorders, de-duplicates and conceals; playout starts ``depth`` frames (by count or by time) after the first packet."""

    def __init__(
        self, frame_bytes: int, silence_byte: int, depth: int = 2, max_depth: int = 10, max_conceal: int = 3
    ) -> None:
        if not 0 <= depth < max_depth:
            raise ValueError(f"need 0 <= depth < max_depth, got depth={depth} max_depth={max_depth}")
        self.frame_bytes = frame_bytes
        self.silence = bytes([silence_byte]) * frame_bytes
        self.depth, self.max_depth, self.max_conceal = depth, max_depth, max_conceal
        self.received = self.duplicates = self.late = self.concealed = self.reordered = self.resyncs = 0
        self.resync_after = 2 * max_depth  # this many late packets in a row: the sender restarted
        self.reset()

    def reset(self) -> None:
        self._slots: dict[int, bytes] = {}
        self._highest: int | None = None  # highest extended sequence number seen
        self._next: int | None = None  # extended sequence number to play next
        self._last_good = self.silence
        self._missing_run = 0
        self._late_run = 0
        self._waited = 0  # pops since the first packet arrived, while prefetching
        self.last_concealed = True

    def _extend(self, seq: int) -> int:
        if self._highest is None:
            return seq
        base = self._highest
        candidate = (base & ~0xFFFF) | seq
        if candidate - base > 0x8000:
            candidate -= 0x10000
        elif base - candidate > 0x8000:
            candidate += 0x10000
        return candidate

    def push(self, seq: int, payload: bytes) -> None:
        highest = self._highest
        nxt = self._next
        if (
            highest is not None
            and seq == ((highest + 1) & 0xFFFF)
            and (nxt is None or highest + 1 >= nxt)
            and len(payload) == self.frame_bytes
        ):
            # Hot path: the next packet in order (the usual case), nothing to check but the count.
            self._highest = highest + 1
            self._slots[highest + 1] = payload
            self.received += 1
            self._late_run = 0
            return
        ext = self._extend(seq)
        if self._next is not None and ext < self._next:
            self.late += 1
            self._late_run += 1
            if self._late_run < self.resync_after:
                return
            self.resyncs += 1  # RFC 3550 A.1: a long run of "old" numbers is a new sequence, not lateness
            last_good = self._last_good
            self.reset()
            self._last_good = last_good
            ext = seq
        self._late_run = 0
        if ext in self._slots:
            self.duplicates += 1
            return
        if self._highest is not None and ext < self._highest:
            self.reordered += 1
        self.received += 1
        if len(payload) != self.frame_bytes:  # pad or cut odd sizes so the mixer always sees whole frames
            payload = (payload + self.silence)[: self.frame_bytes]
        self._slots[ext] = payload
        if self._highest is None or ext > self._highest:
            self._highest = ext

    def __len__(self) -> int:
        return len(self._slots)

    def pop(self) -> Frame:
        payload = self.pop_payload()
        return Frame(payload, self.last_concealed)

    def pop_payload(self) -> bytes:
        """Like :meth:`pop` without the Frame object (the server's per-packet path); see ``last_concealed``."""
        nxt = self._next
        if nxt is not None:
            payload = self._slots.pop(nxt, None)
            if payload is not None and self._highest is not None and self._highest - nxt < self.max_depth:
                self._next = nxt + 1  # hot path: the expected frame is here and the delay is in bounds
                self._last_good, self._missing_run, self.last_concealed = payload, 0, False
                return payload
            if payload is not None:
                self._slots[nxt] = payload  # put back: the slow path below also trims the delay
        self.last_concealed = True
        if self._next is None:
            if self._highest is None:
                return self.silence
            self._waited += 1
            if len(self._slots) <= self.depth and self._waited <= self.depth:
                return self.silence  # still filling (by count or by time): silence, not counted as loss
            self._next = min(self._slots)
        if self._highest is not None and self._highest - self._next >= self.max_depth:
            # Sender clock ran ahead or a burst arrived: drop the oldest to bound the delay.
            for stale in [s for s in self._slots if s < self._highest - self.depth]:
                del self._slots[stale]
            self._next = self._highest - self.depth
        payload = self._slots.pop(self._next, None)
        self._next += 1
        if payload is not None:
            self._last_good, self._missing_run, self.last_concealed = payload, 0, False
            return payload
        self.concealed += 1
        self._missing_run += 1
        return self._last_good if self._missing_run <= self.max_conceal else self.silence
