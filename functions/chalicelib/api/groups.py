"""Ring groups: members (extensions), strategy, timeouts, weights, overflow mailbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Blueprint

from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import NAME, REF, TIMEOUT, obj
from domain.tenant import TenantSnapshot

bp = Blueprint(__name__)

SCHEMA = obj({
    "name": NAME,
    "members": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 100},
    "strategy": {"enum": ["simultaneous", "sequential", "weighted", "least_recent"]},
    "timeout": TIMEOUT, "ring_time": TIMEOUT,
    "weights": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
    "voicemail": REF,
}, ("name", "members"))


def check(snapshot: TenantSnapshot, group_id: str, doc: Mapping[str, Any]) -> list[dict[str, str]]:
    members = set(doc.get("members") or ())
    return [{"pointer": f"/weights/{m}", "message": f"{m!r} is not a member of the group"}
            for m in sorted(doc.get("weights") or {}) if m not in members]


GROUPS = Collection(name="groups", section="groups", label="group", schema=SCHEMA, check=check, tag="groups")
mount(bp, GROUPS)
