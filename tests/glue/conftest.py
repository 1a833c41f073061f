"""Glue fixtures: a real SMTP server (aiosmtpd) on a free port, and a tiny HTTP server for recordings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port


class Inbox:
    """What the SMTP server accepted, as parsed messages."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        self.raw.append(envelope.content)
        return "250 OK"

    @property
    def messages(self) -> list[Message]:
        return [message_from_bytes(m) for m in self.raw]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


class Files:
    """Serves ``files[path] = (body, content type)`` over HTTP on a free port."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.url = ""


@pytest.fixture
def http_files() -> Iterator[Files]:
    files = Files()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server hook)
            body, kind = files.files.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in files.files else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    files.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield files
    server.shutdown()
    server.server_close()
