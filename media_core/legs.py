"""Legs a room mixes: RTP over UDP through asyncio (where the RTP engine is unavailable) and Twilio Media Streams.

Invariant: legs adapt I/O to the room's pull/push of one 20 ms frame per tick; they never block
the tick (UDP sends are non-blocking, WebSocket sends go through a bounded outbox).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, cast

from media_core.rtp import PT_PCMA, RtpSession
from media_core.twilio_stream import ULAW_SILENCE, TwilioStreamSession


class RtpLeg(asyncio.DatagramProtocol):
    """One UDP port per participant; the remote address is configured or latched from the first packet."""

    def __init__(self, session: RtpSession, remote: tuple[str, int] | None = None) -> None:
        self.session = session
        self.alaw = session.payload_type == PT_PCMA
        self.remote = remote
        self.transport: asyncio.DatagramTransport | None = None
        self.sock: socket.socket | None = None  # set when the service created the socket itself
        self._direct_send = True
        self._connected = False
        self.packets_in = self.packets_out = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(
            asyncio.DatagramTransport, transport
        )  # 3.11's selector transport is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.remote is None:
            self.remote = (str(addr[0]), int(addr[1]))  # symmetric RTP: answer where the media comes from
            if self.sock is not None:
                # Latch: from now on the kernel drops datagrams from anyone else (no RTP injection),
                # and send() on a connected socket skips the per-packet address parsing and route lookup.
                try:
                    self.sock.connect(self.remote)
                    self._connected = True
                except OSError:
                    pass
        self.packets_in += 1
        self.session.receive_datagram(data)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable etc.: keep the leg alive
        pass

    send_errors = 0  # a full socket buffer queues in the transport instead (see send_frame)

    @property
    def frames_concealed(self) -> int:
        return self.session.jitter.concealed

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def next_frame(self) -> bytes:
        return self.session.jitter.pop_payload()

    def send_frame(self, payload: bytes) -> None:
        transport, remote = self.transport, self.remote
        if remote is None or transport is None or transport.is_closing():
            return
        packet = self.session.packetize(payload)
        self.packets_out += 1
        if self.sock is not None and self._direct_send:
            try:  # straight to the kernel: asyncio's sendto adds a few microseconds per packet
                if self._connected:
                    self.sock.send(packet)
                else:
                    self.sock.sendto(packet, remote)
                return
            except (BlockingIOError, InterruptedError):
                self._direct_send = False  # buffer full: from now on the transport queues, so order is kept
            except OSError:
                return  # e.g. ICMP port unreachable reported on this send: the packet is lost, as UDP
        transport.sendto(packet, remote)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class WsLeg:
    """A Twilio Media Streams socket; mixed audio is queued and written by the socket's own task."""

    alaw = False  # Media Streams carry audio/x-mulaw only

    def __init__(self, token: str, max_outbox: int = 50) -> None:
        self.token = token
        self.session = TwilioStreamSession()
        self.outbox: asyncio.Queue[str] = asyncio.Queue(max_outbox)
        self.connected = False
        self.dropped = 0
        self.hangup: Callable[[], None] | None = None  # set by the WebSocket handler while connected

    def next_frame(self) -> bytes:
        return self.session.next_frame() or ULAW_SILENCE

    def send_frame(self, payload: bytes) -> None:
        if not self.connected or self.session.state != "started":
            return
        try:
            self.outbox.put_nowait(self.session.media_message(payload))
        except asyncio.QueueFull:
            self.dropped += 1  # a slow socket loses audio rather than delaying the room

    def close(self) -> None:
        """Removed from the room: hang up the socket too (its handler then sees the close)."""
        self.connected = False
        if self.hangup is not None:
            self.hangup()
            self.hangup = None
