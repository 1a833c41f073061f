"""Routing plans: save a draft, publish it as the next version (validated), read any version.

Drafts live in the configuration (``plan_drafts.<plan_id>``) and may be incomplete; publishing
runs ``domain.routing.validate.validate_plan`` and appends ``PlanPublished`` with the next
version, so a plan that could misroute a call never becomes current.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Blueprint

from chalicelib.api.collections import SLUG
from chalicelib.api.http import TENANT, ApiError, endpoint, json_body
from chalicelib.api.state import change, current
from chalicelib.api.validation import schema_errors
from chalicelib.auth import Principal
from chalicelib.bootstrap import get_services
from domain.events import DomainEvent
from domain.routing.validate import validate_plan
from domain.tenant import PlanPublished, TenantConfigPatched, TenantSnapshot

bp = Blueprint(__name__)
NODE = {"type": "object", "required": ["action"],
        "properties": {"id": {"type": "string"}, "action": {"type": "string"}, "data": {"type": "object"},
                       "children": {"type": "object", "additionalProperties": {
                           "oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/PlanNode"}]}}}}
DOCUMENT = {"type": "object", "required": ["root"],
            "properties": {"root": {"$ref": "#/components/schemas/PlanNode"},
                           "nodes": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/PlanNode"}}}}
PLAN = {"type": "object", "properties": {
    "id": {"type": "string"}, "version": {"type": ["integer", "null"]}, "versions": {"type": "array"},
    "document": {"type": ["object", "null"]}, "draft": {"type": ["object", "null"]}}}
PROBLEMS = {"type": "object", "properties": {"id": {"type": "string"}, "draft": DOCUMENT,
                                             "problems": {"type": "array"}}}


def _plan_id(raw: str) -> str:
    errors = schema_errors(SLUG, raw, "/plan_id")
    if errors:
        raise ApiError(404, f"no plan {raw!r}")
    return raw


def _draft(snapshot: TenantSnapshot, plan_id: str) -> Mapping[str, Any] | None:
    draft = snapshot.section("plan_drafts").get(plan_id)
    return draft if isinstance(draft, Mapping) else None


def _problems(document: Any, snapshot: TenantSnapshot) -> list[dict[str, str]]:
    return [{"pointer": p.pointer, "node": p.node, "message": f"node {p.node!r}: {p.message}" if p.node else p.message}
            for p in validate_plan(document, snapshot)]


def _summary(snapshot: TenantSnapshot, plan_id: str) -> dict[str, Any]:
    plan = snapshot.plans.get(plan_id)
    return {"id": plan_id, "version": plan.version if plan else None,
            "versions": list(snapshot.plan_history.get(plan_id, ())),
            "document": dict(plan.document) if plan else None, "draft": _draft(snapshot, plan_id)}


@endpoint(bp, "GET", TENANT + "/plans", summary="List plans", permission="config.read", tag="plans",
          response={"type": "object", "properties": {"items": {"type": "array", "items": PLAN}}})
def list_plans(tenant: str, principal: Principal) -> dict[str, Any]:
    snapshot = current(get_services(), tenant)
    ids = sorted(set(snapshot.plans) | set(snapshot.section("plan_drafts")))
    return {"items": [_summary(snapshot, plan_id) for plan_id in ids]}


@endpoint(bp, "GET", TENANT + "/plans/{plan_id}", summary="A plan: current version, history, draft",
          permission="config.read", tag="plans", response=PLAN)
def get_plan(tenant: str, plan_id: str, principal: Principal) -> dict[str, Any]:
    snapshot = current(get_services(), tenant)
    if plan_id not in snapshot.plans and _draft(snapshot, plan_id) is None:
        raise ApiError(404, f"no plan {plan_id!r}")
    return _summary(snapshot, plan_id)


@endpoint(bp, "GET", TENANT + "/plans/{plan_id}/versions/{version}", summary="One published version",
          permission="config.read", tag="plans", response=PLAN)
def get_plan_version(tenant: str, plan_id: str, version: str, principal: Principal) -> dict[str, Any]:
    snapshot = current(get_services(), tenant)
    plan = snapshot.plan_versions.get((plan_id, int(version))) if version.isdigit() else None
    if plan is None:
        raise ApiError(404, f"plan {plan_id!r} has no version {version!r}")
    return {"id": plan_id, "version": plan.version, "document": dict(plan.document)}


@endpoint(bp, "PUT", TENANT + "/plans/{plan_id}/draft", summary="Save a draft (validated only on publish)",
          permission="config.write", tag="plans", request=DOCUMENT, response=PROBLEMS)
def put_draft(tenant: str, plan_id: str, principal: Principal) -> dict[str, Any]:
    document = json_body(bp.current_request)
    plan_id = _plan_id(plan_id)
    if not isinstance(document, dict):
        raise ApiError(422, "a plan must be a JSON object with a root node")

    def decide(snapshot: TenantSnapshot) -> list[DomainEvent]:
        # Replace, not merge: clear the old draft, then set the new one (one atomic append).
        return [TenantConfigPatched(path=["plan_drafts"], patch={plan_id: None}, actor=principal.actor),
                TenantConfigPatched(path=["plan_drafts", plan_id], patch=document, actor=principal.actor)]

    after = change(get_services(), tenant, decide, f"draft {plan_id!r}")
    return {"id": plan_id, "draft": _draft(after, plan_id), "problems": _problems(document, after)}


@endpoint(bp, "POST", TENANT + "/plans/{plan_id}/publish", summary="Publish the draft as the next version",
          permission="plans.publish", tag="plans", response=PLAN, status=201)
def publish(tenant: str, plan_id: str, principal: Principal) -> dict[str, Any]:
    plan_id = _plan_id(plan_id)

    def decide(snapshot: TenantSnapshot) -> list[DomainEvent]:
        draft = _draft(snapshot, plan_id)
        if draft is None:
            raise ApiError(404, f"plan {plan_id!r} has no draft to publish")
        problems = _problems(draft, snapshot)
        if problems:
            raise ApiError(422, problems)
        version = max(snapshot.plan_history.get(plan_id, (0,))) + 1
        return [PlanPublished(plan_id=plan_id, version=version, document=dict(draft), actor=principal.actor)]

    return _summary(change(get_services(), tenant, decide, f"plan {plan_id!r}"), plan_id)
