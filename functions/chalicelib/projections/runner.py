"""Feeds stored events to projections and commits their outputs with their checkpoints.

Invariant: in memory the runner keeps the state of open streams only (a closed call's state is
written and dropped at the next flush; the cache is also emptied past ``max_cached``), so memory
is bounded by the calls in progress, not by the length of the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from chalicelib.projections.store import SQLiteProjectionStore
from domain.events import StoredEvent
from domain.projections.base import JSON, LogProjection, Projection, Row, StreamProjection, apply


class Runner:
    def __init__(self, store: SQLiteProjectionStore, projections: Sequence[Projection], *, fresh: bool = False,
                 use_checkpoints: bool = True, max_cached: int = 50_000) -> None:
        self.store = store
        self.projections = list(projections)
        self.fresh = fresh  # the outputs were just emptied: a stream's first event needs no lookup
        self.use_checkpoints = use_checkpoints
        self.max_cached = max_cached
        self.cache: dict[str, dict[str, JSON]] = {p.name: {} for p in self.projections}
        self.dirty: dict[str, dict[str, str]] = {p.name: {} for p in self.projections}
        self.rows: dict[str, dict[str, Row]] = {p.name: {} for p in self.projections}
        self.position: dict[str, str] = {}
        self.events: dict[str, int] = {}
        for p in self.projections:
            self.position[p.name], self.events[p.name] = store.checkpoint(p.name)
        self.start = dict(self.position)

    def feed(self, e: StoredEvent) -> None:
        for p in self.projections:
            name = p.name
            if self.use_checkpoints and e.position and e.position <= self.start[name]:
                continue
            if e.position > self.position[name]:
                self.position[name] = e.position
            self.events[name] += 1
            if not p.follows(e):
                continue
            key = e.stream_id if isinstance(p, StreamProjection) else e.tenant_id
            cache = self.cache[name]
            state = cache.get(key)
            if state is None and not (self.fresh and isinstance(p, StreamProjection) and e.version == 1):
                state = self.store.state(name, key)
            new, rows = apply(p, state, e)
            if new is not state and new is not None:
                cache[key] = new
                self.dirty[name][key] = e.position
            for row in rows:
                self.rows[name][row[0]] = row

    def flush(self) -> None:
        writes = {}
        for p in self.projections:
            name, cache = p.name, self.cache[p.name]
            closed = p.closed if isinstance(p, StreamProjection) else _never
            states = [(key, cache[key], closed(cache[key]), pos) for key, pos in self.dirty[name].items()]
            writes[name] = (states, list(self.rows[name].values()), self.position[name], self.events[name])
        self.store.commit(writes)
        for p in self.projections:
            cache = self.cache[p.name]
            if len(cache) > self.max_cached:
                cache.clear()
            elif isinstance(p, StreamProjection):
                for key in self.dirty[p.name]:
                    if p.closed(cache[key]):
                        del cache[key]
            self.dirty[p.name] = {}
            self.rows[p.name] = {}

    def run(self, events: Iterable[StoredEvent], flush_every: int = 5000,
            progress: Callable[[int], None] | None = None) -> int:
        n = 0
        for e in events:
            self.feed(e)
            n += 1
            if n % flush_every == 0:
                self.flush()
                if progress:
                    progress(flush_every)
        self.flush()
        if progress:
            progress(n % flush_every)
        return n

    def cached(self) -> int:
        return sum(len(c) for c in self.cache.values())


def _never(_: JSON) -> bool:
    return False


def is_log(p: Projection) -> bool:
    return isinstance(p, LogProjection)
