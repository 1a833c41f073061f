"""Feeds stored events to projections and commits their outputs with their checkpoints.

Invariant: in memory the runner keeps the state of open streams only (a closed call's state is
written and dropped at the next flush; the cache is also emptied past ``max_cached``), so memory
is bounded by the calls in progress, not by the length of the log.

Two entry points fold the same way: ``feed`` takes StoredEvents from any store; ``run_rows`` takes
the SQLite log's raw rows and skips work no projection needs (events nobody follows are never
decoded; the hash chain hashes the stored canonical JSON text as it is).
"""

from __future__ import annotations

import gc
import hashlib
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from chalicelib.projections.store import SQLiteProjectionStore
from domain.audit import chain
from domain.events import StoredEvent, event_class, upcast
from domain.projections.base import JSON, LogProjection, Projection, Row, StreamProjection, apply

try:
    from orjson import loads
except ImportError:  # pragma: no cover - orjson is a declared dependency; json is the same, slower
    from json import loads

Env = namedtuple("Env", "tenant_id stream_id version event_id event_type schema_version occurred_at recorded_at "
                        "correlation_id causation_id data position")
ViewEnv = namedtuple("ViewEnv", "tenant_id stream_id version event_id event_type schema_version occurred_at data")
"""What a stream fold reads (domain.projections.base.Envelope): the replay of the views reads no more."""
_tuple_new = tuple.__new__  # builds a ViewEnv without namedtuple's Python-level __new__ (the replay's hot path)


def current_data(event_type: str, schema_version: int, data: Any) -> Any:
    """Stored data brought to the registered schema version (folds only see the current shape)."""
    cls = event_class(event_type)
    if cls is not None and schema_version < cls.schema_version:
        return upcast(event_type, schema_version, data)
    return data


