"""In-process media server on a free loopback port, a recording fake backend, and paced RTP/WS clients."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
from aiohttp import ClientSession, web

from media_core.blobstore import LocalBlobStore
from media_core.config import MediaConfig
from media_core.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from media_core.rtp import PT_PCMA, PT_PCMU, build_rtp, parse_rtp
from media_core.server import SERVICE, create_app
from media_core.service import MediaService

TOKEN = "test-media-token"


@dataclass
class FakeBackend:
    """A tiny aiohttp server that records every POST /media/events (and can fail the first few)."""

    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    attempts: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return web.Response(status=503)
        self.auth_headers.append(request.headers.get("Authorization", ""))
        self.received.append(await request.json())
        return web.json_response({"ok": True})

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e["event_type"] == event_type]


@asynccontextmanager
async def fake_backend(fail_first: int = 0) -> AsyncIterator[FakeBackend]:
    backend = FakeBackend(fail_first)
    app = web.Application()
    app.router.add_post("/media/events", backend.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    backend.url = f"http://127.0.0.1:{port}"
    try:
        yield backend
    finally:
        await runner.cleanup()


@dataclass
class Running:
    base: str
    http: ClientSession
    service: MediaService
    headers: dict[str, str]

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, status: int | None = None
    ) -> Any:
        async with self.http.request(method, self.base + path, json=body, headers=self.headers) as resp:
            data = await resp.json()
            if status is not None:
                assert resp.status == status, (resp.status, data)
            return data


@asynccontextmanager
async def media_server(
    tmp: Path, backend_url: str | None = None, token: str | None = TOKEN
) -> AsyncIterator[Running]:
    config = MediaConfig(
        host="127.0.0.1",
        port=0,
        blob_store=LocalBlobStore(tmp / "blobs"),
        backend_url=backend_url,
        media_token=token,
        tenant_keys_dir=tmp / "keys",
        spool_dir=tmp / "spool",
    )
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with ClientSession() as http:
        try:
            yield Running(f"http://127.0.0.1:{port}", http, app[SERVICE], headers)
        finally:
            await runner.cleanup()


class RtpClient(asyncio.DatagramProtocol):
    """A phone on loopback: sends paced PCMU packets to the server, keeps everything it receives."""

    def __init__(self, alaw: bool = False) -> None:
        self.alaw = alaw
        self.received: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.talk_end: int | None = None  # len(received) when our own talking stopped

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(
            asyncio.DatagramTransport, transport
        )  # 3.11's selector transport is not a subclass

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received.append(data)

    def audio(self) -> np.ndarray:
        """What we heard while we were talking (packets after ``talk_end`` are the room going quiet)."""
        packets = sorted((parse_rtp(d) for d in self.received[: self.talk_end]), key=lambda p: p.sequence)
        assert all(p.payload_type == (PT_PCMA if self.alaw else PT_PCMU) for p in packets)
        codes = np.frombuffer(b"".join(p.payload for p in packets), np.uint8)
        return alaw_decode(codes) if self.alaw else ulaw_decode(codes)


async def rtp_client(port: int, alaw: bool = False) -> RtpClient:
    loop = asyncio.get_running_loop()
    client = RtpClient(alaw)
    await loop.create_datagram_endpoint(
        lambda: client, local_addr=("127.0.0.1", 0), remote_addr=("127.0.0.1", port)
    )
    return client


async def paced(frames: int, send_frame: Any) -> None:
    """Call ``send_frame(k)`` every 20 ms on absolute deadlines."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for k in range(frames):
        await send_frame(k)
        await asyncio.sleep(max(0.0, start + (k + 1) * 0.02 - loop.time()))


def rtp_frame(signal: np.ndarray, k: int, ssrc: int, first_seq: int = 0, alaw: bool = False) -> bytes:
    frame = signal[k * 160 : (k + 1) * 160]
    payload = (alaw_encode(frame) if alaw else ulaw_encode(frame)).tobytes()
    seq = first_seq + k
    return build_rtp(PT_PCMA if alaw else PT_PCMU, seq & 0xFFFF, seq * 160, ssrc, payload, marker=seq == 0)


def twilio_media(stream_sid: str, signal: np.ndarray, k: int) -> str:
    payload = base64.b64encode(ulaw_encode(signal[k * 160 : (k + 1) * 160]).tobytes()).decode()
    return json.dumps(
        {
            "event": "media",
            "streamSid": stream_sid,
            "sequenceNumber": str(k + 3),
            "media": {"track": "inbound", "chunk": str(k + 1), "timestamp": str(k * 20), "payload": payload},
        }
    )
