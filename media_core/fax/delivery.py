"""After a fax: store the files, tell the backend (FaxReceived), mail the PDF (SMTP or SES).

Invariant: the event and the mail name only blob keys that were stored first; each port (blob store,
mailer, event poster) is passed in, so tests use moto, aiosmtpd and a local aiohttp app.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp

from media_core.blobstore import BlobStore
from media_core.fax.document import FaxDocument
from media_core.fax.render import RenderedFax

EVENT_TYPE = "FaxReceived"
log = logging.getLogger("media_core.fax")


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """Plain SMTP via smtplib, to whatever server the config names."""

    host: str
    port: int
    timeout_s: float = 30.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)


@dataclass(frozen=True)
class SesMailer:
    """Amazon SES ``send_raw_email`` (attachments need the raw API)."""

    client: Any  # boto3 SES client

    def send(self, message: EmailMessage) -> None:
        self.client.send_raw_email(
            Source=message["From"], Destinations=[message["To"]], RawMessage={"Data": message.as_bytes()}
        )


@dataclass(frozen=True)
class FaxSessionInfo:
    tenant_id: str
    call_sid: str
    email: str | None


def blob_keys(info: FaxSessionInfo, pages: int) -> dict[str, Any]:
    base = f"fax/{info.tenant_id}/{info.call_sid}"
    return {
        "pdf": f"{base}/fax.pdf",
        "tiff": f"{base}/fax.tiff",
        "png": [f"{base}/page-{i}.png" for i in range(1, pages + 1)],
    }


def store(blobs: BlobStore, info: FaxSessionInfo, rendered: RenderedFax) -> dict[str, Any]:
    keys = blob_keys(info, len(rendered.pngs))
    blobs.put(keys["tiff"], rendered.tiff, content_type="image/tiff")
    blobs.put(keys["pdf"], rendered.pdf, content_type="application/pdf")
    for key, png in zip(keys["png"], rendered.pngs, strict=True):
        blobs.put(key, png, content_type="image/png")
    return keys


def build_event(
    info: FaxSessionInfo, doc: FaxDocument, keys: dict[str, Any], occurred_at: datetime, event_id: str
) -> dict[str, Any]:
    """The FaxReceived media event (same envelope as the media server's other events)."""
    return {
        "event_id": event_id,
        "tenant_id": info.tenant_id,
        "call_sid": info.call_sid,
        "conference": None,
        "event_type": EVENT_TYPE,
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "pages": len(doc.pages),
            "sender_id": doc.remote_id,
            "blob_keys": keys,
            "bad_lines": doc.bad_lines,
            "resolution": doc.resolution,
            "encoding": doc.encoding,
            "ecm": doc.ecm,
            "completed": doc.completed,
        },
    }


def build_mail(info: FaxSessionInfo, doc: FaxDocument, pdf: bytes, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = info.email or ""
    msg["Subject"] = (
        f"Fax from {doc.remote_id or 'unknown sender'} ({len(doc.pages)} page{'s' if len(doc.pages) != 1 else ''})"
    )
    msg.set_content(f"A fax was received on call {info.call_sid}.\n\n{doc.summary()}\n")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"fax-{info.call_sid}.pdf")
    return msg


async def post_event(
    backend_url: str, token: str | None, event: dict[str, Any], attempts: int = 4, backoff_s: float = 0.5
) -> bool:
    """POST {backend_url}/media/events with the bearer token; retries on 5xx and network errors."""
    url = backend_url.rstrip("/") + "/media/events"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for attempt in range(attempts):
            try:
                async with session.post(url, json=event, headers=headers) as resp:
                    if resp.status < 300:
                        return True
                    if resp.status < 500:
                        return False  # the backend refused it: retrying would not help
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(backoff_s * 2**attempt)
    return False


@dataclass
class FaxDelivery:
    """Composition of the three effects; ``deliver`` is what a finished session calls."""

    blobs: BlobStore
    mailer: Mailer | None
    mail_from: str
    backend_url: str | None
    token: str | None
    render: Callable[[FaxDocument], RenderedFax]
    run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())

    async def deliver(self, info: FaxSessionInfo, doc: FaxDocument) -> dict[str, Any] | None:
        """Returns the event sent, or None when the fax had no page (nothing to store or mail)."""
        if not doc.pages:
            return None
        rendered: RenderedFax = await self.run_blocking(lambda: self.render(doc))
        keys = await self.run_blocking(lambda: store(self.blobs, info, rendered))
        event = build_event(info, doc, keys, self.now(), self.new_id())
        if self.backend_url and not await post_event(self.backend_url, self.token, event):
            log.error("FaxReceived %s for %s not accepted by the backend", event["event_id"], info.call_sid)
        if self.mailer is not None and info.email:
            mail = build_mail(info, doc, rendered.pdf, self.mail_from)
            mailer = self.mailer
            await self.run_blocking(lambda: mailer.send(mail))
        return event