class Runner:
    def __init__(self, store: SQLiteProjectionStore, projections: Sequence[Projection], *, fresh: bool = False,
                 use_checkpoints: bool = True, write_checkpoints: bool = True, max_cached: int = 50_000) -> None:
        self.store = store
        self.write_checkpoints = write_checkpoints  # False: a partial run (see SQLiteProjectionStore.commit)
        self.projections = list(projections)
        self.fresh = fresh  # the outputs were just emptied: a stream's first event needs no lookup
        self.use_checkpoints = use_checkpoints
        self.max_cached = max_cached
        self.cache: dict[str, dict[str, JSON]] = {p.name: {} for p in self.projections}
        self.dirty: dict[str, dict[str, str | int]] = {p.name: {} for p in self.projections}
        """Per projection, the streams changed since the last flush -> the log position that last changed
        each (a string, or the int the replay loop had at hand, formatted only when written)."""
        self.rows: dict[str, dict[str, Row]] = {p.name: {} for p in self.projections}
        self.position: dict[str, str] = {}
        self.events: dict[str, int] = {}
        for p in self.projections:
            self.position[p.name], self.events[p.name] = store.checkpoint(p.name)
        self.start = dict(self.position) if use_checkpoints else {p.name: "" for p in self.projections}

    # -- any store
    def feed(self, e: StoredEvent) -> None:
        data = current_data(e.event_type, e.schema_version, e.data)
        if data is not e.data:
            e = Env(*(getattr(e, f) for f in Env._fields[:10]), data, e.position)
        for p in self.projections:
            name = p.name
            if e.position and e.position <= self.start[name]:
                continue
            if e.position > self.position[name]:
                self.position[name] = e.position
            self.events[name] += 1
            if p.follows(e):
                key = e.stream_id if isinstance(p, StreamProjection) else e.tenant_id
                self._apply(p, key, e)

    def _apply(self, p: Projection, key: str, e: Any) -> None:
        name = p.name
        if isinstance(p, StreamProjection) and p.stateless:
            return self._apply_stream(p, key, e)  # rows only: no state to look up
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

    def _apply_stream(self, p: StreamProjection, key: str, e: Any) -> None:
        """``apply`` for an event already known to be followed by ``p`` (the replay hot path; the
        version rule and the None contract are base.apply's, tested equal in test_replay)."""
        name = p.name
        if p.stateless:
            for row in p.evolve(None, e)[1]:
                self.rows[name][row[0]] = row
            return
        cache = self.cache[name]
        state = cache.get(key)
        if state is None and not (self.fresh and e.version == 1):
            state = self.store.state(name, key)
        if state is not None and e.version <= state["v"]:
            return
        new, rows = p.evolve(state, e)
        if new is not None:
            new["v"] = e.version
            cache[key] = new
            self.dirty[name][key] = e.position
        for row in rows:
            self.rows[name][row[0]] = row

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

    def row_filter(self) -> dict[str, tuple[str, ...] | None] | None:
        """Which rows of the log these projections can use: event type -> needles (the data text must
        contain one) or None (every event of the type). None overall: every row (the hash chain)."""
        if any(isinstance(p, LogProjection) for p in self.projections):
            return None
        wanted: dict[str, tuple[str, ...] | None] = {}
        for p in self.projections:
            if not isinstance(p, StreamProjection):
                continue
            for t in p.handles:
                needles = p.prefilter.get(t)
                if t in wanted and (wanted[t] is None or needles is None):
                    wanted[t] = None
                elif needles is None:
                    wanted[t] = None
                else:
                    wanted[t] = tuple(dict.fromkeys((*(wanted.get(t) or ()), *needles)))
        return wanted

    # -- the SQLite log's rows for the views only, (position, tenant, stream, version, event_id, event_type,
    #    schema_version, occurred_at, data_json), already narrowed to ``row_filter()`` by the query
    def run_view_rows(self, rows: Iterable[tuple[Any, ...]], flush_every: int = 20_000,
                      progress: Callable[[int], None] | None = None) -> int:
        if self.row_filter() is None:
            raise ValueError("run_view_rows folds stream projections only; the hash chain needs run_rows")
        with _no_cyclic_gc():
            return self._run_view_rows(rows, flush_every, progress)

    def _run_view_rows(self, rows: Iterable[tuple[Any, ...]], flush_every: int,
                       progress: Callable[[int], None] | None) -> int:
        # Per event type, the projections that fold it, with everything the loop needs bound once. flush()
        # empties dirty/rows in place, so these references stay valid. A type folded by one projection has
        # had its needles applied by the query already; shared types are tested again per projection.
        routes: dict[str, list[tuple[Any, ...]]] = {}
        for p in self.projections:
            assert isinstance(p, StreamProjection)
            for t in p.handles:
                routes.setdefault(t, []).append((p,))
        store, fresh = self.store, self.fresh
        for t, ps in routes.items():
            routes[t] = [(p.name, p.evolve, p.prefixes, p.prefilter.get(t) if len(ps) > 1 else None,
                          int(self.start[p.name] or 0), self.cache[p.name], self.dirty[p.name], self.rows[p.name],
                          p.stateless)
                         for (p,) in ps]
        current = _current_versions(routes)
        n, last = 0, 0
        for r in rows:
            n += 1
            pos = last = r[0]
            targets = routes.get(r[5])
            if targets is not None:
                e = None
                stream, version = r[2], r[3]
                for name, evolve, prefixes, needles, start, cache, dirty, out, stateless in targets:
                    if pos <= start or not stream.startswith(prefixes):
                        continue
                    if needles is not None and not any(x in r[8] for x in needles):
                        continue
                    if e is None:
                        data = loads(r[8])
                        if (r[5], r[6]) not in current:  # an older schema version: upcast (rare)
                            data = current_data(r[5], r[6], data)
                        e = _tuple_new(ViewEnv, (r[1], stream, version, r[4], r[5], r[6], r[7], data))
                    if stateless:  # rows only, each rebuilt from its event: nothing to look up or keep
                        for row in evolve(None, e)[1]:
                            out[row[0]] = row
                        continue
                    state = cache.get(stream)
                    if state is None:
                        if not (fresh and version == 1):
                            state = store.state(name, stream)
                    if state is not None and version <= state["v"]:
                        continue
                    new, produced = evolve(state, e)
                    if new is not None:
                        new["v"] = version
                        cache[stream] = new
                        dirty[stream] = pos
                    for row in produced:
                        out[row[0]] = row
            if n % flush_every == 0:
                self._settle({}, last, flush_every, progress)
        self._settle({}, last, n % flush_every, progress)
        return n

    # -- the SQLite log's raw rows: (position, tenant, stream, version, event_id, event_type, schema_version,
    #    occurred_at, recorded_at, correlation_id, causation_id, data_json)
    def run_rows(self, rows: Iterable[tuple[Any, ...]], flush_every: int = 20_000,
                 progress: Callable[[int], None] | None = None) -> int:
        with _no_cyclic_gc():
            return self._run_rows(rows, flush_every, progress)

    def _run_rows(self, rows: Iterable[tuple[Any, ...]], flush_every: int,
                  progress: Callable[[int], None] | None) -> int:
        streams = [p for p in self.projections if isinstance(p, StreamProjection)]
        log_p = next((p for p in self.projections if isinstance(p, LogProjection)), None)
        if log_p is not None and log_p.name != "chain":
            raise ValueError(f"run_rows folds the hash chain only, not {log_p.name!r}; use run()")
        routes: dict[str, list[StreamProjection]] = {}
        for p in streams:
            for t in p.handles:
                routes.setdefault(t, []).append(p)
        start = {name: int(pos or 0) for name, pos in self.start.items()}
        current = _current_versions(routes)
        chain_start = start["chain"] if log_p is not None else None
        heads: dict[str, list[Any]] = {}
        sha = hashlib.sha256
        payload, every = chain.payload, chain.ANCHOR_EVERY
        n, last = 0, 0
        for r in rows:
            n += 1
            pos = last = r[0]
            if chain_start is not None and pos > chain_start:
                hd = heads.get(r[1]) or self._chain_head(heads, r[1])
                if pos > hd[4]:  # else another process chained it already (its head was read after that)
                    hd[1] = sha(hd[1] + payload(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                                                r[11])).digest()
                    hd[0] += 1
                    hd[2], hd[3], hd[4] = r[4], pos, pos
                    if hd[0] % every == 0:
                        row = chain.anchor(r[1], hd[0], hd[1].hex(), r[4], r[8])
                        self.rows["chain"][row[0]] = row
            targets = routes.get(r[5])
            if targets is not None:
                e = None
                for p in targets:
                    if pos <= start[p.name] or not r[2].startswith(p.prefixes):
                        continue
                    needles = p.prefilter.get(r[5])
                    if needles is not None and not any(x in r[11] for x in needles):
                        continue
                    if e is None:
                        data = loads(r[11])
                        if (r[5], r[6]) not in current:  # an older schema version: upcast (rare)
                            data = current_data(r[5], r[6], data)
                        e = Env(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], data, f"{pos:016d}")
                    self._apply_stream(p, r[2], e)
            if n % flush_every == 0:
                self._settle(heads, last, flush_every, progress)
        self._settle(heads, last, n % flush_every, progress)
        return n

    def _chain_head(self, heads: dict[str, list[Any]], tenant: str) -> list[Any]:
        state = self.cache["chain"].get(tenant) or self.store.state("chain", tenant)
        # [n, h_n, event id, position to write at the next flush (0: clean), last position chained]
        hd = [int(state["n"]), bytes.fromhex(str(state["h"])), state["event_id"], 0, int(state["pos"])] if state \
            else [0, bytes.fromhex(chain.GENESIS), "", 0, 0]
        heads[tenant] = hd
        return hd

    def _settle(self, heads: dict[str, list[Any]], last: int, seen: int,
                progress: Callable[[int], None] | None = None) -> None:
        """Commit what the last ``seen`` rows changed (chain heads, checkpoints, outputs); report progress."""
        for tenant, (n, h, event_id, pos, _) in heads.items():
            if pos:
                position = f"{pos:016d}"
                self.cache["chain"][tenant] = {**chain.head(tenant, n, h.hex(), event_id), "pos": position}
                self.dirty["chain"][tenant] = position
                heads[tenant][3] = 0
        if last:
            position = f"{last:016d}"
            for p in self.projections:
                if int(self.start[p.name] or 0) < last:
                    self.position[p.name] = max(self.position[p.name], position)
                    self.events[p.name] += seen
        self.flush()
        if progress:
            progress(seen)

    # -- commit
    def flush(self) -> None:
        writes = {}
        for p in self.projections:
            name, cache = p.name, self.cache[p.name]
            closed = p.closed if isinstance(p, StreamProjection) else _never
            states = [(key, doc, closed(doc), pos if type(pos) is str else f"{pos:016d}")
                      for key, pos in self.dirty[name].items() for doc in (cache[key],)]
            writes[name] = (states, list(self.rows[name].values()), self.position[name], self.events[name])
        self.store.commit(writes, checkpoint=self.write_checkpoints)
        for p in self.projections:
            cache = self.cache[p.name]
            if len(cache) > self.max_cached:
                cache.clear()
            elif isinstance(p, StreamProjection):
                for key in self.dirty[p.name]:
                    if p.closed(cache[key]):
                        del cache[key]
            self.dirty[p.name].clear()  # in place: the replay loops hold references to these
            self.rows[p.name].clear()

    def cached(self) -> int:
        return sum(len(c) for c in self.cache.values())


def _current_versions(event_types: Iterable[str]) -> set[tuple[str, int]]:
    """(type, schema version) pairs stored in the current shape: rows of any other pair need upcasting."""
    return {(t, cls.schema_version if (cls := event_class(t)) is not None else 1) for t in event_types}


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Folds allocate many short-lived acyclic dicts; reference counting frees them, and the cyclic
    collector's passes over the long-lived heap cost more than the folds themselves."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _never(_: JSON) -> bool:
    return False
