"""The gateway's Calls REST API (Twilio-compatible: Twilio, SignalWire LaML, Telnyx TeXML) behind a port.

vpbx places and steers calls through this port only: ``create_call`` (outbound leg that fetches
``url`` when answered), ``update_call`` (redirect to a new URL, replace the TwiML, or complete),
``hangup``, and ``hold_participant`` (a call in a conference put on hold or taken off it, with the
Conferences and Participants resources: the others in the room stay connected). ``TwilioRestGateway`` speaks HTTP; ``RecordingGateway`` records what would have been
sent, for tests and for the embedded default where no gateway is configured.

Invariant: a request the gateway may not have processed (connection error, connect timeout, 5xx, 429)
is retried with exponential back-off; a read timeout is retried only for idempotent requests (update,
hang up), never for create (it may have rung already); a 4xx raises at once with the gateway's message.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

TWILIO_API = "https://api.twilio.com/2010-04-01"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class GatewayError(Exception):
    """The gateway refused the request or could not be reached after all retries."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class CallResource:
    """What the gateway answered about a call."""

    sid: str
    status: str
    to: str = ""
    from_: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


class GatewayApi(Protocol):
    """Create, redirect and end calls on a Twilio-compatible gateway."""

    def create_call(self, to: str, from_: str, url: str, *, status_callback: str | None = None,
                    status_callback_events: tuple[str, ...] = ("initiated", "ringing", "answered", "completed"),
                    timeout: int | None = None, caller_id_name: str | None = None,
                    machine_detection: str | None = None) -> CallResource:
        """Place an outbound call that fetches ``url`` when answered."""
        ...

    def update_call(self, sid: str, *, url: str | None = None, twiml: str | None = None,
                    status: str | None = None) -> CallResource:
        """Redirect a live call to ``url``, replace its TwiML, or set status completed/canceled."""
        ...

    def hangup(self, sid: str) -> CallResource:
        """End a call whatever its state."""
        ...

    def hold_participant(self, room: str, call_sid: str, *, hold: bool, hold_url: str = "") -> None:
        """Put call ``call_sid``, a participant of the conference in progress named ``room``, on hold (it
        hears ``hold_url``, else the gateway's own music) or take it off hold; the others stay in the room."""
        ...


def _update_params(url: str | None, twiml: str | None, status: str | None) -> dict[str, str]:
    given = [name for name, value in (("url", url), ("twiml", twiml), ("status", status)) if value is not None]
    if len(given) != 1:
        raise ValueError(f"update_call needs exactly one of url, twiml, status; got {given or 'none'}")
    if status is not None and status not in ("completed", "canceled"):
        raise ValueError(f"status must be 'completed' or 'canceled', got {status!r}")
    if url is not None:
        return {"Url": url, "Method": "POST"}
    if twiml is not None:
        return {"Twiml": twiml}
    return {"Status": str(status)}


def _create_params(to: str, from_: str, url: str, status_callback: str | None,
                   status_callback_events: tuple[str, ...], timeout: int | None,
                   caller_id_name: str | None, machine_detection: str | None) -> list[tuple[str, str]]:
    for name, value in (("to", to), ("from_", from_), ("url", url)):
        if not value:
            raise ValueError(f"create_call needs a non-empty {name}")
    if timeout is not None and not 1 <= timeout <= 600:
        raise ValueError(f"timeout must be 1..600 seconds, got {timeout}")
    params: list[tuple[str, str]] = [("To", to), ("From", from_), ("Url", url), ("Method", "POST")]
    if status_callback:
        params += [("StatusCallback", status_callback), ("StatusCallbackMethod", "POST")]
        params += [("StatusCallbackEvent", e) for e in status_callback_events]
    if timeout is not None:
        params.append(("Timeout", str(timeout)))
    if caller_id_name:
        params.append(("CallerName", caller_id_name))
    if machine_detection:
        params.append(("MachineDetection", machine_detection))
    return params


