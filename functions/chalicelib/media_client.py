"""The media core's control API as seen by the backend: a MediaClient port, an HTTP adapter, a fake.

Invariant: a session create is retried only when the media core surely did not act on it (refused
connection, 502/503/504); a timeout after the request was sent is not retried, so one call never
holds two fax ports. Errors name the URL and the status.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.settings import Settings

RETRY_STATUSES = frozenset({502, 503, 504})


class MediaError(RuntimeError):
    """The media core refused or could not be reached."""


@dataclass(frozen=True, slots=True)
class FaxSession:
    session_id: str
    port: int


class MediaClient(Protocol):
    """Opens media-core sessions; ``url`` is the media core's base URL."""

    url: str

    def create_fax_session(self, *, tenant_id: str, call_sid: str, email: str | None) -> FaxSession: ...


@dataclass
class HttpMediaClient:
    url: str
    token: str
    timeout_s: float = 3.0
    attempts: int = 3
    backoff_s: float = 0.2

    def create_fax_session(self, *, tenant_id: str, call_sid: str, email: str | None) -> FaxSession:
        body = {"tenant_id": tenant_id, "call_sid": call_sid}
        if email:
            body["email"] = email
        doc = self._post("/fax-sessions", body)
        try:
            return FaxSession(session_id=str(doc["session_id"]), port=int(doc["port"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise MediaError(f"POST {self.url}/fax-sessions answered without session_id/port: {doc!r}") from exc

    def _post(self, path: str, body: dict[str, str]) -> dict[str, Any]:
        url = self.url.rstrip("/") + path
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                    doc = json.loads(resp.read() or b"{}")
                    return doc if isinstance(doc, dict) else {"body": doc}
            except urllib.error.HTTPError as exc:
                last = f"status {exc.code}: {exc.read()[:200].decode(errors='replace')}"
                if exc.code not in RETRY_STATUSES:
                    break
            except urllib.error.URLError as exc:
                last = f"unreachable: {exc.reason}"
                if not isinstance(exc.reason, ConnectionRefusedError):
                    break  # it may have arrived (a timeout): a second create could open a second port
            except TimeoutError:
                last = f"no answer within {self.timeout_s} s"
                break
        raise MediaError(f"POST {url} failed ({last})")


@dataclass
class RecordingMediaClient:
    """The fake: records each request and hands out ports from ``first_port``; ``fail`` makes it raise."""

    url: str = "http://media.test"
    first_port: int = 40000
    requests: list[dict[str, str | None]] = field(default_factory=list)
    fail: Exception | None = None

    def create_fax_session(self, *, tenant_id: str, call_sid: str, email: str | None) -> FaxSession:
        if self.fail is not None:
            raise self.fail
        self.requests.append({"tenant_id": tenant_id, "call_sid": call_sid, "email": email})
        n = len(self.requests)
        return FaxSession(session_id=f"fax-{n}", port=self.first_port + n - 1)


def media_client_from_settings(settings: Settings) -> MediaClient | None:
    """The HTTP client when ``VPBX_MEDIA_URL`` is set; without it the gateway receives faxes itself."""
    if not settings.media_url:
        return None
    return HttpMediaClient(settings.media_url, settings.media_token, timeout_s=settings.media_timeout_s)
