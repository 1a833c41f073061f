"""A call, or a tenant's configuration, as the system knew it at an instant.

Invariant: only events *recorded* at or before the instant are folded (what the system knew then,
not what a late gateway timestamp claims), through the very folds the live code uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.calls.state import fold as fold_call
from domain.events import StoredEvent, decode
from domain.projections import calls
from domain.projections.base import JSON, fold_stream, utc
from domain.tenant import TenantSnapshot, evolve


def known_at(events: Iterable[StoredEvent], at: str) -> list[StoredEvent]:
    cut = utc(at)
    return [e for e in events if utc(e.recorded_at) <= cut]


def call_at(events: list[StoredEvent], at: str) -> JSON:
    """The routing state and the CDR of a call from its events recorded up to ``at``."""
    seen = known_at(events, at)
    typed = [t for t in (decode(e) for e in seen) if t is not None]
    state = fold_call(typed)
    cdr = fold_stream(calls.projection(), seen)
    return {"at": utc(at), "events": [{"version": e.version, "type": e.event_type, "recorded_at": e.recorded_at}
                                      for e in seen],
            "state": {"status": state.status, "from": state.from_number, "to": state.to_number,
                      "direction": state.direction, "plan": f"{state.plan_id} v{state.plan_version}",
                      "step": state.step, "awaiting": state.awaiting, "digits": list(state.digits),
                      "voicemails": state.voicemails, "last_instructions": list(state.last_instructions)},
            "cdr": cdr}


def config_at(tenant_id: str, events: list[StoredEvent], at: str) -> JSON:
    """The configuration in force at ``at`` and every change up to then: who, what, when."""
    seen = known_at(events, at)
    snapshot = TenantSnapshot(tenant_id=tenant_id)
    changes = []
    for e in seen:
        typed = decode(e)
        if typed is None:
            continue
        after = evolve(typed, snapshot)
        if after is not snapshot:
            data: dict[str, Any] = dict(e.data)
            what = ("/" + "/".join(data.get("path") or [])) if e.event_type == "TenantConfigPatched" else (
                f"plan {data.get('plan_id')} v{data.get('version')}" if e.event_type == "PlanPublished"
                else "whole configuration")
            changes.append({"version": e.version, "recorded_at": e.recorded_at, "actor": data.get("actor", ""),
                            "type": e.event_type, "what": what, "event_id": e.event_id})
        snapshot = after
    return {"tenant": tenant_id, "at": utc(at), "version": seen[-1].version if seen else 0,
            "config": dict(snapshot.config),
            "plans": {pid: list(v) for pid, v in snapshot.plan_history.items()}, "changes": changes}


__all__ = ["call_at", "config_at", "known_at"]
