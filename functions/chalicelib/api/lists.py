"""Black list and white list: ``lists.blacklist`` / ``lists.whitelist``, entries a number or
``{number, priority, note}`` (a white-listed caller is never blocked; ``priority`` lets a plan
send them ahead). Adding or removing one entry is decided on the current list, so concurrent
edits never drop each other's entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from chalice import Blueprint

from chalicelib.api.common import E164, obj
from chalicelib.api.http import TENANT, ApiError, endpoint, json_body
from chalicelib.api.state import change, current
from chalicelib.api.validation import normalize_e164, validate
from chalicelib.auth import Principal
from chalicelib.bootstrap import get_services
from domain.tenant import TenantConfigPatched, TenantSnapshot

bp = Blueprint(__name__)
NAMES = ("blacklist", "whitelist")
ENTRY = obj({"number": E164, "priority": {"type": "boolean"}, "note": {"type": "string", "maxLength": 200}},
            ("number",))
LIST = {"type": "object", "properties": {"name": {"enum": list(NAMES)},
                                         "entries": {"type": "array", "items": ENTRY}}}
REPLACE = obj({"entries": {"type": "array", "items": ENTRY, "maxItems": 10000}}, ("entries",))


def _entries(snapshot: TenantSnapshot, name: str) -> list[dict[str, Any]]:
    out = []
    for entry in snapshot.section("lists").get(name) or ():
        out.append(dict(entry) if isinstance(entry, Mapping) else {"number": str(entry)})
    return out


def _stored(entries: list[dict[str, Any]]) -> list[Any]:
    """Plain numbers stay plain strings (what ``TenantSnapshot.in_list`` matches)."""
    return [e["number"] if set(e) == {"number"} else e for e in entries]


def _name(name: str) -> str:
    if name not in NAMES:
        raise ApiError(404, f"no list {name!r} (lists: {', '.join(NAMES)})")
    return name


def _set(tenant: str, principal: Principal, name: str, edit: Any) -> dict[str, Any]:
    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        entries = edit(_entries(snapshot, name))
        return [TenantConfigPatched(path=["lists"], patch={name: _stored(entries)}, actor=principal.actor)]

    after = change(get_services(), tenant, decide, f"list {name!r}")
    return {"name": name, "entries": _entries(after, name)}


@endpoint(bp, "GET", TENANT + "/lists/{list_name}", summary="Get a list", permission="config.read", tag="lists",
          response=LIST)
def get_list(tenant: str, list_name: str, principal: Principal) -> dict[str, Any]:
    return {"name": _name(list_name), "entries": _entries(current(get_services(), tenant), list_name)}


@endpoint(bp, "PUT", TENANT + "/lists/{list_name}", summary="Replace a list", permission="config.write",
          tag="lists", request=REPLACE, response=LIST)
def replace_list(tenant: str, list_name: str, principal: Principal) -> dict[str, Any]:
    body = json_body(bp.current_request)
    _name(list_name)
    validate(REPLACE, body)
    numbers = [e["number"] for e in body["entries"]]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise ApiError(422, [{"pointer": f"/entries/{numbers.index(n)}/number", "message": "listed twice"}
                             for n in duplicates])
    return _set(tenant, principal, list_name, lambda _: [dict(e) for e in body["entries"]])


@endpoint(bp, "POST", TENANT + "/lists/{list_name}/entries", summary="Add (or update) one entry",
          permission="config.write", tag="lists", request=ENTRY, response=LIST, status=201)
def add_entry(tenant: str, list_name: str, principal: Principal) -> dict[str, Any]:
    body = json_body(bp.current_request)
    _name(list_name)
    validate(ENTRY, body)

    def edit(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in entries if e["number"] != body["number"]] + [dict(body)]

    return _set(tenant, principal, list_name, edit)


@endpoint(bp, "DELETE", TENANT + "/lists/{list_name}/entries/{number}", summary="Remove one entry",
          permission="config.write", tag="lists", response=LIST)
def remove_entry(tenant: str, list_name: str, number: str, principal: Principal) -> dict[str, Any]:
    _name(list_name)
    wanted = normalize_e164(unquote(number)) or unquote(number)
    if wanted not in {e["number"] for e in _entries(current(get_services(), tenant), list_name)}:
        raise ApiError(404, f"{wanted!r} is not on the {list_name}")
    return _set(tenant, principal, list_name, lambda entries: [e for e in entries if e["number"] != wanted])
