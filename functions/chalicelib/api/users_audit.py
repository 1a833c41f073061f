"""The configuration audit trail: who changed what, when, and the diff, replayed from events.

Invariant: the trail is a pure replay of the tenant's streams (``tenant-<id>``, ``users-<id>``);
nothing is recorded twice, so the trail cannot disagree with the configuration it explains.
Secrets (password hashes, TOTP secrets, gateway auth tokens) are masked in diffs.
"""

from __future__ import annotations

from typing import Any

from chalicelib.envelopes import decode_all
from domain.events import decode
from domain.tenant import TenantSnapshot, evolve

SECRET_KEYS = {"password_hash", "secret", "auth_token", "password", "api_key", "key_hash", "pin_hash", "pin"}
MAX_CHANGES = 200


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Leaf-level differences between two JSON documents, as {path, before, after}."""
    if isinstance(before, dict) and after is None or before is None and isinstance(after, dict):
        # an object added or removed: walk it too, so secrets inside it are masked
        before, after = before or {}, after or {}
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}/{key}"
            if key in SECRET_KEYS:
                if before.get(key) != after.get(key):
                    out.append({"path": sub, "before": "***" if key in before else None,
                                "after": "***" if key in after else None})
                continue
            out.extend(diff(before.get(key), after.get(key), sub))
        return out
    if before == after:
        return []
    return [{"path": path or "/", "before": before, "after": after}]


def _tenant_entries(stored: list[Any]) -> list[dict[str, Any]]:
    entries = []
    state = TenantSnapshot()
    plan_docs: dict[str, Any] = {}
    for s in stored:
        e = decode(s)
        if e is None:
            continue
        data = e.to_data()
        if s.event_type == "PlanPublished":
            changes = diff(plan_docs.get(data["plan_id"]), data["document"], f"/plans/{data['plan_id']}")
            plan_docs[data["plan_id"]] = data["document"]
            what = f"published plan {data['plan_id']} version {data['version']}"
        else:
            before = dict(state.config)
            state = evolve(e, state)
            changes = diff(before, dict(state.config))
            what = "configuration replaced" if s.event_type == "TenantConfigured" else \
                "changed " + ("/".join(data.get("path") or []) or "configuration")
        entries.append(_entry(s, data, what, changes))
    return entries


def _user_entries(stored: list[Any]) -> list[dict[str, Any]]:
    from chalicelib.users import _evolve

    users: dict[str, Any] = {}
    entries = []
    for s, e in zip(stored, decode_all(stored), strict=False):
        data = e.to_data()
        before = {k: _public(u) for k, u in users.items()}
        _evolve(e, users)
        after = {k: _public(u) for k, u in users.items()}
        what = {"UserAdded": "added user", "UserChanged": "changed user", "UserRemoved": "removed user",
                "UserPasswordSet": "set password", "UserTotpSet": "changed two-factor sign-in"}.get(
                    s.event_type, s.event_type)
        changes = diff(before, after, "/users")
        if s.event_type == "UserPasswordSet":
            changes = [{"path": f"/users/{data['user_id']}/password", "before": "***", "after": "***"}]
        entries.append(_entry(s, data, f"{what} {data.get('user_id', '')}".strip(), changes))
    return entries


def _public(user: Any) -> dict[str, Any]:
    view: dict[str, Any] = user.public_view()
    return view


def _entry(s: Any, data: dict[str, Any], what: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"at": s.recorded_at, "actor": data.get("actor") or "", "event": s.event_type, "stream": s.stream_id,
            "version": s.version, "summary": what, "changes": changes[:MAX_CHANGES],
            "truncated": len(changes) > MAX_CHANGES}


def audit_trail(services: Any, tenant_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first: every configuration and account change of the tenant."""
    tenant_events, _ = services.store.load(f"tenant-{tenant_id}")
    user_events, _ = services.store.load(f"users-{tenant_id}")
    entries = _tenant_entries(tenant_events) + _user_entries(user_events)
    entries.sort(key=lambda x: x["at"], reverse=True)
    return entries[: max(1, min(limit, 1000))]
