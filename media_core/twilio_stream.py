"""Twilio Media Streams over WebSocket, sans-I/O: JSON text messages in, events and replies out.

Invariant: inbound audio is a byte FIFO of mu-law 8 kHz, taken 160 bytes (20 ms) per tick so
chunk sizes on the wire do not matter; outbound ``media`` always carries the stream's streamSid.
Messages: ``connected``, ``start``, ``media``, ``mark``, ``stop`` (and ``dtmf``, ignored here).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

FRAME_BYTES = 160
ULAW_SILENCE = b"\xff" * FRAME_BYTES


class StreamProtocolError(ValueError):
    """A message that breaks the Media Streams protocol."""


@dataclass
class TwilioStreamSession:
    """State of one Media Streams WebSocket; feed it text with :meth:`receive_text`."""

    max_buffer_frames: int = 10
    prefetch_frames: int = 2  # absorb WebSocket/TCP jitter the way the RTP jitter buffer does
    stream_sid: str | None = None
    call_sid: str | None = None
    account_sid: str | None = None
    custom_parameters: dict[str, Any] = field(default_factory=dict)
    state: str = "new"  # new -> connected -> started -> stopped
    marks_received: list[str] = field(default_factory=list)
    _inbound: bytearray = field(default_factory=bytearray)
    dropped_bytes: int = 0
    underruns: int = 0
    _playing: bool = False

    def receive_text(self, text: str) -> str:
        """Apply one message; returns its event name."""
        try:
            msg = json.loads(text)
            event = msg["event"]
        except (ValueError, KeyError, TypeError) as exc:
            raise StreamProtocolError(f"not a Media Streams message: {text[:80]!r}") from exc
        if event == "connected":
            self.state = "connected"
        elif event == "start":
            start = msg.get("start", {})
            encoding = start.get("mediaFormat", {}).get("encoding", "audio/x-mulaw")
            if encoding != "audio/x-mulaw":
                raise StreamProtocolError(f"unsupported media encoding {encoding!r}, expected audio/x-mulaw")
            self.stream_sid = msg.get("streamSid") or start.get("streamSid")
            self.call_sid, self.account_sid = start.get("callSid"), start.get("accountSid")
            self.custom_parameters = dict(start.get("customParameters") or {})
            self.state = "started"
        elif event == "media":
            if self.state != "started":
                raise StreamProtocolError(f"media before start (state {self.state!r})")
            media = msg["media"]
            if media.get("track", "inbound") == "inbound":
                try:
                    self._inbound += base64.b64decode(media["payload"], validate=True)
                except (binascii.Error, KeyError) as exc:
                    raise StreamProtocolError("media payload is not base64") from exc
                excess = len(self._inbound) - self.max_buffer_frames * FRAME_BYTES
                if excess > 0:  # bound latency: drop the oldest audio
                    del self._inbound[:excess]
                    self.dropped_bytes += excess
        elif event == "mark":
            self.marks_received.append(str(msg.get("mark", {}).get("name")))
        elif event == "stop":
            self.state = "stopped"
        return str(event)

    def next_frame(self) -> bytes | None:
        """20 ms of inbound mu-law, or None while prefetching or after an underrun (then prefetch again)."""
        if not self._playing:
            if len(self._inbound) < self.prefetch_frames * FRAME_BYTES:
                return None
            self._playing = True
        if len(self._inbound) < FRAME_BYTES:
            self._playing = False
            self.underruns += 1
            return None
        frame = bytes(self._inbound[:FRAME_BYTES])
        del self._inbound[:FRAME_BYTES]
        return frame

    def media_message(self, ulaw: bytes) -> str:
        """An outbound ``media`` message carrying mixed audio back to the caller."""
        if self.stream_sid is None:
            raise StreamProtocolError("cannot send media before the start message gave a streamSid")
        payload = base64.b64encode(ulaw).decode("ascii")
        return json.dumps({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}})

    def mark_message(self, name: str) -> str:
        if self.stream_sid is None:
            raise StreamProtocolError("cannot send a mark before start")
        return json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
