"""The media service: rooms, legs, recordings and events, driven by one 20 ms clock.

Invariant: the HTTP/WebSocket layer calls these methods and nothing else touches rooms; every
join/leave/recording-completed goes to the backend client exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from media_core.backend_client import BackendClient
from media_core.batch import BatchMixer, warm_up
from media_core.blobstore import BlobStore, LocalBlobStore
from media_core.clock import FrameClock
from media_core.config import MediaConfig
from media_core.envelope import TenantKeyring
from media_core.legs import RtpLeg, WsLeg
from media_core.recording import RecordingWriter
from media_core.room import Member, Room
from media_core.rtp import PT_PCMA, PT_PCMU, RtpSession
from media_core.rtp_engine import EngineRtpLeg, RtpEngine, engine_available
from media_core.spool import recover_spool

log = logging.getLogger("media_core.service")
CODECS = {"PCMU": PT_PCMU, "PCMA": PT_PCMA}


@dataclass
class ActiveRecording:
    recording_id: str
    path: Path
    channels: int


class MediaService:
    def __init__(self, config: MediaConfig, backend: BackendClient) -> None:
        self.config = config
        self.backend = backend
        self.blob_store: BlobStore = config.blob_store or LocalBlobStore("var/blobs")
        self.keyring = TenantKeyring(config.tenant_keys_dir)
        self.rooms: dict[str, Room] = {}
        self.recordings: dict[str, ActiveRecording] = {}
        self.clock: FrameClock | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.tick_errors = 0
        self.busy_s = {"receive": 0.0, "batched": 0.0, "other_rooms": 0.0}  # wall time inside ticks, by phase
        # Linux: every RTP leg is a row of one engine (kernel-side I/O); elsewhere asyncio legs.
        self.engine = RtpEngine() if engine_available() else None
        self._batch = BatchMixer(self.engine)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        warm_up()
        await self.backend.start()
        loop = asyncio.get_running_loop()
        spool = self.config.spool_dir
        for rec in await loop.run_in_executor(None, recover_spool, spool, self.keyring, self.blob_store):
            self.backend.emit("RecordingCompleted", rec.tenant_id, rec.data, conference=rec.room)
        self.clock = FrameClock(0.02)
        self._stop.clear()
        self._task = asyncio.create_task(self.clock.run(self._on_tick, self._stop), name="media-clock")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        for name in list(self.rooms):
            await self.delete_room(name)
        if self.engine is not None:
            self.engine.shutdown()
        await self.backend.close()

    def _on_tick(self, _k: int) -> None:
        t0 = time.perf_counter()
        if self.engine is not None:
            self.engine.receive()
        t1 = time.perf_counter()
        rooms = list(self.rooms.values())
        plain = [r for r in rooms if r.is_plain]
        try:
            self._batch.tick(plain)
        except Exception:
            self.tick_errors += 1
            log.exception("batched tick failed")
        t2 = time.perf_counter()
        self.busy_s["receive"] += t1 - t0
        self.busy_s["batched"] += t2 - t1
        for room in rooms:
            if room.is_plain:
                continue
            try:
                room.tick()
            except Exception:  # one broken room must not silence the others
                self.tick_errors += 1
                log.exception("tick failed in room %s", room.name)
        self.busy_s["other_rooms"] += time.perf_counter() - t2

    # --- rooms and participants --------------------------------------------------------

    def create_room(self, name: str, tenant_id: str) -> Room:
        if not name or not tenant_id:
            raise ValueError(
                f"a room needs a name and a tenant_id, got name={name!r} tenant_id={tenant_id!r}"
            )
        if name in self.rooms:
            raise ValueError(f"room {name!r} already exists")
        room = self.rooms[name] = Room(name, tenant_id)
        return room

    def room(self, name: str) -> Room:
        try:
            return self.rooms[name]
        except KeyError:
            raise KeyError(f"no room {name!r}") from None

    async def delete_room(self, name: str) -> None:
        room = self.room(name)
        if room.recorder is not None:
            await self.stop_recording(name)
        for pid in list(room.members):
            self.remove_participant(name, pid)
        del self.rooms[name]

    async def add_rtp_participant(
        self,
        room_name: str,
        pid: str,
        codec: str,
        call_sid: str | None,
        remote: tuple[str, int] | None,
        mode: str,
    ) -> RtpLeg | EngineRtpLeg:
        room = self.room(room_name)
        if codec not in CODECS:
            raise ValueError(f"codec must be one of {sorted(CODECS)}, got {codec!r}")
        if pid in room.members:
            raise ValueError(f"participant {pid!r} is already in room {room_name!r}")
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        leg: RtpLeg | EngineRtpLeg
        try:
            sock.setblocking(False)
            sock.bind((self.config.host, 0))
            if self.engine is not None:
                slot = self.engine.open(CODECS[codec])
                try:
                    self.engine.attach(slot, sock, remote)
                except BaseException:
                    self.engine.close(slot)
                    raise
                leg = EngineRtpLeg(self.engine, slot, sock, codec == "PCMA")
            else:
                leg = RtpLeg(RtpSession(CODECS[codec]), remote)
                await asyncio.get_running_loop().create_datagram_endpoint(lambda: leg, sock=sock)
                leg.sock = sock
        except BaseException:
            sock.close()
            raise
        try:
            self._join(room, Member(pid, leg, call_sid), mode)
        except BaseException:
            leg.close()  # e.g. a bad mode: the port and its engine row go back
            raise
        return leg

    def add_ws_participant(self, room_name: str, pid: str, call_sid: str | None, mode: str) -> WsLeg:
        room = self.room(room_name)
        leg = WsLeg(secrets.token_urlsafe(18))
        self._join(room, Member(pid, leg, call_sid), mode)
        return leg

    def _join(self, room: Room, member: Member, mode: str) -> None:
        room.add(member)
        if mode != "normal":
            try:
                room.set_mode(member.pid, mode)
            except ValueError:
                room.remove(member.pid)
                raise
        self.backend.emit(
            "ConferenceParticipantJoined",
            room.tenant_id,
            {"participant_id": member.pid, "mode": member.mode, "participants": len(room.members)},
            call_sid=member.call_sid,
            conference=room.name,
        )

    def remove_participant(self, room_name: str, pid: str) -> None:
        room = self.room(room_name)
        member = room.remove(pid)
        leg = member.leg
        if isinstance(leg, RtpLeg | EngineRtpLeg | WsLeg):
            leg.close()
        self.backend.emit(
            "ConferenceParticipantLeft",
            room.tenant_id,
            {"participant_id": pid, "participants": len(room.members)},
            call_sid=member.call_sid,
            conference=room.name,
        )

    # --- recording ---------------------------------------------------------------------

    def start_recording(self, room_name: str, channels: int, caller: str | None = None) -> str:
        room = self.room(room_name)
        if room.recorder is not None:
            raise ValueError(f"room {room_name!r} is already recording")
        if caller is not None and caller not in room.members:
            raise ValueError(f"caller {caller!r} is not a participant of room {room_name!r}")
        rec_id = "RE" + uuid.uuid4().hex
        self.config.spool_dir.mkdir(parents=True, exist_ok=True)
        path = self.config.spool_dir / f"{rec_id}.vrec"
        writer = RecordingWriter(
            path, self.keyring, room.tenant_id, channels=channels, meta={"room": room.name}
        )
        room.start_recording(writer, caller)
        self.recordings[room_name] = ActiveRecording(rec_id, path, channels)
        return rec_id

    async def stop_recording(self, room_name: str) -> dict[str, Any]:
        room = self.room(room_name)
        active = self.recordings.pop(room_name, None)
        info = room.stop_recording()
        if info is None or active is None:
            raise ValueError(f"room {room_name!r} is not recording")
        blob_key = f"{room.tenant_id}/recordings/{active.recording_id}.vrec"
        await asyncio.get_running_loop().run_in_executor(None, self.blob_store.put, blob_key, info.path)
        info.path.unlink(missing_ok=True)
        data = {
            "recording_id": active.recording_id,
            "duration_s": round(info.duration_s, 3),
            "channels": info.channels,
            "blob_key": blob_key,
            "bytes": info.bytes,
            "encrypted": True,
            "source": "Conference",
            "complete": True,
        }
        self.backend.emit("RecordingCompleted", room.tenant_id, data, conference=room.name)
        return data
