"""Batched mixing of every plain room in one kernel call per tick, and kernel warm-up.

Invariant: a room is batched only while ``Room.is_plain`` (pure mix-minus); the batch layout is
rebuilt whenever any room's ``version`` changes, so a join, leave or mode change takes effect on
the very next tick.
"""

from __future__ import annotations

import numpy as np

from media_core.g711 import ALAW_DECODE_TABLE, ALAW_ENCODE_TABLE, ULAW_DECODE_TABLE, ULAW_ENCODE_TABLE
from media_core.kernels import _g711_mix_minus_rooms_kernel
from media_core.room import FRAME, Leg, Member, Room


class BatchMixer:
    """Mixes every plain (mix-minus) room of a server in one kernel call per tick.

    Per tick the Python work is one ``next_frame`` and one ``send_frame`` per leg; the layout
    (legs, room boundaries, laws) is rebuilt only when some room's ``version`` changed.
    """

    def __init__(self) -> None:
        self._key: tuple[tuple[int, int], ...] = ()
        self._legs: list[Leg] = []
        self._starts = np.zeros(1, np.int64)
        self._alaw = np.zeros(0, np.bool_)
        self._total = np.zeros(FRAME, np.int32)

    def tick(self, rooms: list[Room]) -> None:
        key = tuple((id(r), r.version) for r in rooms)
        if key != self._key:
            self._key = key
            self._legs = [m.leg for r in rooms for m in r.members.values()]
            self._starts = np.cumsum([0] + [len(r.members) for r in rooms], dtype=np.int64)
            self._alaw = np.array([leg.alaw for leg in self._legs], np.bool_)
        legs = self._legs
        if not legs:
            return
        for r in rooms:
            r.ticks += 1
        codes = np.frombuffer(b"".join([leg.next_frame() for leg in legs]), np.uint8).reshape(
            len(legs), FRAME
        )
        out = np.empty_like(codes)
        _g711_mix_minus_rooms_kernel(
            codes,
            self._alaw,
            self._starts,
            ULAW_DECODE_TABLE,
            ALAW_DECODE_TABLE,
            ULAW_ENCODE_TABLE,
            ALAW_ENCODE_TABLE,
            self._total,
            out,
        )
        blob = out.tobytes()
        for k, leg in enumerate(legs):
            leg.send_frame(blob[k * FRAME : (k + 1) * FRAME])


class _SilentLeg:
    alaw = False

    def next_frame(self) -> bytes:
        return b"\xff" * FRAME

    def send_frame(self, payload: bytes) -> None:
        pass


def warm_up() -> None:
    """Run every kernel once (JIT compile or cache load) so the first real tick is not late."""
    room = Room("warm-up", "warm-up")
    for k in range(3):
        room.add(Member(f"w{k}", _SilentLeg()))
    room.tick()
    room.set_mode("w2", "listen")
    room.tick()
    room.set_mode("w1", "normal", gain=0.5)
    room.tick()
    plain = Room("warm-up-2", "warm-up")
    plain.add(Member("a", _SilentLeg()))
    plain.add(Member("b", _SilentLeg()))
    BatchMixer().tick([plain])