class TwilioRestGateway:
    """HTTP client of the Calls resource: ``{base}/Accounts/{sid}/Calls[/{CallSid}].json``."""

    def __init__(self, account_sid: str, auth_token: str, base_url: str = TWILIO_API, *,
                 timeout: float = 10.0, retries: int = 3, backoff: float = 0.5,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not account_sid or not auth_token:
            raise ValueError("TwilioRestGateway needs account_sid and auth_token")
        self.account_sid = account_sid
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.auth = (account_sid, auth_token)

    def _calls_url(self, sid: str | None = None) -> str:
        tail = f"/{sid}.json" if sid else ".json"
        return f"{self.base_url}/Accounts/{self.account_sid}/Calls{tail}"

    def _post(self, url: str, data: list[tuple[str, str]] | dict[str, str], *, idempotent: bool = True
              ) -> CallResource:
        body = self._send("POST", url, data=data, idempotent=idempotent)
        return CallResource(sid=str(body.get("sid", "")), status=str(body.get("status", "")),
                            to=str(body.get("to", "")), from_=str(body.get("from", "")), raw=body)

    def _send(self, method: str, url: str, *, data: Any = None, params: Mapping[str, str] | None = None,
              idempotent: bool = True) -> dict[str, Any]:
        """One request with the retry rules of the module docstring; the gateway's JSON answer."""
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._session.request(method, url, data=data, params=params, timeout=self.timeout)
            except requests.ReadTimeout as exc:
                # The gateway got the request and may have acted on it: creating the call again would ring
                # the callee twice, so only idempotent requests (update, hang up) are sent again.
                last = GatewayError(f"gateway did not answer in {self.timeout} s at {url}: {exc}")
                if not idempotent:
                    raise last from exc
                continue
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = GatewayError(f"gateway unreachable at {url}: {exc}")
                continue
            if response.status_code in RETRYABLE_STATUS:
                last = GatewayError(f"gateway answered {response.status_code} at {url}", response.status_code,
                                    response.text)
                continue
            if response.status_code >= 400:
                raise GatewayError(f"gateway refused ({response.status_code}): {_message(response)}",
                                   response.status_code, response.text)
            body: dict[str, Any] = response.json()
            return body
        assert last is not None
        raise last

    def create_call(self, to: str, from_: str, url: str, *, status_callback: str | None = None,
                    status_callback_events: tuple[str, ...] = ("initiated", "ringing", "answered", "completed"),
                    timeout: int | None = None, caller_id_name: str | None = None,
                    machine_detection: str | None = None) -> CallResource:
        params = _create_params(to, from_, url, status_callback, status_callback_events, timeout,
                                caller_id_name, machine_detection)
        return self._post(self._calls_url(), params, idempotent=False)

    def update_call(self, sid: str, *, url: str | None = None, twiml: str | None = None,
                    status: str | None = None) -> CallResource:
        if not sid:
            raise ValueError("update_call needs a call sid")
        return self._post(self._calls_url(sid), _update_params(url, twiml, status))

    def hangup(self, sid: str) -> CallResource:
        return self.update_call(sid, status="completed")

    def hold_participant(self, room: str, call_sid: str, *, hold: bool, hold_url: str = "") -> None:
        if not room or not call_sid:
            raise ValueError("hold_participant needs a conference name and a call sid")
        conference = self._conference_sid(room)
        url = f"{self.base_url}/Accounts/{self.account_sid}/Conferences/{conference}/Participants/{call_sid}.json"
        self._post(url, _hold_params(hold, hold_url))

    def _conference_sid(self, room: str) -> str:
        """The sid of the conference in progress named ``room`` (the Participants resource is under it)."""
        body = self._send("GET", f"{self.base_url}/Accounts/{self.account_sid}/Conferences.json",
                          params={"FriendlyName": room, "Status": "in-progress"})
        found = [c for c in body.get("conferences") or () if c.get("friendly_name", room) == room]
        if not found:
            raise GatewayError(f"no conference named {room!r} is in progress", 404)
        return str(found[0]["sid"])


def _hold_params(hold: bool, hold_url: str) -> dict[str, str]:
    params = {"Hold": "true" if hold else "false"}
    if hold and hold_url:
        params["HoldUrl"] = hold_url
        params["HoldMethod"] = "GET"
    return params


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message") or body)


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One request the recording gateway received."""

    op: str
    sid: str
    params: Mapping[str, Any]


class RecordingGateway:
    """In-memory gateway: records requests, hands out sequential call sids; can be told to fail."""

    def __init__(self, sid_prefix: str = "CAfake") -> None:
        self.requests: list[GatewayRequest] = []
        self.fail_next: list[GatewayError] = []
        self._counter = itertools.count(1)
        self._prefix = sid_prefix
        self._lock = threading.Lock()

    def _record(self, op: str, sid: str, params: Mapping[str, Any]) -> None:
        with self._lock:
            if self.fail_next:
                raise self.fail_next.pop(0)
            self.requests.append(GatewayRequest(op, sid, dict(params)))

    def create_call(self, to: str, from_: str, url: str, *, status_callback: str | None = None,
                    status_callback_events: tuple[str, ...] = ("initiated", "ringing", "answered", "completed"),
                    timeout: int | None = None, caller_id_name: str | None = None,
                    machine_detection: str | None = None) -> CallResource:
        params = dict(_create_params(to, from_, url, status_callback, (), timeout, caller_id_name,
                                     machine_detection))
        with self._lock:
            sid = f"{self._prefix}{next(self._counter):026d}"
        self._record("create", sid, params)
        return CallResource(sid=sid, status="queued", to=to, from_=from_, raw=params)

    def update_call(self, sid: str, *, url: str | None = None, twiml: str | None = None,
                    status: str | None = None) -> CallResource:
        params = _update_params(url, twiml, status)
        self._record("update", sid, params)
        return CallResource(sid=sid, status=status or "in-progress", raw=params)

    def hangup(self, sid: str) -> CallResource:
        return self.update_call(sid, status="completed")

    def hold_participant(self, room: str, call_sid: str, *, hold: bool, hold_url: str = "") -> None:
        self._record("hold", call_sid, {"Room": room, **_hold_params(hold, hold_url)})

    def created(self) -> list[GatewayRequest]:
        with self._lock:
            return [r for r in self.requests if r.op == "create"]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


def gateway_from_env(env: Mapping[str, str]) -> GatewayApi:
    """A real client when ``VPBX_GATEWAY_ACCOUNT_SID``/``_AUTH_TOKEN`` are set, else a recording fake."""
    sid = env.get("VPBX_GATEWAY_ACCOUNT_SID", "")
    token = env.get("VPBX_GATEWAY_AUTH_TOKEN", "")
    if not sid or not token:
        return RecordingGateway()
    return TwilioRestGateway(sid, token, env.get("VPBX_GATEWAY_API_URL", TWILIO_API),
                             timeout=float(env.get("VPBX_GATEWAY_TIMEOUT", "10")))
