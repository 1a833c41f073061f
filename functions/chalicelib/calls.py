"""handle_webhook: the three-step shell for every gateway webhook (gather, decide, apply).

Invariant: nothing is written unless the signature holds and the input is valid; the append is
conditional on the stream version read, and on a conflict the whole decision is made again.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from weakref import WeakKeyDictionary

from chalicelib.bootstrap import Services
from chalicelib.call_snapshots import SNAPSHOT_EVERY, drop_snapshot, usable, write_snapshot
from chalicelib.effects import run_effects
from chalicelib.envelopes import decode_all, wrap
from chalicelib.features import gather_facts, handle_feature_call
from chalicelib.laml import render_laml
from chalicelib.signatures import public_url, verify_request
from chalicelib.webhook_input import BadWebhook, parse_body, request_id, validate
from domain.calls.state import CallState, fold, updated
from domain.events import StoredEvent
from domain.instructions import from_json
from domain.ports import ConcurrencyError, EventStore
from domain.routing.engine import Callback, decide

MAX_ATTEMPTS = 8
log = logging.getLogger("vpbx.calls")
CACHE_SIZE = 10_000
XML = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Folded:
    """A call's state as of ``version`` and the request ids already answered; ``snapshot_version``:
    the version of the call's newest snapshot this process persisted, read or tried to persist."""

    version: int
    state: CallState
    seen: frozenset[str]
    snapshot_version: int = 0


class CallStateCache:
    """Snapshots of recently handled calls, per store. Always topped up from the store with the
    events after the snapshot's version, so it only saves work and never goes stale."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, Folded] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, store: EventStore, stream: str, *, persisted: bool = True) -> Folded:
        """On a miss, start from the persisted snapshot if ``persisted`` (a new call has none)."""
        cached = self._items.get(stream)
        if cached is None and persisted:
            return _from_snapshot(store, stream)
        base = cached or _EMPTY
        newer, version = store.load(stream, base.version)
        return _topped_up(base, newer, version)

    def put(self, stream: str, folded: Folded) -> None:
        with self._lock:
            self._items[stream] = folded
            self._items.move_to_end(stream)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_EMPTY = Folded(0, CallState(), frozenset())


def _topped_up(base: Folded, newer: list[StoredEvent], version: int) -> Folded:
    if not newer:
        return base
    state = fold(decode_all(newer), base.state)
    if not state.tenant_id and newer[0].version == 1:  # whose call it is: the tenant of its first event
        state = updated(state, tenant_id=newer[0].tenant_id)
    return Folded(version, state, base.seen | {e.correlation_id for e in newer}, base.snapshot_version)


def _from_snapshot(store: EventStore, stream: str) -> Folded:
    """A call this process holds nothing of: its persisted snapshot and the events after it (read
    together where the store can), else every event."""
    found, events, version = store.load_from_snapshot(stream)
    snapshot = usable(stream, found)
    if snapshot is not None:
        at, state, seen = snapshot
        newer = [e for e in events if e.version > at]
        return _topped_up(Folded(at, state, seen, at), newer, max(version, at))
    if events and events[0].version != 1:  # only the events after a snapshot we cannot use: read them all
        events, version = store.load(stream, 0)
    return _topped_up(_EMPTY, events, version)


_caches: WeakKeyDictionary[object, CallStateCache] = WeakKeyDictionary()


def state_cache(store: EventStore) -> CallStateCache:
    cache = _caches.get(store)
    if cache is None:
        cache = _caches[store] = CallStateCache()
    return cache


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int
    body: str
    headers: Mapping[str, str]


def call_stream(call_sid: str) -> str:
    return f"call-{call_sid}"


def _error(status: int, message: str) -> WebhookResponse:
    return WebhookResponse(status, message + "\n", {"Content-Type": "text/plain; charset=utf-8"})


def handle_webhook(services: Services, *, tenant_id: str, endpoint: str, query: Mapping[str, str],
                   headers: Mapping[str, str], body: bytes, content_type: str) -> WebhookResponse:
    """endpoint is ``voice``, ``status`` or ``answered`` (a dialled device picked up: its request is the new
    leg's, the caller's call is named in the query); query holds the action URL's parameters."""
    if endpoint != "answered":
        return _handle_webhook(services, tenant_id=tenant_id, endpoint=endpoint, query=query, headers=headers,
                               body=body, content_type=content_type)
    # The gateway bridges the answered leg only once this is answered: if recording who answered fails
    # (the store is busy or down), the call must still connect, so a failure answers empty too.
    try:
        resp = _handle_webhook(services, tenant_id=tenant_id, endpoint=endpoint, query=query, headers=headers,
                               body=body, content_type=content_type)
    except Exception:
        log.exception("could not record the answer of a dial of call %s", query.get("call", "?"))
        resp = WebhookResponse(503, "", {})
    if resp.status >= 500:
        return WebhookResponse(200, render_laml((), ""), XML)
    return resp


