"""End to end in one process: a webhook into fax_receive allocates a session on the real media server,
spandsp sends a fax over UDP to that port, the media core reports FaxReceived to the real backend
(chalice local) and mails the PDF to the demo tenant's fax address (aiosmtpd); ``vpbx events`` shows it."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable
from email.message import Message
from typing import Any, TypeVar

from aiohttp import web

from chalicelib.cli import main as vpbx
from chalicelib.media_client import HttpMediaClient
from chalicelib.server import make_server
from media_core.blobstore import LocalBlobStore
from media_core.config import MediaConfig
from media_core.server import create_app
from tests.conftest import call_params, free_port
from tests.fax import spandsp_sessions as ss
from tests.glue.test_fax_handoff import FAX_NUMBER, _fax_line

SID = "CA" + "8" * 32
T = TypeVar("T")


class MediaServer:
    """media_core.server's app on its own event loop in a thread (the webhook shell calls it synchronously)."""

    def __init__(self, config: MediaConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(create_app(self.config))
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", 0).start())
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> MediaServer:
        self.thread.start()
        assert self.ready.wait(60), "media server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_fax_sent_to_the_allocated_port_reaches_the_call_stream_the_mailbox_and_vpbx_events(
        services, gateway, inbox, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    # given the real backend (chalice local), the real media server mailing through aiosmtpd, a fax line
    backend_port = free_port()
    backend = make_server("127.0.0.1", backend_port)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    token = services.settings.media_token
    config = MediaConfig(blob_store=LocalBlobStore(tmp_path / "blobs"), backend_url=f"http://127.0.0.1:{backend_port}",
                         media_token=token, smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_from="fax@vpbx.test")
    tiff = tmp_path / "two-pages.tif"
    ss.write_tiff(ss.make_pages(2, 1100, seed=7), tiff, fine=True)
    _fax_line(services)
    stream = f"call-{SID}"
    try:
        with MediaServer(config) as media:
            services.media = HttpMediaClient(media.url, token)
            # when a fax call reaches the fax_receive plan
            resp = gateway.post("voice", call_params(SID, To=FAX_NUMBER))
            assert resp.status == 200 and "<Receive" in resp.body
            allocated = next(e for e in services.store.load(stream)[0] if e.event_type == "FaxSessionAllocated")
            assert allocated.data["media_url"] == media.url and allocated.data["email"] == "fax@demo.test"
            # and spandsp sends two pages (ECM, MMR; T.38 version 0, the session default) to the allocated UDP port
            sender = subprocess.run([str(ss.helper(ss.UDP_SOURCE)), str(tiff), "127.0.0.1",
                                     str(allocated.data["port"]), "1", str(ss.T4_1D | ss.T4_2D | ss.T6), "0", "0"],
                                    capture_output=True, timeout=90)
            assert sender.returncode == 0, sender.stdout
            received = _wait_for("FaxReceived on the call stream", lambda: next(
                (e for e in services.store.load(stream)[0]
                 if e.event_type == "MediaEventRecorded" and e.data["kind"] == "FaxReceived"), None))
            mails: list[Message] = _wait_for("the fax mail", lambda: inbox.messages)
    finally:
        backend.shutdown()
        backend.server.server_close()
    # then the call stream holds the fax's report, after the session it was sent to
    data: dict[str, Any] = dict(received.data["data"])
    assert received.version > allocated.version
    assert data["pages"] == 2 and data["completed"] is True and data["ecm"] is True and data["encoding"] == "MMR"
    assert data["blob_keys"]["pdf"] == f"fax/demo/{SID}/fax.pdf"
    # and the tenant's fax address got the PDF the media core stored
    [mail] = mails
    assert mail["To"] == "fax@demo.test" and mail["Subject"].endswith("(2 pages)")
    pdfs = [p.get_payload(decode=True) for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0] == config.blob_store.get(data["blob_keys"]["pdf"])  # type: ignore[union-attr]
    assert pdfs[0].startswith(b"%PDF")
    # and `vpbx events` lists the hand-off and the fax
    capsys.readouterr()
    assert vpbx(["events", SID]) == 0
    lines = capsys.readouterr().out.splitlines()
    kinds = [line.split()[2] for line in lines]
    assert kinds.index("FaxReceiveRequested") < kinds.index("FaxSessionAllocated") < kinds.index("MediaEventRecorded")
    fax_line = next(line for line in lines if "MediaEventRecorded" in line)
    assert 'kind="FaxReceived"' in fax_line and '"pages": 2' in fax_line
