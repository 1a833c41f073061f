"""Events from the media server to the vpbx backend (POST {backend}/media/events).

Invariant: ``emit`` never blocks and never raises on network trouble, so the 20 ms audio loop
cannot stall on the backend; delivery happens in a background task with a timeout per attempt
and exponential back-off between attempts. Each event keeps its uuid across retries so the
backend can de-duplicate. A full queue drops the oldest event (and logs it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

log = logging.getLogger("media_core.events")

EVENT_TYPES = frozenset({"ConferenceParticipantJoined", "ConferenceParticipantLeft", "RecordingCompleted"})


def _utc_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class BackendClient:
    """Queue and deliver media events; with no ``backend_url`` events are only logged."""

    def __init__(
        self,
        backend_url: str | None,
        token: str | None,
        *,
        timeout_s: float = 5.0,
        max_attempts: int = 6,
        backoff_s: float = 0.25,
        max_queue: int = 10_000,
        now: Callable[[], str] = _utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.url = backend_url.rstrip("/") + "/media/events" if backend_url else None
        self.token = token
        self.timeout_s, self.max_attempts, self.backoff_s = timeout_s, max_attempts, backoff_s
        self._queue: deque[dict[str, Any]] = deque(maxlen=max_queue)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._now, self._new_id = now, new_id
        self.delivered = self.failed = self.dropped = 0

    def emit(
        self,
        event_type: str,
        tenant_id: str,
        data: dict[str, Any],
        call_sid: str | None = None,
        conference: str | None = None,
    ) -> dict[str, Any]:
        """Queue one event (returns it); safe to call from the audio loop."""
        if event_type not in EVENT_TYPES:
            raise ValueError(
                f"unknown media event type {event_type!r}; expected one of {sorted(EVENT_TYPES)}"
            )
        event = {
            "event_id": self._new_id(),
            "tenant_id": tenant_id,
            "call_sid": call_sid,
            "conference": conference,
            "event_type": event_type,
            "occurred_at": self._now(),
            "data": data,
        }
        log.info("media event %s", json.dumps(event, sort_keys=True))
        if self.url is None:
            return event
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            log.error("media event queue full; dropping %s", self._queue[0]["event_id"])
        self._queue.append(event)
        self._wake.set()
        return event

    async def start(self) -> None:
        if self.url is not None and self._task is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
            self._task = asyncio.create_task(self._run(), name="media-events")

    async def close(self, drain_s: float = 2.0) -> None:
        """Try to deliver what is queued for up to ``drain_s``, then stop."""
        if self._task is not None:
            deadline = asyncio.get_running_loop().time() + drain_s
            while self._queue and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def pending(self) -> int:
        return len(self._queue)

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            event = self._queue[0]
            if await self._deliver(event):
                self.delivered += 1
            else:
                self.failed += 1
                log.error(
                    "giving up on media event %s after %d attempts", event["event_id"], self.max_attempts
                )
            if self._queue and self._queue[0] is event:
                self._queue.popleft()

    async def _deliver(self, event: dict[str, Any]) -> bool:
        assert self._session is not None and self.url is not None
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        for attempt in range(self.max_attempts):
            try:
                async with self._session.post(self.url, json=event, headers=headers) as resp:
                    if resp.status < 300:
                        return True
                    if 400 <= resp.status < 500 and resp.status not in (408, 429):
                        log.error("backend rejected %s with %d", event["event_id"], resp.status)
                        return False
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("media event %s attempt %d failed: %r", event["event_id"], attempt + 1, exc)
            await asyncio.sleep(self.backoff_s * (2**attempt))
        return False
