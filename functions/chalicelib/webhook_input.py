"""Parse and validate gateway webhook input; errors name the field that is wrong."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from domain.calls.state import STATUSES

CALL_SID = re.compile(r"^(CA[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
DIGITS = re.compile(r"^[0-9*#wW]*$")
INTEGER_FIELDS = ("SequenceNumber", "CallDuration", "DialCallDuration", "RecordingDuration", "Duration")


class BadWebhook(ValueError):
    """Malformed gateway input: ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class WebhookInput:
    params: dict[str, str]
    pairs: list[tuple[str, str]]
    is_json: bool


def parse_body(body: bytes, content_type: str) -> WebhookInput:
    if "json" in content_type:
        try:
            doc = json.loads(body or b"{}")
        except ValueError as exc:
            raise BadWebhook("body", f"not valid JSON ({exc})") from None
        if not isinstance(doc, Mapping):
            raise BadWebhook("body", "a JSON object is required")
        params = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()}
        return WebhookInput(params, sorted(params.items()), True)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadWebhook("body", "form body is not UTF-8") from None
    return WebhookInput(dict(pairs), pairs, False)


def validate(kind: str, params: Mapping[str, str], query: Mapping[str, str]) -> None:
    sid = params.get("CallSid", "")
    if not sid:
        raise BadWebhook("CallSid", "is required")
    if not CALL_SID.match(sid):
        raise BadWebhook("CallSid", f"{sid!r} is neither CA + 32 hex digits nor a UUID")
    status = params.get("CallStatus")
    if kind == "status" and not status:
        raise BadWebhook("CallStatus", "is required on a status callback")
    if status is not None and status not in STATUSES:
        raise BadWebhook("CallStatus", f"unknown status {status!r}")
    if kind == "incoming" and not params.get("To"):
        raise BadWebhook("To", "is required")
    if kind == "answered":  # the request is the new leg's; the query names the caller's call and the dial
        if not CALL_SID.match(str(query.get("call", ""))):
            raise BadWebhook("call", f"{query.get('call', '')!r} is not the call that dialled (CA + 32 hex digits or a UUID)")
        for name in ("member", "node", "step"):
            if not query.get(name):
                raise BadWebhook(name, "is required in an answer URL")
    for name in INTEGER_FIELDS:
        value = params.get(name)
        if value not in (None, "") and not re.fullmatch(r"-?\d+", str(value)):
            raise BadWebhook(name, f"must be an integer, got {value!r}")
    if not DIGITS.match(params.get("Digits", "") if params.get("Digits") != "hangup" else ""):
        raise BadWebhook("Digits", f"unexpected characters in {params.get('Digits')!r}")
    if "step" in query and not str(query["step"]).isdigit():
        raise BadWebhook("step", f"must be a step number, got {query['step']!r}")


def request_id(kind: str, path: str, query: Mapping[str, str], pairs: list[tuple[str, str]]) -> str:
    """A stable id for one gateway request: a redelivery has the same id, so it is answered once."""
    h = hashlib.sha256()
    for part in (kind, path, json.dumps(sorted(query.items())), json.dumps(sorted(pairs))):
        h.update(part.encode())
        h.update(b"\0")
    return "req-" + h.hexdigest()[:32]
