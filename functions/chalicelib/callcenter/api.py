"""Call-center API: click-to-call, agent presence, supervision, live queue view, callback tasks.

Every view goes through ``api.http.endpoint`` (documented, ``auth.authorize``d); ``POST /api/v1/calls``
(the CRM shorthand) takes the tenant from the credentials instead of the path.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import (
    API,
    ROUTES,
    TENANT,
    ApiError,
    RouteDoc,
    endpoint,
    error_response,
    json_body,
    json_response,
)
from chalicelib.auth import AuthError, authenticate, require
from chalicelib.bootstrap import Services, get_services
from chalicelib.callcenter.operations import Refused, agent_view, click_to_call, set_presence, supervise
from chalicelib.callcenter.streams import load_agent, load_callbacks, load_queue
from domain.callcenter.config import QueueConfigError, queue_config
from domain.tenant import TenantSnapshot

bp = Blueprint(__name__)
TAG = "callcenter"
CALL_REQUEST = {"type": "object", "required": ["agent", "to"],
                "properties": {"agent": {"type": "string"}, "to": {"type": "string", "description": "E.164"}}}


def _tenant(services: Services, tenant: str) -> TenantSnapshot:
    snapshot = services.tenants.get(tenant)
    if snapshot is None:
        raise ApiError(404, f"no tenant {tenant!r}")
    return snapshot


def _fields(body: Any, *names: str) -> list[str]:
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    missing = [n for n in names if not isinstance(body.get(n), str) or not body.get(n)]
    if missing:
        raise ApiError(400, [{"pointer": f"/{n}", "message": f"{n} is required (a string)"} for n in missing])
    return [str(body[n]) for n in names]


def _refused(exc: Refused) -> ApiError:
    return ApiError(exc.status, [{"pointer": f"/{exc.field}", "message": str(exc)}])


def originate(services: Services, tenant_id: str, body: Any) -> dict[str, str]:
    agent, to = _fields(body, "agent", "to")
    try:
        out = click_to_call(services, _tenant(services, tenant_id), agent, to)
    except Refused as exc:
        raise _refused(exc) from None
    return {"call": out.call, "agent_leg": out.agent_leg, "status": "ringing-agent"}


@endpoint(bp, "POST", TENANT + "/calls", summary="Click-to-call: ring the agent, then the customer",
          permission="calls.originate", tag=TAG, request=CALL_REQUEST, status=202)
def tenant_click_to_call(tenant: str, principal: Any) -> dict[str, str]:
    return originate(get_services(), tenant, json_body(bp.current_request))


ROUTES.append(RouteDoc("POST", API + "/calls", "Click-to-call for the credentials' tenant", "calls.originate", TAG,
                       CALL_REQUEST, None, 202))


@bp.route(API + "/calls", methods=["POST"], content_types=["application/json"])
def crm_click_to_call() -> Response:
    request = bp.current_request
    try:
        services = get_services()
        principal = authenticate(request, services)
        require(principal, principal.tenant_id, "calls.originate")
        return json_response(originate(services, principal.tenant_id, json_body(request)), 202)
    except AuthError as e:
        return error_response(e.status, [{"pointer": "", "message": e.message}])
    except ApiError as e:
        return error_response(e.status, e.errors)


@endpoint(bp, "POST", TENANT + "/agents/{agent}/presence", summary="Log in/out, pause/unpause, DND on/off",
          permission="agent.status_own", tag=TAG,
          request={"type": "object", "required": ["action"],
                   "properties": {"action": {"enum": ["login", "logout", "pause", "unpause", "dnd_on", "dnd_off"]},
                                  "reason": {"type": "string"}}})
def agent_presence(tenant: str, agent: str, principal: Any) -> dict[str, object]:
    services = get_services()
    body = json_body(bp.current_request)
    (action,) = _fields(body, "action")
    try:
        state = set_presence(services, _tenant(services, tenant), agent, action, str(body.get("reason", "")),
                             actor=principal.subject)
    except Refused as exc:
        raise _refused(exc) from None
    return agent_view(state, services)


@endpoint(bp, "GET", TENANT + "/agents/{agent}/presence", summary="An agent's presence now",
          permission="agent.status_own", tag=TAG)
def agent_presence_get(tenant: str, agent: str, principal: Any) -> dict[str, object]:
    services = get_services()
    if agent not in _tenant(services, tenant).section("extensions"):
        raise ApiError(404, f"no extension {agent!r}", "/agent")
    return agent_view(load_agent(services, tenant, agent)[0], services)


@endpoint(bp, "POST", TENANT + "/supervision", summary="Listen, whisper or barge into an agent's call",
          permission="calls.listen", tag=TAG, status=202,
          request={"type": "object", "required": ["supervisor", "agent", "mode"],
                   "properties": {"supervisor": {"type": "string"}, "agent": {"type": "string"},
                                  "mode": {"enum": ["listen", "whisper", "barge"]}}})
def supervision(tenant: str, principal: Any) -> dict[str, str]:
    services = get_services()
    supervisor, agent, mode = _fields(json_body(bp.current_request), "supervisor", "agent", "mode")
    try:
        started = supervise(services, _tenant(services, tenant), supervisor, agent, mode, actor=principal.subject)
    except Refused as exc:
        raise _refused(exc) from None
    return {"agent": started.agent, "mode": started.mode, "call": started.call_sid, "supervisor_leg": started.leg_sid}


@endpoint(bp, "GET", TENANT + "/queues/{queue}/live", summary="Waiting callers and member agents now",
          permission="live.read", tag=TAG)
def queue_live(tenant: str, queue: str, principal: Any) -> dict[str, object]:
    services = get_services()
    try:
        cfg = queue_config(_tenant(services, tenant), queue)
    except QueueConfigError as exc:
        raise ApiError(422, str(exc)) from None
    if cfg is None:
        raise ApiError(404, f"no queue {queue!r}", "/queue")
    line, _ = load_queue(services, tenant, queue)
    now = services.clock()
    return {"queue": queue, "strategy": cfg.strategy,
            "waiting": [{"call": e.call_sid, "number": e.number, "priority": e.priority, "kind": e.kind,
                         "waited": e.waited(now)} for e in line.line()],
            "agents": [agent_view(load_agent(services, tenant, m.agent)[0], services) for m in cfg.members],
            "answered": line.answered}


@endpoint(bp, "GET", TENANT + "/callbacks", summary="Open and finished callback tasks", permission="calls.read",
          tag=TAG)
def callbacks(tenant: str, principal: Any) -> dict[str, object]:
    book, _ = load_callbacks(get_services(), tenant)
    return {"tasks": [{"task": t.task_id, "number": t.number, "reason": t.reason, "queue": t.queue,
                       "due_at": t.due_at, "attempts": t.attempts, "done": t.done or None}
                      for t in sorted(book.tasks.values(), key=lambda t: t.created_at)]}
