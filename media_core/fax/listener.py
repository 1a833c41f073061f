"""One UDPTL socket per fax session: datagrams feed a ``FaxReceiver``; its answers go back to the peer.

Invariant: the protocol object owns no decoding logic (that is the sans-I/O engine); it only moves
bytes, re-sends DIS while phase B has not started (T.30 timer T4, 3 s), and ends the session on DCN,
on an idle timeout, or on close, calling ``on_done`` exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from media_core.fax.document import FaxDocument
from media_core.fax.session import FaxEnded, FaxReceiver
from media_core.fax.t30 import Phase
from media_core.fax.udptl import UdptlSender

DIS_REPEAT_S = 3.0  # T.30 §5.4.3.2 timer T4
DIS_ATTEMPTS = 10
IDLE_TIMEOUT_S = 60.0


class FaxSessionProtocol(asyncio.DatagramProtocol):
    def __init__(
        self,
        receiver: FaxReceiver,
        on_done: Callable[[FaxDocument], None],
        peer: tuple[str, int] | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.receiver = receiver
        self.on_done = on_done
        self.peer = peer
        self.idle_timeout_s = idle_timeout_s
        self.sender = UdptlSender()
        self.transport: asyncio.DatagramTransport | None = None
        self._done = False
        self._answered = False
        self._dis_sent = 0
        self._timer: asyncio.TimerHandle | None = None
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # selector transports don't subclass it
        self._touch()
        if self.peer is not None:
            self._answer()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self._done:
            return
        if self.peer is None:
            self.peer = (str(addr[0]), int(addr[1]))  # the gateway that answered the re-INVITE
        if not self._answered:
            self._answer()
        self._touch()
        self.receiver.receive_datagram(data)
        self._flush()
        while (event := self.receiver.next_event()) is not None:
            if isinstance(event, FaxEnded):
                self._finish(event.document)

    def _answer(self) -> None:
        self._answered = True
        self.receiver.answer()
        self._dis_sent = 1
        self._flush()
        self._schedule_dis()

    def _schedule_dis(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(DIS_REPEAT_S, self._repeat_dis)

    def _repeat_dis(self) -> None:
        # Only the opening DIS is repeated: once a DCS has been seen, AWAIT_DCS means "retrain after
        # RTP/FTT/EOM", and repeating our last answer then would confuse the sender.
        phase = self.receiver.machine.phase
        if (
            self._done
            or phase is not Phase.AWAIT_DCS
            or self.receiver.dcs is not None
            or self._dis_sent >= DIS_ATTEMPTS
        ):
            return
        self._dis_sent += 1
        for ifp in self.receiver.last_response():
            self._send(ifp)
        self._schedule_dis()

    def _flush(self) -> None:
        for ifp in self.receiver.outgoing():
            self._send(ifp)

    def _send(self, ifp: bytes) -> None:
        if self.transport is not None and self.peer is not None:
            self.transport.sendto(self.sender.datagram(ifp), self.peer)

    def _touch(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(self.idle_timeout_s, self.close)

    def close(self) -> None:
        """Idle timeout or explicit end: keep what was received."""
        if not self._done:
            self._finish(self.receiver.close())

    def _finish(self, doc: FaxDocument) -> None:
        if self._done:
            return
        self._done = True
        for h in (self._timer, self._idle):
            if h is not None:
                h.cancel()
        if self.transport is not None:
            self.transport.close()
        self.on_done(doc)
