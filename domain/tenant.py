"""A tenant's configuration as a fold of its stream (``tenant-<id>``): numbers, people, plans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import singledispatch
from typing import Any

from domain.events import DomainEvent, event
from domain.routing.plan import Plan, parse_plan


@event
@dataclass(frozen=True, slots=True)
class TenantConfigured(DomainEvent):
    """The whole configuration document replaced (seeding, imports)."""

    event_type = "TenantConfigured"
    config: dict[str, Any]
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class TenantConfigPatched(DomainEvent):
    """Part of the configuration changed (JSON merge-patch applied at ``path``)."""

    event_type = "TenantConfigPatched"
    path: list[str]
    patch: Any
    actor: str = ""


@event
@dataclass(frozen=True, slots=True)
class PlanPublished(DomainEvent):
    event_type = "PlanPublished"
    plan_id: str
    version: int
    document: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True, slots=True)
class TenantSnapshot:
    tenant_id: str = ""
    version: int = 0
    config: Mapping[str, Any] = field(default_factory=dict)
    plans: Mapping[str, Plan] = field(default_factory=dict)
    plan_history: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    plan_versions: Mapping[tuple[str, int], Plan] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.config)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.config.get(name) or {}
        return value if isinstance(value, Mapping) else {}

    def plan_for_number(self, number: str) -> Plan | None:
        entry = self.section("numbers").get(number)
        if not isinstance(entry, Mapping):
            return None
        return self.plans.get(str(entry.get("plan", "")))

    def in_list(self, name: str, number: str) -> bool:
        return number in (self.section("lists").get(name) or ())

    @property
    def language(self) -> str:
        return str(self.config.get("language") or "en-US")

    @property
    def timezone(self) -> str:
        return str(self.config.get("timezone") or "UTC")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge-patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


@singledispatch
def evolve(event: DomainEvent, state: TenantSnapshot) -> TenantSnapshot:
    return state


@evolve.register
def _(e: TenantConfigured, s: TenantSnapshot) -> TenantSnapshot:
    return replace(s, config=dict(e.config))


@evolve.register
def _(e: TenantConfigPatched, s: TenantSnapshot) -> TenantSnapshot:
    config: Any = dict(s.config)
    if not e.path:
        return replace(s, config=merge_patch(config, e.patch))
    node = config
    for key in e.path[:-1]:
        child = dict(node.get(key) or {})
        node[key] = child
        node = child
    merged = merge_patch(node.get(e.path[-1]), e.patch)
    if merged is None:
        node.pop(e.path[-1], None)
    else:
        node[e.path[-1]] = merged
    return replace(s, config=config)


@evolve.register
def _(e: PlanPublished, s: TenantSnapshot) -> TenantSnapshot:
    plan = parse_plan(e.plan_id, e.version, e.document)
    history = {**s.plan_history, e.plan_id: s.plan_history.get(e.plan_id, ()) + (e.version,)}
    return replace(s, plans={**s.plans, e.plan_id: plan}, plan_history=history,
                   plan_versions={**s.plan_versions, (e.plan_id, e.version): plan})


def fold(tenant_id: str, events: Iterable[DomainEvent], version: int) -> TenantSnapshot:
    s = TenantSnapshot(tenant_id=tenant_id)
    for e in events:
        s = evolve(e, s)
    return replace(s, version=version)
