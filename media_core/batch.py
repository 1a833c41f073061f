"""Batched mixing of every plain room in one kernel call per tick, and kernel warm-up.

Invariant: a room is batched only while ``Room.is_plain`` (pure mix-minus); the batch layout is
rebuilt whenever any room's ``version`` changes, so a join, leave or mode change takes effect on
the very next tick. Legs served by the RTP engine are popped and sent in one kernel call each;
any other leg (WebSocket) goes through its own ``next_frame`` / ``send_frame``.
"""

from __future__ import annotations

import socket

import numpy as np

from media_core.g711 import ALAW_DECODE_TABLE, ALAW_ENCODE_TABLE, ULAW_DECODE_TABLE, ULAW_ENCODE_TABLE
from media_core.kernels import _g711_mix_minus_rooms_kernel
from media_core.room import FRAME, Leg, Member, Room
from media_core.rtp_engine import EngineRtpLeg, RtpEngine, engine_available


class BatchMixer:
    """Mixes every plain (mix-minus) room of a server in one kernel call per tick.

    Per tick: one engine call pops every engine leg's frame, one kernel mixes, one engine call
    sends; only legs outside the engine cost Python calls. The layout (rows, room boundaries,
    laws, which rows the engine serves) is rebuilt only when some room's ``version`` changed.
    """

    def __init__(self, engine: RtpEngine | None = None) -> None:
        self.engine = engine
        self._key: tuple[tuple[int, int], ...] = ()
        self._n = 0
        self._starts = np.zeros(1, np.int64)
        self._alaw = np.zeros(0, np.bool_)
        self._total = np.zeros(FRAME, np.int32)
        self._slots = np.zeros(0, np.int64)  # engine rows of the legs it serves ...
        self._rows = np.zeros(0, np.int64)  # ... and their rows in the batch
        self._others: list[tuple[int, Leg]] = []
        self._codes = np.zeros((0, FRAME), np.uint8)
        self._out = np.zeros((0, FRAME), np.uint8)

    def _layout(self, rooms: list[Room]) -> None:
        legs = [m.leg for r in rooms for m in r.members.values()]
        served = [
            (k, leg.slot)
            for k, leg in enumerate(legs)
            if isinstance(leg, EngineRtpLeg) and leg.engine is self.engine
        ]
        rows = {k for k, _ in served}
        self._n = len(legs)
        self._starts = np.cumsum([0] + [len(r.members) for r in rooms], dtype=np.int64)
        self._alaw = np.array([leg.alaw for leg in legs], np.bool_)
        self._rows = np.array([k for k, _ in served], np.int64)
        self._slots = np.array([slot for _, slot in served], np.int64)
        self._others = [(k, leg) for k, leg in enumerate(legs) if k not in rows]
        self._codes = np.zeros((len(legs), FRAME), np.uint8)
        self._out = np.zeros((len(legs), FRAME), np.uint8)

    def tick(self, rooms: list[Room]) -> None:
        key = tuple((id(r), r.version) for r in rooms)
        if key != self._key:
            self._key = key
            self._layout(rooms)
        if not self._n:
            return
        for r in rooms:
            r.ticks += 1
        codes, out, engine = self._codes, self._out, self.engine
        if engine is not None and self._slots.size:
            engine.pop_rows(self._slots, self._rows, codes)
        for k, leg in self._others:
            codes[k] = np.frombuffer(leg.next_frame(), np.uint8)
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
        if engine is not None and self._slots.size:
            engine.send_rows(self._slots, self._rows, out)
        for k, leg in self._others:
            leg.send_frame(out[k].tobytes())


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
    warm_up_engine()


def warm_up_engine() -> None:
    """Compile (or load) the RTP engine's kernels: one leg on a loopback socket, one datagram, one tick."""
    if not engine_available():
        return  # the service uses asyncio legs there, and the kernels' libc symbols may not link
    engine = RtpEngine(capacity=1)
    slot = engine.open()
    engine.ingest(slot, bytes([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]) + b"\xff" * FRAME)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", 0))
    engine.attach(slot, sock)
    engine.receive()
    one = np.zeros(1, np.int64)
    engine.pop_rows(one + slot, one, np.zeros((1, FRAME), np.uint8))
    engine.send_rows(one + slot, one, np.zeros((1, FRAME), np.uint8))
    engine.shutdown()
