"""Stream names and the read-decide-append loop every call-center write goes through.

Invariant: every append is conditional on the version the decision was made from; on a conflict
the stream is read again and the decision is made again (the loser re-decides).
"""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.bootstrap import Services
from chalicelib.envelopes import decode_all, wrap
from domain.callcenter import agents as agent_fold
from domain.callcenter import callbacks as callback_fold
from domain.callcenter import queue_state as queue_fold
from domain.events import DomainEvent
from domain.ports import ConcurrencyError

MAX_ATTEMPTS = 200


def agent_stream(tenant: str, agent: str) -> str:
    return f"agent-{tenant}-{agent}"


def queue_stream(tenant: str, queue: str) -> str:
    return f"queue-{tenant}-{queue}"


def callbacks_stream(tenant: str) -> str:
    return f"callbacks-{tenant}"


def widget_stream(tenant: str) -> str:
    return f"widget-{tenant}"


def load_events(services: Services, stream: str) -> tuple[list[DomainEvent], int]:
    stored, version = services.store.load(stream)
    return decode_all(stored), version


# Per store object (weakly held: a new store never sees an old store's entries), stream -> (version, fold).
_caches: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, Any]]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _cached(services: Services, stream: str, fold: Callable[[list[DomainEvent]], Any]) -> tuple[Any, int]:
    """A stream's fold, recomputed only when the stream's version moved (folds are pure, so this is safe)."""
    version = services.store.stream_version(stream)
    with _cache_lock:
        cache = _caches.setdefault(services.store, {})
        hit = cache.get(stream)
    if hit is not None and hit[0] == version:
        return hit[1], version
    events, version = load_events(services, stream)
    state = fold(events)
    with _cache_lock:
        if len(cache) > 10_000:
            cache.clear()
        cache[stream] = (version, state)
    return state, version


def load_agent(services: Services, tenant: str, agent: str) -> tuple[agent_fold.AgentState, int]:
    state, version = _cached(services, agent_stream(tenant, agent), lambda ev: agent_fold.fold(agent, ev))
    return state, version


def load_queue(services: Services, tenant: str, queue: str) -> tuple[queue_fold.QueueState, int]:
    state, version = _cached(services, queue_stream(tenant, queue), queue_fold.fold)
    return state, version


def load_callbacks(services: Services, tenant: str) -> tuple[callback_fold.CallbackBook, int]:
    events, version = load_events(services, callbacks_stream(tenant))
    return callback_fold.fold(events), version


def append(services: Services, tenant: str, stream: str, events: Sequence[DomainEvent], version: int,
           now: datetime, correlation_id: str = "") -> None:
    """Append at ``version``; raises ConcurrencyError when another writer got there first."""
    envelopes = wrap(events, tenant_id=tenant, stream_id=stream, expected_version=version, now=now,
                     new_id=services.new_id, correlation_id=correlation_id or services.new_id())
    services.store.append(stream, envelopes, version)


def decide_and_append(services: Services, tenant: str, stream: str,
                      decide: Callable[[list[DomainEvent], int], Sequence[DomainEvent]],
                      correlation_id: str = "") -> list[DomainEvent]:
    """Load, decide, append at the loaded version; on conflict do it all again. Returns what was written."""
    for attempt in range(MAX_ATTEMPTS):
        events, version = load_events(services, stream)
        new = list(decide(events, version))
        if not new:
            return []
        try:
            append(services, tenant, stream, new, version, services.clock(), correlation_id)
            return new
        except ConcurrencyError:
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))  # spread the retries of a burst
    raise ConcurrencyError(stream, -1)
