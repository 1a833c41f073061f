"""A conference room: members with legs (RTP or WebSocket), modes, and one mix per 20 ms tick.

Invariant: each tick takes exactly one 160-sample frame from every leg and gives exactly one
back; who hears whom is a ``hears`` matrix rebuilt only when membership or modes change. A
recording is one more (silent) listener row in that matrix, so it hears what the room hears:
listening and whispering supervisors are not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from media_core.g711 import ALAW_DECODE_TABLE, ALAW_ENCODE_TABLE, ULAW_DECODE_TABLE, ULAW_ENCODE_TABLE
from media_core.kernels import _decode_rows_kernel, _encode_rows_kernel
from media_core.mixer import MixPlan, barge_hears, listen_hears, mix, mix_minus_hears, plan_mix, whisper_hears
from media_core.recording import RecordingInfo, RecordingWriter

FRAME = 160
MODES = ("normal", "listen", "whisper", "barge")


class Leg(Protocol):
    alaw: bool

    def next_frame(self) -> bytes: ...

    def send_frame(self, payload: bytes) -> None: ...


@dataclass
class Member:
    pid: str
    leg: Leg
    call_sid: str | None = None
    mode: str = "normal"
    whisper_to: str | None = None
    muted: bool = False
    gain: float = 1.0


class Room:
    def __init__(self, name: str, tenant_id: str) -> None:
        self.name, self.tenant_id = name, tenant_id
        self.members: dict[str, Member] = {}
        self.recorder: RecordingWriter | None = None
        self._plan: MixPlan | None = None
        self._dirty = True
        self.ticks = 0
        self.version = 0  # bumped on every change of membership, modes or recording
        self._plain_at, self._plain = -1, True
        self.recording_caller: str | None = None

    @property
    def is_plain(self) -> bool:
        """Pure mix-minus (no modes, mutes, gains or recorder): can be batched with other rooms."""
        if self._plain_at != self.version:
            self._plain_at = self.version
            self._plain = self.recorder is None and all(
                m.mode == "normal" and not m.muted and m.gain == 1.0 for m in self.members.values()
            )
        return self._plain

    # --- membership and modes ------------------------------------------------------------

    def add(self, member: Member) -> None:
        if member.pid in self.members:
            raise ValueError(f"participant {member.pid!r} is already in room {self.name!r}")
        self.members[member.pid] = member
        self._dirty = True
        self.version += 1

    def remove(self, pid: str) -> Member:
        member = self._member(pid)
        del self.members[pid]
        for other in self.members.values():
            if other.whisper_to == pid:  # whispering to someone who left: fall back to listening
                other.mode, other.whisper_to = "listen", None
        self._dirty = True
        self.version += 1
        return member

    def set_mode(
        self,
        pid: str,
        mode: str,
        target: str | None = None,
        muted: bool | None = None,
        gain: float | None = None,
    ) -> None:
        member = self._member(pid)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "whisper":
            if target is None or target == pid:
                raise ValueError(f"whisper needs a target other than the supervisor, got {target!r}")
            self._member(target)
        if gain is not None and not (np.isfinite(gain) and 0.0 <= gain <= 8.0):
            raise ValueError(f"gain must be within [0, 8], got {gain}")
        member.mode, member.whisper_to = mode, (target if mode == "whisper" else None)
        if muted is not None:
            member.muted = muted
        if gain is not None:
            member.gain = gain
        self._dirty = True
        self.version += 1

    def _member(self, pid: str) -> Member:
        try:
            return self.members[pid]
        except KeyError:
            raise KeyError(f"no participant {pid!r} in room {self.name!r}") from None

    # --- recording ---------------------------------------------------------------------

    def start_recording(self, writer: RecordingWriter, caller: str | None = None) -> None:
        """Record the room; in stereo ``caller`` (default: the first member) is the left channel."""
        if self.recorder is not None:
            raise ValueError(f"room {self.name!r} is already recording")
        if caller is not None:
            self._member(caller)
        self.recorder, self.recording_caller = writer, caller
        self._dirty = True
        self.version += 1

    def stop_recording(self) -> RecordingInfo | None:
        writer, self.recorder = self.recorder, None
        self._dirty = True
        self.version += 1
        return writer.close() if writer is not None else None

    # --- mixing ------------------------------------------------------------------------

    def _build_plan(self, members: list[Member]) -> MixPlan | None:
        p = len(members)
        index = {m.pid: k for k, m in enumerate(members)}
        special = [m for m in members if m.mode != "normal" or m.muted or m.gain != 1.0]
        if not special and self.recorder is None:
            return None  # plain mix-minus: O(P*N) fast path
        n = p + (1 if self.recorder is not None else 0)
        h = mix_minus_hears(n)
        for m in special:
            k = index[m.pid]
            if m.mode == "listen":
                h = listen_hears(h, k)
            elif m.mode == "whisper" and m.whisper_to is not None:
                h = whisper_hears(h, k, index[m.whisper_to])
            elif m.mode == "barge":
                h = barge_hears(h, k)
        for m in special:  # after the modes, so a supervisor's "hear everyone" row keeps the mutes
            k = index[m.pid]
            if m.muted:
                h[:, k] = 0.0
            h[:, k] *= np.float32(m.gain)
        if self.recorder is not None:
            h[:, p] = 0.0
            for m in members:
                k = index[m.pid]
                audible = m.mode in ("normal", "barge") and not m.muted
                h[p, k] = np.float32(m.gain) if audible else 0.0
        return plan_mix(h)

    def tick(self) -> None:
        """Pull one frame from every leg, mix, push one frame to every leg (and the recorder)."""
        members = list(self.members.values())
        self.ticks += 1
        p = len(members)
        if p == 0:
            return
        if self._dirty:
            self._plan = self._build_plan(members)
            self._dirty = False
        rows = p + (1 if self.recorder is not None else 0)
        alaw = np.zeros(rows, np.bool_)
        for k, m in enumerate(members):
            alaw[k] = m.leg.alaw
        codes = np.zeros((rows, FRAME), np.uint8)
        codes[:p] = np.frombuffer(b"".join([m.leg.next_frame() for m in members]), np.uint8).reshape(p, FRAME)
        pcm = np.empty((rows, FRAME), np.int16)
        _decode_rows_kernel(codes, alaw, ULAW_DECODE_TABLE, ALAW_DECODE_TABLE, pcm)
        if self.recorder is not None:
            pcm[p] = 0
        mixed = mix(pcm, self._plan)
        out = np.empty((rows, FRAME), np.uint8)
        _encode_rows_kernel(mixed, alaw, ULAW_ENCODE_TABLE, ALAW_ENCODE_TABLE, out)
        blob = out.tobytes()
        for k, m in enumerate(members):
            m.leg.send_frame(blob[k * FRAME : (k + 1) * FRAME])
        if self.recorder is not None:
            self._record(pcm, mixed, p, members)

    def _record(
        self, pcm: npt.NDArray[np.int16], mixed: npt.NDArray[np.int16], p: int, members: list[Member]
    ) -> None:
        assert self.recorder is not None
        if self.recorder.channels == 1:
            self.recorder.write(mixed[p])
            return
        # stereo: the caller on the left, everything the caller hears (agent side) on the right
        pids = [m.pid for m in members]
        k = pids.index(self.recording_caller) if self.recording_caller in pids else 0
        self.recorder.write_stereo(pcm[k], mixed[k])
