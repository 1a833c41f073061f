"""A fax sent by spandsp over real UDP to the media server's fax port arrives as PDF mail, blobs and an event."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
from email import message_from_bytes
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import ClientSession, web
from aiosmtpd.controller import Controller
from PIL import Image, ImageSequence

from media_core.blobstore import LocalBlobStore
from media_core.config import MediaConfig
from media_core.fax.document import FaxDocument
from media_core.fax.frames import Fcf
from media_core.fax.listener import FaxSessionProtocol
from media_core.fax.session import FaxReceiver
from media_core.fax.t4 import warm_up
from media_core.server import create_app
from tests.fax import spandsp_sessions as ss


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def _fax_over_udp(tx: Path, tmp: Path, ecm: bool, compressions: int, version: int, drop_every: int):
    inbox = _Inbox()
    smtp_port = _free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    events: list[tuple[str, dict[str, Any]]] = []

    async def media_events(request: web.Request) -> web.Response:
        events.append((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"ok": True})

    backend = web.Application()
    backend.router.add_post("/media/events", media_events)
    backend_runner, backend_port = await _serve(backend)
    blobs = LocalBlobStore(tmp / "blobs")
    config = MediaConfig(
        blob_store=blobs,
        backend_url=f"http://127.0.0.1:{backend_port}",
        media_token="s3cret",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="fax@vpbx.test",
    )
    media_runner, media_port = await _serve(create_app(config))
    auth = {"Authorization": "Bearer s3cret"}
    try:
        async with ClientSession(f"http://127.0.0.1:{media_port}") as http:
            body = {
                "tenant_id": "t1",
                "call_sid": "CA123",
                "email": "alice@example.test",
                "t38_version": version,
            }
            async with http.post("/fax-sessions", json=body) as resp:
                assert resp.status == 401  # the control API wants the media token
            async with http.post("/fax-sessions", json=body, headers=auth) as resp:
                assert resp.status == 201
                created = await resp.json()
            sender = await asyncio.create_subprocess_exec(
                str(ss.helper(ss.UDP_SOURCE)),
                str(tx),
                "127.0.0.1",
                str(created["port"]),
                str(int(ecm)),
                str(compressions),
                str(version),
                str(drop_every),
                stdout=subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(sender.communicate(), 60)
            assert sender.returncode == 0, out
            for _ in range(200):
                async with http.get(f"/fax-sessions/{created['session_id']}", headers=auth) as resp:
                    status = await resp.json()
                if status["done"]:
                    break
                await asyncio.sleep(0.05)
    finally:
        await media_runner.cleanup()
        await backend_runner.cleanup()
        smtp.stop()
    return status, events, inbox.messages, blobs


@pytest.mark.parametrize(
    ("ecm", "compressions", "version", "drop_every", "encoding"),
    [(False, ss.T4_1D | ss.T4_2D, 0, 0, "MR"), (True, ss.T4_1D | ss.T4_2D | ss.T6, 3, 20, "MMR")],
)
def test_spandsp_fax_over_udp_is_stored_mailed_and_reported(
    source_tiffs, tmp_path, ecm, compressions, version, drop_every, encoding
) -> None:
    # given the media server with fax routes, a backend, an SMTP server; spandsp sends (losing some ECM frames)
    status, events, mails, blobs = asyncio.run(
        _fax_over_udp(source_tiffs["fine"], tmp_path, ecm, compressions, version, drop_every)
    )
    # then the session finished and reported a FaxReceived event with the bearer token
    assert status["done"] and status["phase"] == "DONE"
    assert len(events) == 1
    auth, event = events[0]
    assert auth == "Bearer s3cret"
    assert (
        event["event_type"] == "FaxReceived" and event["tenant_id"] == "t1" and event["call_sid"] == "CA123"
    )
    assert event["conference"] is None and event["occurred_at"].endswith("Z") and len(event["event_id"]) == 36
    data = event["data"]
    assert data["pages"] == 3 and data["sender_id"] == "+1 555 0100" and data["bad_lines"] == 0
    assert data["resolution"] == "fine" and data["encoding"] == encoding and data["ecm"] is ecm
    # and the stored TIFF holds exactly the pages spandsp sent
    tiff = Image.open(io.BytesIO(blobs.get(data["blob_keys"]["tiff"])))
    got = [(~np.array(p.convert("1"))).astype(np.uint8) for p in ImageSequence.Iterator(tiff)]
    want = ss.black_pixels(source_tiffs["fine"])
    assert len(got) == len(want) and all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    assert all(blobs.exists(k) for k in data["blob_keys"]["png"])
    # and the PDF went to the session's address
    assert len(mails) == 1
    mail = message_from_bytes(mails[0])
    assert mail["To"] == "alice@example.test" and mail["From"] == "fax@vpbx.test"
    pdfs = [p.get_payload(decode=True) for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0] == blobs.get(data["blob_keys"]["pdf"]) and pdfs[0].startswith(b"%PDF")


def test_lossy_non_ecm_pages_are_kept_and_answered_with_rtp(source_tiffs) -> None:
    # given our listener engine, answering live, and spandsp losing every 6th image packet (no ECM)
    warm_up()

    async def run() -> tuple[FaxDocument, list[int], int]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[FaxDocument] = loop.create_future()
        rx = FaxReceiver(live=True)
        answers: list[int] = []
        respond = rx._respond

        def spy(fcf, fif=b""):  # type: ignore[no-untyped-def]
            if fcf is not None:
                answers.append(int(fcf))
            respond(fcf, fif)

        rx._respond = spy  # type: ignore[method-assign]
        transport, _ = await loop.create_datagram_endpoint(
            lambda: FaxSessionProtocol(rx, done.set_result), local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        sender = await asyncio.create_subprocess_exec(
            str(ss.helper(ss.UDP_SOURCE)),
            str(source_tiffs["fine"]),
            "127.0.0.1",
            str(port),
            "0",
            str(ss.T4_1D),
            "0",
            "6",
            stdout=subprocess.PIPE,
        )
        await asyncio.wait_for(sender.communicate(), 60)
        return await asyncio.wait_for(done, 10), answers, sender.returncode or 0

    doc, answers, rc = asyncio.run(run())
    # then the sender finished normally, every page arrived, damaged pages were answered RTP (retrain)
    assert rc == 0 and doc.completed and len(doc.pages) == 3
    assert all(p.decoded.bad_rows * 20 > p.decoded.rows for p in doc.pages)
    assert answers.count(Fcf.RTP) == 3 and Fcf.MCF not in answers


def test_control_api_validates_and_closing_an_idle_session_delivers_nothing(tmp_path) -> None:
    async def run() -> list[tuple[int, dict[str, Any]]]:
        config = MediaConfig(blob_store=LocalBlobStore(tmp_path), media_token="tok", smtp_port=_free_port())
        runner, port = await _serve(create_app(config))
        auth = {"Authorization": "Bearer tok"}
        seen = []
        try:
            async with ClientSession(f"http://127.0.0.1:{port}") as http:
                for method, path, body in (
                    ("POST", "/fax-sessions", {"tenant_id": "t1"}),
                    ("GET", "/fax-sessions/nope", None),
                    ("POST", "/fax-sessions", {"tenant_id": "t1", "call_sid": "CA1", "email": "a@b.test"}),
                ):
                    async with http.request(method, path, json=body, headers=auth) as resp:
                        seen.append((resp.status, await resp.json()))
                sid = seen[-1][1]["session_id"]
                async with http.delete(f"/fax-sessions/{sid}", headers=auth) as resp:
                    seen.append((resp.status, await resp.json()))
                for _ in range(100):
                    async with http.get(f"/fax-sessions/{sid}", headers=auth) as resp:
                        status = await resp.json()
                    if status["done"]:
                        break
                    await asyncio.sleep(0.02)
                seen.append((200, status))
        finally:
            await runner.cleanup()
        return seen

    bad, unknown, created, closed, status = asyncio.run(run())
    assert bad[0] == 400 and "call_sid" in bad[1]["error"]
    assert unknown[0] == 404
    assert created[0] == 201 and 0 < created[1]["port"] < 65536
    assert closed == (200, {"closed": True})
    assert status[1]["done"] and status[1]["pages"] == 0 and status[1]["result"] == {"data": {"pages": 0}}
    assert not any(tmp_path.iterdir())  # nothing stored for a fax without pages
