"""Received faxes: an inbox of the tenant's ``FaxReceived`` media events, and their files.

The media core writes ``fax/<tenant>/<call_sid>/{fax.pdf, fax.tiff, page-N.png}`` to the blob store
and posts ``FaxReceived`` to ``/media/events``, which records ``MediaEventRecorded(kind="FaxReceived",
data={pages, sender_id, blob_keys: {pdf, tiff, png: [...]}, bad_lines, ...})`` on the call stream.

Read model: not one of the statistics projections (those are declared in ``domain/projections``);
the inbox folds the tenant's log (``store.read_log``) into a per-process dict, caught up on every
request from a cursor (the same tail reader as ``features.history``), so a request costs O(new
events). The caller's and called numbers come from the call's ``CallStarted``, read once per fax.
A restart rebuilds the inbox from the whole log.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response

from chalicelib.api.http import TENANT, ApiError, endpoint
from chalicelib.api.state import current
from chalicelib.auth import Principal
from chalicelib.blobs import blob_store
from chalicelib.bootstrap import Services, get_services
from chalicelib.features.history import _Tail as LogTail
from domain.events import StoredEvent

bp = Blueprint(__name__)

BINARY_TYPES = ("application/pdf",)  # image/png is already one of Chalice's binary types
FAX = {"type": "object", "properties": {
    "call_sid": {"type": "string"}, "received_at": {"type": "string", "format": "date-time"},
    "from": {"type": "string"}, "to": {"type": "string"}, "sender_id": {"type": "string"},
    "pages": {"type": "integer"}, "bad_lines": {"type": "integer"}, "resolution": {"type": "string"},
    "ecm": {"type": "boolean"}, "completed": {"type": "boolean"},
    "pdf_url": {"type": ["string", "null"], "description": "API path of the PDF"},
    "page_urls": {"type": "array", "items": {"type": "string"}, "description": "API paths of the page PNGs"}}}
LISTING = {"type": "object", "properties": {"items": {"type": "array", "items": FAX}}}


@dataclass
class FaxInbox:
    """The tenant's received faxes by call sid (the stored blob keys kept, the public form built per request)."""

    faxes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, services: Services, e: StoredEvent) -> None:
        if e.event_type != "MediaEventRecorded" or e.data.get("kind") != "FaxReceived" \
                or not e.stream_id.startswith("call-"):
            return
        data: Mapping[str, Any] = e.data.get("data") or {}
        call_sid = e.stream_id[len("call-"):]
        started = _call_started(services, e.stream_id)
        keys = data.get("blob_keys") if isinstance(data.get("blob_keys"), Mapping) else {}
        self.faxes[call_sid] = {
            "call_sid": call_sid, "received_at": e.occurred_at,
            "from": str(started.get("from_number") or started.get("from") or ""),
            "to": str(started.get("to_number") or started.get("to") or ""),
            "sender_id": str(data.get("sender_id") or ""), "pages": int(data.get("pages") or 0),
            "bad_lines": int(data.get("bad_lines") or 0), "resolution": str(data.get("resolution") or ""),
            "ecm": bool(data.get("ecm")), "completed": bool(data.get("completed", True)),
            "keys": {"pdf": keys.get("pdf"), "png": [str(k) for k in keys.get("png") or ()]},
        }


def _call_started(services: Services, stream: str) -> Mapping[str, Any]:
    events, _ = services.store.load(stream)
    return next((e.data for e in events if e.event_type == "CallStarted"), {})


_inboxes: WeakKeyDictionary[object, dict[str, tuple[FaxInbox, LogTail]]] = WeakKeyDictionary()
_lock = threading.Lock()


def inbox(services: Services, tenant_id: str) -> FaxInbox:
    """The tenant's inbox, caught up with its log (per process, read from a cursor)."""
    with _lock:
        box, tail = _inboxes.setdefault(services.store, {}).setdefault(tenant_id, (FaxInbox(), LogTail()))
        for e in sorted(tail.new_events(services, tenant_id), key=lambda e: (e.recorded_at, e.stream_id, e.version)):
            box.apply(services, e)
        return box


