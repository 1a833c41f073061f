"""Projections as pure folds over stored events.

Invariant: a stream projection keeps one state per stream holding ``v``, the last version it
applied; an event at or below ``v`` changes nothing, so a retried batch, an overlapping replay or
a redelivered stream record leaves state and rows exactly as they were. A log projection (the
hash chain) folds a tenant's log in order and skips positions it has already seen. Event types a
projection does not list in ``handles`` are ignored, so new event types never break a fold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

JSON = dict[str, Any]
Row = tuple[str, str, str, JSON]
"""An output row: (key, tenant, sort time, document)."""


class Envelope(Protocol):
    """What a stream fold reads of a stored event (StoredEvent, or the shell's lighter tuple on replay).

    The request ids (correlation, causation), the recording time and the log position are not here:
    no view depends on them (a stream fold orders by ``version``), so a replay does not build them.
    The hash chain covers them (``LogEnvelope``).
    """

    @property
    def tenant_id(self) -> str: ...
    @property
    def stream_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def event_id(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def occurred_at(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


class LogEnvelope(Envelope, Protocol):
    """Every field of a stored event: what a log fold (the hash chain) reads."""

    @property
    def position(self) -> str: ...

    @property
    def recorded_at(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...
    @property
    def causation_id(self) -> str: ...


StoredEvent = Envelope
Evolve = Callable[[JSON | None, Envelope], tuple[JSON | None, list[Row]]]
LogEvolve = Callable[[JSON | None, LogEnvelope], tuple[JSON | None, list[Row]]]
"""Returns a NEW state dict (never the one passed in, which it must not mutate), or None when the
event changes nothing for this projection (then the version is not recorded either)."""


@dataclass(frozen=True, slots=True)
class StreamProjection:
    """Folds each stream on its own; state per stream, rows keyed by the projection."""

    name: str
    prefixes: tuple[str, ...]
    handles: frozenset[str]
    evolve: Evolve
    closed: Callable[[JSON], bool]
    prefilter: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Optional needles per event type: an event of that type whose canonical JSON text contains none
    of them is one evolve would ignore (return None for), so a replay may skip it unread; the SQLite
    log applies the test inside its query. Must agree with evolve (tested in test_replay)."""
    stateless: bool = False
    """The fold needs no state: evolve gets None and only returns rows, each keyed and built from its
    event alone, so applying an event again rewrites the same rows (idempotent without a version), and
    no state is looked up or stored."""

    def follows(self, e: StoredEvent) -> bool:
        return e.event_type in self.handles and e.stream_id.startswith(self.prefixes)


@dataclass(frozen=True, slots=True)
class LogProjection:
    """Folds a tenant's whole log in log order; state per tenant."""

    name: str
    evolve: LogEvolve

    def follows(self, e: Envelope) -> bool:
        return True


Projection = StreamProjection | LogProjection


def apply(p: Projection, state: JSON | None, e: LogEnvelope) -> tuple[JSON | None, list[Row]]:
    """One event into one projection; unchanged state and no rows when it was seen or is ignored."""
    if isinstance(p, StreamProjection):
        return apply_stream(p, state, e)
    if state is not None and e.position <= str(state["pos"]):
        return state, []
    new, rows = p.evolve(state, e)
    if new is None:
        return state, rows
    new["pos"] = e.position
    return new, rows


def apply_stream(p: StreamProjection, state: JSON | None, e: Envelope) -> tuple[JSON | None, list[Row]]:
    """``apply`` for a stream projection, which needs only the fields of ``Envelope``."""
    if not p.follows(e):
        return state, []
    if p.stateless:
        return None, p.evolve(None, e)[1]
    if state is not None and e.version <= int(state["v"]):
        return state, []
    new, rows = p.evolve(state, e)
    if new is None:
        return state, rows
    new["v"] = e.version
    return new, rows


def fold_stream(p: StreamProjection, events: Iterable[Envelope]) -> JSON | None:
    """The state of one stream after the given events (audit and tests)."""
    state: JSON | None = None
    for e in events:
        state, _ = apply_stream(p, state, e)
    return state


def seconds_between(start: str, end: str) -> float:
    """Seconds from one ISO time to another (0 when either is missing)."""
    if not start or not end:
        return 0.0
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def shift(stamp: str, seconds: float) -> str:
    """An ISO time moved by ``seconds``, as UTC (``utc``'s shape)."""
    return utc((datetime.fromisoformat(stamp) + timedelta(seconds=seconds)).isoformat())


def utc(stamp: str) -> str:
    """An ISO time as UTC with a fixed shape, so times sort as strings."""
    if not stamp:
        return ""
    if stamp.endswith("+00:00") and len(stamp) == 32:
        return stamp
    t = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def get(m: Mapping[str, Any], key: str, default: Any = "") -> Any:
    value = m.get(key, default)
    return default if value is None else value
