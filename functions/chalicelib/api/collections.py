"""A configuration collection (extensions, groups, boxes...) as five JSON routes over one section.

``GET /tenants/{tenant}/<name>``, ``POST`` (create, the body carries the ``id``),
``GET|PATCH|DELETE /tenants/{tenant}/<name>/{item_id}``. PATCH is a JSON merge-patch
(RFC 7386): fields not named keep their values, ``null`` removes one. Every change is a
``TenantConfigPatched`` event at ``[section, id]`` carrying exactly the (stored form of the) patch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from chalice import Blueprint

from chalicelib.api.http import TENANT, ApiError, endpoint, json_body
from chalicelib.api.state import change, current
from chalicelib.api.validation import schema_errors
from chalicelib.auth import Principal
from chalicelib.bootstrap import get_services
from domain.tenant import TenantConfigPatched, TenantSnapshot, merge_patch

SLUG = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
        "description": "an id of at most 40 letters, digits, '_', '.' or '-'"}
Check = Callable[[TenantSnapshot, str, Mapping[str, Any]], list[dict[str, str]]]


def _no_check(snapshot: TenantSnapshot, item_id: str, doc: Mapping[str, Any]) -> list[dict[str, str]]:
    return []


@dataclass(frozen=True)
class Collection:
    name: str  # URL segment
    section: str  # config section
    label: str  # "extension", used in messages and reference owners
    schema: Mapping[str, Any]  # one item as clients write it (without its id)
    id_schema: Mapping[str, Any] = field(default_factory=lambda: SLUG)
    tag: str = ""
    normalize_id: Callable[[str], str] = lambda raw: raw
    check: Check = _no_check  # cross-field rules the schema cannot say
    hidden: tuple[str, ...] = ()  # stored-only fields (hashes): never shown, never writable
    to_stored: Callable[[str, dict[str, Any]], dict[str, Any]] = lambda tenant, patch: patch  # derive stored fields
    creatable: bool = True
    on_deleted: Callable[[str, str, Mapping[str, Any]], None] | None = None  # (tenant, id, stored) cleanup

    def owner(self, item_id: str) -> str:
        return f"{self.label} {item_id!r}"

    def public(self, item_id: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The item as clients see it: hidden ``x_hash`` fields become ``x_set: bool``."""
        flags = {h.removesuffix("_hash") + "_set": h in stored for h in self.hidden}
        return {"id": item_id, **self.writable(stored), **flags}

    def item_schema(self) -> dict[str, Any]:
        return {**self.schema, "properties": {"id": self.id_schema, **self.schema.get("properties", {})}}

    def find(self, snapshot: TenantSnapshot, raw_id: str) -> tuple[str, Mapping[str, Any]]:
        item_id = self.normalize_id(unquote(raw_id))
        stored = snapshot.section(self.section).get(item_id)
        if not isinstance(stored, Mapping):
            raise ApiError(404, f"no {self.label} {unquote(raw_id)!r}")
        return item_id, stored

    def validate(self, snapshot: TenantSnapshot, item_id: str, doc: Mapping[str, Any]) -> None:
        errors = schema_errors(self.schema, doc)
        if not errors:
            errors = self.check(snapshot, item_id, doc)
        if errors:
            raise ApiError(422, errors)

    def writable(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in stored.items() if k not in self.hidden}


def create(coll: Collection, tenant: str, principal: Principal, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, f"a {coll.label} must be a JSON object")
    raw_id = body.get("id")
    id_errors = schema_errors(coll.id_schema, raw_id, "/id") if raw_id is not None else [
        {"pointer": "/id", "message": "'id' is a required property"}]
    item_id = coll.normalize_id(str(raw_id)) if not id_errors else ""
    if id_errors:
        raise ApiError(422, id_errors)
    doc = {k: v for k, v in body.items() if k != "id" and v is not None}

    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        if item_id in snapshot.section(coll.section):
            raise ApiError(409, f"{coll.label} {item_id!r} already exists", "/id")
        coll.validate(snapshot, item_id, doc)
        return [TenantConfigPatched(path=[coll.section, item_id], patch=coll.to_stored(tenant, dict(doc)),
                                    actor=principal.actor)]

    after = change(get_services(), tenant, decide, coll.owner(item_id))
    return coll.public(item_id, after.section(coll.section)[item_id])


