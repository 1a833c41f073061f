"""All RTP legs of a server as rows of numpy arrays, served by a few kernel calls per 20 ms tick.

Invariant: a leg's state (jitter ring, counters, outgoing sequence/timestamp/SSRC, remote
address) lives only in row ``slot`` of the engine's arrays while the leg is open; per tick the
engine reads every leg's socket in one kernel call (``receive``), and batched rooms pop and send
all their legs in one call each (``pop_rows`` / ``send_rows``). Kernels: ``rtp_kernels`` (parsing,
jitter buffers) and ``udp_kernels`` (sockets).

Why: at 50 packets/s per participant, Python's per-packet work (socket call, header parse,
jitter dict, packet build) cost more than the two system calls themselves.
"""

from __future__ import annotations

import os
import platform
import socket
import struct

import numpy as np
import numpy.typing as npt

from media_core import rtp_kernels as K
from media_core import udp_kernels as U
from media_core.rtp import PT_PCMA, PT_PCMU

_COUNTERS = {
    "received": K.RECEIVED,
    "duplicates": K.DUPLICATES,
    "late": K.LATE,
    "concealed": K.CONCEALED,
    "reordered": K.REORDERED,
    "resyncs": K.RESYNCS,
    "rejected": K.REJECTED,
    "packets_in": K.PACKETS_IN,
    "packets_out": K.PACKETS_OUT,
    "send_errors": K.SEND_ERRORS,
}


def engine_available() -> bool:
    """The engine needs Linux: its kernels link libc's socket calls and build Linux ``sockaddr`` layouts."""
    return platform.system() == "Linux"


def sockaddr_bytes(family: int, host: str, port: int, flow: int = 0, scope: int = 0) -> bytes:
    """A ``struct sockaddr_in`` / ``sockaddr_in6`` for a numeric address (Linux layout)."""
    if family == socket.AF_INET:
        return struct.pack("=H", family) + struct.pack(">H", port) + socket.inet_aton(host) + bytes(8)
    ip = socket.inet_pton(socket.AF_INET6, host)
    return struct.pack("=H", family) + struct.pack(">HI", port, flow) + ip + struct.pack("=I", scope)


def sockaddr_tuple(raw: bytes) -> tuple[str, int]:
    """Host and port of a ``sockaddr_in`` / ``sockaddr_in6``."""
    family = struct.unpack_from("=H", raw)[0]
    port = struct.unpack_from(">H", raw, 2)[0]
    if family == socket.AF_INET:
        return socket.inet_ntoa(raw[4:8]), int(port)
    return socket.inet_ntop(socket.AF_INET6, raw[8:24]), int(port)