def _handle_webhook(services: Services, *, tenant_id: str, endpoint: str, query: Mapping[str, str],
                    headers: Mapping[str, str], body: bytes, content_type: str) -> WebhookResponse:
    tenant = services.tenants.get(tenant_id)
    if tenant is None:
        return _error(404, f"unknown tenant {tenant_id!r}")
    path = f"/webhooks/{tenant_id}/{endpoint}"
    try:
        data = parse_body(body, content_type)
    except BadWebhook as exc:
        return _error(400, str(exc))
    token = str((tenant.section("gateway")).get("auth_token", ""))
    url = public_url(services.settings.public_url, path, query)
    if not verify_request(token=token, url=url, headers=headers, body=body, params=data.pairs, is_json=data.is_json):
        return _error(403, "webhook signature missing or invalid")
    kind = endpoint if endpoint in ("status", "answered") else ("action" if "node" in query else "incoming")
    try:
        validate(kind, data.params, query)
    except BadWebhook as exc:
        return _error(400, str(exc))
    req = request_id(kind, path, query, data.pairs)
    cb = Callback(kind=kind, request_id=req, params=data.params, node=query.get("node", ""),
                  step=int(query.get("step", -1)), member=query.get("member", ""))
    stream = call_stream(query["call"] if kind == "answered" else data.params["CallSid"])
    base = services.settings.public_url + f"/webhooks/{tenant_id}"
    cache = state_cache(services.store)
    if kind == "incoming":  # a device dialling a feature code (*8, **101) is not routed by a plan
        feature = handle_feature_call(services, tenant, cb, base, query)
        if feature is not None:
            return WebhookResponse(200, feature, XML)
    facts = None
    persisted = kind != "incoming"  # the first webhook of a call: no snapshot to read yet
    for _ in range(MAX_ATTEMPTS):
        folded = cache.load(services.store, stream, persisted=persisted)
        state, version = folded.state, folded.version
        if state.tenant_id and state.tenant_id != tenant_id:
            # signed with another tenant's token but naming this call: not theirs to change (call ids are
            # not secret enough to be the only guard), and not theirs to learn about either
            return _error(404, f"no call {stream[5:]} in tenant {tenant_id!r}")
        if req in folded.seen:  # a redelivery: answer as before, from the events
            return WebhookResponse(200, render_laml([from_json(i) for i in state.responses.get(req, ())], base), XML)
        now = services.clock()
        if facts is None:  # once per request: a CRM lookup is not repeated on a retry
            facts = gather_facts(services, tenant, state, cb)
        decision = decide(state, cb, tenant, now, facts)
        if decision.events:
            envelopes = wrap(decision.events, tenant_id=tenant_id, stream_id=stream, expected_version=version,
                             now=now, new_id=services.new_id, correlation_id=req,
                             occurred_at=_occurred(data.params))
            try:
                services.store.append(stream, envelopes, version)
            except ConcurrencyError:
                tenant = services.tenants.get(tenant_id) or tenant
                persisted = False  # whatever went wrong, the retry folds the events themselves
                continue
            new_state = fold(decision.events, state)
            if version == 0:  # this request started the stream: the call is this tenant's
                new_state = updated(new_state, tenant_id=tenant_id)
            done = Folded(version + len(envelopes), new_state, folded.seen | {req}, folded.snapshot_version)
            if done.state.ended:  # an ended call keeps no snapshot (it has one if an earlier append reached 10)
                if not state.ended and version >= SNAPSHOT_EVERY:
                    drop_snapshot(services.store, stream, done.version)
            elif done.version - done.snapshot_version >= SNAPSHOT_EVERY:
                write_snapshot(services.store, stream, done.version, done.state, done.seen)
                # Counted as written even if it failed: a broken snapshot table is not retried per webhook.
                done = Folded(done.version, done.state, done.seen, done.version)
            cache.put(stream, done)
            run_effects(services, tenant, envelopes)  # after the append only; never raises
        return WebhookResponse(200, render_laml(decision.instructions, base), XML)
    return WebhookResponse(503, "busy, try again\n", {"Retry-After": "1", "Content-Type": "text/plain"})


def _occurred(params: Mapping[str, str]):  # type: ignore[no-untyped-def]
    stamp = params.get("Timestamp")
    if not stamp:
        return None
    try:
        return parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        return None
