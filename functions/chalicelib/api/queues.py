"""Call-center queues: strategy, members (extensions, with penalties), timers, keys, overflow.

Stored at ``queues.<id>`` (what ``domain.callcenter.config.parse_queue`` reads). The JSON schema
here only documents the shape (types, closed object) for OpenAPI and the web app's forms; every
rule (strategy names, ranges, keys, overflow) is the call center's own ``parse_queue``, whose
``QueueConfigError`` (``queues.<id>.<field>: ...``) becomes a 422 with a JSON pointer. References:
members must be extensions (422 on the member); deleting a queue that a published plan's ``queue``
node, ``callbacks.queue`` or ``widget.queue`` names is refused with 409 naming each user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from chalice import Blueprint

from chalicelib.api import collections as crud
from chalicelib.api.collections import Collection
from chalicelib.api.http import TENANT, ApiError, endpoint, json_body
from chalicelib.api.state import change, current
from chalicelib.auth import Principal
from chalicelib.bootstrap import get_services
from domain.callcenter.config import STRATEGIES, QueueConfig, QueueConfigError, parse_queue
from domain.tenant import TenantConfigPatched, TenantSnapshot

bp = Blueprint(__name__)

INT = {"type": "integer"}
KEY = {"type": "string", "description": "one key 0-9, * or # (empty: none)"}
MEMBER = {"oneOf": [
    {"type": "string", "description": "an extension"},
    {"type": "object", "required": ["agent"], "additionalProperties": False,
     "properties": {"agent": {"type": "string", "description": "an extension"},
                    "penalty": {**INT, "description": "lower rings first (0-100)"}}},
]}
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": [],
    "properties": {
        "name": {"type": "string"},
        "strategy": {"enum": list(STRATEGIES)},
        "members": {"type": "array", "items": MEMBER},
        "ring_seconds": {**INT, "description": "5-120"}, "max_misses": {**INT, "description": "0-100"},
        "wrapup_seconds": {**INT, "description": "0-3600"},
        "max_wait": {**INT, "description": "seconds, 0 = no limit"},
        "max_size": {**INT, "description": "callers, 0 = no limit"},
        "exit_key": KEY, "callback_key": KEY,
        "join_empty": {"type": "boolean"}, "leave_empty": {"type": "boolean"},
        "announce_position": {"type": "boolean"},
        "loop_seconds": {**INT, "description": "1-600"},
        "music": {"type": "string", "description": "hold music URL"},
        "vip_priority": {**INT, "description": "0-1000"},
        "priorities": {"type": "object", "additionalProperties": INT, "description": "number -> priority"},
        "overflow": {"enum": ["", "callback"], "description": "callback: timeout/full/exit become a callback task"},
        "avg_handle_seconds": {**INT, "description": "1-86400"},
    },
}

# Defaults as the call center applies them (the QueueConfig dataclass), shown to clients and forms.
for _f in fields(QueueConfig):
    if _f.name in SCHEMA["properties"] and (isinstance(_f.default, (bool, int)) or _f.name == "strategy"):
        SCHEMA["properties"][_f.name] = {**SCHEMA["properties"][_f.name], "default": _f.default}

_WHERE = re.compile(r"\[(\d+)\]|\.([^.\[:]+)")


def config_error(queue_id: str, error: QueueConfigError) -> dict[str, str]:
    """``queues.<id>.members[0].penalty: must ...`` -> ``{"pointer": "/members/0/penalty", "message": ...}``."""
    text = str(error)
    prefix = f"queues.{queue_id}"
    where, _, message = text[len(prefix):].partition(": ") if text.startswith(prefix) else ("", "", text)
    pointer = "".join("/" + (index or name) for index, name in _WHERE.findall(where))
    return {"pointer": pointer, "message": message or text}


def check(snapshot: TenantSnapshot, queue_id: str, doc: Mapping[str, Any]) -> list[dict[str, str]]:
    try:
        parse_queue(queue_id, doc)
    except QueueConfigError as e:
        return [config_error(queue_id, e)]
    extensions = snapshot.section("extensions")
    errors = []
    for i, m in enumerate(doc.get("members") or ()):
        agent, pointer = (m, f"/members/{i}") if isinstance(m, str) else (m["agent"], f"/members/{i}/agent")
        if agent not in extensions:
            errors.append({"pointer": pointer, "message": f"no extension {agent!r}"})
    return errors


def users_of(snapshot: TenantSnapshot, queue_id: str) -> list[str]:
    """Who names the queue: published plans' ``queue`` nodes, ``callbacks.queue``, ``widget.queue``."""
    out = [f"plan {plan_id!r} v{plan.version} node {node.id!r}"
           for plan_id, plan in sorted(snapshot.plans.items())
           for node in plan.nodes.values() if node.action == "queue" and node.data.get("queue") == queue_id]
    for section in ("callbacks", "widget"):
        if snapshot.config.get(section, {}).get("queue") == queue_id:
            out.append(f"{section}.queue")
    return out