class RtpEngine:
    """Owns the arrays and the sockets of every RTP leg; see the module docstring.

    ``max_rounds``: packets a leg may read per tick when draining; ``drain_every``: ticks between
    drains of legs with no known backlog (a leg found backlogged drains every tick until empty).
    """

    def __init__(self, capacity: int = 64, max_rounds: int = 3, drain_every: int = 4) -> None:
        if max_rounds < 1 or drain_every < 1:
            raise ValueError(f"need max_rounds >= 1 and drain_every >= 1, got {max_rounds}, {drain_every}")
        self.max_rounds, self.drain_every = max_rounds, drain_every
        self.ticks = 0
        self._socks: dict[int, socket.socket] = {}
        self._free: list[int] = []
        self._used = 0
        self.state = np.zeros((0, K.COLUMNS), np.int64)
        self.seqs = np.zeros((0, K.RING + K.GHOSTS), np.int64)
        self.data = np.zeros((0, K.RING, K.FRAME), np.uint8)
        self.last_good = np.zeros((0, K.FRAME), np.uint8)
        self.addrs = np.zeros((0, 32), np.uint8)
        self._alloc(capacity)
        self._live = np.zeros(0, np.int64)
        self._pending = np.zeros(0, np.uint8)
        self._live_dirty = True
        self._buf = np.zeros(2048, np.uint8)
        self._addrlen = np.zeros(1, np.int32)
        self._packet = np.zeros(12 + 2048, np.uint8)
        self._one_slot = np.zeros(1, np.int64)
        self._one_row = np.zeros(1, np.int64)
        self._frame = np.zeros((1, K.FRAME), np.uint8)

    def _alloc(self, capacity: int) -> None:
        state = np.zeros((capacity, K.COLUMNS), np.int64)
        seqs = np.full((capacity, K.RING + K.GHOSTS), K.EMPTY, np.int64)
        data = np.zeros((capacity, K.RING, K.FRAME), np.uint8)
        last_good = np.zeros((capacity, K.FRAME), np.uint8)
        addrs = np.zeros((capacity, 32), np.uint8)
        n = self.state.shape[0]
        if n:
            state[:n], seqs[:n], data[:n] = self.state, self.seqs, self.data
            last_good[:n], addrs[:n] = self.last_good, self.addrs
        self.state, self.seqs, self.data, self.last_good, self.addrs = state, seqs, data, last_good, addrs

    # --- legs --------------------------------------------------------------------------

    def open(
        self,
        payload_type: int = PT_PCMU,
        depth: int = 2,
        max_depth: int = 10,
        max_conceal: int = 3,
        ssrc: int | None = None,
    ) -> int:
        """A new leg's slot (no socket yet): fresh jitter buffer, random SSRC, sequence and timestamp."""
        if payload_type not in (PT_PCMU, PT_PCMA):
            raise ValueError(f"only PCMU (0) and PCMA (8) are supported, got payload type {payload_type}")
        if not 0 <= depth < max_depth < K.RING:
            raise ValueError(
                f"need 0 <= depth < max_depth < {K.RING}, got depth={depth} max_depth={max_depth}"
            )
        if self._free:
            slot = self._free.pop()
        else:
            if self._used == self.state.shape[0]:
                self._alloc(2 * self.state.shape[0])
            slot, self._used = self._used, self._used + 1
        silence = 0xFF if payload_type == PT_PCMU else 0xD5
        row = self.state[slot]
        row[:] = 0
        row[K.FD], row[K.PT], row[K.SILENCE] = -1, payload_type, silence
        row[K.DEPTH], row[K.MAX_DEPTH], row[K.MAX_CONCEAL] = depth, max_depth, max_conceal
        row[K.REMOTE_SSRC], row[K.LAST_CONCEALED], row[K.MARKER] = -1, 1, 1
        rnd = os.urandom(10)
        row[K.SSRC] = int.from_bytes(rnd[:4], "big") if ssrc is None else ssrc & 0xFFFFFFFF
        row[K.OUT_SEQ] = int.from_bytes(rnd[4:6], "big")
        row[K.OUT_TS] = int.from_bytes(rnd[6:], "big")
        self.seqs[slot] = K.EMPTY
        self.last_good[slot] = silence
        return slot

    def attach(self, slot: int, sock: socket.socket, remote: tuple[str, int] | None = None) -> None:
        """Serve ``slot`` on the bound non-blocking UDP ``sock`` (the engine closes it on ``close``)."""
        if remote is not None:
            try:  # once, at join: numeric addresses resolve without a lookup
                info = socket.getaddrinfo(remote[0], remote[1], sock.family, socket.SOCK_DGRAM)[0][4]
            except OSError as exc:
                raise ValueError(f"remote {remote[0]!r} port {remote[1]} does not resolve: {exc}") from None
            extra = [int(v) for v in info[2:4]]  # IPv6 flow info and scope id
            raw = sockaddr_bytes(sock.family, str(info[0]), int(info[1]), *extra)
            self.addrs[slot, : len(raw)] = np.frombuffer(raw, np.uint8)
            self.state[slot, K.ADDRLEN], self.state[slot, K.REMOTE] = len(raw), 1
        self.state[slot, K.FD] = sock.fileno()
        self._socks[slot] = sock
        self._live_dirty = True

    def close(self, slot: int) -> None:
        """Stop serving ``slot``, close its socket and free the row for reuse."""
        sock = self._socks.pop(slot, None)
        if sock is not None:
            sock.close()
        self.state[slot, K.FD] = -1
        self._free.append(slot)
        self._live_dirty = True

    def shutdown(self) -> None:
        for slot in list(self._socks):
            self.close(slot)

    # --- per leg (rooms that are not batched, tests) --------------------------------------

    @property
    def open_legs(self) -> int:
        """Legs with a socket."""
        return len(self._socks)

    def counters(self, slot: int) -> dict[str, int]:
        row = self.state[slot]
        return {name: int(row[col]) for name, col in _COUNTERS.items()}

    def remote(self, slot: int) -> tuple[str, int] | None:
        if self.state[slot, K.REMOTE] == 0:
            return None
        return sockaddr_tuple(self.addrs[slot, : int(self.state[slot, K.ADDRLEN])].tobytes())

    def last_concealed(self, slot: int) -> bool:
        return bool(self.state[slot, K.LAST_CONCEALED])

    def held(self, slot: int) -> int:
        return int(self.state[slot, K.COUNT])

    def ingest(self, slot: int, datagram: bytes) -> None:
        """One datagram for ``slot`` as if it had arrived on its socket (without the address latch)."""
        n = min(len(datagram), self._buf.size)
        self._buf[:n] = np.frombuffer(datagram[:n], np.uint8)
        K._rtp_ingest_kernel(self.state, self.seqs, self.data, self.last_good, slot, self._buf, n)

    def pop(self, slot: int) -> bytes:
        """The leg's next 20 ms payload (or concealment)."""
        self._one_slot[0] = slot
        K._jitter_pop_rows_kernel(
            self._one_slot, self._one_row, self.state, self.seqs, self.data, self.last_good, self._frame
        )
        return self._frame.tobytes()

    def send(self, slot: int, payload: bytes) -> None:
        """Packetise and send one payload on ``slot`` (nothing while its remote is unknown)."""
        if len(payload) > self._buf.size:
            raise ValueError(f"payload of {len(payload)} bytes is larger than {self._buf.size}")
        frame = np.frombuffer(payload, np.uint8).reshape(1, len(payload))
        self._one_slot[0] = slot
        U._rtp_send_rows_kernel(self._one_slot, self._one_row, frame, self.state, self.addrs, self._packet)

    # --- the whole server, once per tick ---------------------------------------------------

    def receive(self) -> int:
        """Read every leg's socket (see ``_rtp_receive_kernel``); returns the packet count."""
        if self._live_dirty:
            self._live = np.array(sorted(self._socks), np.int64)
            self._pending = np.zeros(self._live.size, np.uint8)
            self._live_dirty = False
        self.ticks += 1
        if not self._live.size:
            return 0
        return int(
            U._rtp_receive_kernel(
                self._live,
                self._pending,
                self.ticks % self.drain_every == 0,
                self.state,
                self.seqs,
                self.data,
                self.last_good,
                self.addrs,
                self._buf,
                self._addrlen,
                self.max_rounds,
            )
        )

    def pop_rows(
        self, slots: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], out: npt.NDArray[np.uint8]
    ) -> None:
        """One frame from each leg ``slots[k]`` into ``out[rows[k]]`` (``out`` is (rows, 160) uint8)."""
        K._jitter_pop_rows_kernel(slots, rows, self.state, self.seqs, self.data, self.last_good, out)

    def send_rows(
        self, slots: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], frames: npt.NDArray[np.uint8]
    ) -> int:
        """Send ``frames[rows[k]]`` on each leg ``slots[k]``; returns the packets the kernel accepted."""
        return int(U._rtp_send_rows_kernel(slots, rows, frames, self.state, self.addrs, self._packet))


