"""Media server: JSON control API, Twilio Media Streams WebSocket, RTP over UDP, one 20 ms clock.

Run: ``python -m media_core.server --host 127.0.0.1 --port 8100`` (or ``vpbx media serve``).
Invariant: views only parse, call the :class:`MediaService` and render; errors become JSON
``{"error": ...}`` with 400 (bad input), 404 (unknown room/participant) or 401 (bad token).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import WSMsgType, web

from media_core.backend_client import BackendClient
from media_core.config import MediaConfig
from media_core.legs import RtpLeg, WsLeg
from media_core.rtp_engine import EngineRtpLeg
from media_core.service import MediaService
from media_core.twilio_stream import StreamProtocolError

log = logging.getLogger("media_core.server")
SERVICE: web.AppKey[MediaService] = web.AppKey("media_service", MediaService)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors_and_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[SERVICE].config.media_token
    if token and request.path.startswith("/rooms"):
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return _error(401, "missing or wrong bearer token")
    try:
        return await handler(request)
    except KeyError as exc:
        return _error(404, str(exc.args[0]) if exc.args else "not found")
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        return _error(400, str(exc))


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json() if request.can_read_body else {}
    if not isinstance(body, dict):
        raise ValueError(f"request body must be a JSON object, got {type(body).__name__}")
    return body


async def health(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    clock = svc.clock
    members = [m for r in svc.rooms.values() for m in r.members.values()]
    legs = [m.leg for m in members if isinstance(m.leg, RtpLeg | EngineRtpLeg)]
    return web.json_response(
        {
            "status": "ok",
            "rooms": len(svc.rooms),
            "participants": sum(len(r.members) for r in svc.rooms.values()),
            "ticks": clock.tick_index if clock else 0,
            "skipped_ticks": clock.skipped if clock else 0,
            "events_pending": svc.backend.pending(),
            "rtp_packets_in": sum(leg.packets_in for leg in legs),
            "rtp_packets_out": sum(leg.packets_out for leg in legs),
            "rtp_frames_concealed": sum(leg.frames_concealed for leg in legs),
            "rtp_send_errors": sum(leg.send_errors for leg in legs),  # packets the kernel refused (lost)
            "tick_errors": svc.tick_errors,
            "tick_busy_s": {phase: round(t, 6) for phase, t in svc.busy_s.items()},
        }
    )


async def create_room(request: web.Request) -> web.Response:
    body = await _body(request)
    room = request.app[SERVICE].create_room(str(body.get("name", "")), str(body.get("tenant_id", "")))
    return web.json_response({"name": room.name, "tenant_id": room.tenant_id}, status=201)


async def delete_room(request: web.Request) -> web.Response:
    await request.app[SERVICE].delete_room(request.match_info["room"])
    return web.json_response({"deleted": True})


async def add_participant(request: web.Request) -> web.Response:
    svc, room = request.app[SERVICE], request.match_info["room"]
    body = await _body(request)
    pid = str(body.get("participant_id") or "PA" + uuid.uuid4().hex)
    transport, mode = body.get("transport", "rtp"), str(body.get("mode", "normal"))
    call_sid = body.get("call_sid")
    if transport == "rtp":
        remote = body.get("remote")
        addr = (str(remote["host"]), int(remote["port"])) if remote else None
        leg = await svc.add_rtp_participant(room, pid, str(body.get("codec", "PCMU")), call_sid, addr, mode)
        return web.json_response(
            {"participant_id": pid, "rtp_host": svc.config.host, "rtp_port": leg.port}, status=201
        )
    if transport == "ws":
        ws_leg = svc.add_ws_participant(room, pid, call_sid, mode)
        base = svc.config.public_ws_base or f"ws://{request.host}"
        url = f"{base}/ws/{room}/{pid}?token={ws_leg.token}"
        return web.json_response({"participant_id": pid, "ws_url": url}, status=201)
    raise ValueError(f"transport must be 'rtp' or 'ws', got {transport!r}")


async def remove_participant(request: web.Request) -> web.Response:
    request.app[SERVICE].remove_participant(request.match_info["room"], request.match_info["pid"])
    return web.json_response({"removed": True})


async def set_mode(request: web.Request) -> web.Response:
    body = await _body(request)
    room = request.app[SERVICE].room(request.match_info["room"])
    pid = request.match_info["pid"]
    current = room.members.get(pid)  # None: set_mode raises the 404 naming the participant
    gain, muted = body.get("gain"), body.get("muted")
    room.set_mode(
        pid,
        str(body.get("mode", current.mode if current else "normal")),
        target=body.get("target", current.whisper_to if current else None),  # a mute keeps a whisper's target
        muted=None if muted is None else bool(muted),
        gain=None if gain is None else float(gain),
    )
    m = room.members[pid]
    return web.json_response(
        {"participant_id": pid, "mode": m.mode, "target": m.whisper_to, "muted": m.muted, "gain": m.gain}
    )


async def start_recording(request: web.Request) -> web.Response:
    body = await _body(request)
    caller = body.get("caller")
    rec_id = request.app[SERVICE].start_recording(
        request.match_info["room"], int(body.get("channels", 1)), None if caller is None else str(caller)
    )
    return web.json_response({"recording_id": rec_id}, status=201)


async def stop_recording(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SERVICE].stop_recording(request.match_info["room"]))


async def media_stream(request: web.Request) -> web.StreamResponse:
    svc, room_name, pid = request.app[SERVICE], request.match_info["room"], request.match_info["pid"]
    room = svc.rooms.get(room_name)
    member = room.members.get(pid) if room else None
    leg = member.leg if member else None
    if not isinstance(leg, WsLeg) or not hmac.compare_digest(request.query.get("token", ""), leg.token):
        return _error(404, f"no WebSocket participant {pid!r} in room {room_name!r} for this token")
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    leg.connected = True
    closing: list[asyncio.Task[bool]] = []
    leg.hangup = lambda: closing.append(asyncio.create_task(ws.close()))  # removed via the control API

    async def pump() -> None:
        while True:
            await ws.send_str(await leg.outbox.get())

    writer = asyncio.create_task(pump())
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                if leg.session.receive_text(msg.data) == "stop":
                    break
            except StreamProtocolError as exc:
                log.warning("bad Media Streams message from %s/%s: %s", room_name, pid, exc)
    finally:
        writer.cancel()
        leg.hangup = None
        leg.connected = False
        if room_name in svc.rooms and pid in svc.rooms[room_name].members:
            svc.remove_participant(room_name, pid)
        await ws.close()
    return ws


def create_app(config: MediaConfig) -> web.Application:
    """Composition root: build the backend client, the service and the routes (plus fax if present)."""
    backend = config.backend_client or BackendClient(config.backend_url, config.media_token)
    config = replace(config, backend_client=backend)
    app = web.Application(middlewares=[_errors_and_auth])
    service = MediaService(config, backend)
    app[SERVICE] = service
    app.router.add_get("/health", health)
    app.router.add_post("/rooms", create_room)
    app.router.add_delete("/rooms/{room}", delete_room)
    app.router.add_post("/rooms/{room}/participants", add_participant)
    app.router.add_delete("/rooms/{room}/participants/{pid}", remove_participant)
    app.router.add_post("/rooms/{room}/participants/{pid}/mode", set_mode)
    app.router.add_post("/rooms/{room}/recording", start_recording)
    app.router.add_delete("/rooms/{room}/recording", stop_recording)
    app.router.add_get("/ws/{room}/{pid}", media_stream)

    async def on_startup(_app: web.Application) -> None:
        await service.start()

    async def on_cleanup(_app: web.Application) -> None:
        await service.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    try:
        from media_core.fax.routes import add_fax_routes
    except ImportError:
        log.info("media_core.fax.routes not available; fax routes disabled")
    else:
        add_fax_routes(app, config)
    return app


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m media_core.server`` and ``vpbx media serve``."""
    parser = argparse.ArgumentParser(prog="vpbx media serve", description="vpbx media server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = MediaConfig.from_env(host=args.host, port=args.port)
    web.run_app(create_app(config), host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