QUEUES = Collection(name="queues", section="queues", label="queue", schema=SCHEMA, check=check, tag="queues")


def delete(tenant: str, principal: Principal, raw_id: str) -> dict[str, Any]:
    """Delete unless something names the queue (decided on the snapshot it is appended at)."""

    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        item_id, _ = QUEUES.find(snapshot, raw_id)
        users = users_of(snapshot, item_id)
        if users:
            raise ApiError(409, [{"pointer": "", "message": f"queue {item_id!r} is still used by {u}"} for u in users])
        return [TenantConfigPatched(path=["queues"], patch={item_id: None}, actor=principal.actor)]

    change(get_services(), tenant, decide, "")
    return {}


def _mount() -> None:
    # the item is ``{queue}`` (not ``{item_id}``): API Gateway allows one variable name per path level,
    # and ``/queues/{queue}/live`` (chalicelib.callcenter.api) is already there
    base = f"{TENANT}/queues"
    item = QUEUES.item_schema()
    listing = {"type": "object", "properties": {"items": {"type": "array", "items": item}}}

    @endpoint(bp, "GET", base, summary="List queues", permission="config.read", tag="queues", response=listing,
              name="queues_list")
    def list_items(tenant: str, principal: Principal) -> dict[str, Any]:
        section = current(get_services(), tenant).section("queues")
        return {"items": [QUEUES.public(k, v) for k, v in sorted(section.items()) if isinstance(v, Mapping)]}

    @endpoint(bp, "POST", base, summary="Create a queue", permission="config.write", tag="queues",
              request=item, response=item, status=201, name="queues_create")
    def create_item(tenant: str, principal: Principal) -> dict[str, Any]:
        return crud.create(QUEUES, tenant, principal, json_body(bp.current_request))

    @endpoint(bp, "GET", base + "/{queue}", summary="Get a queue", permission="config.read", tag="queues",
              response=item, name="queues_get")
    def get_item(tenant: str, queue: str, principal: Principal) -> dict[str, Any]:
        found_id, stored = QUEUES.find(current(get_services(), tenant), queue)
        return QUEUES.public(found_id, stored)

    @endpoint(bp, "PATCH", base + "/{queue}", summary="Change a queue (JSON merge-patch)",
              permission="config.write", tag="queues", request=SCHEMA, response=item, name="queues_patch")
    def patch_item(tenant: str, queue: str, principal: Principal) -> dict[str, Any]:
        return crud.patch(QUEUES, tenant, principal, queue, json_body(bp.current_request))

    @endpoint(bp, "DELETE", base + "/{queue}", summary="Delete a queue (409 while a plan or setting uses it)",
              permission="config.write", tag="queues", status=204, name="queues_delete")
    def delete_item(tenant: str, queue: str, principal: Principal) -> dict[str, Any]:
        return delete(tenant, principal, queue)


_mount()