class EngineRtpLeg:
    """One UDP port per participant, served by an :class:`RtpEngine` row; remote configured or latched."""

    def __init__(self, engine: RtpEngine, slot: int, sock: socket.socket, alaw: bool) -> None:
        self.engine, self.slot, self.alaw = engine, slot, alaw
        self._port = int(sock.getsockname()[1])
        self._final: dict[str, int] | None = None  # counters frozen at close (the row is reused)

    @property
    def port(self) -> int:
        return self._port

    @property
    def remote(self) -> tuple[str, int] | None:
        return None if self._final is not None else self.engine.remote(self.slot)

    def counters(self) -> dict[str, int]:
        return self._final if self._final is not None else self.engine.counters(self.slot)

    @property
    def packets_in(self) -> int:
        return self.counters()["packets_in"]

    @property
    def packets_out(self) -> int:
        return self.counters()["packets_out"]

    @property
    def frames_concealed(self) -> int:
        return self.counters()["concealed"]

    @property
    def send_errors(self) -> int:
        return self.counters()["send_errors"]

    def next_frame(self) -> bytes:
        return self.engine.pop(self.slot)

    def send_frame(self, payload: bytes) -> None:
        if self._final is None:
            self.engine.send(self.slot, payload)

    def close(self) -> None:
        if self._final is None:
            self._final = self.engine.counters(self.slot)
            self.engine.close(self.slot)
