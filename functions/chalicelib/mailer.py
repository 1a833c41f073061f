"""Outgoing e-mail: a Mailer port with SMTP and SES adapters and a recording fake.

The backend does not import media_core (numba at Lambda cold start); this mirrors the approach of
media_core/fax/delivery.py. SES uses ``send_raw_email`` because attachments need the raw API.
"""

from __future__ import annotations

import smtplib
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from chalicelib.settings import Settings
from domain.events import StoredEvent
from domain.tenant import TenantSnapshot

MAX_ATTACHMENT = 10 * 1024 * 1024
FETCH_TIMEOUT_S = 3.0  # effects run inside the webhook: the gateway waits ~15 s at most


class Mailer(Protocol):
    """Hands one message to a mail service; raises when it was not accepted."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int = 25
    timeout_s: float = 5.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)


@dataclass
class SesMailer:
    region: str
    client: Any = None  # a boto3 SES client, created on first use (no AWS call at import)

    def send(self, message: EmailMessage) -> None:
        if self.client is None:
            import boto3

            self.client = boto3.client("ses", region_name=self.region)
        self.client.send_raw_email(Source=message["From"], Destinations=[message["To"]],
                                   RawMessage={"Data": message.as_bytes()})


@dataclass
class RecordingMailer:
    """The fake: keeps what it was asked to send; ``fail`` makes the next sends raise."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """SES when ``ses_region`` is set, SMTP when ``smtp_host`` is set, else no mail at all."""
    if settings.ses_region:
        return SesMailer(settings.ses_region)
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port)
    return None


def _headed(sender: str, to: str, subject: str, when: datetime, message_id: str) -> EmailMessage:
    """A message with its headers set (the Message-ID derived from an event id, so a retry is recognisable)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    return msg


def voicemail_message(left: StoredEvent, tenant: TenantSnapshot, *, sender: str, to: str,
                      audio: tuple[bytes, str] | None = None) -> EmailMessage:
    """The mail for a VoicemailLeft event; its Message-ID is derived from the event id."""
    data = left.data
    caller = str(data.get("caller") or "an unknown caller")
    seconds = int(data.get("duration") or 0)
    length = f"{seconds // 60}:{seconds % 60:02d}"
    when = datetime.fromisoformat(left.occurred_at).astimezone(ZoneInfo(tenant.timezone))
    msg = _headed(sender, to, f"Voicemail from {caller} ({length})", when, f"<voicemail-{left.event_id}@vpbx>")
    msg.set_content(
        f"New voicemail in box {data.get('box', '')}.\n\n"
        f"From:     {caller}\n"
        f"Received: {when:%Y-%m-%d %H:%M:%S %Z}\n"
        f"Length:   {length} ({seconds} s)\n"
        f"Listen:   {data.get('recording_url', '')}\n"
        f"Call:     {left.stream_id.removeprefix('call-')}\n")
    if audio is not None:
        body, content_type = audio
        maintype, _, subtype = content_type.partition("/")
        ext = {"mpeg": "mp3", "x-wav": "wav", "wave": "wav"}.get(subtype, subtype)
        msg.add_attachment(body, maintype=maintype, subtype=subtype, filename=f"voicemail-{left.event_id}.{ext}")
    return msg


def mailbox_locked_message(locked: StoredEvent, tenant: TenantSnapshot, *, sender: str, to: str,
                           lock_minutes: int) -> EmailMessage:
    """The mail telling a box's owner that wrong PINs locked it (a MailboxLocked event)."""
    data = locked.data
    box = str(data.get("box", ""))
    caller = str(data.get("caller") or "an unknown caller")
    when = datetime.fromisoformat(locked.occurred_at).astimezone(ZoneInfo(tenant.timezone))
    msg = _headed(sender, to, f"Voicemail box {box} locked after wrong PINs", when,
                  f"<mailbox-locked-{locked.event_id}@vpbx>")
    msg.set_content(
        f"Someone entered wrong PINs for voicemail box {box} too many times, so it is locked: nobody can\n"
        f"listen to its messages by phone for up to {lock_minutes} minutes, even with the right PIN.\n\n"
        f"Last wrong PIN: {when:%Y-%m-%d %H:%M:%S %Z}\n"
        f"From:           {caller}\n"
        f"Call:           {locked.stream_id.removeprefix('call-')}\n\n"
        f"If this was not you, choose a new PIN (voicemail page, My voicemail PIN) and tell your administrator.\n")
    return msg


def fetch_audio(url: str, blob_dir: str) -> tuple[bytes, str] | None:
    """The recording's bytes and content type when they can be had cheaply (a local blob, or an
    http(s) URL answering audio/* within 3 s and 10 MB); None otherwise: the mail then only links it."""
    scheme = urlsplit(url).scheme
    try:
        if scheme in ("http", "https"):
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as resp:
                kind = resp.headers.get_content_type()
                body = resp.read(MAX_ATTACHMENT + 1)
            return (body, kind) if kind.startswith("audio/") and len(body) <= MAX_ATTACHMENT else None
        if scheme == "" and url:
            root = Path(blob_dir).resolve()
            path = (root / url.lstrip("/")).resolve()
            kind = {".mp3": "audio/mpeg", ".wav": "audio/wav"}.get(path.suffix.lower())
            if kind and path.is_relative_to(root) and path.is_file() and path.stat().st_size <= MAX_ATTACHMENT:
                return path.read_bytes(), kind
    except (OSError, ValueError):
        return None
    return None
