"""The 20 ms media clock: ticks on absolute deadlines from a monotonic start, so it never drifts.

Invariant: tick k is due at ``start + k * period``. Sleeping ``period`` after each tick would add
the work time and the scheduler's lateness to every tick (drift); here lateness only delays the
current tick. If the loop falls more than ``max_late`` ticks behind, the missed ticks are
skipped (counted in ``skipped``) instead of being run in a burst.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class FrameClock:
    def __init__(
        self, period_s: float = 0.02, max_late: int = 5, now: Callable[[], float] = time.monotonic
    ) -> None:
        if period_s <= 0:
            raise ValueError(f"period must be positive, got {period_s}")
        self.period, self.max_late, self._now = period_s, max_late, now
        self.start = now()
        self.tick_index = 0
        self.skipped = 0

    def deadline(self, k: int) -> float:
        return self.start + k * self.period

    def advance(self) -> float:
        """Move to the next tick; returns how long to wait for it (0 if already due)."""
        self.tick_index += 1
        now = self._now()
        behind = int((now - self.deadline(self.tick_index)) / self.period)
        if behind > self.max_late:
            self.skipped += behind
            self.tick_index += behind
        return max(0.0, self.deadline(self.tick_index) - now)

    async def run(self, on_tick: Callable[[int], None], stop: asyncio.Event) -> None:
        """Call ``on_tick(k)`` at every deadline until ``stop`` is set."""
        while not stop.is_set():
            on_tick(self.tick_index)
            delay = self.advance()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # let I/O callbacks run even when behind
