"""``GET /api/v1/openapi.json``: OpenAPI 3.1 built from the route table (``http.ROUTES``).

Every route registered through ``endpoint`` is in the table, and tests/api walks the Chalice
app's routes to prove the document and the app agree both ways.
"""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from chalicelib.api.http import API, PUBLIC, ROUTES, RouteDoc, endpoint
from chalicelib.api.plans import NODE

bp = Blueprint(__name__)
ERROR = {"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "items": {
    "type": "object", "required": ["pointer", "message"],
    "properties": {"pointer": {"type": "string", "description": "JSON pointer to the bad field"},
                   "message": {"type": "string"}, "node": {"type": "string"}}}}}}
ERROR_REF = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content"}


def _operation(route: RouteDoc) -> dict[str, Any]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", route.path)]
    params += [{"name": name, "in": "query", "required": True, "description": text, "schema": {"type": "string"}}
               for name, text in route.query.items()]
    success: dict[str, Any] = {"description": STATUS_TEXT.get(route.status, "OK")}
    if route.response is not None and route.status != 204:
        success["content"] = {"application/json": {"schema": route.response}}
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', route.path.removeprefix(API)).strip('_')}",
        "summary": route.summary, "tags": [route.tag], "parameters": params,
        "responses": {str(route.status): success, "4XX": ERROR_REF},
        "x-permission": route.permission,
    }
    if route.permission == PUBLIC:
        op["security"] = []
    if route.request is not None or route.method in ("POST", "PUT", "PATCH") and route.content_types[0] != "application/json":
        schema = route.request or {"type": "string", "format": "binary"}
        op["requestBody"] = {"required": True, "content": {ct: {"schema": schema} for ct in route.content_types}}
    return op


def _undescribed(app: Any) -> list[RouteDoc]:
    """/api/v1 routes registered without ``endpoint`` (e.g. sign-in): documented from the app itself."""
    from chalicelib.permissions import route_permission

    known = {(r.method, r.path) for r in ROUTES}
    out = []
    for path, entries in sorted(getattr(app, "routes", {}).items()):
        for method, entry in sorted(entries.items()):
            if path.startswith(API) and (method, path) not in known:
                doc = (getattr(entry.view_function, "__doc__", "") or entry.view_name).strip().splitlines()[0]
                permission = route_permission(method, path) or "unlisted"
                out.append(RouteDoc(method, path, doc, permission, path.removeprefix(API).split("/")[1],
                                    response={"type": "object"}, content_types=tuple(entry.content_types)))
    return out


def document(app: Any = None) -> dict[str, Any]:
    """The OpenAPI document of the routes in ROUTES plus any other /api/v1 route of ``app``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in [*ROUTES, *_undescribed(app)]:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "vpbx configuration API", "version": "1",
                 "description": "Tenant configuration and routing plans. Errors: {errors: [{pointer, message}]}; "
                                "PATCH bodies are JSON merge-patches (RFC 7386)."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                                      "description": "vpbx_<keyid>_<secret>"}},
                       "schemas": {"Error": ERROR, "PlanNode": NODE}},
    }


@endpoint(bp, "GET", API + "/openapi.json", summary="This document", permission=PUBLIC, tag="meta",
          response={"type": "object"})
def openapi() -> dict[str, Any]:
    return document(bp.current_app)
