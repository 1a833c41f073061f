"""Control API for fax sessions, mounted by the media server: ``add_fax_routes(app, config)``.

``POST /fax-sessions {tenant_id, call_sid, email?, t38_version?, remote_host?, remote_port?}`` opens a
UDPTL port and returns ``{session_id, port}`` for the backend's ``m=image PORT udptl t38`` answer.
``GET /fax-sessions/{id}`` reports progress; ``DELETE`` ends the session (keeping received pages).
Invariant: views parse, call ``FaxSessions`` and render; the bearer token guards every route.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from media_core.blobstore import LocalBlobStore
from media_core.config import MediaConfig
from media_core.fax.delivery import FaxDelivery, FaxSessionInfo, Mailer, SesMailer, SmtpMailer
from media_core.fax.document import FaxDocument
from media_core.fax.listener import FaxSessionProtocol
from media_core.fax.render import render
from media_core.fax.session import FaxReceiver
from media_core.fax.t4 import warm_up

log = logging.getLogger("media_core.fax")
KEEP_FINISHED_S = 600.0


@dataclass
class FaxSession:
    info: FaxSessionInfo
    protocol: FaxSessionProtocol
    port: int
    result: dict[str, Any] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


def mailer_for(config: MediaConfig) -> Mailer:
    if config.ses_region:
        import boto3

        return SesMailer(boto3.client("ses", region_name=config.ses_region))
    return SmtpMailer(config.smtp_host, config.smtp_port)


class FaxSessions:
    """Open sessions by id; each finished session is delivered once, in a background task."""

    def __init__(self, config: MediaConfig, delivery: FaxDelivery, bind_host: str = "0.0.0.0") -> None:
        self.config = config
        self.delivery = delivery
        self.bind_host = bind_host
        self.sessions: dict[str, FaxSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(
        self, info: FaxSessionInfo, version: int = 0, peer: tuple[str, int] | None = None
    ) -> FaxSession:
        loop = asyncio.get_running_loop()
        sid = uuid.uuid4().hex
        receiver = FaxReceiver(
            t38_version=1 if version >= 1 else 0, live=True
        )  # v1-v3 share the 2002 encoding

        def on_done(doc: FaxDocument) -> None:
            task = loop.create_task(self._deliver(sid, doc))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        transport, protocol = await loop.create_datagram_endpoint(
            lambda: FaxSessionProtocol(receiver, on_done, peer), local_addr=(self.bind_host, 0)
        )
        port = int(transport.get_extra_info("sockname")[1])
        session = FaxSession(info, protocol, port)
        self.sessions[sid] = session
        return session

    async def _deliver(self, sid: str, doc: FaxDocument) -> None:
        session = self.sessions[sid]
        try:
            session.result = await self.delivery.deliver(session.info, doc) or {"data": {"pages": 0}}
        except Exception:  # a failed delivery must not take the media server down; it is logged
            log.exception("fax delivery failed for %s", session.info.call_sid)
            session.result = {"error": "delivery failed"}
        session.done.set()
        # keep the finished session for status queries for a while, then forget it (bounded memory)
        asyncio.get_running_loop().call_later(KEEP_FINISHED_S, self.sessions.pop, sid, None)

    async def close(self) -> None:
        for s in self.sessions.values():
            s.protocol.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


FAX_SESSIONS: web.AppKey[FaxSessions] = web.AppKey("fax_sessions", FaxSessions)


def _authorised(request: web.Request) -> bool:
    token = request.app[FAX_SESSIONS].config.media_token
    sent = request.headers.get("Authorization", "")
    return not token or hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


async def create_session(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"error": "missing or wrong bearer token"}, status=401)
    body = await request.json()
    if not isinstance(body, dict) or not body.get("tenant_id") or not body.get("call_sid"):
        return web.json_response({"error": "tenant_id and call_sid are required"}, status=400)
    info = FaxSessionInfo(str(body["tenant_id"]), str(body["call_sid"]), body.get("email"))
    peer = (str(body["remote_host"]), int(body["remote_port"])) if body.get("remote_host") else None
    session = await request.app[FAX_SESSIONS].open(info, int(body.get("t38_version", 0)), peer)
    sid = next(k for k, v in request.app[FAX_SESSIONS].sessions.items() if v is session)
    return web.json_response({"session_id": sid, "port": session.port}, status=201)


async def get_session(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"error": "missing or wrong bearer token"}, status=401)
    session = request.app[FAX_SESSIONS].sessions.get(request.match_info["sid"])
    if session is None:
        return web.json_response({"error": "unknown fax session"}, status=404)
    rx = session.protocol.receiver
    return web.json_response(
        {
            "port": session.port,
            "phase": rx.machine.phase.name,
            "pages": len(rx.pages),
            "done": session.done.is_set(),
            "result": session.result,
        }
    )


async def delete_session(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"error": "missing or wrong bearer token"}, status=401)
    session = request.app[FAX_SESSIONS].sessions.get(request.match_info["sid"])
    if session is None:
        return web.json_response({"error": "unknown fax session"}, status=404)
    session.protocol.close()
    return web.json_response({"closed": True})


def add_fax_routes(app: web.Application, config: MediaConfig, mailer: Mailer | None = None) -> None:
    """Mount the fax control API and its session registry on the media server's app."""
    warm_up()

    async def run_blocking(fn: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    delivery = FaxDelivery(
        blobs=config.blob_store or LocalBlobStore("var/blobs"),
        mailer=mailer if mailer is not None else mailer_for(config),
        mail_from=config.smtp_from,
        backend_url=config.backend_url,
        token=config.media_token,
        render=render,
        run_blocking=run_blocking,
    )
    app[FAX_SESSIONS] = FaxSessions(config, delivery, bind_host=config.host)

    async def on_cleanup(_app: web.Application) -> None:
        await app[FAX_SESSIONS].close()

    app.on_cleanup.append(on_cleanup)
    app.router.add_post("/fax-sessions", create_session)
    app.router.add_get("/fax-sessions/{sid}", get_session)
    app.router.add_delete("/fax-sessions/{sid}", delete_session)