def public(tenant: str, fax: Mapping[str, Any]) -> dict[str, Any]:
    base = f"{TENANT.replace('{tenant}', quote(tenant))}/faxes/{quote(fax['call_sid'])}"
    keys = fax["keys"]
    return {**{k: v for k, v in fax.items() if k != "keys"},
            "pdf_url": f"{base}/pdf" if keys["pdf"] else None,
            "page_urls": [f"{base}/pages/{i}" for i in range(1, len(keys["png"]) + 1)]}


def _day(query: Mapping[str, str], name: str) -> date | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected a date YYYY-MM-DD, got {raw!r}", f"/query/{name}") from None


@endpoint(bp, "GET", TENANT + "/faxes", summary="Received faxes, newest first", permission="faxes.read",
          tag="faxes", response=LISTING,
          query={"from": "first day received (tenant's local date, YYYY-MM-DD), inclusive",
                 "to": "last day received (tenant's local date), inclusive"})
def list_faxes(tenant: str, principal: Principal) -> dict[str, Any]:
    services = get_services()
    snapshot = current(services, tenant)
    query = dict(bp.current_request.query_params or {})
    first, last = _day(query, "from"), _day(query, "to")
    if first and last and last < first:
        raise ApiError(400, "to: must not be before from", "/query/to")
    zone = ZoneInfo(snapshot.timezone)

    def wanted(fax: Mapping[str, Any]) -> bool:
        day = datetime.fromisoformat(fax["received_at"]).astimezone(zone).date()
        return (first is None or day >= first) and (last is None or day <= last)

    faxes = sorted((f for f in inbox(services, tenant).faxes.values() if wanted(f)),
                   key=lambda f: (f["received_at"], f["call_sid"]), reverse=True)
    return {"items": [public(tenant, f) for f in faxes]}


def _file(tenant: str, call_sid: str, pick: str, page: int = 0) -> bytes:
    services = get_services()
    current(services, tenant)
    fax = inbox(services, tenant).faxes.get(call_sid)
    if fax is None:
        raise ApiError(404, f"no fax received on call {call_sid!r}")
    keys = fax["keys"]
    key = keys["pdf"] if pick == "pdf" else (keys["png"][page - 1] if 1 <= page <= len(keys["png"]) else None)
    # only this tenant's fax files, whatever a media event claims
    if not key or not str(key).startswith(f"fax/{tenant}/"):
        raise ApiError(404, f"fax {call_sid!r} has no {pick if pick == 'pdf' else f'page {page}'}")
    try:
        return blob_store(services.settings).get(str(key))
    except KeyError:
        raise ApiError(404, f"the file of fax {call_sid!r} is missing from the blob store") from None


@endpoint(bp, "GET", TENANT + "/faxes/{call_sid}/pdf", summary="A received fax as PDF", permission="faxes.read",
          tag="faxes", response={"type": "string", "format": "binary"})
def fax_pdf(tenant: str, call_sid: str, principal: Principal) -> Response:
    return Response(body=_file(tenant, call_sid, "pdf"), status_code=200,
                    headers={"Content-Type": "application/pdf",
                             "Content-Disposition": f'inline; filename="fax-{call_sid}.pdf"'})


@endpoint(bp, "GET", TENANT + "/faxes/{call_sid}/pages/{page}", summary="One page of a received fax as PNG",
          permission="faxes.read", tag="faxes", response={"type": "string", "format": "binary"})
def fax_page(tenant: str, call_sid: str, page: str, principal: Principal) -> Response:
    if not page.isdigit():
        raise ApiError(404, f"no page {page!r}")
    return Response(body=_file(tenant, call_sid, "png", int(page)), status_code=200,
                    headers={"Content-Type": "image/png"})
