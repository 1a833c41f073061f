"""The API's edge: JSON in and out, one error shape, and the route table OpenAPI is built from.

Invariant: every ``/api/v1`` view is registered through ``endpoint``, which records it in ROUTES
(so the OpenAPI document cannot miss it) and, unless the route is public, calls
``auth.authorize(request, tenant, permission)`` with the permission it documents before the view runs.
Errors are ``{"errors": [{"pointer": "/json/pointer", "message": "..."}]}``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth import AuthError, authorize
from chalicelib.bootstrap import get_services
from domain.ports import ConcurrencyError

API = "/api/v1"
TENANT = API + "/tenants/{tenant}"
PUBLIC = "public"
JSON_TYPES = ("application/json", "application/merge-patch+json")


class ApiError(Exception):
    """An HTTP error with one or more ``{pointer, message}`` entries."""

    def __init__(self, status: int, errors: list[dict[str, str]] | str, pointer: str = "") -> None:
        self.errors = errors if isinstance(errors, list) else [{"pointer": pointer, "message": errors}]
        super().__init__("; ".join(e["message"] for e in self.errors))
        self.status = status


@dataclass(frozen=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    permission: str
    tag: str
    request: Mapping[str, Any] | None = None
    response: Mapping[str, Any] | None = None
    status: int = 200
    content_types: tuple[str, ...] = JSON_TYPES
    query: Mapping[str, str] = field(default_factory=dict)


ROUTES: list[RouteDoc] = []


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    text = "" if status == 204 else json.dumps(body, ensure_ascii=False, sort_keys=True)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def error_response(status: int, errors: list[dict[str, str]]) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="vpbx"'} if status == 401 else {}
    return json_response({"errors": errors}, status, headers)


def json_body(request: Any) -> Any:
    """The request's JSON body; 400 naming the problem if it is missing or not JSON."""
    raw = request.raw_body or b""
    if not raw.strip():
        raise ApiError(400, "a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, f"the body is not valid JSON: {e}") from None


def endpoint(bp: Blueprint, method: str, path: str, *, summary: str, permission: str, tag: str,
             request: Mapping[str, Any] | None = None, response: Mapping[str, Any] | None = None,
             status: int = 200, content_types: tuple[str, ...] = JSON_TYPES, name: str = "",
             query: Mapping[str, str] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a documented, authorized JSON view; the view gets ``principal`` plus the path params."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(RouteDoc(method, path, summary, permission, tag, request, response, status, content_types,
                               dict(query or {})))

        @functools.wraps(view)
        def wrapper(**params: str) -> Response:
            try:
                if permission != PUBLIC:
                    params["principal"] = authorize(bp.current_request, params["tenant"], permission,  # type: ignore[assignment]
                                                    get_services())
                result = view(**params)
            except AuthError as e:
                return error_response(e.status, [{"pointer": "", "message": e.message}])
            except ApiError as e:
                return error_response(e.status, e.errors)
            except ConcurrencyError:
                return error_response(409, [{"pointer": "", "message": "too many concurrent changes; retry"}])
            return result if isinstance(result, Response) else json_response(result, status)

        bp.route(path, methods=[method], content_types=list(content_types), name=name or view.__name__)(wrapper)
        return view

    return decorate