def patch(coll: Collection, tenant: str, principal: Principal, raw_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "a merge-patch must be a JSON object")
    if "id" in body:
        raise ApiError(422, "the id cannot change; create a new item instead", "/id")
    found: dict[str, str] = {}

    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        item_id, stored = coll.find(snapshot, raw_id)
        found["id"] = item_id
        merged = merge_patch(coll.writable(stored), body)
        coll.validate(snapshot, item_id, merged)
        return [TenantConfigPatched(path=[coll.section, item_id], patch=coll.to_stored(tenant, dict(body)),
                                    actor=principal.actor)]

    item_id = coll.normalize_id(unquote(raw_id))
    after = change(get_services(), tenant, decide, coll.owner(item_id))
    return coll.public(found["id"], after.section(coll.section)[found["id"]])


def delete(coll: Collection, tenant: str, principal: Principal, raw_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        item_id, stored = coll.find(snapshot, raw_id)
        found.update(id=item_id, stored=stored)
        return [TenantConfigPatched(path=[coll.section], patch={item_id: None}, actor=principal.actor)]

    change(get_services(), tenant, decide, "")
    if coll.on_deleted is not None:
        coll.on_deleted(tenant, found["id"], found["stored"])
    return {}


def mount(bp: Blueprint, coll: Collection) -> None:
    """Register the collection's routes on ``bp``."""
    base = f"{TENANT}/{coll.name}"
    item = coll.item_schema()
    listing = {"type": "object", "properties": {"items": {"type": "array", "items": item}}}
    tag = coll.tag or coll.name
    n = re.sub(r"\W", "_", coll.name)

    @endpoint(bp, "GET", base, summary=f"List {coll.label}s", permission="config.read", tag=tag, response=listing,
              name=f"{n}_list")
    def list_items(tenant: str, principal: Principal) -> dict[str, Any]:
        section = current(get_services(), tenant).section(coll.section)
        return {"items": [coll.public(k, v) for k, v in sorted(section.items()) if isinstance(v, Mapping)]}

    if coll.creatable:
        @endpoint(bp, "POST", base, summary=f"Create a {coll.label}", permission="config.write", tag=tag,
                  request=item, response=item, status=201, name=f"{n}_create")
        def create_item(tenant: str, principal: Principal) -> dict[str, Any]:
            return create(coll, tenant, principal, json_body(bp.current_request))

    @endpoint(bp, "GET", base + "/{item_id}", summary=f"Get a {coll.label}", permission="config.read", tag=tag,
              response=item, name=f"{n}_get")
    def get_item(tenant: str, item_id: str, principal: Principal) -> dict[str, Any]:
        found_id, stored = coll.find(current(get_services(), tenant), item_id)
        return coll.public(found_id, stored)

    @endpoint(bp, "PATCH", base + "/{item_id}", summary=f"Change a {coll.label} (JSON merge-patch)",
              permission="config.write", tag=tag, request=coll.schema, response=item, name=f"{n}_patch")
    def patch_item(tenant: str, item_id: str, principal: Principal) -> dict[str, Any]:
        return patch(coll, tenant, principal, item_id, json_body(bp.current_request))

    @endpoint(bp, "DELETE", base + "/{item_id}", summary=f"Delete a {coll.label}", permission="config.write",
              tag=tag, status=204, name=f"{n}_delete")
    def delete_item(tenant: str, item_id: str, principal: Principal) -> dict[str, Any]:
        return delete(coll, tenant, principal, item_id)
