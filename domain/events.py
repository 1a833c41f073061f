"""Event envelope, the registry of wire names, and upcasting.

Invariant: an event is stored under a stable wire name (``event_type``) and a schema version,
never a Python import path; older schema versions are upcast on read, so folds only ever see
the current shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

JSON = dict[str, Any]


class DomainEvent:
    """Base of every domain event: a frozen dataclass with a wire name and a schema version."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_data(self) -> JSON:
        return {name: getattr(self, name) for name in field_names(type(self))}


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """The envelope: what the event store keeps for every event."""

    tenant_id: str
    stream_id: str
    version: int
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: str
    recorded_at: str
    correlation_id: str
    causation_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    position: str = ""

    def __post_init__(self) -> None:
        if not self.tenant_id:
            raise ValueError("event envelope needs a tenant_id")
        if self.version < 1:
            raise ValueError(f"event version must be >= 1, got {self.version}")


E = TypeVar("E", bound=type[DomainEvent])
_REGISTRY: dict[str, type[DomainEvent]] = {}
_UPCASTERS: dict[tuple[str, int], Callable[[JSON], JSON]] = {}


def event(cls: E) -> E:
    """Register an event class under its wire name (class decorator)."""
    name = cls.event_type
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"event type {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def upcaster(event_type: str, from_version: int) -> Callable[[Callable[[JSON], JSON]], Callable[[JSON], JSON]]:
    """Register a function that turns data of ``from_version`` into ``from_version + 1``."""

    def register(fn: Callable[[JSON], JSON]) -> Callable[[JSON], JSON]:
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def event_class(event_type: str) -> type[DomainEvent] | None:
    return _REGISTRY.get(event_type)


def known_event_types() -> list[str]:
    return sorted(_REGISTRY)


def upcast(event_type: str, schema_version: int, data: Mapping[str, Any]) -> JSON:
    """Bring stored data up to the registered class's current schema version."""
    cls = _REGISTRY.get(event_type)
    target = cls.schema_version if cls else schema_version
    if schema_version >= target:
        return data  # type: ignore[return-value]  # read-only use: decode copies into the dataclass
    out = dict(data)
    version = schema_version
    while version < target:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            raise ValueError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        out = step(out)
        version += 1
    return out


def decode(stored: StoredEvent) -> DomainEvent | None:
    """The typed event for an envelope, or None for a wire name this code does not know."""
    cls = _REGISTRY.get(stored.event_type)
    if cls is None:
        return None
    data = upcast(stored.event_type, stored.schema_version, stored.data)
    names = field_names(cls)
    return cls(**{k: v for k, v in data.items() if k in names})


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def field_names(cls: type) -> frozenset[str]:
    """The dataclass field names of an event class (cached: decoding is on every webhook's path)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names
